#!/usr/bin/env bash
# run.sh: the two quick-start commands, and what CI runs.
#
#   ./run.sh demo    install what is missing, build, run the demo (Hartmann6, 4 workers)
#   ./run.sh test    install what is missing, build, run every test (ctest)
#   ./run.sh build   install what is missing and build only
#   ./run.sh asan    build with AddressSanitizer + UBSan in build-asan and run every test
#   ./run.sh bench   install the benchmark peers (Optuna), build, run the quality,
#                    several-goals and speed benchmarks; the tables go to build/bench/*.md
#
# Works as root on a fresh Debian 12 (minbase + git); as another user it uses sudo.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libzmq3-dev libczmq-dev libmsgpack-dev liblmdb-dev libopenblas-dev liblapacke-dev
  libcmocka-dev libjansson-dev libnlopt-dev
  clang libclang-rt-dev    # libFuzzer, for the fuzz tests (tests/fuzz): gcc has none
  python3 python3-zmq python3-msgpack python3-pytest
)
BUILD_DIR=${HONE_BUILD_DIR:-build}
JOBS=$(nproc 2>/dev/null || echo 2)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return
  fi
  say "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  local dir=$1; shift
  say "building in $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

run_tests() {
  local dir=$1
  say "running the test suite"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 600)
}

case "${1:-}" in
  demo)  install_missing; build "$BUILD_DIR"; exec ./examples/demo.sh "$BUILD_DIR" ;;
  test)  install_missing; build "$BUILD_DIR"; run_tests "$BUILD_DIR" ;;
  build) install_missing; build "$BUILD_DIR" ;;
  asan)  install_missing; build build-asan -DHONE_SANITIZER=ON -DCMAKE_BUILD_TYPE=Debug; run_tests build-asan ;;
  bench)
    PACKAGES+=(python3-optuna)
    install_missing; build "$BUILD_DIR"
    say "quality: hone against random search and Optuna (10 seeds; about 2 minutes)"
    /usr/bin/python3 bench/quality.py --build "$BUILD_DIR" --markdown "$BUILD_DIR/bench/quality.md" "${@:2}"
    say "several goals: hypervolume and feasible best against random search and Optuna (about 80 s)"
    /usr/bin/python3 bench/moo.py --build "$BUILD_DIR" --markdown "$BUILD_DIR/bench/moo.md"
    say "speed: milliseconds per candidate and peak memory"
    bench/speed.sh "$BUILD_DIR" | tee "$BUILD_DIR/bench/speed.md" ;;
  *) echo "usage: ./run.sh demo|test|build|asan|bench" >&2; exit 2 ;;
esac
