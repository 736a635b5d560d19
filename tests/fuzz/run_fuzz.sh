#!/usr/bin/env bash
# run_fuzz.sh: runs one libFuzzer target for a bounded time over the seed corpus.
#
#   tests/fuzz/run_fuzz.sh BINARY SECONDS WORKDIR [extra libFuzzer flags...]
#
# New inputs go to WORKDIR/corpus (emptied first, so that each run starts from the
# committed seeds: tests/fuzz/corpus, which is only read), findings to
# WORKDIR/artifacts/ (crash-*, leak-*, timeout-*, oom-*). The seed is HONE_FUZZ_SEED
# (default 1) unless the extra flags give -seed=. Exits with libFuzzer's status:
# non-zero on a crash, an assertion, a sanitizer report, a leak, a timeout (10 s for
# one input) or an input that needs more than 512 MB. Used by ctest (fuzz/frame,
# fuzz/reply) and bench/fuzz.sh.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BINARY SECONDS WORKDIR [libFuzzer flags...]" >&2
  exit 2
fi
binary=$1 seconds=$2 work=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts"
seed=(-seed="${HONE_FUZZ_SEED:-1}")
for flag in "$@"; do
  case $flag in -seed=*) seed=() ;; esac
done
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
set +e
"$binary" -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 -max_len=4096 \
  -dict="$here/frame.dict" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "${seed[@]}" "$@" "$work/corpus" "$here/corpus"
status=$?
set -e
if [ $status -ne 0 ]; then
  echo "run_fuzz.sh: $(basename "$binary") failed (status $status); reproduce with: $binary $work/artifacts/<file>" >&2
  ls -l "$work/artifacts" >&2
fi
exit $status
