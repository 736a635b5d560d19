#!/usr/bin/env bash
# speed.sh [BUILD_DIR]: milliseconds per BO candidate (GP fit + acquisition optimization)
# for n = 20 ... 1000 observations at d = 6 and d = 20, and peak memory, as a markdown
# table. Each (d, n) runs in its own process (hone-bench-speed), STEPS sequential steps
# each (default 5). The first step fits the GP from scratch; beyond n = 300 the next
# steps are between refits (the refit schedule, bo.h), so they append their new
# observation to the factor: the median is the cost between refits, and "update ms" is
# the median model update of those steps, with the path they took.
# DIMS and SIZES select a subset, e.g. DIMS=6 SIZES="300 500 1000" bench/speed.sh build;
# ACQ=qlognei|logei|auto (default auto) the acquisition (bo.h).
# The machine's other load shows in the timings: compare runs made side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SPEED=$BUILD/bench/hone-bench-speed
STEPS=${STEPS:-5}
DIMS=${DIMS:-6 20}
SIZES=${SIZES:-20 50 100 200 500 1000}
ACQ=${ACQ:-auto}
echo "| d | n | median ms / candidate | first step (ms) | update ms (path) after the first | acquisition ms | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|"
for d in $DIMS; do
  for n in $SIZES; do
    "$SPEED" --d "$d" --n "$n" --steps "$STEPS" --acquisition "$ACQ" | python3 -c '
import json, sys
r = json.load(sys.stdin)
later = sorted(set(r["paths"][1:])) or r["paths"]
print("| %d | %d | %.1f | %.1f | %.2f (%s) | %.1f | %.1f |" % (r["d"], r["n"], r["median_ms"], r["ms"][0],
      r["update_ms"], "/".join(later), r["acq_ms"], r["peak_rss_mib"]))'
  done
done
