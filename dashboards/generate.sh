#!/usr/bin/env bash
# Generates the checked-in mixin outputs from the jsonnet sources:
#   out/alerts.yaml, out/rules.yaml, out/dashboards/*.json
#
#   ./generate.sh           regenerate out/ in place
#   ./generate.sh --check   fail if out/ differs from what the sources generate, or if a
#                           jsonnet source is not jsonnetfmt-formatted (CI mode; writes nothing)
#
# Needs Debian's `jsonnet` package (jsonnet and jsonnetfmt; scripts/setup.sh installs it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac

for tool in jsonnet jsonnetfmt; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "generate: $tool not found; install Debian's jsonnet package (scripts/setup.sh)" >&2
    exit 1
  fi
done

sources=(config.libsonnet mixin.libsonnet alerts/*.libsonnet rules/*.libsonnet
  dashboards/*.libsonnet lib/*.libsonnet lib/*.jsonnet)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/out/dashboards"
jsonnet -S lib/alerts.jsonnet >"$tmp/out/alerts.yaml"
jsonnet -S lib/rules.jsonnet >"$tmp/out/rules.yaml"
# -m writes one file per top-level field and prints their names.
jsonnet -m "$tmp/out/dashboards" lib/dashboards.jsonnet >/dev/null
# jsonnet -m ends files without a newline; add one so the files are POSIX text files.
for f in "$tmp"/out/dashboards/*.json; do
  printf '\n' >>"$f"
done

if ((check)); then
  status=0
  if ! jsonnetfmt --test "${sources[@]}"; then
    echo "generate: jsonnet sources are not formatted; run: jsonnetfmt -i ${sources[*]}" >&2
    status=1
  fi
  if ! diff -r -u out "$tmp/out"; then
    echo "generate: dashboards/out is stale; run dashboards/generate.sh and commit the result" >&2
    status=1
  fi
  if ((status == 0)); then
    echo "generate: out/ is up to date"
  fi
  exit "$status"
fi

rm -rf out
mv "$tmp/out" out
echo "generate: wrote out/alerts.yaml out/rules.yaml $(cd out && echo dashboards/*.json)"
