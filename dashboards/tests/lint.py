#!/usr/bin/env python3
"""Lints the generated mixin outputs beyond what promtool and tsc see.

  python3 tests/lint.py            (from dashboards/; needs jsonnet and promtool on PATH)

1. Metric names: every goroutine_* name used by alerts, rules and dashboards is one of the
   names fixed in docs/metrics.md (histograms may add _bucket/_sum/_count), and every name
   with a colon is a recording rule of out/rules.yaml.
2. Dashboard PromQL: every panel query, variable query (the selector inside label_values())
   and annotation query parses. Grafana variables are replaced by sample values and the
   expressions are handed to `promtool check rules` as recording rules.
3. Runbook: every alert has summary, description and a runbook_url whose anchor is a heading
   of docs/runbook.md.
4. Dashboard structure: unique uids and panel ids, panels inside the 24-column grid and not
   overlapping, every panel and query on the ${datasource} variable, every $variable used is
   defined, every defined variable is used.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MIXIN = os.path.dirname(HERE)
REPO = os.path.dirname(MIXIN)
METRICS_MD = os.path.join(REPO, "docs", "metrics.md")
RUNBOOK_MD = os.path.join(REPO, "docs", "runbook.md")
DASHBOARDS = os.path.join(MIXIN, "out", "dashboards")

errors = []


def error(msg):
    errors.append(msg)


def documented_metrics():
    """goroutine_* names from the tables of docs/metrics.md."""
    names = set()
    with open(METRICS_MD, encoding="utf-8") as f:
        for line in f:
            if line.startswith("| `goroutine_"):
                name = line.split("`")[1]
                names.add(name)
    if not names:
        error(f"{METRICS_MD}: no goroutine_* metrics found")
    return names


def runbook_anchors():
    """GitHub-style anchors of the headings of docs/runbook.md."""
    anchors = set()
    with open(RUNBOOK_MD, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#+ (.*)", line)
            if m:
                text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
                anchors.add(text.replace(" ", "-"))
    return anchors


def check_alert_annotations(alerts):
    anchors = runbook_anchors()
    for g in alerts["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            ann = r.get("annotations", {})
            for key in ("summary", "description", "runbook_url"):
                if not ann.get(key):
                    error(f"alert {r['alert']}: no {key}")
            if "for" not in r:
                error(f"alert {r['alert']}: no for:")
            url = ann.get("runbook_url", "")
            anchor = url.partition("#")[2]
            if not url.split("#")[0].endswith("docs/runbook.md") or anchor not in anchors:
                error(f"alert {r['alert']}: runbook_url {url} has no matching heading in docs/runbook.md")


def mixin_json(field):
    out = subprocess.run(
        ["jsonnet", "-e", f"(import 'mixin.libsonnet').{field}"],
        cwd=MIXIN, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


GRAFANA_VARS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "${datasource}": "prom",
    "$offset": "1d",
    "$stack_id": "0123456789abcdef",
}


def substitute(expr):
    for k, v in GRAFANA_VARS.items():
        expr = expr.replace(k, v)
    # Remaining variables sit inside regex matchers ("$job", "$instance", "$category").
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "x", expr)


TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|[A-Za-z_:][A-Za-z0-9_:]*')


RANGE = re.compile(r"\[[0-9a-z:$_ ]*\]")  # [5m], [15m:1m] subqueries, [$__rate_interval]


def metric_tokens(expr):
    # Durations in brackets are not names ("15m:1m" would read as the name "m:1m").
    for tok in TOKEN.findall(RANGE.sub("", expr)):
        if tok[0] in "\"`":
            continue  # label values and strings
        yield tok


def check_names(where, expr, documented, recorded):
    for tok in metric_tokens(expr):
        if ":" in tok:
            if tok not in recorded:
                error(f"{where}: {tok} is not a recording rule of out/rules.yaml")
        elif tok.startswith("goroutine_"):
            base = re.sub(r"_(bucket|sum|count)$", "", tok)
            if tok not in documented and base not in documented:
                error(f"{where}: {tok} is not in docs/metrics.md")


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def lint_dashboard(path, documented, recorded, exprs):
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    text = json.dumps(d)
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    if "datasource" not in variables:
        error(f"{name}: no datasource variable")

    used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))
    used = {u for u in used if not u.startswith("__")}
    for u in sorted(used - set(variables)):
        error(f"{name}: ${u} is used but not defined")
    for v in sorted(set(variables) - used):
        error(f"{name}: variable {v} is defined but never used")

    ids = set()
    cells = {}
    for p in walk_panels(d.get("panels", [])):
        title = p.get("title", "?")
        pid = p.get("id")
        if pid in ids:
            error(f"{name}: duplicate panel id {pid}")
        ids.add(pid)
        gp = p.get("gridPos", {})
        if gp.get("x", 0) + gp.get("w", 0) > 24:
            error(f"{name}: panel {title!r} extends past column 24")
        for x in range(gp.get("x", 0), gp.get("x", 0) + gp.get("w", 0)):
            for y in range(gp.get("y", 0), gp.get("y", 0) + gp.get("h", 0)):
                if (x, y) in cells:
                    error(f"{name}: panel {title!r} overlaps {cells[(x, y)]!r}")
                    break
                cells[(x, y)] = title
            else:
                continue
            break
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            error(f"{name}: panel {title!r} is not on the ${{datasource}} variable")
        if not p.get("description"):
            error(f"{name}: panel {title!r} has no description")
        targets = p.get("targets", [])
        if not targets:
            error(f"{name}: panel {title!r} has no queries")
        for t in targets:
            if t.get("datasource", {}).get("uid") != "${datasource}":
                error(f"{name}: a query of {title!r} is not on the ${{datasource}} variable")
            where = f"{name}: {title}"
            check_names(where, t["expr"], documented, recorded)
            exprs.append((where, t["expr"]))

    for v in variables.values():
        q = v.get("query")
        if v.get("type") == "query":
            m = re.fullmatch(r"label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)", q)
            if not m:
                error(f"{name}: variable {v['name']}: not a label_values(selector, label) query")
                continue
            where = f"{name}: variable {v['name']}"
            check_names(where, m.group(1), documented, recorded)
            exprs.append((where, m.group(1)))
    for a in d.get("annotations", {}).get("list", []):
        if "expr" in a:
            where = f"{name}: annotation {a['name']}"
            check_names(where, a["expr"], documented, recorded)
            exprs.append((where, a["expr"]))
    return d.get("uid")


def promtool_parse(exprs):
    """Parses every expression by handing them to promtool as recording rules."""
    rules = {
        "groups": [{
            "name": "dashboard-queries",
            "rules": [
                {"record": f"dashboard_query_{i}", "expr": substitute(e)}
                for i, (_, e) in enumerate(exprs)
            ],
        }]
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        json.dump(rules, f, indent=1)  # JSON is YAML
        path = f.name
    try:
        res = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        if res.returncode != 0:
            out = res.stdout + res.stderr
            for m in re.finditer(r"dashboard_query_(\d+)", out):
                i = int(m.group(1))
                error(f"{exprs[i][0]}: query does not parse: {substitute(exprs[i][1])}")
            error("promtool check rules on the dashboard queries failed:\n" + out)
    finally:
        os.unlink(path)


def main():
    documented = documented_metrics()
    rules = mixin_json("prometheusRules")
    alerts = mixin_json("prometheusAlerts")
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"]}
    for g in rules["groups"] + alerts["groups"]:
        for r in g["rules"]:
            where = r.get("record") or r.get("alert")
            check_names(f"rule {where}", r["expr"], documented, recorded)
            for text in r.get("annotations", {}).values():
                for q in re.findall(r"`([^`]*)`", text):
                    check_names(f"rule {where} annotation", q, documented, recorded)

    check_alert_annotations(alerts)

    exprs = []
    uids = {}
    files = sorted(f for f in os.listdir(DASHBOARDS) if f.endswith(".json"))
    if not files:
        error(f"no dashboards in {DASHBOARDS}")
    for f in files:
        uid = lint_dashboard(os.path.join(DASHBOARDS, f), documented, recorded, exprs)
        if uid in uids:
            error(f"{f}: uid {uid} also used by {uids[uid]}")
        uids[uid] = f
    promtool_parse(exprs)

    if errors:
        for e in errors:
            print(f"lint: {e}", file=sys.stderr)
        print(f"lint: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"lint: {len(files)} dashboards, {len(exprs)} dashboard queries, "
          f"{len(recorded)} recording rules and the alerts use only documented metrics; all queries parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
