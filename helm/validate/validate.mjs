// Offline validation of `helm template` output (scripts/helm-test.sh).
//
//   node validate.mjs --chart DIR [--extract DIR] RENDERED.yaml...
//
// For every object of every multi-document YAML file:
//   - validates it with the matching kubernetes-models class (core, apps, policy, networking)
//     or @kubernetes-models/prometheus-operator class (ServiceMonitor, Probe, PrometheusRule,
//     ScrapeConfig): wrong types, missing required fields and bad enum values fail;
//   - checks the chart's own conventions: names, namespaces and standard labels; the pod
//     security settings (non-root 65532, read-only root, no privilege escalation, all
//     capabilities dropped, RuntimeDefault seccomp) and health probes; Service and workload
//     selectors that match the pod labels; every scrape object sets one `job` label; the
//     PrometheusRule rules and dashboard ConfigMaps carry the mixin's files (files/ in the
//     chart) unchanged but for that job (jobLabel) and the runbook links (runbookBaseURL).
// With --extract DIR, writes the exporter config (config.yml) and web config (web-config.yml)
// found in the ConfigMap/Secret of each file to DIR/<file basename>/ for --config.check.
// Exits 1 on the first file with errors, after printing all of its errors.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
let chartDir = null;
let extractDir = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--chart") chartDir = args[++i];
  else if (args[i] === "--extract") extractDir = args[++i];
  else files.push(args[i]);
}
if (!chartDir || files.length === 0) {
  console.error("usage: node validate.mjs --chart DIR [--extract DIR] RENDERED.yaml...");
  process.exit(2);
}

const RUN_AS = 65532;
const STANDARD_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "helm.sh/chart",
  "app.kubernetes.io/managed-by", "app.kubernetes.io/version"];
const NAMESPACED = new Set(["ConfigMap", "Secret", "Service", "ServiceAccount", "Deployment",
  "StatefulSet", "DaemonSet", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor", "Probe",
  "PrometheusRule", "ScrapeConfig"]);
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// The chart's copies of the mixin files.
const mixinRules = loadRuleFile(path.join(chartDir, "files/rules.yaml"));
const mixinAlerts = loadRuleFile(path.join(chartDir, "files/alerts.yaml"));
const mixinRuleByName = new Map();
for (const g of [...mixinRules.groups, ...mixinAlerts.groups]) {
  for (const r of g.rules) mixinRuleByName.set(r.record ?? r.alert, r);
}
const mixinJob = (() => {
  const text = fs.readFileSync(path.join(chartDir, "files/rules.yaml"), "utf8");
  const m = text.match(/\bjob="([^"]+)"/);
  if (!m) throw new Error("files/rules.yaml: no job=\"...\" selector found");
  return m[1];
})();
// Where the mixin's runbook_url links point (before the '#anchor').
const mixinRunbookBase = (() => {
  for (const g of mixinAlerts.groups) {
    for (const r of g.rules) {
      const url = r.annotations?.runbook_url;
      if (url) return url.split("#")[0];
    }
  }
  throw new Error("files/alerts.yaml: no runbook_url found");
})();
const dashboardFiles = new Map();
for (const f of fs.readdirSync(path.join(chartDir, "files/dashboards"))) {
  if (f.endsWith(".json")) {
    dashboardFiles.set(f, JSON.parse(fs.readFileSync(path.join(chartDir, "files/dashboards", f), "utf8")));
  }
}

function loadRuleFile(file) {
  const doc = parseAllDocuments(fs.readFileSync(file, "utf8"))[0].toJS();
  if (!doc || !Array.isArray(doc.groups)) throw new Error(`${file}: no groups`);
  return doc;
}

const classCache = new Map();
async function modelClass(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (classCache.has(key)) return classCache.get(key);
  let mod;
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    mod = await import(`@kubernetes-models/prometheus-operator/${apiVersion}`);
  } else {
    // "v1" (core) -> kubernetes-models/v1, "apps/v1" -> kubernetes-models/apps/v1, ...
    mod = await import(`kubernetes-models/${apiVersion}`);
  }
  const cls = mod[kind];
  if (!cls) throw new Error(`no model class for ${key}`);
  classCache.set(key, cls);
  return cls;
}

function isDeepEqual(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  }
  return v;
}
function matchesSelector(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function checkPodSpec(where, podSpec, errors) {
  const psc = podSpec.securityContext ?? {};
  if (podSpec.hostNetwork) errors.push(`${where}: hostNetwork must stay false`);
  if (podSpec.automountServiceAccountToken !== false) {
    errors.push(`${where}: automountServiceAccountToken should be false (the exporter never calls the API)`);
  }
  const volumes = new Set((podSpec.volumes ?? []).map((v) => v.name));
  for (const c of podSpec.containers ?? []) {
    const w = `${where} container ${c.name}`;
    const sc = c.securityContext ?? {};
    const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    const runAsUser = sc.runAsUser ?? psc.runAsUser;
    const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (runAsNonRoot !== true) errors.push(`${w}: runAsNonRoot must be true`);
    if (runAsUser !== RUN_AS) errors.push(`${w}: runAsUser must be ${RUN_AS}, got ${runAsUser}`);
    if (sc.readOnlyRootFilesystem !== true) errors.push(`${w}: readOnlyRootFilesystem must be true`);
    if (sc.allowPrivilegeEscalation !== false) errors.push(`${w}: allowPrivilegeEscalation must be false`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) errors.push(`${w}: capabilities.drop must include ALL`);
    if (seccomp !== "RuntimeDefault") errors.push(`${w}: seccompProfile must be RuntimeDefault`);
    if (!c.livenessProbe) errors.push(`${w}: no livenessProbe`);
    if (!c.readinessProbe) errors.push(`${w}: no readinessProbe`);
    for (const [name, probe] of [["liveness", c.livenessProbe], ["readiness", c.readinessProbe]]) {
      const p = probe?.httpGet?.path;
      if (p && p !== (name === "liveness" ? "/-/healthy" : "/-/ready")) {
        errors.push(`${w}: ${name} probe path ${p}`);
      }
    }
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) errors.push(`${w}: volumeMount ${m.name} has no volume`);
    }
    const args = c.args ?? [];
    const cfg = args.find((a) => a.startsWith("--config.file="));
    if (cfg && !(c.volumeMounts ?? []).some((m) => cfg.slice("--config.file=".length).startsWith(m.mountPath + "/"))) {
      errors.push(`${w}: ${cfg} is not under a volume mount`);
    }
  }
}

function checkRules(where, spec, errors) {
  let seen = 0;
  for (const g of spec.groups ?? []) {
    for (const r of g.rules ?? []) {
      const name = r.record ?? r.alert;
      const orig = mixinRuleByName.get(name);
      if (!orig) continue; // additionalGroups
      seen++;
      if (r.expr !== orig.expr) errors.push(`${where}: ${name}: expr differs from the mixin's`);
      if ((r.for ?? null) !== (orig.for ?? null)) errors.push(`${where}: ${name}: for differs`);
      if (!isDeepEqual(r.annotations ?? {}, orig.annotations ?? {})) {
        errors.push(`${where}: ${name}: annotations differ from the mixin's`);
      }
      for (const [k, v] of Object.entries(orig.labels ?? {})) {
        if (!(k in (r.labels ?? {}))) errors.push(`${where}: ${name}: lost label ${k}=${v}`);
      }
    }
  }
  if (seen === 0) errors.push(`${where}: no rule of the mixin found`);
}

function parseObjects(file, text, errors) {
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      for (const e of doc.errors) errors.push(`${file}: YAML: ${e.message}`);
      continue;
    }
    const obj = doc.toJS();
    if (obj == null) continue;
    objects.push(obj);
  }
  return objects;
}

// The job the release's scrape objects set (jobLabel), and where its alerts' runbook links
// point (prometheusRule.runbookBaseURL); the mixin's own when there are none.
function releaseSettings(objects) {
  let job = null;
  let runbookBase = null;
  for (const obj of objects) {
    if (obj.kind === "Probe") job ??= obj.spec?.jobName;
    if (obj.kind === "ScrapeConfig") {
      job ??= (obj.spec?.relabelings ?? []).filter((r) => r.targetLabel === "job").pop()?.replacement;
    }
    if (obj.kind === "ServiceMonitor") {
      for (const ep of obj.spec?.endpoints ?? []) {
        job ??= (ep.relabelings ?? []).find((r) => r.targetLabel === "job")?.replacement;
      }
    }
    if (obj.kind === "PrometheusRule") {
      for (const g of obj.spec?.groups ?? []) {
        for (const r of g.rules ?? []) {
          const url = r.annotations?.runbook_url;
          if (url && url.includes("#")) runbookBase ??= url.split("#")[0];
        }
      }
    }
  }
  return { job: job ?? mixinJob, runbookBase: runbookBase ?? mixinRunbookBase };
}

async function validateFile(file) {
  const errors = [];
  let text = fs.readFileSync(file, "utf8");
  let objects = parseObjects(file, text, errors);
  // The chart puts jobLabel and runbookBaseURL into the mixin's files: map them back, so that
  // the rules and dashboards compare with files/ (every other byte must be the same).
  const release = releaseSettings(objects);
  if (release.job !== mixinJob || release.runbookBase !== mixinRunbookBase) {
    for (const op of ["=", "!="]) {
      text = text.replaceAll(`job${op}"${release.job}"`, `job${op}"${mixinJob}"`);
      text = text.replaceAll(`job${op}\\"${release.job}\\"`, `job${op}\\"${mixinJob}\\"`);
    }
    text = text.replaceAll(release.runbookBase + "#", mixinRunbookBase + "#");
    objects = parseObjects(file, text, errors);
  }
  const expectedJob = release.job;
  const kinds = {};
  const workloads = [];
  const services = [];
  for (const obj of objects) {
    const id = `${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
    kinds[obj.kind] = (kinds[obj.kind] ?? 0) + 1;
    if (!obj.apiVersion || !obj.kind) {
      errors.push(`${id}: missing apiVersion or kind`);
      continue;
    }
    try {
      const Cls = await modelClass(obj.apiVersion, obj.kind);
      new Cls(obj).validate();
    } catch (e) {
      errors.push(`${id} (${obj.apiVersion}): ${e.message}`);
    }
    const md = obj.metadata ?? {};
    if (!md.name || !DNS1123.test(md.name) || md.name.length > 253) errors.push(`${id}: bad name`);
    if (["Service", "Deployment", "StatefulSet", "DaemonSet"].includes(obj.kind) && md.name.length > 63) {
      errors.push(`${id}: name longer than 63 characters`);
    }
    if (NAMESPACED.has(obj.kind) && !md.namespace) errors.push(`${id}: no metadata.namespace`);
    for (const l of STANDARD_LABELS) {
      if (!md.labels?.[l]) errors.push(`${id}: missing label ${l}`);
    }
    for (const [k, v] of Object.entries(md.labels ?? {})) {
      if (String(v).length > 63) errors.push(`${id}: label ${k} value longer than 63 characters`);
    }

    switch (obj.kind) {
      case "Deployment":
      case "StatefulSet":
      case "DaemonSet": {
        const podLabels = obj.spec?.template?.metadata?.labels ?? {};
        if (!matchesSelector(obj.spec?.selector?.matchLabels, podLabels)) {
          errors.push(`${id}: selector does not match the pod template labels`);
        }
        checkPodSpec(id, obj.spec?.template?.spec ?? {}, errors);
        workloads.push(obj);
        break;
      }
      case "Service":
        services.push(obj);
        break;
      case "ServiceMonitor":
        for (const ep of obj.spec?.endpoints ?? []) {
          const job = (ep.relabelings ?? []).find((r) => r.targetLabel === "job");
          if (job?.replacement !== expectedJob) errors.push(`${id}: job label is not "${expectedJob}"`);
        }
        break;
      case "Probe":
        if (obj.spec?.jobName !== expectedJob) errors.push(`${id}: jobName is not "${expectedJob}"`);
        if (obj.spec?.prober?.path !== "/probe") errors.push(`${id}: prober path is not /probe`);
        break;
      case "ScrapeConfig": {
        const rl = obj.spec?.relabelings ?? [];
        const job = rl.filter((r) => r.targetLabel === "job").pop();
        if (job?.replacement !== expectedJob) errors.push(`${id}: job label is not "${expectedJob}"`);
        for (const t of ["__param_target", "__address__", "instance"]) {
          if (!rl.some((r) => r.targetLabel === t)) errors.push(`${id}: no relabeling sets ${t}`);
        }
        if (obj.spec?.metricsPath !== "/probe") errors.push(`${id}: metricsPath is not /probe`);
        break;
      }
      case "PrometheusRule":
        checkRules(id, obj.spec ?? {}, errors);
        break;
      case "ConfigMap": {
        for (const [key, value] of Object.entries(obj.data ?? {})) {
          if (!key.endsWith(".json")) continue;
          const want = dashboardFiles.get(key);
          if (!want) {
            errors.push(`${id}: ${key} is not a dashboard of files/dashboards`);
            continue;
          }
          let got;
          try {
            got = JSON.parse(value);
          } catch (e) {
            errors.push(`${id}: ${key}: not JSON: ${e.message}`);
            continue;
          }
          if (!isDeepEqual(got, want)) errors.push(`${id}: ${key} differs from files/dashboards/${key}`);
        }
        break;
      }
      default:
        break;
    }
  }

  for (const svc of services) {
    const sel = svc.spec?.selector ?? {};
    if (!workloads.some((w) => matchesSelector(sel, w.spec?.template?.metadata?.labels))) {
      errors.push(`Service/${svc.metadata.name}: selector matches no workload's pods`);
    }
  }
  if (workloads.length !== 1) errors.push(`${file}: expected exactly one workload, got ${workloads.length}`);

  if (extractDir) {
    const out = path.join(extractDir, path.basename(file, path.extname(file)));
    fs.mkdirSync(out, { recursive: true });
    for (const obj of objects) {
      if (obj.kind === "ConfigMap" && obj.data?.["config.yml"] != null) {
        fs.writeFileSync(path.join(out, "config.yml"), obj.data["config.yml"]);
      }
      if (obj.kind === "Secret" && obj.stringData?.["web-config.yml"] != null) {
        fs.writeFileSync(path.join(out, "web-config.yml"), obj.stringData["web-config.yml"]);
      }
    }
  }

  const summary = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ");
  if (errors.length) {
    for (const e of errors) console.error(`  ERROR ${e}`);
    console.error(`FAIL ${file}: ${errors.length} error(s) in ${objects.length} objects`);
    return false;
  }
  console.log(`ok   ${file}: ${objects.length} objects valid (${summary})`);
  return true;
}

let ok = true;
for (const f of files) ok = (await validateFile(f)) && ok;
process.exit(ok ? 0 : 1);
