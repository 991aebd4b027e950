#!/usr/bin/env bash
# Usage: scripts/pprof-traces.sh FILE
#
# Prints `go tool pprof -traces FILE` for a debug=0 goroutine (or goroutineleak) profile, as
# fetched from /debug/pprof/goroutine?debug=0 (the gzip-compressed protobuf).
#
# No binary is needed: a goroutine profile written by the Go runtime already carries function
# names (and files and lines) for every location, so -symbolize=none is used and pprof never
# looks for the binary named in the profile's mappings (output is identical with and without the
# binary present; checked on go1.22 and go1.26 captures).
#
# Output format of -traces (google/pprof internal/report printTraces):
#   File:/Build ID:/Type:/Time: header lines (Time is printed in the local time zone), then for
#   every sample that has at least one location (samples with no location, e.g. a goroutine
#   created but not yet started, are silently skipped):
#     -----------+-------------------------------------------------------
#     fmt "%10s:  %s" per string label, values of one key joined by " ", values NOT quoted,
#                     lines sorted as formatted strings (so shorter keys come first)
#     fmt "%10s   %s" count and leaf function, then one line per frame toward the root, each
#                     with an empty count column; inlined frames end in " (inline)"
#   and a final separator line.
set -euo pipefail

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  echo "usage: $0 FILE   (a debug=0 goroutine profile, .pb.gz)" >&2
  exit 2
fi
if [[ ! -r $1 ]]; then
  echo "$0: cannot read $1" >&2
  exit 2
fi
if ! command -v go >/dev/null 2>&1; then
  echo "$0: go not found on PATH" >&2
  exit 3
fi
# GOTOOLCHAIN=local: never switch toolchains (or download one) just to run pprof.
exec env GOTOOLCHAIN=local go tool pprof -symbolize=none -traces "$1"
