#!/usr/bin/env python3
"""Evaluates chosen dashboard panel queries on made-up series with `promtool test rules`.

  python3 tests/panel_queries.py      (from anywhere; needs promtool on PATH and out/ generated)

lint.py checks that every dashboard query parses; this checks what some of them count, where
a wrong answer would mislead the on-call engineer. Each case names a panel of a generated
dashboard (out/dashboards/, the default config) by its title; the query is read from that
JSON, so a change to the panel is tested as it ships. Grafana variables are replaced as a user
who picked "All" would have them ($job and $instance match everything).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARDS = os.path.join(os.path.dirname(HERE), "out", "dashboards")

ALL_VARIABLES = {"$job": ".*", "$instance": ".*", "$__rate_interval": "5m"}

# The default config's job for both the probes and the exporter's own /metrics (the chart's
# ServiceMonitor scrapes both under one job).
JOB = 'job="goroutine-exporter"'

CASES = [
    {
        "name": "Targets failing: a failed probe and a down scrape count, the exporter's own /metrics does not",
        "dashboard": "goroutine-exporter-health.json",
        "panel": "Targets failing",
        "series": [
            # A healthy target and one whose probes fail.
            (f'goroutine_probe_success{{{JOB}, instance="shop-1:6060"}}', "1x20"),
            (f'goroutine_probe_success{{{JOB}, instance="shop-2:6060"}}', "0x20"),
            (f'up{{{JOB}, instance="shop-1:6060"}}', "1x20"),
            (f'up{{{JOB}, instance="shop-2:6060"}}', "1x20"),
            # A target whose probe scrapes time out: up == 0, no goroutine_probe_success.
            (f'up{{{JOB}, instance="shop-3:6060"}}', "0x20"),
            # The exporter's own /metrics, which answered for 5 minutes and then failed.
            (f'up{{{JOB}, instance="10.1.2.3:9115"}}', "1x5 0x15"),
            (f'goroutine_exporter_build_info{{{JOB}, instance="10.1.2.3:9115", version="1.0.0"}}', "1x5"),
        ],
        "eval_time": "15m",
        "expected": [("{}", 2)],
    },
    {
        "name": "Targets failing: reads 0, not no data, when every probe succeeds",
        "dashboard": "goroutine-exporter-health.json",
        "panel": "Targets failing",
        "series": [
            (f'goroutine_probe_success{{{JOB}, instance="shop-1:6060"}}', "1x20"),
            (f'up{{{JOB}, instance="shop-1:6060"}}', "1x20"),
            (f'up{{{JOB}, instance="10.1.2.3:9115"}}', "1x20"),
            (f'goroutine_exporter_build_info{{{JOB}, instance="10.1.2.3:9115", version="1.0.0"}}', "1x20"),
        ],
        "eval_time": "15m",
        "expected": [("{}", 0)],
    },
    {
        "name": "GC-proven leaked stacks: a target past the goroutineleak cap keeps its last reading",
        "dashboard": "goroutine-overview.json",
        "panel": "GC-proven leaked stacks",
        "variables": {"$category": ".*"},
        "series": [
            # svc-a: still under the cap, one leaked stack now.
            (f'goroutine_gc_leaked_stack_goroutines{{{JOB}, instance="svc-a:6060", stack_id="a1", category="chan_send", function="main.a"}}', "4x30"),
            (f'goroutine_category_info{{{JOB}, instance="svc-a:6060", category="chan_send", benign="false", hint="send"}}', "1x30"),
            # svc-b: its stack series ended at minute 10, when it passed the cap.
            (f'goroutine_gc_leaked_stack_goroutines{{{JOB}, instance="svc-b:6060", stack_id="b1", category="chan_receive", function="main.b"}}', "7x10"),
            (f'goroutine_fetch_skipped{{{JOB}, instance="svc-b:6060", profile="goroutineleak", debug="0", reason="over_goroutine_cap"}}', "0x10 1x20"),
            (f'goroutine_category_info{{{JOB}, instance="svc-b:6060", category="chan_receive", benign="false", hint="receive"}}', "1x30"),
            # svc-c: its series ended for another reason (a restart, say): not held.
            (f'goroutine_gc_leaked_stack_goroutines{{{JOB}, instance="svc-c:6060", stack_id="c1", category="select", function="main.c"}}', "2x10"),
            (f'goroutine_category_info{{{JOB}, instance="svc-c:6060", category="select", benign="false", hint="select"}}', "1x30"),
        ],
        "eval_time": "25m",
        "expected": [
            ('{instance="svc-a:6060", stack_id="a1", category="chan_send", function="main.a", hint="send"}', 4),
            ('{instance="svc-b:6060", stack_id="b1", category="chan_receive", function="main.b", hint="receive"}', 7),
        ],
    },
]


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def panel_query(dashboard, title):
    with open(os.path.join(DASHBOARDS, dashboard), encoding="utf-8") as f:
        d = json.load(f)
    found = [p for p in walk_panels(d.get("panels", [])) if p.get("title") == title]
    if len(found) != 1:
        raise SystemExit(f"panel_queries: {dashboard} has {len(found)} panels titled {title!r}")
    targets = found[0].get("targets", [])
    if len(targets) != 1:
        raise SystemExit(f"panel_queries: {dashboard} {title!r} has {len(targets)} queries, want 1")
    expr = targets[0]["expr"]
    for k, v in ALL_VARIABLES.items():
        expr = expr.replace(k, v)
    return expr


def substituted(expr, extra):
    for k, v in extra.items():
        expr = expr.replace(k, v)
    if "$" in expr:
        raise SystemExit(f"panel_queries: a variable is left in {expr}")
    return expr


def promtool_tests():
    tests = []
    for case in CASES:
        tests.append({
            "name": case["name"],
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in case["series"]],
            "promql_expr_test": [{
                "expr": substituted(panel_query(case["dashboard"], case["panel"]),
                                    case.get("variables", {})),
                "eval_time": case["eval_time"],
                "exp_samples": [{"labels": l, "value": v} for l, v in case["expected"]],
            }],
        })
    return {"rule_files": [], "evaluation_interval": "1m", "tests": tests}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "panel_queries_test.yaml")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(promtool_tests(), f, indent=1)  # JSON is YAML
        res = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        print(f"panel_queries: promtool test rules failed", file=sys.stderr)
        return 1
    print(f"panel_queries: {len(CASES)} cases of dashboard queries evaluated as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
