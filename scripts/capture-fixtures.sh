#!/usr/bin/env bash
# capture-fixtures.sh — builds the fixture program tests/fixtures/leaky with several Go toolchains
# and captures its goroutine profiles into tests/fixtures/captures/<dir>/.
#
# Builds (all `go build -trimpath`, cgo default):
#   go1.MM          the machine's Go (`go version`, GOTOOLCHAIN=local)
#   go1.MM-leakexp  the machine's Go with GOEXPERIMENT=goroutineleakprofile, only when it is Go 1.26
#                   and accepts that experiment (Go 1.27 has the profile by default)
#   go1.22          a second toolchain fetched through the Go module proxy with GOTOOLCHAIN:
#                   go1.22.12 is tried first; if it cannot be had, go1.23.12, then go1.21.13 (the
#                   directory is named after the one used, and the script says which)
# The module's go.mod says `go 1.22`, so every build uses the Go 1.22 GODEBUG defaults (for example
# asynctimerchan=1 and no traceback labels).
#
# Per build: start it on 127.0.0.1 (random free ports) with -rounds 2, then
#   t1: /debug/pprof/goroutine?debug=0,1,2 (and, on Go >= 1.26, /debug/pprof/goroutineleak?debug=0,1,2;
#       Go 1.26 without the experiment answers 404 "Unknown profile", recorded in meta.json only)
#   /grow?rounds=3, /gc, sleep $T2_WAIT seconds (default 2)
#   t2: the same fetches as t1
#   /expected -> expected.json (for 5 rounds); meta.json with versions and totals.
# Files: tN.goroutine.debug0.pb.gz, tN.goroutine.debug1.txt, tN.goroutine.debug2.txt, the same
# with goroutineleak where served, *.headers (status line and headers as received, CRLF), and the
# <capture>.pprof-traces.tsv files of tests/fixtures/pprof_traces_check.sh for every debug=0 capture.
# Each fetch is a separate curl (one connection each), 0.2 s apart, in the order goroutine 0,1,2,
# then goroutineleak 0,1,2 (so a goroutineleak fetch marks goroutines "(leaked)" only in later dumps).
#
# meta.json "captures.tN.goroutine" totals: debug0_total (sum of sample values), debug0_samples,
# debug0_empty_samples / debug0_empty_goroutines (samples without location), debug1_total (the
# "total N" header), debug1_sum (sum of record counts), debug1_records, debug2_goroutines (number
# of "goroutine N [" records), debug2_leaked (records with "(leaked)"). "key_check" matches every
# debug=2 record against the keys of expected.json (see tests/fixtures/leaky/main.go), and
# "goroutineleak_key_check" the "(leaked)" records of the goroutineleak debug=2 dumps against the
# keys with goroutineleak=true.
#
# Usage: scripts/capture-fixtures.sh [DIR...]   DIR in go1.26 go1.26-leakexp go1.22 (default: all)
# Env:   T2_WAIT (seconds between /gc and t2, default 2), SECOND_GO (override the second toolchain).
# Needs: go, curl, jq, awk. Network: loopback only, plus the Go module proxy for the toolchain.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/tests/fixtures/leaky
out=$root/tests/fixtures/captures
t2_wait=${T2_WAIT:-2}
second_candidates=(go1.22.12 go1.23.12 go1.21.13)
if [[ -n ${SECOND_GO:-} ]]; then second_candidates=("$SECOND_GO"); fi

for tool in go curl jq awk; do
  command -v "$tool" >/dev/null 2>&1 || { echo "capture-fixtures: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "capture-fixtures: $*" >&2; }

fetch() { # fetch URL BODY HEADERS -> prints the HTTP status code
  curl -sS --max-time 60 --noproxy '*' -D "$3" -o "$2" -w '%{http_code}' "$1"
}

build() { # build DIR TOOLCHAIN GOEXPERIMENT -> binary at $work/DIR/leaky
  local dir=$1 tc=$2 exp=$3
  mkdir -p "$work/$dir"
  (cd "$src" && GOTOOLCHAIN=$tc GOEXPERIMENT=$exp GOFLAGS="-mod=readonly -buildvcs=false" \
     go build -trimpath -o "$work/$dir/leaky" .)
}

# debug0_stats FILE -> "total samples empty_samples empty_goroutines"
debug0_stats() {
  GOTOOLCHAIN=local go tool pprof -symbolize=none -raw "$1" 2>/dev/null | awk '
    /^Samples:/ { s = 1; next }
    /^Locations/ { s = 0 }
    s && /^ +-?[0-9]+:/ { v = $1; sub(/:$/, "", v); t += v; n++; if (NF == 1) { en++; eg += v } }
    END { printf "%d %d %d %d\n", t, n, en, eg }'
}

# totals_json PREFIX (e.g. DIR/t1.goroutine) -> JSON object with the totals of the three formats
totals_json() {
  local p=$1 d0 n0 e0 g0
  read -r d0 n0 e0 g0 < <(debug0_stats "$p.debug0.pb.gz")
  local d1 s1 r1 d2 l2
  d1=$(awk 'NR == 1 { print $NF; exit }' "$p.debug1.txt")
  s1=$(awk '/^[0-9]+ @/ { s += $1 } END { print s + 0 }' "$p.debug1.txt")
  r1=$(awk '/^[0-9]+ @/ { n++ } END { print n + 0 }' "$p.debug1.txt")
  d2=$(grep -c '^goroutine [0-9]* \[' "$p.debug2.txt" || true)
  l2=$(grep -c '^goroutine [0-9]* \[[^]]*(leaked)' "$p.debug2.txt" || true)
  jq -n --argjson d0 "$d0" --argjson n0 "$n0" --argjson e0 "$e0" --argjson g0 "$g0" \
    --argjson d1 "$d1" --argjson s1 "$s1" --argjson r1 "$r1" --argjson d2 "$d2" --argjson l2 "$l2" \
    '{debug0_total: $d0, debug0_samples: $n0, debug0_empty_samples: $e0, debug0_empty_goroutines: $g0,
      debug1_total: $d1, debug1_sum: $s1, debug1_records: $r1, debug2_goroutines: $d2, debug2_leaked: $l2}'
}

# key_check DEBUG2 EXPECTED ROUNDS [leaked] -> JSON: per-key observed vs expected, unmatched records.
# With "leaked", only records marked "(leaked)" count, against the keys with goroutineleak=true.
key_check() {
  local d2=$1 exp=$2 rounds=$3 only=${4:-}
  jq -r --argjson r "$rounds" --arg only "$only" '.functions | to_entries[]
      | if $only == "leaked" then select(.value.goroutineleak) else . end
      | "\(.key)\t\(.value.base + .value.per_round * $r)"' "$exp" > "$work/keys.tsv"
  jq -r '(.aliases // {}) | to_entries[] | "\(.key)\t\(.value)"' "$exp" > "$work/aliases.tsv"
  awk -F '\t' -v keys="$work/keys.tsv" -v aliases="$work/aliases.tsv" -v only="$only" '
    BEGIN {
      while ((getline line < keys) > 0) { split(line, f, "\t"); want[f[1]] = f[2] + 0 }
      while ((getline line < aliases) > 0) { split(line, f, "\t"); alias[f[1]] = f[2] }
    }
    function flush(   k, m, hit) {
      if (hdr == "") return
      m = 0
      for (k in seen) { m++; hit = k }
      if (m == 1) got[hit]++
      else if (m == 0) unmatched[hdr " " first]++
      else ambiguous[hdr]++
      delete seen; hdr = ""; first = ""
    }
    /^goroutine [0-9]+ \[/ {
      flush()
      if (only == "leaked" && $0 !~ /^goroutine [0-9]+ \[[^]]*\(leaked\)/) next
      hdr = $0; sub(/^goroutine [0-9]+ /, "", hdr); next
    }
    /^\t/ || /^created by / || /^\.\.\./ || /^$/ { next }
    hdr != "" {
      name = $0
      # argument lists may contain nested braces but never parentheses; strip from the last "("
      p = 0; for (i = length($0); i > 0; i--) if (substr($0, i, 1) == "(") { p = i; break }
      if (p > 1) name = substr($0, 1, p - 1)
      if (first == "") first = name
      if (name in alias) name = alias[name]
      if (name in want) seen[name] = 1
    }
    END {
      flush()
      printf "{\"mismatches\":["
      sep = ""
      for (k in want) if (got[k] + 0 != want[k]) {
        printf "%s{\"key\":\"%s\",\"expected\":%d,\"observed\":%d}", sep, k, want[k], got[k] + 0; sep = ","
      }
      printf "],\"unmatched\":["
      sep = ""
      for (u in unmatched) { gsub(/\\/, "\\\\", u); gsub(/"/, "\\\"", u); printf "%s{\"record\":\"%s\",\"count\":%d}", sep, u, unmatched[u]; sep = "," }
      printf "],\"ambiguous\":%d}\n", length(ambiguous)
    }' "$d2" | jq -c '.mismatches |= sort_by(.key) | .unmatched |= sort_by(.record)'
}

capture_one() { # capture_one DIR TAG ADDR GO_MINOR -> JSON object on stdout
  local dir=$1 tag=$2 addr=$3 minor=$4 d code ext leak_json="null" t
  t=$(awk -v s="$start_ns" -v n="$(date +%s%N)" 'BEGIN { printf "%.1f", (n - s) / 1e9 }')
  for d in 0 1 2; do
    ext=txt; [[ $d -eq 0 ]] && ext=pb.gz
    code=$(fetch "http://$addr/debug/pprof/goroutine?debug=$d" "$dir/$tag.goroutine.debug$d.$ext" \
                 "$dir/$tag.goroutine.debug$d.headers")
    [[ $code == 200 ]] || { log "$tag goroutine debug=$d: HTTP $code"; return 1; }
    sleep 0.2
  done
  if [[ $minor -ge 26 ]]; then
    leak_json='{}'
    for d in 0 1 2; do
      ext=txt; [[ $d -eq 0 ]] && ext=pb.gz
      code=$(fetch "http://$addr/debug/pprof/goroutineleak?debug=$d" "$work/leak.body" "$work/leak.headers")
      if [[ $code == 200 ]]; then
        mv "$work/leak.body" "$dir/$tag.goroutineleak.debug$d.$ext"
        mv "$work/leak.headers" "$dir/$tag.goroutineleak.debug$d.headers"
        leak_json=$(jq -c --arg d "debug$d" '.[$d] = {status: 200}' <<<"$leak_json")
      else
        leak_json=$(jq -c --arg d "debug$d" --argjson c "$code" --rawfile b "$work/leak.body" \
                      '.[$d] = {status: $c, body: $b}' <<<"$leak_json")
      fi
      sleep 0.2
    done
  fi
  local gor
  gor=$(totals_json "$dir/$tag.goroutine")
  if [[ -e $dir/$tag.goroutineleak.debug2.txt ]]; then
    local l1 l0
    l1=$(awk 'NR == 1 { print $NF; exit }' "$dir/$tag.goroutineleak.debug1.txt")
    read -r l0 _ < <(debug0_stats "$dir/$tag.goroutineleak.debug0.pb.gz")
    leak_json=$(jq -c --argjson l0 "$l0" --argjson l1 "$l1" \
      --argjson d2 "$(grep -c '^goroutine [0-9]* \[' "$dir/$tag.goroutineleak.debug2.txt" || true)" \
      --argjson l2 "$(grep -c '^goroutine [0-9]* \[[^]]*(leaked)' "$dir/$tag.goroutineleak.debug2.txt" || true)" \
      '. + {debug0_total: $l0, debug1_total: $l1, debug2_goroutines: $d2, debug2_leaked: $l2}' <<<"$leak_json")
  fi
  jq -n --argjson t "$t" --argjson g "$gor" --argjson l "$leak_json" \
    '{seconds_after_start: $t, goroutine: $g} + (if $l == null then {} else {goroutineleak: $l} end)'
}

run_variant() { # run_variant DIR TOOLCHAIN GOEXPERIMENT
  local dir=$1 tc=$2 exp=$3
  log "== $dir: building with GOTOOLCHAIN=$tc${exp:+ GOEXPERIMENT=$exp}"
  build "$dir" "$tc" "$exp"
  local bin=$work/$dir/leaky toolchain runtime_version minor
  toolchain=$(cd "$src" && GOTOOLCHAIN=$tc go version)
  runtime_version=$(GOTOOLCHAIN=local go version "$bin" | awk '{ $1 = ""; sub(/^ /, ""); print }')
  minor=$(sed -E 's/^go version go1\.([0-9]+).*/\1/' <<<"$toolchain")

  local dest=$out/$dir
  rm -rf "$dest"
  mkdir -p "$dest"

  start_ns=$(date +%s%N)
  timeout 600 "$bin" -listen 127.0.0.1:0 -upstream 127.0.0.1:0 -rounds 2 >"$work/$dir/stdout" 2>"$work/$dir/stderr" &
  local pid=$!
  pids+=("$pid")
  local addr="" i
  for i in $(seq 1 300); do
    addr=$(sed -n 's/^listening on //p' "$work/$dir/stdout")
    [[ -n $addr ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $addr ]] || { log "$dir: program did not start"; cat "$work/$dir/stderr" >&2; return 1; }
  log "$dir: $runtime_version listening on $addr"
  sleep 1

  local t1 t2 key1 key2
  t1=$(capture_one "$dest" t1 "$addr" "$minor")
  curl -sS --max-time 60 --noproxy '*' -o /dev/null "http://$addr/grow?rounds=3"
  curl -sS --max-time 60 --noproxy '*' -o /dev/null "http://$addr/gc"
  sleep "$t2_wait"
  t2=$(capture_one "$dest" t2 "$addr" "$minor")
  curl -sS --max-time 60 --noproxy '*' -o "$dest/expected.json" "http://$addr/expected"

  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true

  key1=$(key_check "$dest/t1.goroutine.debug2.txt" "$dest/expected.json" 2)
  key2=$(key_check "$dest/t2.goroutine.debug2.txt" "$dest/expected.json" 5)
  local leak1=null leak2=null
  if [[ -e $dest/t2.goroutineleak.debug2.txt ]]; then
    leak1=$(key_check "$dest/t1.goroutineleak.debug2.txt" "$dest/expected.json" 2 leaked)
    leak2=$(key_check "$dest/t2.goroutineleak.debug2.txt" "$dest/expected.json" 5 leaked)
  fi
  jq -n --arg dir "$dir" --arg rv "$runtime_version" --arg tc "$toolchain" --arg exp "$exp" \
    --arg gotc "$tc" --argjson t1 "$t1" --argjson t2 "$t2" --argjson k1 "$key1" --argjson k2 "$key2" --argjson l1 "$leak1" --argjson l2 "$leak2" \
    --argjson wait "$t2_wait" --slurpfile e "$dest/expected.json" \
    '{dir: $dir, go_version: $e[0].go_version, binary_go_version: $rv, toolchain: $tc,
      gotoolchain: $gotc, goexperiment: $exp, godebug: "", build: "go build -trimpath",
      go_mod_go_line: "1.22", x_sync: "v0.11.0",
      scenario: "leaky -rounds 2; t1; /grow?rounds=3; /gc; sleep \($wait)s; t2",
      rounds: {t1: 2, t2: $e[0].rounds},
      expected_total: {t1: ($e[0].base_total + 2 * $e[0].per_round_total), t2: $e[0].expected_total},
      goroutineleak_expected: {t1: (2 * $e[0].goroutineleak_per_round), t2: $e[0].goroutineleak_expected},
      captures: {t1: $t1, t2: $t2},
      key_check: {t1: $k1, t2: $k2}}
     + (if $l1 == null then {} else {goroutineleak_key_check: {t1: $l1, t2: $l2}} end)' >"$dest/meta.json"
  log "$dir: t1 $(jq -c '.captures.t1.goroutine | [.debug0_total, .debug1_total, .debug2_goroutines]' "$dest/meta.json") t2 $(jq -c '.captures.t2.goroutine | [.debug0_total, .debug1_total, .debug2_goroutines]' "$dest/meta.json") expected $(jq -c '[.expected_total.t1, .expected_total.t2]' "$dest/meta.json")"
  if [[ $(jq '[(.key_check, .goroutineleak_key_check // {})[] | (.mismatches | length) + .ambiguous + (.unmatched | length)] | add // 0' "$dest/meta.json") != 0 ]]; then
    log "$dir: key check differences: $(jq -c '[.key_check, .goroutineleak_key_check]' "$dest/meta.json")"
  fi
  "$root/tests/fixtures/pprof_traces_check.sh" "$dest"/*.debug0.pb.gz
}

machine_go=$(GOTOOLCHAIN=local go version)
machine_minor=$(sed -E 's/^go version go1\.([0-9]+).*/\1/' <<<"$machine_go")
machine_dir=go1.$machine_minor
log "machine Go: $machine_go"

wanted=("$@")
want() { [[ ${#wanted[@]} -eq 0 ]] && return 0; local w; for w in "${wanted[@]}"; do [[ $w == "$1" ]] && return 0; done; return 1; }

if want "$machine_dir"; then
  run_variant "$machine_dir" local ""
fi

if [[ $machine_minor -eq 26 ]] && want "$machine_dir-leakexp"; then
  if (cd "$src" && GOTOOLCHAIN=local GOEXPERIMENT=goroutineleakprofile go build -trimpath -o /dev/null . 2>/dev/null); then
    run_variant "$machine_dir-leakexp" local goroutineleakprofile
  else
    log "machine Go does not accept GOEXPERIMENT=goroutineleakprofile; no leakexp variant"
  fi
fi

second=""
for c in "${second_candidates[@]}"; do
  if (cd "$src" && GOTOOLCHAIN=$c go version >/dev/null 2>&1); then second=$c; break; fi
  log "toolchain $c is not available"
done
if [[ -z $second ]]; then
  log "no second toolchain available (tried ${second_candidates[*]})"
  exit 1
fi
second_dir=$(sed -E 's/^(go1\.[0-9]+).*/\1/' <<<"$second")
if [[ $second_dir != "$machine_dir" ]] && want "$second_dir"; then
  log "second toolchain: $second"
  run_variant "$second_dir" "$second" ""
fi
log "done: $out"
