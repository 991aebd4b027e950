#!/usr/bin/env bash
# Builds the shop example service and its load generator into OUTDIR:
#   examples/shop/build.sh OUTDIR   ->  OUTDIR/shop, OUTDIR/loadgen
# Needs Go >= 1.22. Modules come from the Go module proxy (go mod download) unless cached.
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
cd "$(dirname "$0")"
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: go not found in PATH (need Go >= 1.22)" >&2
  exit 1
fi
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
go mod download
go build -trimpath -o "$OUT/shop" .
go build -trimpath -o "$OUT/loadgen" ./cmd/loadgen
echo "built $OUT/shop $OUT/loadgen"
