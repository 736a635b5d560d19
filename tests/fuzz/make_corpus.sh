#!/usr/bin/env bash
# make_corpus.sh: refreshes the seed corpus (tests/fuzz/corpus) from the protocol's
# golden and hostile vectors (proto/vectors), keeping frames of at most 4 KiB: the
# fuzzers mutate inputs up to that size (-max_len), and the few larger vectors (the
# 64 KiB string, the 100 000 items) are exercised by tests/proto instead. Files whose
# names start with "found-" are inputs the fuzzers discovered and `-merge=1` kept; they
# are left alone.
#
#   tests/fuzz/make_corpus.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus
mkdir -p "$out"
find "$out" -maxdepth 1 -type f \( -name 'golden-*' -o -name 'hostile-*' \) -delete
for f in proto/vectors/*.msgpack; do
  [ "$(stat -c %s "$f")" -le 4096 ] && cp "$f" "$out/golden-$(basename "$f")"
done
for f in proto/vectors/hostile/*.msgpack; do
  [ "$(stat -c %s "$f")" -le 4096 ] && cp "$f" "$out/hostile-$(basename "$f")"
done
echo "$(find "$out" -maxdepth 1 -type f | wc -l) files in $out"
