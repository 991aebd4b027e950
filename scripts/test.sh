#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what is missing, builds, and
# runs every test (unit, corpus, fixtures, end-to-end, mixin, packaging). `.ci/run` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

./scripts/setup.sh
source scripts/toolchains.sh  # the Go and Node.js setup.sh may have installed

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

echo "== ctest" >&2
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS")

# Every decoder, parser and config test again under AddressSanitizer and UBSan: outside
# bytes must never crash or corrupt memory; then under ThreadSanitizer (GX_SKIP_SANITIZE=1
# skips both stages).
if [[ -z "${GX_SKIP_SANITIZE:-}" ]]; then
  echo "== unit tests under ASan+UBSan" >&2
  cmake -S . -B "$BUILD_DIR-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGOROUTINE_SANITIZE=ON \
    -DGOROUTINE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR-asan" -j "$JOBS" --target unit_tests
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$BUILD_DIR-asan/tests/unit_tests"

  # The caches, pools and stores that probe threads share (shape and rule-match caches,
  # connection pool, history, prober), under ThreadSanitizer. setarch -R: TSan of GCC 12
  # refuses some kernels' randomized memory layouts; where setarch itself is not allowed
  # (containers whose seccomp profile blocks personality(2)) the tests run without it.
  echo "== unit tests under TSan" >&2
  cmake -S . -B "$BUILD_DIR-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOROUTINE_TSAN=ON \
    -DGOROUTINE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR-tsan" -j "$JOBS" --target unit_tests
  NO_ASLR=(setarch "$(uname -m)" -R)
  "${NO_ASLR[@]}" true 2>/dev/null || NO_ASLR=()
  TSAN_OPTIONS=halt_on_error=1 "${NO_ASLR[@]}" "$BUILD_DIR-tsan/tests/unit_tests"
fi

if [[ -x dashboards/test.sh ]]; then
  echo "== monitoring mixin" >&2
  dashboards/test.sh
fi

echo "== helm chart: lint, template, offline validation" >&2
scripts/helm-test.sh

# Builds the image with podman and probes a Go target from it; when podman cannot run here
# it prints "SKIPPED: <reason>" rather than passing silently.
echo "== container image" >&2
scripts/container-test.sh

echo "== all tests passed" >&2
