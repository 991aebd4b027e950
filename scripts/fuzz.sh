#!/usr/bin/env bash
# fuzz.sh — coverage-guided fuzzing (libFuzzer, ASan, UBSan) of the code that reads outside
# bytes (tests/fuzz). Not part of scripts/test.sh, whose mutation tests are deterministic; run
# this for a while after changing a decoder, parser, report or the config.
#
#   scripts/fuzz.sh [analyze|config] [SECONDS]
#       analyze (default): what a probe does with a body (fuzz_analyze.cc)
#       config: the exporter config and a rules document (fuzz_config.cc)
#       SECONDS: how long (default 300); the exit status is non-zero if a crash was found
#
# Seeds for analyze: the committed fixtures and the shared corpus (bodies under 120 KB),
# gzip'd protobufs also inflated (the decoder takes raw protobuf too, and mutations of gzip
# mostly hit its CRC); for config: examples/config and the built-in rules. Builds into
# build-fuzz/ with clang (installed from Debian when missing); the corpus each target grows
# stays in build-fuzz/corpus-TARGET between runs, crashing inputs go to build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=analyze
if [[ ${1:-} == analyze || ${1:-} == config ]]; then TARGET=$1; shift; fi
SECONDS_TO_RUN=${1:-300}
OUT=$ROOT/build-fuzz

GX_SETUP_NEEDS_NODE=0 ./scripts/setup.sh
# clang, and libFuzzer's runtime (only a recommendation of Debian's clang: not --no-install-recommends).
have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 &&
    compgen -G "$(clang++ -print-runtime-dir)/libclang_rt.fuzzer-*.a" >/dev/null
}
if ! have_libfuzzer; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q clang
  have_libfuzzer || { echo "fuzz: clang has no libFuzzer runtime (Debian: libclang-rt-*-dev)" >&2; exit 1; }
fi

cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DGOROUTINE_FUZZ=ON -DGOROUTINE_BUILD_TESTS=OFF -DGOROUTINE_BUILD_BENCH=OFF >/dev/null
cmake --build "$OUT" --target "fuzz_$TARGET"

seed=$OUT/seed-$TARGET
rm -rf "$seed"
mkdir -p "$seed" "$OUT/corpus-$TARGET" "$OUT/artifacts"
n=0
if [[ $TARGET == analyze ]]; then
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    cp "$f" "$seed/$n"
    if [[ $f == *.gz ]]; then gzip -dc "$f" >"$seed/$n.raw"; fi
  done < <(find tests/fixtures/captures ../shared/corpus -type f -size -120k \
    \( -name '*.pb.gz' -o -name '*.txt' -o -name '*.leak*' \) -print0 2>/dev/null)
  max_len=131072
else
  for f in examples/config/*.yml exporter/lib/classify/builtin_rules.yaml; do
    n=$((n + 1))
    cp "$f" "$seed/$n"
  done
  max_len=16384
fi
echo "fuzz: fuzz_$TARGET, $n seeds, ${SECONDS_TO_RUN}s" >&2

"$OUT/tests/fuzz/fuzz_$TARGET" -max_len=$max_len -timeout=20 -rss_limit_mb=3072 \
  -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -artifact_prefix="$OUT/artifacts/" \
  "$OUT/corpus-$TARGET" "$seed"
