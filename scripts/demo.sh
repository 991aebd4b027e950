#!/usr/bin/env bash
# The "run the main job" demo: a Go service that leaks goroutines, under steady load, watched by
# goroutine_exporter and scraped by Prometheus; after about a minute it prints the triage answer
# (top growing stack, category, first fix) found by the exporter.
#
#   scripts/demo.sh                   fresh Debian 12: install packages, build, run until Ctrl-C
#   scripts/demo.sh --no-setup        skip scripts/setup.sh and the C++ build (already built)
#   scripts/demo.sh --duration 90     stop by itself after 90 s (non-interactive runs)
#   scripts/demo.sh --leak chan_send=5,http_client=1 --qps 50    other leaks / load (examples/shop)
#
# Everything listens on 127.0.0.1 (free ports) and lives in a fresh temporary directory; Ctrl-C,
# SIGTERM or --duration stop every process and remove the directory, so it can run again at once.
# GX_BUILD_DIR selects the build directory (default: build/ in the source tree).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${GX_BUILD_DIR:-$ROOT/build}

setup=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=0 ;;
    -h | --help)
      sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exec python3 "$ROOT/scripts/demo.py" --help
      ;;
    *) args+=("$arg") ;;
  esac
done

if ((setup)); then
  echo "demo: installing Debian packages (scripts/setup.sh)" >&2
  GX_SETUP_NEEDS_NODE=0 "$ROOT/scripts/setup.sh"
  source "$ROOT/scripts/toolchains.sh"  # the Go setup.sh may have installed
  echo "demo: building goroutine_exporter and goroutine_triage in $BUILD_DIR" >&2
  if [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
  else
    cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$BUILD_DIR" --target goroutine_exporter goroutine_triage
fi

for bin in goroutine_exporter goroutine_triage; do
  if [[ ! -x "$BUILD_DIR/exporter/$bin" ]]; then
    echo "demo: $BUILD_DIR/exporter/$bin not found; run without --no-setup to build it" >&2
    exit 1
  fi
done

# The Go programs (examples/shop: shop + loadgen) are built by the demo itself (cached by Go).
export GX_BUILD_DIR="$BUILD_DIR" GX_SOURCE_DIR="$ROOT"
exec python3 "$ROOT/scripts/demo.py" "${args[@]}"
