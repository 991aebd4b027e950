#!/usr/bin/env bash
# Reproduces every table of docs/BENCHMARKS.md in one run and rewrites that file.
#
#   bench/run.sh              the full run (about 10 minutes on 2 cores)
#   QUICK=1 bench/run.sh      short settings for development (numbers are not for the doc)
#
# Environment: BUILD_DIR (default build), CORPUS_DIR (default ../shared/corpus), GO (default go),
# OUT (default docs/BENCHMARKS.md).
#
# It builds the exporter and the C++ drivers (bench/CMakeLists.txt), builds the Go peers and
# helpers (bench/go, modules from the Go module proxy), writes the inputs to
# $BUILD_DIR/bench-data, runs every benchmark (results as JSON in $BUILD_DIR/bench-results)
# and renders bench/BENCHMARKS.md.tmpl. All traffic stays on 127.0.0.1; every load loop is
# bounded in time. Nothing is installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD_DIR=${BUILD_DIR:-build}
CORPUS_DIR=${CORPUS_DIR:-../shared/corpus}
GO=${GO:-go}
OUT=${OUT:-docs/BENCHMARKS.md}
QUICK=${QUICK:-0}
DATA=$BUILD_DIR/bench-data
RESULTS=$BUILD_DIR/bench-results
BIN=$BUILD_DIR/bench-go

if [[ ! -d $CORPUS_DIR/mass-go1.27-100k ]]; then
  echo "run.sh: corpus not found at $CORPUS_DIR (set CORPUS_DIR)" >&2
  exit 1
fi

if [[ $QUICK == 1 ]]; then
  MIN_TIME=0.02; GO_MIN_TIME=20ms; REPS=1; PARSE_REPS=1
  LOAD_ARGS=(-duration 2s -warmup 500ms -repeat 6)
  WATCH_ARGS=(-targets 200 -interval 5s -warmup 7s -measure 10s)
  COST_ARGS=(-goroutines 1000,10000 -reps 1 -probes 2)
else
  MIN_TIME=0.1; GO_MIN_TIME=100ms; REPS=3; PARSE_REPS=9
  LOAD_ARGS=(-duration 8s -warmup 1s -repeat 20)
  WATCH_ARGS=(-targets 1000 -interval 15s -warmup 20s -measure 60s -full-targets 100,500)
  COST_ARGS=(-goroutines 1000,10000,100000 -reps 5 -probes 9)
fi

rm -rf "$RESULTS"
mkdir -p "$RESULTS" "$DATA" "$BIN"
: > "$RESULTS/commands.txt"
: > "$RESULTS/steps.tsv"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
RUN_START=$(now_ms)

# run CMD...: logs the command for the doc's "exact commands" section, then runs it.
run() {
  printf '%s\n' "$*" >> "$RESULTS/commands.txt"
  "$@"
}
# runin DIR [VAR=VALUE...] CMD...: the same, in DIR, with extra environment.
runin() {
  local dir=$1; shift
  printf '(cd %s && %s)\n' "$dir" "$*" >> "$RESULTS/commands.txt"
  (cd "$dir" && env "$@")
}
STEP_START=0
step() {
  local now
  now=$(now_ms)
  if [[ -n ${STEP_NAME:-} ]]; then
    printf '%s\t%d.%03d\n' "$STEP_NAME" $(( (now - STEP_START) / 1000 )) $(( (now - STEP_START) % 1000 )) >> "$RESULTS/steps.tsv"
  fi
  STEP_NAME=$1
  STEP_START=$now
  [[ $1 == end ]] || echo "== $1" >&2
}

step build
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  run cmake -S . -B "$BUILD_DIR" -G Ninja -DGOROUTINE_BUILD_BENCH=ON
fi
run cmake --build "$BUILD_DIR" --target goroutine_exporter bench_micro bench_stream
GO_OUT=$(realpath -m --relative-to=bench/go "$BIN")/
runin bench/go "$GO" build -trimpath -o "$GO_OUT" ./cmd/benchctl ./cmd/parsedump
# The target needs the goroutineleak profile: GOEXPERIMENT on Go 1.26, built in from Go 1.27
# (where the experiment name may be gone, hence the plain fallback).
runin bench/go GOEXPERIMENT=goroutineleakprofile "$GO" build -trimpath -o "$GO_OUT" ./cmd/stalltarget ||
  runin bench/go "$GO" build -trimpath -o "$GO_OUT" ./cmd/stalltarget

run "$BIN/benchctl" env -o "$RESULTS/env.json" -gomod bench/go/go.mod -cmake-cache "$BUILD_DIR/CMakeCache.txt"

step inputs
run "$BIN/benchctl" mkdata -corpus "$CORPUS_DIR" -out "$DATA" -o "$RESULTS/inputs.json"

# debug=0 inputs: the committed fixtures, every corpus debug=0 body, the synthetic profile.
DEBUG0=()
for f in tests/fixtures/captures/*/t*.goroutine.debug0.pb.gz; do
  d=$(basename "$(dirname "$f")"); b=$(basename "$f" .pb.gz)
  DEBUG0+=("fixture:$d/${b%%.*}=$f")
done
for f in "$CORPUS_DIR"/*/*.pb.gz; do
  d=$(basename "$(dirname "$f")"); b=$(basename "$f" .pb.gz)
  t=${b%%.*}; rest=${b#*.}
  case $rest in
    goroutine.debug0) name=$d/$t ;;
    goroutineleak.debug0) name=$d/$t.leak ;;
    *) name=$d/$t.${rest#goroutine.} ;;
  esac
  DEBUG0+=("$name=$f")
done
DEBUG0+=("synthetic/10k-stacks=$DATA/synth-10k-stacks.debug0.pb.gz")

step debug0-cpp
MICRO_ARGS=()
for spec in "${DEBUG0[@]}"; do MICRO_ARGS+=(--debug0 "$spec"); done
run "$BUILD_DIR/bench/bench_micro" "${MICRO_ARGS[@]}" \
  --render-snapshot "$DATA/synth-10k-stacks.debug0.pb.gz" \
  --render-small "$CORPUS_DIR/go1.27/t2.goroutine.debug0.pb.gz" --render-series 10000 \
  --benchmark_min_time="$MIN_TIME" --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
  --benchmark_out="$RESULTS/micro.json" --benchmark_out_format=json >&2

step debug0-go
run "$BIN/benchctl" debug0 -o "$RESULTS/debug0_go.json" -mintime "$GO_MIN_TIME" -reps "$REPS" "${DEBUG0[@]}"

step debug2
run "$BIN/benchctl" parse -o "$RESULTS/parse.json" -inputs "$RESULTS/inputs.json" -reps "$PARSE_REPS" \
  -stream "$BUILD_DIR/bench/bench_stream" -parsedump "$BIN/parsedump"

step probe-load
run "$BIN/benchctl" load -o "$RESULTS/load.json" -exporter "$BUILD_DIR/exporter/goroutine_exporter" \
  -corpus "$CORPUS_DIR" -synth "$DATA/synth-10k-stacks.debug0.pb.gz" "${LOAD_ARGS[@]}"

step watch
run "$BIN/benchctl" watch -o "$RESULTS/watch.json" -exporter "$BUILD_DIR/exporter/goroutine_exporter" \
  -corpus "$CORPUS_DIR" "${WATCH_ARGS[@]}"

step target-cost
run "$BIN/benchctl" cost -o "$RESULTS/cost.json" -exporter "$BUILD_DIR/exporter/goroutine_exporter" \
  -target "$BIN/stalltarget" "${COST_ARGS[@]}"

step end
"$BIN/benchctl" env -o "$RESULTS/env-end.json" -gomod bench/go/go.mod -cmake-cache "$BUILD_DIR/CMakeCache.txt"
RUN_SECONDS=$(( ($(now_ms) - RUN_START) / 1000 ))
QUICK_FLAG=()
[[ $QUICK == 1 ]] && QUICK_FLAG=(-quick)
"$BIN/benchctl" report -results "$RESULTS" -template bench/BENCHMARKS.md.tmpl -out "$OUT" \
  -run-seconds "$RUN_SECONDS" "${QUICK_FLAG[@]}"
echo "run.sh: wrote $OUT in $RUN_SECONDS s (results in $RESULTS)" >&2
