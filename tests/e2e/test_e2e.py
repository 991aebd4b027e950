"""End to end: leaky and bursty Go services under steady load, the exporter, and a real
Prometheus with the mixin's (short-window) rules; asserts through the Prometheus HTTP API.

Two `shop` instances (examples/shop), both under loadgen at 20 qps:
  leaky   chan_send leak at 5/s (the growing stack) plus a select leak at 1/s (GC-proven)
  bursty  no leak; POST /admin/burst every 20 s: 500 goroutines for 3 s that then exit
plus a probe target `down` (a closed loopback port) and one failed configuration reload of the
exporter, so that the probe-failure and reload-failure alerts and panels have something to show.

The tests run in name order and share one environment (about 4 minutes): the alert test waits
for the short-window GoroutineLeakSuspected (4-minute window, see dashboards/lib/e2e.jsonnet),
and the dashboard/rule test runs after it, when every window has data.
"""
import json
import os
import re
import subprocess
import time
import unittest

import env as e2e
from env import GOROUTINE_JOB, EXPORTER_JOB, TARGET_JOB, h

G = f'job="{GOROUTINE_JOB}"'
S = f'job="{TARGET_JOB}"'
NON_BENIGN = 'category!~"idle_server|runtime|ignored"'
LEAK_FUNCTION = "main.(*orderEvents).publish"   # examples/shop/README.md, kind chan_send
GC_FUNCTION = "main.awaitEnrichment"            # kind select: GC-provable
BURST_N = 500
BURST_HOLD = 3
# The whole class must finish within 5 minutes. With the 4-minute window the alert can be pending
# about 4 minutes after Prometheus' first scrape (see dashboards/lib/e2e.jsonnet), not earlier.
ALERT_DEADLINE_S = 275

OUT_DASHBOARDS = os.path.join(h.SOURCE_DIR, "dashboards", "out", "dashboards")

# Dashboard panels that cannot have data in this environment, by (dashboard uid, panel id),
# with the reason. Keep this minimal: everything else must return data.
NO_DATA_EXPECTED = {
    # (none: every panel has data with the leak, the burst, the dead target and the failed
    # reload. The "Target restarts" annotation of the overview is not a panel; it is run and
    # must succeed: it marks the shops' first 5 minutes, as new processes.)
}

# Dashboard variables: the "All" value of the multi-value variables (their allValue), and
# sensible values for the rest. Grafana's $__rate_interval is max($__interval + scrape
# interval, 4 x scrape interval) with the data source's scrape interval (default 15s, so 1m).
# $offset offers 1h..7d; this Prometheus is minutes old, so 1m stands in for it (same PromQL).
VARIABLES = {
    "job": ".+", "instance": ".+", "category": ".+",
    "__rate_interval": "1m", "__interval": "15s", "__range": "5m", "__range_s": "300",
    "__interval_ms": "15000", "offset": "1m",
}


def labels_of(series):
    return {k: v for k, v in series["metric"].items() if k != "__name__"}


class E2ETest(unittest.TestCase):
    env = None

    @classmethod
    def setUpClass(cls):
        cls.t0 = time.time()
        shops = [
            e2e.ShopSpec("leaky", leak="chan_send=5,select=1", qps=20),
            e2e.ShopSpec("bursty", qps=20, burst_every=20, burst_n=BURST_N,
                         burst_hold=f"{BURST_HOLD}s"),
        ]
        cls.down_address = f"127.0.0.1:{h.free_port()}"  # nothing listens there
        environment = e2e.Environment(shops, extra_probe_targets=[("down", cls.down_address)],
                                      log=lambda m: print(f"[{time.time() - cls.t0:6.1f}s] {m}",
                                                          flush=True))
        try:
            cls.env = environment.__enter__()
        except e2e.MissingTool as e:
            raise unittest.SkipTest(str(e))
        try:
            cls._break_exporter_reload()
            cls.env.wait_targets_up(60)
        except BaseException:
            print(cls.env.logs())
            cls.env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.env:
            if getattr(cls, "_failed", False):
                print(cls.env.logs(), flush=True)
            cls.env.close()
        print(f"e2e: total {time.time() - cls.t0:.1f}s", flush=True)

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            type(self)._failed = True
        return out

    @classmethod
    def _break_exporter_reload(cls):
        """One failed reload: the exporter must keep serving with its previous configuration
        (and GoroutineExporterConfigReloadFailed gets something to see)."""
        path = cls.env.exporter_config_path
        with open(path) as f:
            good = f.read()
        with open(path, "w") as f:
            f.write("modules: [this is not a mapping\n")
        try:
            status, _, body = h.http_get(cls.env.exporter.url + "/-/reload", method="POST", data=b"")
            assert status == 500, f"reload of a broken config answered {status}: {body!r}"
        finally:
            with open(path, "w") as f:
                f.write(good)

    # --- helpers --------------------------------------------------------------------------------

    def q(self, expr):
        return self.env.query(expr)

    def diag(self, *exprs):
        """Query results for failure messages."""
        out = []
        for expr in exprs:
            try:
                r = self.env.query(expr)
                rows = [f"    {labels_of(s)} => {s.get('value', s.get('values', ['', '?'])[-1])}"
                        for s in r[:30]] if r and isinstance(r[0], dict) else [f"    {r}"]
                out.append(f"  {expr}\n" + ("\n".join(rows) if rows else "    (empty)"))
            except Exception as e:  # noqa: BLE001 - diagnostics only
                out.append(f"  {expr}\n    error: {e}")
        return "\nPrometheus says:\n" + "\n".join(out)

    def wait_for(self, expr, timeout, what, check=lambda r: bool(r), diag=()):
        deadline = time.time() + timeout
        while True:
            r = self.q(expr)
            if check(r):
                return r
            if time.time() > deadline:
                self.fail(f"timed out after {timeout}s waiting for {what}" + self.diag(expr, *diag))
            time.sleep(1)

    def stack_ids(self):
        """stack_id of the chan_send leak and of the GC-proven select leak on leaky."""
        ids = {}
        for function, key in ((LEAK_FUNCTION, "chan_send"), (GC_FUNCTION, "select")):
            r = self.wait_for(f'goroutine_stack_goroutines{{{G}, instance="leaky", function="{function}"}}',
                              30, f"the {key} leak's stack series")
            ids[key] = r[0]["metric"]["stack_id"]
        return ids

    # --- (a) series and labels ------------------------------------------------------------------

    def test_1_per_category_and_per_stack_series_with_labels(self):
        r = self.wait_for(f'goroutine_stack_goroutines{{{G}, instance="leaky", category="chan_send"}}',
                          30, "the chan_send stack series on leaky")
        self.assertEqual(len(r), 1, self.diag(f'goroutine_stack_goroutines{{{G}, category="chan_send"}}'))
        m = r[0]["metric"]
        for label in ("stack_id", "category", "function", "route", "tenant"):
            self.assertIn(label, m, f"label {label} missing on {m}")
        self.assertNotIn("created_by", m, "the creator is an info series, not a stack label")
        self.assertRegex(m["stack_id"], r"^[0-9a-f]{8,}$")
        self.assertEqual(m["function"], LEAK_FUNCTION)
        self.assertEqual((m["route"], m["tenant"]), ("/api/checkout", "t1"))
        # Its creator (from the debug=2 fetch), joined on stack_id.
        creator = self.wait_for(f'goroutine_stack_creator_info{{{G}, instance="leaky", stack_id="{m["stack_id"]}"}}',
                                30, "the creator of the chan_send stack")
        self.assertEqual([c["metric"]["created_by"] for c in creator], ["main.leakChanSend"])

        # The same stack on both shops has the same id (identity is frames only).
        both = self.q(f'count by (stack_id) (goroutine_stack_goroutines{{{G}, function="main.main"}}) == 2')
        self.assertEqual(len(both), 1, self.diag(f'goroutine_stack_goroutines{{{G}, function="main.main"}}'))

        cats = self.q(f'goroutine_category_goroutines{{{G}, instance="leaky", category="chan_send"}}')
        self.assertEqual(len(cats), 1, self.diag(f'goroutine_category_goroutines{{{G}}}'))
        self.assertEqual((cats[0]["metric"].get("route"), cats[0]["metric"].get("tenant")),
                         ("/api/checkout", "t1"))
        for inst in ("leaky", "bursty"):
            self.assertTrue(self.q(f'goroutine_category_goroutines{{{G}, instance="{inst}", category="idle_server"}}'),
                            self.diag(f'goroutine_category_goroutines{{{G}, instance="{inst}"}}'))
        info = self.q(f'goroutine_category_info{{{G}, instance="leaky", category="chan_send"}}')
        self.assertTrue(info and info[0]["metric"]["hint"], self.diag(f'goroutine_category_info{{{G}}}'))

        # The exporter's count of the leaking stack matches the shop's own ground truth.
        expr = (f'abs(sum(goroutine_stack_goroutines{{{G}, instance="leaky", category="chan_send"}}) '
                f'- sum(shop_leaked_goroutines{{{S}, instance="leaky", kind="chan_send"}}))')
        self.assertLessEqual(self.env.value(expr, default=1e9), 15,
                             self.diag(expr, f'shop_leaked_goroutines{{{S}, instance="leaky"}}'))

        # GC-proven leaks (goroutineleak profile): the select leak on leaky, nothing on bursty.
        gc = self.wait_for(f'goroutine_gc_leaked_stack_goroutines{{{G}, instance="leaky"}} > 0', 30,
                           "GC-proven leaked stacks on leaky",
                           diag=[f'goroutine_fetch_skipped{{{G}}} == 1', f'goroutine_fetch_performed{{{G}}}'])
        self.assertEqual({(s["metric"]["category"], s["metric"]["function"]) for s in gc},
                         {("select", GC_FUNCTION)})
        # Nothing GC-proven on bursty: its (empty) goroutineleak profile reads as an explicit 0.
        expr = f'goroutine_gc_leaked_goroutines{{{G}, instance="bursty"}}'
        self.wait_for(expr, 30, what="an explicit zero for the healthy target")
        self.assertEqual(self.env.value(expr), 0, self.diag(f'goroutine_gc_leaked_goroutines{{{G}}}'))

        # The probes that failed are visible as such, and so is the failed reload.
        self.assertEqual(self.env.value(f'goroutine_probe_success{{{G}, instance="down"}}'), 0)
        self.assertEqual(self.env.value(
            f'goroutine_exporter_config_last_reload_successful{{job="{EXPORTER_JOB}"}}'), 0)
        self.assertEqual(self.env.value(f'goroutine_probe_success{{{G}, instance="leaky"}}'), 1,
                         "the exporter must keep probing after a failed reload")

    # --- (b) growth and ranking -----------------------------------------------------------------

    def test_2_leaking_stack_grows_and_ranks_first(self):
        # deriv() needs some history: wait until Prometheus has 40 s of the stack.
        self.wait_for(f'count_over_time(goroutine_stack_goroutines{{{G}, instance="leaky", category="chan_send"}}[1m]) >= 40',
                      90, "40 s of samples of the chan_send stack")
        top = (f'topk(1, sum by (stack_id, category, function) '
               f'(deriv(goroutine_stack_goroutines{{{G}, instance="leaky", stack_id!="other", {NON_BENIGN}}}[1m])))')
        all_stacks = (f'sort_desc(sum by (stack_id, category, function) (deriv(goroutine_stack_goroutines'
                      f'{{{G}, instance="leaky", stack_id!="other"}}[1m])))')
        r = self.q(top)
        self.assertEqual(len(r), 1, self.diag(top, all_stacks))
        self.assertEqual((r[0]["metric"]["category"], r[0]["metric"]["function"]),
                         ("chan_send", LEAK_FUNCTION), self.diag(top, all_stacks))
        slope = float(r[0]["value"][1])
        self.assertTrue(3.5 <= slope <= 6.5, f"chan_send slope {slope}/s, leak rate is 5/s" + self.diag(all_stacks))

        d = f'sum(delta(goroutine_stack_goroutines{{{G}, instance="leaky", category="chan_send"}}[30s]))'
        self.assertGreater(self.env.value(d, default=0), 100, self.diag(d))
        # The total follows: leaky grows, bursty does not (over a window spanning bursts).
        total = f'deriv(goroutine_goroutines{{{G}}}[1m])'
        res = {s["metric"]["instance"]: float(s["value"][1]) for s in self.q(total)}
        self.assertGreater(res.get("leaky", 0), 4.5, self.diag(total))
        # The per-category ranking of the recording rule agrees.
        rule = 'topk(1, instance_category:goroutine_category_goroutines:deriv15m{instance="leaky"})'
        r = self.wait_for(rule, 20, "the per-category slope recording rule")
        self.assertEqual(r[0]["metric"]["category"], "chan_send",
                         self.diag('sort_desc(instance_category:goroutine_category_goroutines:deriv15m)'))

    # --- (c) a burst is load, and drains --------------------------------------------------------

    def test_3_burst_rises_and_returns_to_baseline(self):
        bursty = self.env.shops["bursty"]
        deadline = time.time() + 80
        while True:
            done = [t for t in bursty.bursts
                    if t > self.env.started_at + 5 and time.time() > t + BURST_HOLD + 10]
            if done:
                break
            self.assertLess(time.time(), deadline, f"no completed burst; bursts at {bursty.bursts}")
            time.sleep(1)
        tb = done[-1]
        expr = f'sum(goroutine_goroutines{{{G}, instance="bursty"}})'
        timer = f'sum(goroutine_category_goroutines{{{G}, instance="bursty", category="timer"}}) or vector(0)'
        series = self.env.query_range(expr, tb - 6, tb + BURST_HOLD + 10, 1)
        timers = self.env.query_range(timer, tb - 6, tb + BURST_HOLD + 10, 1)
        self.assertTrue(series, self.diag(expr))
        points = [(float(t), float(v)) for t, v in series[0]["values"]]
        tpoints = [(float(t), float(v)) for t, v in timers[0]["values"]]
        msg = (f"\nburst at {tb:.1f} (n={BURST_N}, hold {BURST_HOLD}s)\ngoroutines: {points}"
               f"\ntimer category: {tpoints}")
        before = [v for t, v in points if t < tb - 1.5]  # samples taken before the POST
        during = [v for t, v in points if tb <= t <= tb + BURST_HOLD]
        after = [v for t, v in points if t >= tb + BURST_HOLD + 3]
        self.assertTrue(before and during and after, msg)
        baseline = before[-1]
        self.assertGreaterEqual(max(during), baseline + 0.8 * BURST_N, "the burst is not visible" + msg)
        self.assertLessEqual(after[-1], baseline + 10, "goroutines did not return to baseline" + msg)
        # The burst goroutines sit in time.Sleep (category timer) and all exit.
        self.assertGreaterEqual(max(v for t, v in tpoints if tb <= t <= tb + BURST_HOLD), 0.8 * BURST_N, msg)
        self.assertLessEqual(tpoints[-1][1], 2, msg)

    # --- (d) goroutines, traffic and latency in one query ---------------------------------------

    def test_4_goroutines_traffic_and_latency_join_on_instance(self):
        rps = f'sum by (instance) (rate(http_requests_total{{{S}}}[30s]))'
        p99 = f'histogram_quantile(0.99, sum by (instance, le) (rate(http_request_duration_seconds_bucket{{{S}}}[30s])))'
        gor = f'sum by (instance) (goroutine_goroutines{{{G}}})'
        joined = f'{gor} and on (instance) ({rps} > 0) and on (instance) ({p99} > 0)'
        r = self.q(joined)
        self.assertEqual({s["metric"]["instance"] for s in r}, {"leaky", "bursty"},
                         self.diag(joined, gor, rps, p99))
        # Goroutines per request/s: the leak stands out against the same traffic.
        ratio = f'{gor} / on (instance) {rps}'
        per = {s["metric"]["instance"]: float(s["value"][1]) for s in self.q(ratio)}
        self.assertGreater(per.get("leaky", 0), 5 * per.get("bursty", 1e9), self.diag(ratio))
        # One row per instance with all three signals as values (label "signal").
        three = (f'label_replace({gor}, "signal", "goroutines", "", "") '
                 f'or label_replace({rps}, "signal", "requests_per_second", "", "") '
                 f'or label_replace({p99}, "signal", "p99_seconds", "", "")')
        rows = {(s["metric"]["instance"], s["metric"]["signal"]): float(s["value"][1]) for s in self.q(three)}
        for inst in ("leaky", "bursty"):
            self.assertTrue(14 <= rows.get((inst, "requests_per_second"), 0) <= 26,
                            f"loadgen sends 20 qps to {inst}" + self.diag(three))
            self.assertTrue(0 < rows.get((inst, "p99_seconds"), 0) < 2.5, self.diag(three))
        # The recording rules that the dashboards use for the same join.
        for rule in ("instance:goroutine_goroutines_per_request:ratio_rate5m",
                     "instance_quantile:http_request_duration_seconds:histogram_quantile_rate5m",
                     "instance:http_requests:rate5m"):
            got = {s["metric"].get("instance") for s in self.q(rule)}
            self.assertTrue({"leaky", "bursty"} <= got, self.diag(rule))

    # --- (f) the leak alert: leaky yes, bursty never --------------------------------------------

    def alert_diag(self):
        window = 'goroutine_goroutines{%s}' % G
        return self.diag(
            f'deriv({window}[4m]) * 3600',
            *[f'avg_over_time({window}[1m]{"" if i == 0 else f" offset {i}m"})' for i in range(4)],
            f'sum by (instance) (rate(http_requests_total{{{S}}}[1m]))',
            f'sum by (instance) (rate(http_requests_total{{{S}}}[1m] offset 3m))',
            f'changes(process_start_time_seconds{{{S}}}[5m])',
            'ALERTS',
        )

    def test_5_leak_alert_pending_for_leaky_never_for_bursty(self):
        timeout = max(10, self.env.started_at + ALERT_DEADLINE_S - time.time())
        sel = 'ALERTS{alertname="GoroutineLeakSuspected", instance="leaky"}'
        deadline = time.time() + timeout
        while not self.q(sel):
            if time.time() > deadline:
                self.fail(f"GoroutineLeakSuspected not pending/firing for leaky {time.time() - self.env.started_at:.0f}s "
                          "after Prometheus started" + self.alert_diag())
            time.sleep(2)
        print(f"\nGoroutineLeakSuspected active for leaky {time.time() - self.env.started_at:.0f}s after "
              "Prometheus started", flush=True)
        span = f"{int(time.time() - self.env.started_at) + 60}s"
        for inst in ("bursty", "down"):
            expr = f'count_over_time(ALERTS{{alertname=~"GoroutineLeakSuspected|GoroutineStackGrowing", instance="{inst}"}}[{span}])'
            self.assertEqual(self.q(expr), [], f"leak alerts fired for {inst}" + self.alert_diag())
        margin = f'max_over_time((deriv(goroutine_goroutines{{{G}, instance="bursty"}}[4m]) * 3600)[1m:5s])'
        print(f"bursty: largest 4m slope over the last minute {self.env.value(margin, default=float('nan')):+.0f}/h "
              "(threshold 3600/h; leaky about 21600/h)", flush=True)
        alerts = [a for a in self.env.alerts() if a["labels"]["alertname"] == "GoroutineLeakSuspected"]
        self.assertEqual({a["labels"]["instance"] for a in alerts}, {"leaky"}, json.dumps(alerts, indent=1))
        desc = alerts[0]["annotations"]["description"]
        # The annotation's own query names the growing stack and its first fix.
        self.assertIn(f"Top growing stack: {LEAK_FUNCTION} (category chan_send", desc)
        self.assertIn("First fix:", desc)
        # The per-stack alert sees the same stack, and the GC-proven one the select leak.
        stack = self.wait_for('ALERTS{alertname="GoroutineStackGrowing", instance="leaky", category="chan_send"}',
                              30, "GoroutineStackGrowing for the chan_send stack", diag=["ALERTS"])
        self.assertEqual(stack[0]["metric"]["function"], LEAK_FUNCTION)
        self.assertTrue(self.q('ALERTS{alertname="GoroutineGCProvenLeak", instance="leaky"}'), self.diag("ALERTS"))

    def test_5b_wait_ages_from_debug2(self):
        # Minutes into the leak, debug=2 dumps show the oldest chan_send waits in minutes
        # (Go prints a wait only from one minute on).
        expr = f'max(goroutine_wait_oldest_seconds{{{G}, instance="leaky", category="chan_send"}})'
        self.assertGreaterEqual(self.env.value(expr, default=0), 60,
                                self.diag(expr, f'goroutine_fetch_age_seconds{{{G}, instance="leaky"}}'))
        hist = f'sum(goroutine_wait_age_seconds_count{{{G}, instance="leaky", category="chan_send"}})'
        self.assertGreater(self.env.value(hist, default=0), 500, self.diag(hist))

    # --- (e) every dashboard panel and every rule has data --------------------------------------

    def substitute(self, expr, variables):
        def repl(m):
            name = m.group(1) or m.group(2) or m.group(3)
            if name not in variables:
                raise KeyError(f"no value for ${name} in {expr}")
            return variables[name]
        return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", repl, expr)

    def run_target(self, expr, instant):
        if instant:
            return bool(self.q(expr))
        end = time.time()
        r = self.env.query_range(expr, end - 180, end, 15)
        return any(s["values"] for s in r)

    def label_values(self, query, variables):
        m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", self.substitute(query, variables))
        self.assertIsNotNone(m, f"unsupported variable query {query}")
        series = self.env._api("series", {"match[]": m.group(1), "start": f"{time.time() - 300:.0f}"})
        return sorted({s[m.group(2)] for s in series if m.group(2) in s})

    def test_6_every_dashboard_panel_and_rule_returns_data(self):
        ids = self.stack_ids()
        stack_choices = [ids["chan_send"], ids["select"]]  # the select stack is the GC-proven one
        problems, checked = [], 0
        for name, dash in sorted(self.env.dashboards.items()):
            uid = dash["uid"]
            for var in dash.get("templating", {}).get("list", []):
                if var.get("type") != "query":
                    continue
                values = self.label_values(var["query"], dict(VARIABLES, stack_id=stack_choices[0]))
                if not values:
                    problems.append(f"{uid}: variable ${var['name']} has no values: {var['query']}")
            for ann in dash.get("annotations", {}).get("list", []):
                if ann.get("expr"):
                    self.q(self.substitute(ann["expr"], VARIABLES))  # must run
            for panel in self.panels(dash):
                for target in panel.get("targets", []):
                    checked += 1
                    ok, tried = False, []
                    for stack_id in stack_choices:
                        expr = self.substitute(target["expr"], dict(VARIABLES, stack_id=stack_id))
                        tried.append(expr)
                        if self.run_target(expr, target.get("instant", False)):
                            ok = True
                            break
                        if "$stack_id" not in target["expr"]:
                            break
                    if ok == ((uid, panel["id"]) in NO_DATA_EXPECTED):
                        problems.append(f"{uid} panel {panel['id']} \"{panel['title']}\" {target.get('refId')}: "
                                        + ("no data" if not ok else "has data but is listed in NO_DATA_EXPECTED")
                                        + self.diag(*tried))
        self.assertGreater(checked, 30)
        print(f"\n{checked} dashboard queries checked", flush=True)

        rules = [r for g in self.env._api("rules", {})["groups"] for r in g["rules"]]
        self.assertGreaterEqual(len(rules), 15)
        for rule in rules:
            if rule.get("health") != "ok":
                problems.append(f"rule {rule['name']}: health {rule.get('health')}: {rule.get('lastError')}")
            # Alert conditions hold at some evaluations and not at others (the growth alerts
            # compare four blocks and the traffic trend), so they count when they returned data
            # at any point of the last minutes: at a step of a range query, or at one of
            # Prometheus' own rule evaluations, which left an ALERTS series (pending or firing)
            # whenever the expression returned data. Recording rules must have data now.
            has_data = self.q(rule["query"]) or (rule["type"] == "alerting" and (
                self.run_target(rule["query"], instant=False) or
                self.q(f'count_over_time(ALERTS{{alertname="{rule["name"]}"}}[5m])')))
            if not has_data:
                problems.append(f"rule {rule['name']}: expression returns no data" + self.diag(rule["query"]))
            if rule["type"] == "recording" and not self.q(rule["name"]):
                problems.append(f"recording rule {rule['name']}: no recorded series")
        self.assertEqual(problems, [], "\n\n".join(problems))

    @staticmethod
    def panels(dash):
        def walk(ps):
            for p in ps:
                yield p
                yield from walk(p.get("panels", []))
        return list(walk(dash.get("panels", [])))

    def test_7_e2e_dashboards_are_the_checked_in_ones(self):
        """The dashboards tested above are the checked-in dashboards/out/ ones with only the
        e2e selectors: map the selectors back to the defaults and compare every query."""
        def config(path):
            out = subprocess.run(["jsonnet", "-e", path], capture_output=True, check=True, timeout=60,
                                 cwd=os.path.join(h.SOURCE_DIR, "dashboards"))
            return json.loads(out.stdout)
        fields = ["goroutineSelector", "exporterSelector", "trafficSelector", "processSelector"]
        default = config("local c = (import 'config.libsonnet')._config; {[f]: c[f] for f in %s}"
                         % json.dumps(fields))
        ours = {"goroutineSelector": G, "exporterSelector": f'job="{EXPORTER_JOB}"',
                "trafficSelector": S, "processSelector": S}
        back = {}
        for f in fields:
            self.assertEqual(back.setdefault(ours[f], default[f]), default[f],
                             f"cannot map {ours[f]} back to one default selector")
        pattern = re.compile("|".join(re.escape(k) for k in sorted(back, key=len, reverse=True)))
        mismatches, count = [], 0
        for name in sorted(os.listdir(OUT_DASHBOARDS)):
            with open(os.path.join(OUT_DASHBOARDS, name)) as f:
                checked_in = json.load(f)
            self.assertIn(name, self.env.dashboards, "e2e variant lacks a checked-in dashboard")
            mine = {(p["id"], t.get("refId")): t["expr"] for p in self.panels(self.env.dashboards[name])
                    for t in p.get("targets", [])}
            for p in self.panels(checked_in):
                for t in p.get("targets", []):
                    count += 1
                    key = (p["id"], t.get("refId"))
                    got = pattern.sub(lambda m: back[m.group(0)], mine.get(key, "<missing>"))
                    if got != t["expr"]:
                        mismatches.append(f"{name} panel {key}:\n  out/: {t['expr']}\n  e2e: {got}")
        self.assertGreater(count, 30)
        self.assertEqual(mismatches, [], "dashboards/out differs from the sources (run dashboards/generate.sh?)\n"
                         + "\n".join(mismatches))


if __name__ == "__main__":
    unittest.main(verbosity=2)
