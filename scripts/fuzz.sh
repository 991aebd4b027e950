#!/usr/bin/env bash
# fuzz.sh — coverage-guided fuzzing (libFuzzer, ASan, UBSan) of what a probe does with a body:
# tests/fuzz/fuzz_analyze.cc. Not part of scripts/test.sh, whose mutation tests are
# deterministic; run this for a while after changing a decoder, parser or report.
#
#   scripts/fuzz.sh [SECONDS]     fuzz for SECONDS (default 300); exit 1 if a crash was found
#
# Seeds: the committed fixtures and the shared corpus (bodies under 120 KB), gzip'd protobufs
# also inflated (the decoder takes raw protobuf too, and mutations of gzip mostly hit its CRC).
# Builds into build-fuzz/ with clang (installed from Debian when missing); the corpus it grows
# stays in build-fuzz/corpus between runs, crashing inputs go to build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_TO_RUN=${1:-300}
OUT=$ROOT/build-fuzz

GX_SETUP_NEEDS_NODE=0 ./scripts/setup.sh
if ! command -v clang++ >/dev/null 2>&1; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends clang
fi

cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DGOROUTINE_FUZZ=ON -DGOROUTINE_BUILD_TESTS=OFF -DGOROUTINE_BUILD_BENCH=OFF >/dev/null
cmake --build "$OUT" --target fuzz_analyze

seed=$OUT/seed
rm -rf "$seed"
mkdir -p "$seed" "$OUT/corpus" "$OUT/artifacts"
n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  cp "$f" "$seed/$n"
  if [[ $f == *.gz ]]; then gzip -dc "$f" >"$seed/$n.raw"; fi
done < <(find tests/fixtures/captures ../shared/corpus -type f -size -120k \
  \( -name '*.pb.gz' -o -name '*.txt' -o -name '*.leak*' \) -print0 2>/dev/null)
echo "fuzz: $n seed bodies; fuzzing for ${SECONDS_TO_RUN}s" >&2

"$OUT/tests/fuzz/fuzz_analyze" -max_len=131072 -timeout=20 -rss_limit_mb=3072 \
  -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -artifact_prefix="$OUT/artifacts/" \
  "$OUT/corpus" "$seed"
