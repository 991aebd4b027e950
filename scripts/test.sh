#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what is missing, builds, and
# runs every test (unit, corpus, fixtures, end-to-end, mixin, packaging). `.ci/run` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

./scripts/setup.sh

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

echo "== ctest" >&2
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS")

if [[ -x dashboards/test.sh ]]; then
  echo "== monitoring mixin" >&2
  dashboards/test.sh
fi

echo "== all tests passed" >&2
