#!/usr/bin/env bash
# speed.sh [BUILD_DIR]: milliseconds per BO candidate (GP fit + LogEI optimization) for
# n = 20 ... 1000 observations at d = 6 and d = 20, and peak memory, as a markdown table.
# Each (d, n) runs in its own process (hone-bench-speed), 5 sequential steps each. The
# first step fits the GP from scratch; beyond n = 300 the next steps only refactorize
# (the refit schedule), so the median is the cost between refits.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SPEED=$BUILD/bench/hone-bench-speed
STEPS=${STEPS:-5}
echo "| d | n | median ms / candidate | first step (ms) | fit or refactorization ms | acquisition ms | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|"
for d in 6 20; do
  for n in 20 50 100 200 500 1000; do
    "$SPEED" --d "$d" --n "$n" --steps "$STEPS" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("| %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (r["d"], r["n"], r["median_ms"], r["ms"][0], r["fit_ms"], r["acq_ms"], r["peak_rss_mib"]))'
  done
done
