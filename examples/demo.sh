#!/usr/bin/env bash
# demo.sh BUILD_DIR: the quick-start demo.
#
# Starts a broker on a temporary directory and creates two experiments on Hartmann6
# (6 parameters, 40 trials each): examples/hartmann6.json, which uses Bayesian
# optimization (Ax's default "fast" method: center, Sobol, then a GP with LogEI), and
# the same problem with random search, for comparison. 4 hone-workers evaluate each one
# with bench's hone-eval (every evaluation made to take 250 ms, like a real job). It
# shows progress while they run, then prints the best parameterization found by BO and
# both best values next to the known optimum. Then a two-objective experiment
# (BraninCurrin) and its Pareto frontier.
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

echo "hone demo: Hartmann6 (6 parameters), 40 trials, $WORKERS workers per experiment"
echo "           Bayesian optimization against random search, side by side"
echo "broker:    $BROKER --data $DATA --bind $HONE_BROKER"
"$BROKER" --data "$DATA" --bind "$HONE_BROKER" --log-level warn &
pids+=($!)
for _ in $(seq 50); do
  "$HONE" --timeout 200 status none 2>&1 | grep -q "HONE_ENOTFOUND" && break
  sleep 0.1
done

"$HONE" create examples/hartmann6.json
python3 -c '
import json, sys
config = json.load(open("examples/hartmann6.json"))
config["name"] = "hartmann6-random"
config["generation_strategy"]["method"] = "random_search"
json.dump(config, open(sys.argv[1], "w"))' "$DATA/random.json"
"$HONE" create "$DATA/random.json"

worker_pids=()
for experiment in hartmann6 hartmann6-random; do
  for w in $(seq "$WORKERS"); do
    "$WORKER" --experiment "$experiment" --name "$experiment-worker-$w" -- \
      "$EVAL" --delay-ms 250 hartmann6 {x1} {x2} {x3} {x4} {x5} {x6} \
      >/dev/null 2>"$DATA/$experiment-$w.log" &
    pids+=($!)
    worker_pids+=($!)
  done
done

# Progress: a line whenever it changes (checked twice a second) until every worker
# has finished.
summary() {
  "$HONE" --json status "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)
c = s.get("counts", {})
best = s.get("best")
line = "%2d/%d done, %d running" % (c.get("COMPLETED", 0), s.get("max_trials", 0), c.get("RUNNING", 0))
line += ", best %8.5f" % best["value"] if best else ",     best  --"
print(line)'
}
last=""
while :; do
  running=0
  for p in "${worker_pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
  line="  BO: $(summary hartmann6)   |   random: $(summary hartmann6-random)"
  [ "$line" != "$last" ] && echo "$line"
  last=$line
  [ "$running" -eq 0 ] && break
  sleep 0.5
done
for p in "${worker_pids[@]}"; do
  wait "$p" || { echo "a worker failed; its log:"; cat "$DATA"/*.log; exit 1; }
done

best_of() { "$HONE" --json best "$1" | python3 -c 'import json, sys; print("%.5f" % json.load(sys.stdin)["value"])'; }
echo
echo "best parameterization found by Bayesian optimization:"
"$HONE" best hartmann6
echo
echo "best value, Bayesian optimization: $(best_of hartmann6)"
echo "best value, random search:         $(best_of hartmann6-random)"
echo "known optimum:                     -3.32237 at x = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)"

# Two objectives at once: BraninCurrin (examples/branincurrin.json, "-branin, -currin"),
# 25 trials with 2 workers, then the Pareto frontier hone found, ordered by how much of
# the dominated hypervolume each point alone accounts for.
echo
echo "two objectives: BraninCurrin, 25 trials, 2 workers (qLogNEHVI after 5 initial trials)"
"$HONE" create examples/branincurrin.json
moo_pids=()
for w in 1 2; do
  "$WORKER" --experiment branincurrin --name "branincurrin-worker-$w" -- \
    "$EVAL" branincurrin {x1} {x2} >/dev/null 2>"$DATA/branincurrin-$w.log" &
  pids+=($!)
  moo_pids+=($!)
done
for p in "${moo_pids[@]}"; do
  wait "$p" || { echo "a worker failed; its log:"; cat "$DATA"/branincurrin-*.log; exit 1; }
done
"$HONE" pareto branincurrin
