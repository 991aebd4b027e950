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

# Hints as goroutine_category_info carries them (shortened).
HINT = {
    "chan_send": "Backpressure or coordination bug: add a ctx.Done() case to the send",
    "select": "If the select has a ctx.Done() case, the context is never cancelled",
    "wait_group": "Join or cancellation bug: every Add has a Done on every path",
    "idle_server": "Normal for a server; it follows the number of open client connections",
}


def category_info(instance, categories, values):
    return [(f'goroutine_category_info{{{JOB}, instance="{instance}", category="{c}", '
             f'benign="{"true" if c == "idle_server" else "false"}", hint="{HINT[c]}"}}', values)
            for c in categories]


# A leaking stack (7d4a55e1) and a second stack that must stay out of its drill-down.
LEAK = 'stack_id="7d4a55e1", category="chan_send", function="shop/internal/orders.(*Publisher).publish"'
LEAK_CREATOR = 'created_by="shop/internal/orders.(*Service).Place"'
REFRESH = 'stack_id="0b9e27c4", category="select", function="shop/internal/cache.(*Refresher).loop"'

# Top growing stacks, at minute 60. shop-1 has label_keys: [route], so its stack series are
# split by route (the empty value where goroutines carry no label).
TOP_GROWING_SERIES = [
    # 1/min: +60/h, with a known creator.
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {LEAK}, route="/checkout"}}', "10+1x60"),
    (f'goroutine_stack_creator_info{{{JOB}, instance="shop-1:6060", stack_id="7d4a55e1", {LEAK_CREATOR}}}', "1x60"),
    # 0.25/min on each of two routes: +30/h for the stack, no creator known (no debug=2 yet).
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {REFRESH}, route="/api/feed"}}', "2+0.25x60"),
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {REFRESH}, route="/api/search"}}', "3+0.25x60"),
    # Benign and growing faster than either (+120/h): clients holding connections open.
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", stack_id="c3d1f088", category="idle_server", function="net/http.(*conn).serve"}}', "20+2x60"),
    # The folded rest, growing (+180/h).
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", stack_id="other", category="other", function=""}}', "50+3x60"),
    *category_info("shop-1:6060", ["chan_send", "select", "wait_group", "idle_server"], "1x60"),
    # shop-2: a draining stack (-60/h), and the leaking stack id flat here (0/h).
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-2:6060", stack_id="5e6f7a8b", category="wait_group", function="shop/internal/fanout.Run"}}', "100-1x60"),
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-2:6060", {LEAK}}}', "40x60"),
    (f'goroutine_stack_creator_info{{{JOB}, instance="shop-2:6060", stack_id="7d4a55e1", {LEAK_CREATOR}}}', "1x60"),
    *category_info("shop-2:6060", ["chan_send", "select", "wait_group", "idle_server"], "1x60"),
]

# The drill-down of stack 7d4a55e1: fixed on shop-1 at minute 60 (it climbed 1/min, then stays
# at 60), still climbing 0.5/min on shop-2; shop-1's other stack climbs 5/min.
FIX_SERIES = [
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {LEAK}}}', "0+1x60 60x60"),
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-2:6060", {LEAK}}}', "0+0.5x120"),
    (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {REFRESH}}}', "0+5x120"),
]
STACK = {"$stack_id": "7d4a55e1"}

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
    {
        "name": "Goroutines and slope: a linear leak reads +120/h, a burst that drained 0, a draining target -60/h",
        "dashboard": "goroutine-overview.json",
        "panel": "Goroutines and slope",
        "ref": "B",
        "series": [
            # 2 more goroutines a minute for the whole hour.
            (f'goroutine_goroutines{{{JOB}, instance="svc-a:6060"}}', "100+2x60"),
            # 300, up by 100 over minutes 20-30 and back down by minute 40: symmetric in the hour.
            (f'goroutine_goroutines{{{JOB}, instance="svc-b:6060"}}', "300x20 310+10x9 390-10x9 300x19"),
            # One fewer a minute.
            (f'goroutine_goroutines{{{JOB}, instance="svc-c:6060"}}', "500-1x60"),
        ],
        "eval_time": "60m",
        "expected": [
            ('{instance="svc-a:6060"}', 120),
            ('{instance="svc-b:6060"}', 0),
            ('{instance="svc-c:6060"}', -60),
        ],
    },
    {
        "name": "Request rate: a probed target's own requests summed over codes; an unprobed service and a probed target without the metric add nothing",
        "dashboard": "goroutine-overview.json",
        "panel": "Request rate",
        "series": [
            (f'goroutine_goroutines{{{JOB}, instance="shop-1:6060"}}', "150x20"),
            (f'goroutine_goroutines{{{JOB}, instance="worker-1:6060"}}', "80x20"),
            # shop-1's own scrape job: 9/s answered, 1/s failed.
            ('http_requests_total{job="shop", instance="shop-1:6060", handler="/checkout", code="200"}', "0+540x20"),
            ('http_requests_total{job="shop", instance="shop-1:6060", handler="/checkout", code="500"}', "0+60x20"),
            # A service the exporter does not probe, at 100/s.
            ('http_requests_total{job="billing", instance="billing-1:8080", handler="/invoice", code="200"}', "0+6000x20"),
        ],
        "eval_time": "20m",
        "expected": [('{instance="shop-1:6060"}', 10)],
    },
    {
        "name": "Goroutines by category: summed over targets and pprof label rows, benign idle_server shown, an emptied category at 0",
        "dashboard": "goroutine-overview.json",
        "panel": "Goroutines by category",
        "variables": {"$category": ".+"},
        "series": [
            # shop-1 with label_keys: [route]; an empty category is one row at 0, route "".
            (f'goroutine_category_goroutines{{{JOB}, instance="shop-1:6060", category="chan_send", route="/checkout"}}', "40x10"),
            (f'goroutine_category_goroutines{{{JOB}, instance="shop-1:6060", category="chan_send", route="/cart"}}', "25x10"),
            (f'goroutine_category_goroutines{{{JOB}, instance="shop-1:6060", category="idle_server", route=""}}', "12x10"),
            (f'goroutine_category_goroutines{{{JOB}, instance="shop-1:6060", category="select", route=""}}', "6x5 0x5"),
            # shop-2 without label keys.
            (f'goroutine_category_goroutines{{{JOB}, instance="shop-2:6060", category="chan_send"}}', "10x10"),
            (f'goroutine_category_goroutines{{{JOB}, instance="shop-2:6060", category="idle_server"}}', "8x10"),
            (f'goroutine_category_goroutines{{{JOB}, instance="shop-2:6060", category="select"}}', "0x10"),
        ],
        "eval_time": "10m",
        "expected": [
            ('{category="chan_send"}', 75),
            ('{category="idle_server"}', 20),
            ('{category="select"}', 0),
        ],
    },
    {
        "name": "Top growing stacks, growth: non-benign growing stacks with hint and creator; benign, folded, draining and flat stacks left out",
        "dashboard": "goroutine-overview.json",
        "panel": "Top growing stacks",
        "ref": "A",
        "variables": {"$category": ".+"},
        "series": TOP_GROWING_SERIES,
        "eval_time": "60m",
        "expected": [
            (f'{{instance="shop-1:6060", {LEAK}, hint="{HINT["chan_send"]}", {LEAK_CREATOR}}}', 60),
            (f'{{instance="shop-1:6060", {REFRESH}, hint="{HINT["select"]}"}}', 30),
        ],
    },
    {
        "name": "Top growing stacks, goroutines: the current count summed over label rows, only for the growing stacks (not the same stack id flat elsewhere)",
        "dashboard": "goroutine-overview.json",
        "panel": "Top growing stacks",
        "ref": "B",
        "variables": {"$category": ".+"},
        "series": TOP_GROWING_SERIES,
        "eval_time": "60m",
        "expected": [
            (f'{{instance="shop-1:6060", {LEAK}}}', 70),
            (f'{{instance="shop-1:6060", {REFRESH}}}', 35),
        ],
    },
    {
        "name": "Oldest wait by category: one selected category, its longest wait over all targets; other categories stay out",
        "dashboard": "goroutine-overview.json",
        "panel": "Oldest wait by category",
        "variables": {"$category": "chan_send"},
        "series": [
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-1:6060", category="chan_send"}}', "3600x10"),
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-2:6060", category="chan_send"}}', "7200x10"),
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-1:6060", category="select"}}', "86400x10"),
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-2:6060", category="idle_server"}}', "172800x10"),
        ],
        "eval_time": "10m",
        "expected": [('{category="chan_send"}', 7200)],
    },
    {
        "name": "Stack Identity: one row per instance with the stack, hint joined, creator where known; other stacks and instances stay out",
        "dashboard": "goroutine-stack.json",
        "panel": "Identity",
        "variables": STACK,
        "series": [
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {LEAK}}}', "42x10"),
            (f'goroutine_stack_creator_info{{{JOB}, instance="shop-1:6060", stack_id="7d4a55e1", {LEAK_CREATOR}}}', "1x10"),
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {REFRESH}}}', "9x10"),
            (f'goroutine_stack_creator_info{{{JOB}, instance="shop-1:6060", stack_id="0b9e27c4", created_by="shop/internal/cache.New"}}', "1x10"),
            *category_info("shop-1:6060", ["chan_send", "select"], "1x10"),
            # shop-2: the stack, whose creator no debug=2 fetch has named yet.
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-2:6060", {LEAK}}}', "17x10"),
            *category_info("shop-2:6060", ["chan_send", "select"], "1x10"),
            # shop-3: only the other stack.
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-3:6060", {REFRESH}}}', "4x10"),
            *category_info("shop-3:6060", ["chan_send", "select"], "1x10"),
        ],
        "eval_time": "10m",
        "expected": [
            (f'{{instance="shop-1:6060", {LEAK}, hint="{HINT["chan_send"]}", {LEAK_CREATOR}}}', 42),
            (f'{{instance="shop-2:6060", {LEAK}, hint="{HINT["chan_send"]}"}}', 17),
        ],
    },
    {
        "name": "Stack request rate now: the traffic of the targets that have the stack only",
        "dashboard": "goroutine-stack.json",
        "panel": "Request rate now and $offset ago",
        "ref": "A",
        "variables": STACK,
        "series": [
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {LEAK}}}', "30x20"),
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-2:6060", {LEAK}}}', "12x20"),
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-3:6060", {REFRESH}}}', "4x20"),
            ('http_requests_total{job="shop", instance="shop-1:6060", code="200"}', "0+300x20"),
            ('http_requests_total{job="shop", instance="shop-2:6060", code="200"}', "0+120x20"),
            # shop-3 (without the stack) takes most of the traffic.
            ('http_requests_total{job="shop", instance="shop-3:6060", code="200"}', "0+6000x20"),
        ],
        "eval_time": "20m",
        "expected": [("{}", 7)],
    },
    {
        "name": "Stack per instance, slope now: flat (0/h) on the fixed instance, +30/h where it still climbs; another stack stays out",
        "dashboard": "goroutine-stack.json",
        "panel": "Per instance: now against $offset ago",
        "ref": "C",
        "variables": {**STACK, "$offset": "1h"},
        "series": FIX_SERIES,
        "eval_time": "120m",
        "expected": [
            ('{instance="shop-1:6060"}', 0),
            ('{instance="shop-2:6060"}', 30),
        ],
    },
    {
        "name": "Stack per instance, slope $offset ago: the hour before the fix reads +60/h on the fixed instance",
        "dashboard": "goroutine-stack.json",
        "panel": "Per instance: now against $offset ago",
        "ref": "D",
        "variables": {**STACK, "$offset": "1h"},
        "series": FIX_SERIES,
        "eval_time": "120m",
        "expected": [
            ('{instance="shop-1:6060"}', 60),
            ('{instance="shop-2:6060"}', 30),
        ],
    },
    {
        "name": "Oldest wait in this stack's category: the wait of the stack's category on the instances that have the stack",
        "dashboard": "goroutine-stack.json",
        "panel": "Oldest wait in this stack's category",
        "variables": STACK,
        "series": [
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {LEAK}}}', "42x10"),
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-1:6060", category="chan_send"}}', "1800x10"),
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-1:6060", category="select"}}', "86400x10"),
            # shop-2 has chan_send goroutines, but not in this stack.
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-2:6060", {REFRESH}}}', "9x10"),
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-2:6060", category="chan_send"}}', "7200x10"),
            (f'goroutine_wait_oldest_seconds{{{JOB}, instance="shop-2:6060", category="select"}}', "600x10"),
        ],
        "eval_time": "10m",
        "expected": [('{instance="shop-1:6060"}', 1800)],
    },
    {
        "name": "Stack Identity: the goroutines column counts the whole stack, also where label_keys split it by route",
        "dashboard": "goroutine-stack.json",
        "panel": "Identity",
        "variables": STACK,
        "series": [
            # label_keys: [route]: one stack, two rows (Goroutines in this stack reads 50).
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {LEAK}, route="/checkout"}}', "30x10"),
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", {LEAK}, route="/cart"}}', "20x10"),
            (f'goroutine_stack_creator_info{{{JOB}, instance="shop-1:6060", stack_id="7d4a55e1", {LEAK_CREATOR}}}', "1x10"),
            *category_info("shop-1:6060", ["chan_send"], "1x10"),
        ],
        "eval_time": "10m",
        "expected": [(f'{{instance="shop-1:6060", {LEAK}, hint="{HINT["chan_send"]}", {LEAK_CREATOR}}}', 50)],
    },
    {
        "name": "Stack Slope: a stack that changed category (debug=2 dump) still grows 60/h, not twice that",
        "dashboard": "goroutine-stack.json",
        "panel": "Slope",
        "ref": "A",
        "variables": STACK,
        "series": [
            # 1/min throughout; at minute 41 a debug=2 dump shows the receive is on a nil channel
            # (Go <= 1.20) and the series changes its category label (docs/metrics.md).
            # The old series ends with a stale marker, as Prometheus writes one when a series is
            # missing from a scrape.
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", stack_id="7d4a55e1", category="chan_receive", function="shop/internal/orders.(*Publisher).wait"}}', "0+1x40 stale"),
            (f'goroutine_stack_goroutines{{{JOB}, instance="shop-1:6060", stack_id="7d4a55e1", category="nil_chan", function="shop/internal/orders.(*Publisher).wait"}}', "_x41 41+1x9"),
        ],
        "eval_time": "50m",
        "expected": [('{instance="shop-1:6060"}', 60)],
    },
]




def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def panel_query(dashboard, title, ref=None):
    """The panel's query; `ref` (a refId) picks one where the panel has several."""
    with open(os.path.join(DASHBOARDS, dashboard), encoding="utf-8") as f:
        d = json.load(f)
    found = [p for p in walk_panels(d.get("panels", [])) if p.get("title") == title]
    if len(found) != 1:
        raise SystemExit(f"panel_queries: {dashboard} has {len(found)} panels titled {title!r}")
    targets = found[0].get("targets", [])
    if ref is not None:
        targets = [t for t in targets if t.get("refId") == ref]
        if len(targets) != 1:
            raise SystemExit(f"panel_queries: {dashboard} {title!r} has {len(targets)} queries {ref!r}")
    elif len(targets) != 1:
        raise SystemExit(f"panel_queries: {dashboard} {title!r} has {len(targets)} queries, "
                         "want 1 (or name one by \"ref\")")
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


def promtool_tests(cases):
    tests = []
    for case in cases:
        tests.append({
            "name": case["name"],
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in case["series"]],
            "promql_expr_test": [{
                "expr": substituted(panel_query(case["dashboard"], case["panel"], case.get("ref")),
                                    case.get("variables", {})),
                "eval_time": case["eval_time"],
                "exp_samples": [{"labels": l, "value": v} for l, v in case["expected"]],
            }],
        })
    return {"rule_files": [], "evaluation_interval": "1m", "tests": tests}


def main():
    cases = CASES
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "panel_queries_test.yaml")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(promtool_tests(cases), f, indent=1)  # JSON is YAML
        res = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        print(f"panel_queries: promtool test rules failed", file=sys.stderr)
        return 1
    print(f"panel_queries: {len(cases)} cases of dashboard queries evaluated as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
