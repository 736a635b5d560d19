#!/usr/bin/env bash
# demo.sh BUILD_DIR: the quick-start demo.
#
# Starts a broker on a temporary directory, creates the Hartmann6 experiment
# (examples/hartmann6.json, 40 trials), starts 4 hone-workers that evaluate it with
# bench's hone-eval (each evaluation made to take 250 ms, like a real job), shows
# progress while it runs, and prints the best parameterization with its value next to
# the known optimum.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
HONE=$BUILD/worker-sdk/cli/hone
WORKER=$BUILD/worker-sdk/cli/hone-worker
BROKER=$BUILD/broker/hone-broker
EVAL=$BUILD/bench/hone-eval
WORKERS=4

DATA=$(mktemp -d /tmp/hone-demo.XXXXXX)
# A free loopback port: the default 5555 unless something already listens there.
PORT=5555
while (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do PORT=$((PORT + 1)); done
export HONE_BROKER=tcp://127.0.0.1:$PORT

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

echo "hone demo: Hartmann6 in 6 dimensions, 40 trials, $WORKERS workers, random search"
echo "broker:    $BROKER --data $DATA --bind $HONE_BROKER"
"$BROKER" --data "$DATA" --bind "$HONE_BROKER" --log-level warn &
pids+=($!)
for _ in $(seq 50); do
  "$HONE" --timeout 200 status none >/dev/null 2>&1 && break
  "$HONE" --timeout 200 status none 2>&1 | grep -q "HONE_ENOTFOUND" && break
  sleep 0.1
done

"$HONE" create examples/hartmann6.json
for w in $(seq "$WORKERS"); do
  "$WORKER" --experiment hartmann6 --name "demo-worker-$w" -- \
    "$EVAL" --delay-ms 250 hartmann6 {x1} {x2} {x3} {x4} {x5} {x6} >/dev/null 2>"$DATA/worker-$w.log" &
  pids+=($!)
done
worker_pids=("${pids[@]:1}")

# Progress: a line whenever it changes (checked twice a second) until every worker
# has finished.
last=""
while :; do
  running=0
  for p in "${worker_pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
  line=$("$HONE" --json status hartmann6 | python3 -c '
import json, sys
s = json.load(sys.stdin)
c = s.get("counts", {})
best = s.get("best")
line = "  %3d/%d completed, %d running, %d failed" % (c.get("COMPLETED", 0), s.get("max_trials", 0),
                                                    c.get("RUNNING", 0), c.get("FAILED", 0))
if best:
    line += ", best so far %.5f (trial %d)" % (best["value"], best["trial"])
print(line)')
  [ "$line" != "$last" ] && echo "$line"
  last=$line
  [ "$running" -eq 0 ] && break
  sleep 0.5
done
for p in "${worker_pids[@]}"; do
  wait "$p" || { echo "a worker failed; its log:"; cat "$DATA"/worker-*.log; exit 1; }
done

echo
echo "best parameterization found:"
"$HONE" best hartmann6
echo "known optimum: -3.32237 at x = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)"
