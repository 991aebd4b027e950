// Turns the chart's rendered ScrapeConfig objects into a plain prometheus.yml whose pod
// discovery is replaced by static targets carrying the same __meta_kubernetes_pod_* labels
// that kubernetes_sd_configs (role pod) would produce, so a real Prometheus runs the chart's
// relabeling offline (scripts/helm-test.sh, "relabeling end to end").
//
//   node scrapeconfig-e2e.mjs config RENDERED.yaml PODS.json EXPORTER_ADDR > prometheus.yml
//   node scrapeconfig-e2e.mjs check TARGETS.json EXPECT.json POOL_SUBSTRING
//
// PODS.json: [{name, namespace, ip, phase, annotations: {...}}]. The chart's own relabelings
// are kept as rendered (camelCase keys mapped to Prometheus' snake_case); two test-only rules
// are appended: the address the chart chose is copied into the label `chart_address`, then
// __address__ is pointed at EXPORTER_ADDR (the Service name does not resolve here).
//
// check: TARGETS.json is Prometheus' /api/v1/targets answer, restricted to the scrape pools
// whose name contains POOL_SUBSTRING; EXPECT.json is
// {active: [{pod, job, instance, module, namespace, target?, chart_address_re}]} (target, the
// probed address, defaults to instance). Every expected pod must
// be active exactly once over those pools (shards), with those labels and a scrape URL that
// carries target= and module=; no other pod may be active.
import fs from "node:fs";
import { parseAllDocuments, stringify } from "yaml";

const [mode, ...rest] = process.argv.slice(2);

const SNAKE = {
  sourceLabels: "source_labels",
  targetLabel: "target_label",
  separator: "separator",
  regex: "regex",
  modulus: "modulus",
  replacement: "replacement",
  action: "action",
};

function relabel(r) {
  const out = {};
  for (const [k, v] of Object.entries(r)) {
    if (!(k in SNAKE)) throw new Error(`unsupported relabel field ${k}`);
    out[SNAKE[k]] = v;
  }
  if (out.action) out.action = out.action.toLowerCase();
  return out;
}

function annotationLabel(name) {
  return "__meta_kubernetes_pod_annotation_" + name.replace(/[^a-zA-Z0-9_]/g, "_");
}

if (mode === "config") {
  const [renderedFile, podsFile, exporterAddr] = rest;
  const pods = JSON.parse(fs.readFileSync(podsFile, "utf8"));
  const objects = parseAllDocuments(fs.readFileSync(renderedFile, "utf8"))
    .map((d) => d.toJS())
    .filter((o) => o && o.kind === "ScrapeConfig");
  if (objects.length === 0) throw new Error(`${renderedFile}: no ScrapeConfig`);
  const targets = pods.map((p) => {
    const labels = {
      __meta_kubernetes_namespace: p.namespace,
      __meta_kubernetes_pod_name: p.name,
      __meta_kubernetes_pod_ip: p.ip,
      __meta_kubernetes_pod_phase: p.phase,
      __meta_kubernetes_pod_host_ip: p.hostIP ?? "127.0.0.2",
    };
    for (const [k, v] of Object.entries(p.annotations ?? {})) labels[annotationLabel(k)] = v;
    // kubernetes_sd (role pod) puts a pod without declared ports at podIP as __address__.
    return { targets: [p.ip.includes(":") ? `[${p.ip}]` : p.ip], labels };
  });
  const scrapeConfigs = objects.map((o) => {
    const s = o.spec;
    return {
      job_name: `scrapeConfig/${o.metadata.namespace}/${o.metadata.name}`,
      metrics_path: s.metricsPath,
      params: s.params,
      scrape_interval: "2s",
      scrape_timeout: "2s",
      scheme: (s.scheme ?? "HTTP").toLowerCase(),
      static_configs: targets,
      relabel_configs: [
        ...(s.relabelings ?? []).map(relabel),
        { source_labels: ["__address__"], target_label: "chart_address" },
        { target_label: "__address__", replacement: exporterAddr },
      ],
      metric_relabel_configs: (s.metricRelabelings ?? []).map(relabel),
    };
  });
  process.stdout.write(stringify({ global: { scrape_interval: "2s" }, scrape_configs: scrapeConfigs }));
} else if (mode === "check") {
  const [targetsFile, expectFile, pool] = rest;
  const answer = JSON.parse(fs.readFileSync(targetsFile, "utf8"));
  const expect = JSON.parse(fs.readFileSync(expectFile, "utf8"));
  const errors = [];
  const active = answer.data.activeTargets.filter((t) => t.scrapePool.includes(pool));
  const byPod = new Map();
  for (const t of active) {
    const pod = t.labels.pod;
    byPod.set(pod, [...(byPod.get(pod) ?? []), t]);
  }
  for (const e of expect.active) {
    const got = byPod.get(e.pod) ?? [];
    if (got.length !== 1) {
      errors.push(`pod ${e.pod}: active in ${got.length} jobs, want exactly 1`);
      continue;
    }
    const t = got[0];
    const l = t.labels;
    if (l.job !== e.job) errors.push(`pod ${e.pod}: job=${l.job}, want ${e.job}`);
    if (l.instance !== e.instance) errors.push(`pod ${e.pod}: instance=${l.instance}, want ${e.instance}`);
    if (l.namespace !== e.namespace) errors.push(`pod ${e.pod}: namespace=${l.namespace}, want ${e.namespace}`);
    if (!new RegExp(e.chart_address_re).test(l.chart_address)) {
      errors.push(`pod ${e.pod}: chart address ${l.chart_address} does not match /${e.chart_address_re}/`);
    }
    const url = new URL(t.scrapeUrl);
    if (url.pathname !== "/probe") errors.push(`pod ${e.pod}: scrape path ${url.pathname}`);
    const target = e.target ?? e.instance;
    if (url.searchParams.get("target") !== target) {
      errors.push(`pod ${e.pod}: target param ${url.searchParams.get("target")}, want ${target}`);
    }
    if (l.target !== target) errors.push(`pod ${e.pod}: target label ${l.target}, want ${target}`);
    if (url.searchParams.get("module") !== e.module) {
      errors.push(`pod ${e.pod}: module param ${url.searchParams.get("module")}, want ${e.module}`);
    }
  }
  const expected = new Set(expect.active.map((e) => e.pod));
  for (const pod of byPod.keys()) {
    if (!expected.has(pod)) errors.push(`pod ${pod} is scraped but should have been dropped`);
  }
  const jobs = new Set(active.map((t) => t.scrapePool));
  if (errors.length) {
    for (const e of errors) console.error(`  ERROR ${e}`);
    process.exit(1);
  }
  console.log(`ok   ${pool}: ${active.length} active targets over ${jobs.size} scrape pool(s), the other pods dropped`);
} else {
  console.error("usage: scrapeconfig-e2e.mjs config|check ...");
  process.exit(2);
}
