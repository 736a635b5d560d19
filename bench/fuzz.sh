#!/usr/bin/env bash
# fuzz.sh [SECONDS] [BUILD_DIR]: the libFuzzer targets run for longer than ctest does
# (default 300 s for fuzz_frame, half that for fuzz_reply), from the seed corpus, with a
# random seed; then a markdown table of executions, executions per second, coverage
# (libFuzzer's edges and features) and the outcome, and one of the line and branch
# coverage of each file under test over the corpus the run built (when llvm-cov is
# installed; from the cov_* programs, the same sources without sanitizers). A finding fails
# the script (exit 1) and is left in BUILD_DIR/tests/fuzz/bench-NAME/artifacts.
#
#   bench/fuzz.sh 600 build
#   MERGE=1 bench/fuzz.sh 600     # also add the inputs that reach new coverage to the
#                                 # seed corpus, as tests/fuzz/corpus/found-*
#
# The targets exist when the build was configured with HONE_FUZZ=ON (the default when
# clang with libFuzzer is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_FRAME=${1:-300}
BUILD=${2:-build}
FUZZ=$BUILD/tests/fuzz
for name in frame reply; do
  if [ ! -x "$FUZZ/fuzz_$name" ]; then
    echo "fuzz.sh: $FUZZ/fuzz_$name is missing: configure $BUILD with -DHONE_FUZZ=ON and build it" >&2
    exit 2
  fi
done

# llvm-profdata and llvm-cov of clang's version (Debian: the llvm package), if installed
clang=$(sed -n 's/^HONE_FUZZ_CLANG:FILEPATH=//p' "$BUILD/CMakeCache.txt")
clang_major=$("${clang:-clang}" -dumpversion 2> /dev/null | cut -d. -f1 || true)
profdata= llvmcov=
for suffix in "-$clang_major" ""; do
  if command -v "llvm-profdata$suffix" > /dev/null && command -v "llvm-cov$suffix" > /dev/null; then
    profdata=llvm-profdata$suffix llvmcov=llvm-cov$suffix
    break
  fi
done
cov_table=$(mktemp)
trap 'rm -f "$cov_table"' EXIT

status=0
rows=()
for name in frame reply; do
  secs=$SECONDS_FRAME
  [ "$name" = reply ] && secs=$(( (SECONDS_FRAME + 1) / 2 ))
  work=$FUZZ/bench-$name
  log=$work.log
  mkdir -p "$work"
  echo "fuzz.sh: fuzz_$name for $secs s (log: $log)" >&2
  result=ok
  HONE_FUZZ_SEED=0 tests/fuzz/run_fuzz.sh "$FUZZ/fuzz_$name" "$secs" "$work" -seed=0 > "$log" 2>&1 \
    || { result="FAILED (see $work/artifacts)"; status=1; }
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs=$(stat number_of_executed_units)
  rate=$(stat average_exec_per_sec)
  rss=$(stat peak_rss_mb)
  done_line=$(grep -a -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$done_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$done_line")
  rows+=("| fuzz_$name | $secs | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${rss:-?} | $result |")

  # line and branch coverage of the files under test, over the corpus this run ended
  # with, from the same sources built with source-based coverage (cov_NAME)
  if [ -n "$profdata" ] && [ -x "$FUZZ/cov_$name" ]; then
    rm -f "$work.profraw"
    LLVM_PROFILE_FILE="$work.profraw" "$FUZZ/cov_$name" "$work/corpus" tests/fuzz/corpus 2> /dev/null || true
    "$profdata" merge -sparse "$work.profraw" -o "$work.profdata"
    sources=(proto/*.c)
    [ "$name" = reply ] && sources+=(worker-sdk/c/result*.c worker-sdk/c/points.c)
    for src in "${sources[@]}"; do
      "$llvmcov" report "$FUZZ/cov_$name" -instr-profile="$work.profdata" "$PWD/$src" \
        | awk -v t="fuzz_$name" -v f="$src" '$1 == "TOTAL" { printf "| %s | %s | %s | %s | %s |\n", t, f, $10, $13, $7 }'
    done >> "$cov_table"
  fi
  if [ "${MERGE:-0}" = 1 ] && [ $status -eq 0 ]; then
    merged=$(mktemp -d)
    "$FUZZ/fuzz_$name" -merge=1 -max_len=4096 "$merged" tests/fuzz/corpus "$work/corpus" > "$work.merge.log" 2>&1
    for f in "$merged"/*; do
      [ -e "$f" ] || continue
      base=$(basename "$f")
      cmp -s "$f" tests/fuzz/corpus/"$base" 2>/dev/null && continue
      found=false
      for seed in tests/fuzz/corpus/*; do cmp -s "$f" "$seed" && { found=true; break; }; done
      $found || cp "$f" "tests/fuzz/corpus/found-$name-$base"
    done
    rm -rf "$merged"
  fi
done

echo "| target | seconds | executions | executions/s | edges (cov) | features (ft) | corpus | peak RSS (MB) | result |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if [ -s "$cov_table" ]; then
  echo "| target | file | lines | branches | functions |"
  echo "|---|---|---|---|---|"
  cat "$cov_table"
else
  echo "(line coverage needs llvm-profdata and llvm-cov: apt-get install llvm)"
fi
exit $status
