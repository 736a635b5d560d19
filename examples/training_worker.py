#!/usr/bin/env python3
"""A stand-in for a training job that hone-worker runs.

hone-worker starts it without a shell, with the trial's parameters both in the
arguments ({name} templates) and in the environment (HONE_PARAM_<name>, HONE_PARAMS).
It prints one JSON object per line: metric names to values, and "step" for the
progression. The last reading completes the trial; a non-zero exit fails it.

    hone-worker --experiment training -- python3 examples/training_worker.py \
        --learning-rate {learning_rate} --layers {layers} --optimizer {optimizer}
"""
import argparse
import json
import math
import os
import sys


def main():
    params = json.loads(os.environ.get("HONE_PARAMS", "{}"))
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning-rate", type=float, default=params.get("learning_rate", 1e-3))
    parser.add_argument("--layers", type=int, default=params.get("layers", 2))
    parser.add_argument("--optimizer", default=params.get("optimizer", "adam"))
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    batch_size = int(params.get("batch_size", 64))
    dropout = float(params.get("dropout", 0.0))
    if args.optimizer not in ("adam", "sgd", "rmsprop"):
        print(f"unknown optimizer {args.optimizer!r}", file=sys.stderr)
        return 3

    # A smooth synthetic loss: best near lr = 3e-3, 4 layers, adam, dropout 0.2.
    floor = (math.log10(args.learning_rate) + 2.5) ** 2 * 0.1
    floor += (args.layers - 4) ** 2 * 0.02 + (dropout - 0.2) ** 2
    floor += {"adam": 0.0, "rmsprop": 0.05, "sgd": 0.15}[args.optimizer]
    floor += abs(math.log2(batch_size) - 6) * 0.01
    for epoch in range(1, args.epochs + 1):
        loss = floor + 1.0 / epoch
        print(json.dumps({"loss": round(loss, 6), "step": epoch}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
