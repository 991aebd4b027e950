#!/usr/bin/env bash
# Tests the monitoring mixin. Run from anywhere:  dashboards/test.sh
#
#   1. generate.sh --check   out/ matches the jsonnet sources, and the sources are formatted
#   2. promtool check rules  out/rules.yaml, out/alerts.yaml
#   3. promtool test rules   tests/*_test.yaml (every alert: must fire / must not fire)
#   4. tests/lint.py         documented metric names only; dashboard queries parse; layout
#   5. tests/panel_queries.py  the key panels' queries count what they say, on made-up series
#   6. typecheck/            dashboards type-checked against @grafana/schema with tsc
#
# Needs: jsonnet (Debian package jsonnet), promtool (Debian package prometheus), python3,
# node and npm (the npm registry, the first time, for `npm ci`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

passed=0
failed=0
step() {
  local name="$1"
  shift
  echo "=== ${name}"
  if "$@"; then
    passed=$((passed + 1))
    echo "--- ok: ${name}"
  else
    failed=$((failed + 1))
    echo "--- FAILED: ${name}" >&2
  fi
}

typecheck() {
  (
    cd typecheck
    if [[ ! -d node_modules ]]; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    node wrap.mjs
    ./node_modules/.bin/tsc -p tsconfig.json
  )
}

step "generated outputs are up to date" ./generate.sh --check
step "promtool check rules" promtool check rules out/rules.yaml out/alerts.yaml
step "promtool test rules" promtool test rules tests/rules_test.yaml tests/alerts_test.yaml
step "metric names, dashboard queries and layout" python3 tests/lint.py
step "panel queries on made-up series (promtool)" python3 tests/panel_queries.py
step "dashboard types (@grafana/schema + tsc)" typecheck

echo
echo "mixin: ${passed} passed, ${failed} failed"
((failed == 0))
