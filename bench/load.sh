#!/usr/bin/env bash
# load.sh: the broker load benchmark (bench/README.md, section "Load"), as markdown.
#
# Runs bench_load against a real hone-broker: 1, 64 and 512 simulated workers with a
# durable store (a temporary directory on a real disk), once per commit mode, back to
# back for each worker count (by default `--commit per-message`, one synchronous LMDB
# commit per message, then `--commit group`, the broker's default, so that the two rows
# of a worker count see the same disk), then the same with the store on tmpfs (fsync
# costs nothing there: a ceiling, not a durable figure; group commit only), then the
# fill run (512 workers until 100 000 readings are stored, group commit) for the
# broker's memory. About 3 minutes plus the fill run, which depends on the disk and is
# stopped after --fill-max seconds (150 by default), so at most about 6 minutes on 2 cores.
# Each extra driver of --drivers adds as much again, except the fill run (first driver).
#
# Each configuration runs once per load driver of --drivers (bench_load --driver), back
# to back: `multiplex` (the default: one thread drives all W workers as raw DEALER
# sockets, so the generator takes little CPU from the broker) and `threads` (one thread
# and one libhone handle per worker, the original generator, for comparison).
#
# usage: bench/load.sh [--build DIR] [--label TEXT] [--commit-modes LIST] [--drivers LIST]
#                      [--duration S] [--workers LIST] [--think-ms T] [--fill N] [--fill-max S]
#                      [--no-fill] [--no-ceiling] [--perf DIR] [--broker-arg ARG]... [--data-root DIR]
#   --build DIR       build directory holding bench/bench_load (default ./build)
#   --label TEXT      put before the commit mode in the first column ("TEXT, group"), to
#                     compare runs side by side
#   --commit-modes L  hone-broker --commit values to compare, in this order (default
#                     per-message,group); "default" runs the broker without --commit
#   --drivers L       bench_load --driver values to compare, in this order (default
#                     multiplex; multiplex,threads shows both)
#   --duration S      measurement window per configuration (default 10)
#   --workers LIST    worker counts (default 1,64,512)
#   --think-ms T      also run the durable worker counts with the multiplex driver, the
#                     last commit mode and T ms of simulated evaluation per trial (an open
#                     workload: latency is then service time, not queue length; default off)
#   --fill N          readings stored by the fill run (default 100000)
#   --fill-max S      stop the fill run after S seconds even if N is not reached; the
#                     row then says so (default 150)
#   --no-fill         skip the fill run
#   --no-ceiling      skip the tmpfs rows
#   --perf DIR        perf record -g the broker during each durable window into
#                     DIR/perf.LABEL.W.data (perf report -i ... --no-children)
#   --broker-arg ARG  passed to hone-broker (repeatable), in every run
#   --data-root DIR   parent of the durable store directories (default ${TMPDIR:-/tmp});
#                     it must not be tmpfs, or the "durable" rows are not
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build
LABEL=
MODES=per-message,group
DRIVERS=multiplex
THINK=
DURATION=10
WORKERS=1,64,512
FILL=100000
FILL_MAX=150
DO_FILL=1
DO_CEILING=1
PERF_DIR=
DATA_ROOT=${TMPDIR:-/tmp}
BROKER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --label) LABEL=$2; shift 2 ;;
    --commit-modes) MODES=$2; shift 2 ;;
    --drivers) DRIVERS=$2; shift 2 ;;
    --think-ms) THINK=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --fill) FILL=$2; shift 2 ;;
    --fill-max) FILL_MAX=$2; shift 2 ;;
    --no-fill) DO_FILL=0; shift ;;
    --no-ceiling) DO_CEILING=0; shift ;;
    --perf) PERF_DIR=$2; shift 2 ;;
    --broker-arg) BROKER_ARGS+=(--broker-arg "$2"); shift 2 ;;
    --data-root) DATA_ROOT=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "load.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

BENCH=$BUILD/bench/bench_load
BROKER=$BUILD/broker/hone-broker
for f in "$BENCH" "$BROKER"; do
  [ -x "$f" ] || { echo "load.sh: $f not found; build first (cmake --build $BUILD)" >&2; exit 2; }
done
FSTYPE=$(findmnt -n -o FSTYPE -T "$DATA_ROOT" 2>/dev/null || stat -f -c %T "$DATA_ROOT" 2>/dev/null || echo unknown)
if [ "$FSTYPE" = tmpfs ] || [ "$FSTYPE" = ramfs ]; then
  echo "load.sh: $DATA_ROOT is $FSTYPE: commits would not be durable; pass --data-root on a disk" >&2
  exit 2
fi

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT+changes"; fi
echo "Broker load: commit $COMMIT, $(nproc) CPUs, $(uname -sr), store on $FSTYPE ($DATA_ROOT)," \
     "load average at start $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)."
echo "R = progress readings per trial, M = metrics per reading; $DURATION s windows after a 2 s warm-up."
echo

STATUS=0
COMMON=(--broker "$BROKER" "${BROKER_ARGS[@]}")

# The arguments and the row label of commit mode $1.
mode_args() {
  MODE_ARGS=()
  [ "$1" = default ] || MODE_ARGS=(--broker-arg --commit --broker-arg "$1")
  ROW_LABEL=${LABEL:+$LABEL, }$1
}

IFS=, read -r -a MODE_LIST <<< "$MODES"
IFS=, read -r -a WORKER_LIST <<< "$WORKERS"
IFS=, read -r -a DRIVER_LIST <<< "$DRIVERS"
LAST_MODE=${MODE_LIST[${#MODE_LIST[@]}-1]}
HEADER=()
for w in "${WORKER_LIST[@]}"; do
  for mode in "${MODE_LIST[@]}"; do
    mode_args "$mode"
    for drv in "${DRIVER_LIST[@]}"; do
      ATTACH=()
      if [ -n "$PERF_DIR" ]; then
        mkdir -p "$PERF_DIR"
        SAFE_LABEL=$(printf '%s' "$ROW_LABEL.$drv" | tr -c 'A-Za-z0-9_.-' '_')
        ATTACH=(--attach "perf record -q -F 999 -g -p %p -o $PERF_DIR/perf.$SAFE_LABEL.%w.data")
      fi
      "$BENCH" "${COMMON[@]}" "${MODE_ARGS[@]}" "${ATTACH[@]}" "${HEADER[@]}" --workers "$w" \
        --driver "$drv" --duration "$DURATION" --label "$ROW_LABEL" --data-root "$DATA_ROOT" || STATUS=1
      HEADER=(--no-header)
    done
  done
done
mode_args "$LAST_MODE"
if [ -n "$THINK" ]; then
  "$BENCH" "${COMMON[@]}" "${MODE_ARGS[@]}" "${HEADER[@]}" --workers "$WORKERS" --driver multiplex \
    --think-ms "$THINK" --duration "$DURATION" --label "$ROW_LABEL" --data-root "$DATA_ROOT" || STATUS=1
  HEADER=(--no-header)
fi
if [ "$DO_CEILING" = 1 ]; then
  if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
    for drv in "${DRIVER_LIST[@]}"; do
      "$BENCH" "${COMMON[@]}" "${MODE_ARGS[@]}" --workers "$WORKERS" --driver "$drv" --duration "$DURATION" \
        "${HEADER[@]}" --label "$ROW_LABEL, tmpfs (not durable)" --data-root /dev/shm || STATUS=1
      HEADER=(--no-header)
    done
  else
    echo "(no tmpfs at /dev/shm: ceiling rows skipped)"
  fi
fi
if [ "$DO_FILL" = 1 ]; then
  echo
  "$BENCH" "${COMMON[@]}" "${MODE_ARGS[@]}" --fill "$FILL" --max-seconds "$FILL_MAX" --workers 512 \
    --driver "${DRIVER_LIST[0]}" \
    --label "$ROW_LABEL" --data-root "$DATA_ROOT" || STATUS=1
fi
exit $STATUS
