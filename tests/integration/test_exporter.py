"""Integration tests: the real goroutine_exporter binary against the real leaky Go fixture
program (net/http/pprof on loopback), asserting on /probe, /metrics and the JSON API."""
import gzip
import http.server
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness as h

CONFIG = """
modules:
  default:
    timeout: 5s
    label_keys: [route, tenant]
    top_k: 60
    headers: {{X-Api-Key: {secret}}}
  capped:
    timeout: 5s
    debug2: {{max_goroutines: 10}}
    goroutineleak: {{max_goroutines: 10}}
  cached:
    min_interval: 60s
  ruled:
    ignore:
      - top_function: '^main\\.leakSelect\\.func1$'   # goleak's IgnoreTopFunction
    rules:
      - name: spawned-child-is-ours
        category: semaphore
        any_function: '^main\\.leakSpawner\\.func1\\.1$'
probe:
  allowed_targets:
    hosts: [localhost]
    cidrs: [127.0.0.0/8]
watch:
  interval: 1s
  timeout: 1s
  concurrency: 2
  static_configs:
    - targets: ['{leaky}']
      labels: {{service: leaky, route: static}}   # route is also a pprof label key: dropped
    - targets: ['{leaky}']    # listed again under another module: watched once, the first
      module: capped
      labels: {{service: again}}
"""
SECRET = "s3cr3t-header-value"


def metric_sum(metrics, name, **labels):
    return sum(v for n, l, v in metrics if n == name and all(l.get(k) == w for k, w in labels.items()))


class SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(3)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class LeakyAndExporter(unittest.TestCase):
    """The leaky fixture, and an exporter started with a config file written for it
    (config_for); stopped after the class's tests."""
    rounds = 2
    exporter_name = "exporter"
    exporter_flags = ()

    @classmethod
    def config_for(cls, leaky):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.leaky = h.start_leaky(rounds=cls.rounds)
        cls.tmp = tempfile.mkdtemp(prefix="gx-it-")
        cls.config_path = os.path.join(cls.tmp, "config.yml")
        cls.good_config = cls.config_for(cls.leaky)
        with open(cls.config_path, "w") as f:
            f.write(cls.good_config)
        try:
            cls.exporter = h.start_exporter(["--config.file", cls.config_path, *cls.exporter_flags],
                                            name=cls.exporter_name)
        except Exception:
            cls.leaky.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.leaky.stop()


class ExporterTest(LeakyAndExporter):
    exporter_flags = ("--log.level", "debug")

    @classmethod
    def config_for(cls, leaky):
        return CONFIG.format(leaky=leaky.address, secret=SECRET)

    def probe(self, target, module="default", headers=None):
        q = urllib.parse.urlencode({"target": target, "module": module})
        status, _, body = h.http_get(f"{self.exporter.url}/probe?{q}", headers=headers)
        return status, body.decode()

    def expected(self):
        return h.get_json(self.leaky.url + "/expected")[1]

    def test_probe_output_passes_promtool_and_matches_fixture_categories(self):
        expected = self.expected()
        status, text = self.probe(self.leaky.address)
        self.assertEqual(status, 200)
        ok, out = h.promtool_check(text)
        self.assertTrue(ok, out)
        m = h.parse_metrics(text)
        self.assertEqual(metric_sum(m, "goroutine_probe_success"), 1)
        # Connection goroutines (idle_server, running) come and go with timing: a connection of
        # an earlier request (its server goroutine and background reader) can still be closing
        # when the profile is taken. Every other category is counted exactly below.
        total = metric_sum(m, "goroutine_goroutines")
        self.assertGreaterEqual(total, expected["expected_total"])
        self.assertLessEqual(total, expected["expected_total"] + 2)
        for category, n in expected["categories"].items():
            if category in ("running", "idle_server"):
                continue
            with self.subTest(category=category):
                self.assertEqual(metric_sum(m, "goroutine_category_goroutines", category=category), n)

    def test_stack_series_count_every_leak_with_its_category_and_labels(self):
        expected = self.expected()
        status, text = self.probe(self.leaky.address)
        m = h.parse_metrics(text)
        for function, e in expected["functions"].items():
            if e["per_round"] == 0 or e["base"] > 0:
                continue
            with self.subTest(function=function):
                series = [(l, v) for n, l, v in m if n == "goroutine_stack_goroutines" and l.get("function") == function]
                self.assertTrue(series, "no stack series for " + function)
                self.assertEqual(sum(v for _, v in series), e["expected"])
                for labels, _ in series:
                    self.assertEqual(labels["category"], e["category"])
                    self.assertRegex(labels["stack_id"], r"^[0-9a-f]{16}$")
        enrich = [l for n, l, v in m if n == "goroutine_stack_goroutines" and l.get("function") == "main.leakLabeledEnrich.func1.1"]
        self.assertEqual([(l["route"], l["tenant"]) for l in enrich], [("/enrich", "x")])
        self.assertEqual(metric_sum(m, "goroutine_stack_goroutines", stack_id="other"), 0)

    def test_a_leak_grown_between_polls_ranks_first_in_the_diff(self):
        target = self.leaky.address
        h.wait_until(lambda: h.get_json(f"{self.exporter.url}/api/v1/targets")[1]["data"], 10,
                     what="a first watch poll")
        before = time.time()
        time.sleep(1.2)
        h.http_get(self.leaky.url + "/leak-extra?n=25")

        def grown():
            _, _, body = h.http_get(self.exporter.url + "/metrics")
            m = h.parse_metrics(body.decode())
            return metric_sum(m, "goroutine_stack_goroutines", function="main.leakExtraSend.func1", target=target) == 25
        h.wait_until(grown, 15, what="the watch poll to see the new leak")
        q = urllib.parse.urlencode({"target": target, "from": f"{before:.3f}"})
        status, diff = h.get_json(f"{self.exporter.url}/api/v1/diff?{q}")
        self.assertEqual(status, 200, diff)
        top = diff["data"]["stacks"][0]
        self.assertEqual(top["function"], "main.leakExtraSend.func1")
        self.assertEqual(top["delta"], 25)
        self.assertEqual(top["category"], "chan_send")
        self.assertIn("ctx.Done()", top["hint"])

    def test_report_page_shows_growth_categories_hints_for_browsers_and_terminals(self):
        target = self.leaky.address
        def points():
            targets = h.get_json(f"{self.exporter.url}/api/v1/targets")[1]["data"]
            return sum(t["history_points"] for t in targets
                       if t["target"] == target and t["module"] == "default") >= 2
        h.wait_until(points, 10, what="two watch polls in the history")
        q = urllib.parse.urlencode({"target": target, "from": "1h", "top": 100})
        status, headers, body = h.http_get(f"{self.exporter.url}/report?{q}&format=text")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        text = body.decode()
        self.assertIn("target " + target, text)
        self.assertIn("goroutine debug=0: ", text)  # the fetch plan, one line per profile
        self.assertIn("WHAT GREW: the point nearest 1h ago -> latest", text)
        self.assertIn("chan_send", text)              # a category of the leaky fixture
        self.assertIn("at main.leakChanSend.func1", text)  # its first application frame
        self.assertIn("ctx.Done()", text)             # and the category's first-fix hint
        # Creators, states and wait ages of the stacks, from the debug=2 dump of the plan.
        self.assertIn("created by main.leakChanSend", text)
        self.assertIn("state chan send", text)
        self.assertRegex(text, r"stacks are from the debug=2 dump of \d{4}-\d\d-\d\d ")
        # The same for a browser: escaped HTML with links to the JSON API and the capture.
        status, headers, body = h.http_get(f"{self.exporter.url}/report?{q}&frames=1")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        page = body.decode()
        self.assertIn("<pre>", page)
        self.assertIn("api/v1/capture?", page)
        self.assertIn("1h ago -&gt; latest", page)  # the report is escaped
        self.assertNotIn("1h ago -> latest", page)
        self.assertIn("&amp;from=1h&amp;top=100\">without frames</a>", page)
        # top=0 means as many as the page holds, as in the JSON API (not one stack).
        q0 = urllib.parse.urlencode({"target": target, "top": 0, "all": 1})
        all_text = h.http_get(f"{self.exporter.url}/report?{q0}&format=text")[2].decode()
        self.assertGreater(all_text.split("WHAT GREW")[-1].count("\n        at "), 5, all_text)
        _, _, landing = h.http_get(self.exporter.url + "/")
        self.assertIn("report?target=", landing.decode())
        # Each row says whether /probe or watch mode produced it, and when (UTC).
        self.assertRegex(landing.decode(), r"<td>/probe</td><td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</td>")
        for path, want in [("/report", 400), ("/report?target=nowhere:1", 404),
                           ("/report?target=%s&from=yesterday" % target, 400),
                           ("/report?target=%s&top=-5&format=text" % target, 200)]:
            with self.subTest(path=path):
                self.assertEqual(h.http_get(self.exporter.url + path)[0], want)

    def test_metrics_endpoint_has_watched_targets_self_and_process_metrics(self):
        def watched():
            _, _, body = h.http_get(self.exporter.url + "/metrics")
            text = body.decode()
            return text if 'goroutine_goroutines{target="%s"' % self.leaky.address in text else None
        text = h.wait_until(watched, 10, what="watched target series")
        ok, out = h.promtool_check(text)
        self.assertTrue(ok, out)
        m = h.parse_metrics(text)
        self.assertEqual(metric_sum(m, "goroutine_goroutines", target=self.leaky.address, service="leaky"),
                         metric_sum(m, "goroutine_goroutines", target=self.leaky.address))
        self.assertGreater(metric_sum(m, "goroutine_goroutines", service="leaky"), 0)
        # One series per label set: the second listing and the clashing label are left out.
        seen = [(n, tuple(sorted(l.items()))) for n, l, _ in m]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertFalse(any(l.get("service") == "again" for _, l, _ in m))
        self.assertFalse(any(l.get("route") == "static" for _, l, _ in m))
        for name in ("goroutine_exporter_build_info", "process_cpu_seconds_total",
                     "process_resident_memory_bytes", "goroutine_exporter_config_last_reload_successful"):
            self.assertTrue(any(n == name for n, _, _ in m), name)
        self.assertGreater(metric_sum(m, "goroutine_exporter_probes_total", result="success"), 0)

    def test_bad_parameters_are_400_and_disallowed_targets_403(self):
        cases = [
            ("/probe", 400), ("/probe?target=", 400),
            ("/probe?target=127.0.0.1:1&module=nope", 400),
            ("/probe?target=127.0.0.1:1/debug/pprof", 400),
            ("/probe?target=ftp://127.0.0.1:1", 400),
            ("/probe?target=" + "a" * 5000, 400),
            ("/probe?target=%00%ff%fe", 400),
            ("/probe?target=10.1.2.3:6060", 403),
            ("/probe?target=example.com:6060", 403),
            ("/api/v1/stacks", 400), ("/api/v1/stacks?target=nowhere:1", 404),
            ("/api/v1/diff?target=%s&from=yesterday" % self.leaky.address, 400),
            ("/api/v1/diff?target=%s&to=60y" % self.leaky.address, 400),  # before 1970
            ("/no-such-page", 404),
        ]
        for path, want in cases:
            with self.subTest(path=path[:60]):
                status, _, _ = h.http_get(self.exporter.url + path)
                self.assertEqual(status, want)

    def test_unreachable_or_slow_target_is_probe_success_0(self):
        status, text = self.probe(f"127.0.0.1:{h.free_port()}")
        self.assertEqual(status, 200)
        self.assertEqual(metric_sum(h.parse_metrics(text), "goroutine_probe_success"), 0)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            start = time.time()
            status, text = self.probe(f"127.0.0.1:{server.server_address[1]}",
                                      headers={"X-Prometheus-Scrape-Timeout-Seconds": "1"})
            elapsed = time.time() - start
            self.assertEqual(status, 200)
            self.assertEqual(metric_sum(h.parse_metrics(text), "goroutine_probe_success"), 0)
            self.assertLess(elapsed, 2.9, "the probe must honour the scrape timeout, not wait for the target")
        finally:
            server.shutdown()

    def test_a_redirect_is_not_followed_and_the_error_says_where_it_points(self):
        # allowed_targets checked this address, not wherever a redirect points.
        asked = []

        def answer(path):
            asked.append(path)
            return 302, b"", {"Location": "http://10.9.9.9:6060/debug/pprof/goroutine?debug=0"}

        with h.loopback_server(answer) as url:
            target = url[len("http://"):]
            status, text = self.probe(target)
            self.assertEqual(status, 200)
            self.assertEqual(metric_sum(h.parse_metrics(text), "goroutine_probe_success"), 0)
            self.assertEqual(asked, ["/debug/pprof/goroutine?debug=0"])
            _, targets = h.get_json(self.exporter.url + "/api/v1/targets")
            mine = [t for t in targets["data"] if t["target"] == target]
            self.assertEqual(len(mine), 1, targets)
            self.assertIn("HTTP 302: redirected to http://10.9.9.9:6060/debug/pprof/goroutine?debug=0",
                          mine[0]["error"])

    def test_planner_skips_expensive_fetches_over_the_cap_and_says_why(self):
        status, text = self.probe(self.leaky.address, module="capped")
        m = h.parse_metrics(text)
        self.assertEqual(metric_sum(m, "goroutine_fetch_skipped", profile="goroutine", debug="2",
                                    reason="over_goroutine_cap"), 1)
        self.assertEqual(metric_sum(m, "goroutine_fetch_performed", profile="goroutine", debug="2"), 0)
        self.assertFalse(any(n == "goroutine_wait_age_seconds_count" for n, _, _ in m))
        # The default module fetches debug=2 (small target) and reports wait ages.
        _, text = self.probe(self.leaky.address)
        m = h.parse_metrics(text)
        self.assertGreater(metric_sum(m, "goroutine_wait_age_seconds_count"), 0)
        # This Go build has no goroutineleak profile: the 404 is remembered and reported.
        reasons = {l["reason"] for n, l, v in m if n == "goroutine_fetch_skipped" and l["profile"] == "goroutineleak"}
        self.assertIn(reasons, ({"unsupported"}, {"min_interval"}))

    def test_module_rules_and_ignore_lists_apply(self):
        expected = self.expected()
        status, text = self.probe(self.leaky.address, module="ruled")
        m = h.parse_metrics(text)
        ignored = expected["functions"]["main.leakSelect.func1"]["expected"]
        self.assertEqual(metric_sum(m, "goroutine_category_goroutines", category="ignored"), ignored)
        self.assertEqual(metric_sum(m, "goroutine_category_goroutines", category="select"),
                         expected["categories"]["select"] - ignored)
        child = [l for n, l, v in m if n == "goroutine_stack_goroutines" and l.get("function") == "main.leakSpawner.func1.1"]
        self.assertEqual([l["category"] for l in child], ["semaphore"])

    def test_min_interval_serves_the_last_result(self):
        _, first = self.probe(self.leaky.address, module="cached")
        _, second = self.probe(self.leaky.address, module="cached")
        m1, m2 = h.parse_metrics(first), h.parse_metrics(second)
        self.assertEqual(metric_sum(m1, "goroutine_fetch_performed", profile="goroutine", debug="0"), 1)
        self.assertEqual(metric_sum(m2, "goroutine_fetch_performed", profile="goroutine", debug="0"), 0)
        self.assertEqual(metric_sum(m2, "goroutine_fetch_skipped", profile="goroutine", debug="0",
                                    reason="min_interval"), 1)
        self.assertEqual(metric_sum(m1, "goroutine_goroutines"), metric_sum(m2, "goroutine_goroutines"))

    def test_json_api_targets_stacks_and_raw_capture(self):
        self.probe(self.leaky.address)
        status, targets = h.get_json(self.exporter.url + "/api/v1/targets")
        self.assertEqual(targets["status"], "success")
        self.assertIn(self.leaky.address, [t["target"] for t in targets["data"]])
        q = urllib.parse.urlencode({"target": self.leaky.address})
        status, stacks = h.get_json(f"{self.exporter.url}/api/v1/stacks?{q}")
        self.assertEqual(status, 200)
        first = [s for s in stacks["data"]["stacks"] if s["function"] == "main.leakChanSend.func1"][0]
        self.assertEqual(first["category"], "chan_send")
        self.assertTrue(first["frames"])
        self.assertEqual(first["created_by"], "main.leakChanSend")  # from the debug=2 fetch
        # The same address spelled as a URL (pasted from a browser) finds the same history.
        for spelling in ("http://" + self.leaky.address, "http://" + self.leaky.address + "/"):
            with self.subTest(spelling=spelling):
                q2 = urllib.parse.urlencode({"target": spelling})
                status, again = h.get_json(f"{self.exporter.url}/api/v1/stacks?{q2}")
                self.assertEqual(status, 200, again)
                self.assertEqual(again["data"]["target"], self.leaky.address)
                status, _, _ = h.http_get(f"{self.exporter.url}/report?{q2}")
                self.assertEqual(status, 200)
        q3 = urllib.parse.urlencode({"target": "https://" + self.leaky.address})
        self.assertEqual(h.http_get(f"{self.exporter.url}/api/v1/stacks?{q3}")[0], 404)
        status, headers, raw = h.http_get(f"{self.exporter.url}/api/v1/capture?{q}")
        self.assertEqual(status, 200)
        self.assertEqual(raw[:2], b"\x1f\x8b")
        path = os.path.join(self.tmp, "capture.pb.gz")
        with open(path, "wb") as f:
            f.write(raw)
        out = subprocess.run([h.TRIAGE, "analyze", path, "-o", "json"], capture_output=True, timeout=30, check=True)
        self.assertGreater(json.loads(out.stdout)["total"], 60)
        if h.have("go"):
            traces = subprocess.run(["go", "tool", "pprof", "-symbolize=none", "-traces", path],
                                    capture_output=True, timeout=120)
            self.assertEqual(traces.returncode, 0, traces.stderr)
            self.assertIn(b"main.leakChanSend.func1", traces.stdout)

    def test_landing_page_health_and_config_without_secrets(self):
        status, _, body = h.http_get(self.exporter.url + "/")
        self.assertEqual(status, 200)
        for link in (b'href="metrics"', b'href="api/v1/targets"', b'href="config"'):
            self.assertIn(link, body)
        self.assertEqual(h.http_get(self.exporter.url + "/-/healthy")[0], 200)
        self.assertEqual(h.http_get(self.exporter.url + "/-/ready")[0], 200)
        status, _, body = h.http_get(self.exporter.url + "/config")
        self.assertEqual(status, 200)
        self.assertNotIn(SECRET.encode(), body)
        self.assertNotIn(SECRET, self.exporter.output())

    def test_bad_reload_keeps_the_old_config_and_shows_in_metrics(self):
        def reload_ok():
            _, _, body = h.http_get(self.exporter.url + "/metrics")
            return metric_sum(h.parse_metrics(body.decode()), "goroutine_exporter_config_last_reload_successful")
        try:
            with open(self.config_path, "w") as f:
                f.write(self.good_config + "\nbogus_key: 1\n")
            status, _, body = h.http_get(self.exporter.url + "/-/reload", method="POST")
            self.assertEqual(status, 500)
            self.assertIn(b"bogus_key", body)
            self.assertEqual(reload_ok(), 0)
            # The old config is still in force: the capped module still exists.
            status, _ = self.probe(self.leaky.address, module="capped")
            self.assertEqual(status, 200)
        finally:
            with open(self.config_path, "w") as f:
                f.write(self.good_config)
        os.kill(self.exporter.proc.pid, signal.SIGHUP)
        h.wait_until(lambda: reload_ok() == 1, 5, what="SIGHUP reload")

    def test_garbage_requests_do_not_hurt_the_server(self):
        import random
        import socket
        rng = random.Random(1)
        host, port = self.exporter.address.split(":")
        payloads = [b"GARBAGE\r\n\r\n", b"GET /probe?target=" + b"%" * 70000 + b" HTTP/1.1\r\n\r\n",
                    b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 100000 + b"\r\n\r\n",
                    b"POST /-/reload HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nabc"]
        payloads += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))) for _ in range(30)]
        for payload in payloads:
            with socket.create_connection((host, int(port)), timeout=5) as s:
                try:
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)
                    s.recv(4096)
                except OSError:
                    pass
        self.assertEqual(h.http_get(self.exporter.url + "/-/healthy")[0], 200)
        self.assertIsNone(self.exporter.proc.poll())

    @unittest.skipUnless(h.have("ss"), "needs ss (iproute2, installed by scripts/setup.sh)")
    def test_listen_backlog_is_raised_above_the_library_default(self):
        # cpp-httplib listens with a backlog of 5; bursts of new scrape connections would lose
        # SYNs (retried after 1 s). For a listening socket ss shows the backlog as Send-Q.
        port = self.exporter.address.rsplit(":", 1)[1]
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True,
                             check=True).stdout.split()
        self.assertEqual(out[0], "LISTEN", out)
        self.assertGreaterEqual(int(out[2]), 128, out)

    def test_sigterm_exits_cleanly(self):
        exporter = h.start_exporter(name="exporter-sigterm")
        self.probe(self.leaky.address)
        start = time.time()
        code = exporter.stop(signal.SIGTERM, timeout=10)
        self.assertEqual(code, 0, exporter.output())
        self.assertLess(time.time() - start, 10)
        self.assertIn("stopped", exporter.output())

    def test_shutdown_delay_keeps_answering_not_ready_until_asked_again(self):
        # --web.shutdown-delay: after SIGTERM, probes still work (Kubernetes takes the pod out
        # of its endpoints a moment later) and /-/ready says 503; a second SIGTERM stops it.
        # The delay is far longer than the test needs, so no timing decides the outcome.
        exporter = h.start_exporter(["--web.shutdown-delay", "5m"], name="exporter-delay")
        self.assertEqual(h.http_get(exporter.url + "/-/ready")[0], 200)
        os.killpg(exporter.proc.pid, signal.SIGTERM)
        h.wait_until(lambda: h.http_get(exporter.url + "/-/ready")[0] == 503, 10,
                     what="/-/ready answering 503 after SIGTERM")
        self.assertIsNone(exporter.proc.poll())
        q = urllib.parse.urlencode({"target": self.leaky.address})
        status, _, body = h.http_get(f"{exporter.url}/probe?{q}")
        self.assertEqual(status, 200)
        self.assertIn(b"goroutine_probe_success 1", body)
        code = exporter.stop(signal.SIGTERM, timeout=30)
        self.assertEqual(code, 0, exporter.output())
        self.assertIn("stopping after the shutdown delay", exporter.output())
        self.assertIn("stopped", exporter.output())
        err = None
        try:
            h.http_get(exporter.url + "/-/ready", timeout=2)
        except OSError as e:
            err = e
        self.assertIsNotNone(err, "the port still answers after the second SIGTERM")


class WatchedTargetDiesTest(LeakyAndExporter):
    """A target watched under a module of its own that stops answering: the API finds it
    without ?module=, keeps serving its last good capture, says the diff is stale, and the
    log says once that it fails."""
    rounds = 1
    exporter_name = "exporter-dies"

    @classmethod
    def config_for(cls, leaky):
        return ("modules:\n  labeled:\n    label_keys: [route]\n"
                "watch:\n  interval: 1s\n  timeout: 1s\n"
                f"  static_configs:\n    - targets: ['{leaky.address}']\n      module: labeled\n")

    def api(self, path, **params):
        q = urllib.parse.urlencode(dict(target=self.leaky.address, **params))
        return h.get_json(f"{self.exporter.url}{path}?{q}")

    def target(self):
        targets = h.get_json(self.exporter.url + "/api/v1/targets")[1]["data"]
        return next((t for t in targets if t["target"] == self.leaky.address), None)

    def test_api_finds_the_module_and_serves_the_last_good_capture_after_a_crash(self):
        h.wait_until(lambda: (self.target() or {}).get("history_points", 0) >= 2, 15,
                     what="two watch polls")
        status, stacks = self.api("/api/v1/stacks")  # no module=: the one it is watched with
        self.assertEqual(status, 200, stacks)
        self.assertEqual(stacks["data"]["module"], "labeled")
        status, body = self.api("/api/v1/stacks", module="nope")
        self.assertEqual(status, 400, body)
        self.assertIn('unknown module "nope"', body["error"])
        status, body = self.api("/api/v1/stacks", module="default")
        self.assertEqual(status, 404, body)
        self.assertIn("it has results with module labeled", body["error"])
        status, diff = self.api("/api/v1/diff", **{"from": "1h"})
        self.assertEqual(status, 200, diff)
        self.assertTrue(any(n.startswith("the history of this target starts") for n in diff["data"]["notes"]),
                        diff["data"]["notes"])

        self.leaky.stop()
        h.wait_until(lambda: self.target()["success"] is False, 15, what="a failed poll")
        time.sleep(3)  # a few more failed polls, logged once
        status, headers, raw = h.http_get(
            f"{self.exporter.url}/api/v1/capture?target={self.leaky.address}")
        self.assertEqual(status, 200, raw[:200])
        self.assertEqual(raw[:2], b"\x1f\x8b")
        self.assertRegex(headers["X-Capture-Time"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
        status, diff = self.api("/api/v1/diff", **{"from": "2s"})
        self.assertEqual(status, 200, diff)
        self.assertTrue(any(n.startswith("the last probe failed (") and "cannot connect" in n
                            for n in diff["data"]["notes"]),
                        diff["data"]["notes"])
        log = self.exporter.output()
        # Once per change of failure, not per poll (3 or more by now); a second line only if
        # the kill cut a fetch short ("closed the connection") before the refusals began.
        self.assertIn(log.count('msg="watched target failing"'), (1, 2), log[-2000:])
        self.assertIn("level=warn", [l for l in log.splitlines() if "watched target failing" in l][0])


class ResolvedCidrsTest(LeakyAndExporter):
    """probe.allowed_targets.resolved_cidrs: a target given by name is fetched only if the name
    resolves into those ranges ("localhost" resolves through /etc/hosts, no DNS server), and
    reloading the config applies new ranges; IP literals still go by cidrs."""
    rounds = 1
    exporter_name = "exporter-resolved"

    @classmethod
    def config_for(cls, leaky):
        return cls.config_with(["10.0.0.0/8"])

    @staticmethod
    def config_with(resolved):
        return ("probe:\n  allowed_targets:\n    hosts: [localhost]\n"
                f"    cidrs: [127.0.0.0/8]\n    resolved_cidrs: [{', '.join(resolved)}]\n")

    def probe_success(self, target):
        q = urllib.parse.urlencode({"target": target})
        status, _, body = h.http_get(f"{self.exporter.url}/probe?{q}")
        self.assertEqual(status, 200, body[:300])
        return metric_sum(h.parse_metrics(body.decode()), "goroutine_probe_success")

    def fetch_errors(self, reason):
        _, _, body = h.http_get(self.exporter.url + "/metrics")
        return metric_sum(h.parse_metrics(body.decode()), "goroutine_exporter_fetch_errors_total",
                          reason=reason)

    def test_names_connect_only_into_the_resolved_ranges(self):
        port = self.leaky.address.rsplit(":", 1)[1]
        by_name = f"localhost:{port}"
        self.assertEqual(self.probe_success(by_name), 0)
        self.assertEqual(self.fetch_errors("address_refused"), 1)
        # (/etc/hosts may also map localhost to ::1, listed first)
        self.assertRegex(self.exporter.output(),
                         r"host 'localhost' resolves to (::1, )?127\.0\.0\.1, outside "
                         r"probe\.allowed_targets\.resolved_cidrs")
        self.assertEqual(self.probe_success(self.leaky.address), 1)  # a literal, under cidrs
        self.assertEqual(self.fetch_errors("dns"), 0)
        # exported from the start: the series is there at 0, not merely absent
        _, _, body = h.http_get(self.exporter.url + "/metrics")
        self.assertIn('goroutine_exporter_fetch_errors_total{reason="dns"} 0', body.decode())

        with open(self.config_path, "w") as f:
            f.write(self.config_with(["127.0.0.0/8"]))
        status, _, body = h.http_get(self.exporter.url + "/-/reload", method="POST")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.probe_success(by_name), 1)
        status, config = h.get_json(self.exporter.url + "/config")
        self.assertEqual(status, 200, config)
        self.assertEqual(config["probe_resolved_cidrs"], ["127.0.0.0/8"])


class GrowthSelectionTest(LeakyAndExporter):
    """top_k_growth ranks against the target's history: a stack that grew since the first
    probe is exported by growth although it is not among the top_k by count."""
    rounds = 4  # stacks of 4 goroutines each: more than the 2 leaked below
    exporter_name = "exporter-growth"

    @classmethod
    def config_for(cls, leaky):
        return "modules:\n  default:\n    top_k: 1\n    top_k_growth: 1\n"

    def stack_series(self):
        q = urllib.parse.urlencode({"target": self.leaky.address})
        status, _, body = h.http_get(f"{self.exporter.url}/probe?{q}")
        self.assertEqual(status, 200, body[:300])
        return {l["function"]: v for n, l, v in h.parse_metrics(body.decode())
                if n == "goroutine_stack_goroutines" and l["stack_id"] != "other"}

    def test_a_stack_that_grew_is_exported_by_growth(self):
        first = self.stack_series()
        self.assertEqual(len(first), 1, first)  # the top stack by count; nothing grew yet
        h.http_get(self.leaky.url + "/leak-extra?n=2")
        second = self.stack_series()
        self.assertEqual(second.get("main.leakExtraSend.func1"), 2, second)
        self.assertEqual(len(second), 2, second)  # the top stack by count, and the growth pick
        self.assertGreater(max(second.values()), 2, second)


def big_profile(functions=5000, samples=2000, depth=50):
    """A debug=0 body whose protobuf is about 6 MB (long function names), well past the 4 MiB
    every capture may hold without the exporter's memory budget."""
    def varint(n):
        out = bytearray()
        while True:
            b, n = n & 0x7f, n >> 7
            out.append(b | 0x80 if n else b)
            if not n:
                return bytes(out)

    def field(num, payload):
        if isinstance(payload, int):
            return varint(num << 3) + varint(payload)
        return varint(num << 3 | 2) + varint(len(payload)) + payload

    strings = [b"", b"goroutine", b"count", b"m.go"]
    msg = bytearray(field(1, field(1, 1) + field(2, 2)))
    for s in range(samples):
        locs = b"".join(varint((s * 7 + i * 13) % functions + 1) for i in range(depth))
        msg += field(2, field(1, locs) + field(2, varint(1)))
    for f in range(1, functions + 1):
        msg += field(4, field(1, f) + field(4, field(1, f) + field(2, f)))
        msg += field(5, field(1, f) + field(2, len(strings) + f - 1) + field(4, 3))
    strings += [b"main.f%05d" % f + b"z" * 1000 for f in range(functions)]
    msg += b"".join(field(6, st) for st in strings)
    return gzip.compress(bytes(msg))


class MemoryBudgetTest(unittest.TestCase):
    def test_a_capture_past_the_memory_budget_fails_and_says_why(self):
        big = big_profile()
        with open(os.path.join(h.SOURCE_DIR, "tests", "fixtures", "captures", "go1.26",
                               "t2.goroutine.debug0.pb.gz"), "rb") as f:
            small = f.read()
        tight = h.start_exporter(["--probe.memory-budget", "0B"], name="exporter-budget")
        roomy = h.start_exporter([], name="exporter-roomy")
        try:
            with h.loopback_server(lambda path: (200, big)) as big_url, \
                    h.loopback_server(lambda path: (200, small)) as small_url:
                def probe(exporter, url):
                    q = urllib.parse.urlencode({"target": url})
                    _, _, body = h.http_get(f"{exporter.url}/probe?{q}")
                    return metric_sum(h.parse_metrics(body.decode()), "goroutine_probe_success")

                self.assertEqual(probe(tight, big_url), 0)
                _, targets = h.get_json(tight.url + "/api/v1/targets")
                error = [t for t in targets["data"] if t["target"] == big_url][0]["error"]
                self.assertIn("memory budget for captures in progress (--probe.memory-budget, 0 MiB",
                              error)
                # Small captures fit in what each may hold without the budget.
                self.assertEqual(probe(tight, small_url), 1)
                _, _, text = h.http_get(tight.url + "/metrics")
                metrics = h.parse_metrics(text.decode())
                self.assertGreaterEqual(
                    metric_sum(metrics, "goroutine_exporter_capture_memory_refusals_total"), 1)
                self.assertEqual(metric_sum(metrics, "goroutine_exporter_capture_memory_in_use_bytes"), 0)
                self.assertEqual(metric_sum(metrics, "goroutine_exporter_capture_memory_budget_bytes"), 0)
                # The default budget (256 MiB) takes it.
                self.assertEqual(probe(roomy, big_url), 1)
        finally:
            tight.stop()
            roomy.stop()

    def test_a_bad_budget_is_refused_at_start(self):
        out = subprocess.run([h.EXPORTER, "--probe.memory-budget", "lots"], capture_output=True,
                             timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"bad --probe.memory-budget", out.stderr)


class HistoryCapTest(unittest.TestCase):
    def test_more_watched_targets_than_the_history_keeps_is_logged(self):
        tmp = tempfile.mkdtemp(prefix="gx-it-cap-")
        config = os.path.join(tmp, "config.yml")
        ports = [h.free_port() for _ in range(3)]  # nothing listens: the polls fail, no matter
        with open(config, "w") as f:
            f.write("watch:\n  interval: 1m\n  history: {max_targets: 2}\n  static_configs:\n"
                    f"    - targets: [{', '.join(f'127.0.0.1:{p}' for p in ports)}]\n")
        exporter = h.start_exporter(["--config.file", config], name="exporter-cap")
        try:
            h.wait_until(lambda: "more watched targets than history.max_targets" in exporter.output(),
                         10, what="the warning")
            self.assertIn("targets=3 history_max_targets=2", exporter.output())
        finally:
            exporter.stop()


if __name__ == "__main__":
    unittest.main()
