#!/usr/bin/env python3
"""The Hartmann6 function as a program that hone-worker runs.

    hone-worker --experiment hartmann6 -- python3 examples/hartmann6_worker.py {x1} {x2} {x3} {x4} {x5} {x6}

Prints one reading, {"hartmann6": value}, as a JSON line on stdout. Global minimum
-3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
"""
import json
import math
import sys

ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
     [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
     [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6)))
                for i in range(4))


def main(argv):
    if len(argv) != 6:
        print("hartmann6_worker.py needs 6 coordinates", file=sys.stderr)
        return 2
    x = [float(v) for v in argv]
    print(json.dumps({"hartmann6": hartmann6(x)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
