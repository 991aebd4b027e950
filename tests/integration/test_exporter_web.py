"""Integration tests of the exporter's web config (TLS and basic auth), file_sd watch targets
that change on disk, and JSON logs; the real binary on loopback."""
import base64
import http.server
import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

import harness as h

CAPTURES = os.path.join(h.SOURCE_DIR, "tests", "fixtures", "captures", "go1.26")


class CaptureHandler(http.server.BaseHTTPRequestHandler):
    """A stand-in pprof endpoint serving committed captures, only with the right credentials."""
    expected_auth = None
    seen_auth = []

    def do_GET(self):
        CaptureHandler.seen_auth.append(self.headers.get("Authorization"))
        if self.headers.get("Authorization") != self.expected_auth:
            self.send_response(401)
            self.end_headers()
            return
        names = {"/debug/pprof/goroutine?debug=0": "t2.goroutine.debug0.pb.gz",
                 "/debug/pprof/goroutine?debug=2": "t2.goroutine.debug2.txt"}
        name = names.get(self.path)
        if name is None:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"Unknown profile\n")
            return
        with open(os.path.join(CAPTURES, name), "rb") as f:
            h.reply(self, 200, f.read())

    def log_message(self, *args):
        pass

# bcrypt of "hunter2" at cost 4 (made with crypt(3); the exporter verifies it with crypt_r).
HASH = "$2b$04$E4YQgktJRWpDc3Mp8VHanuaRVWSqFPQgW/8VF4L3T95PS4SB/Ligu"


def self_signed(directory, prefix="", cn="127.0.0.1"):
    """Writes a self-signed certificate for 127.0.0.1 and its key; returns their paths."""
    cert = os.path.join(directory, prefix + "c.pem")
    key = os.path.join(directory, prefix + "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class WebConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gx-web-")

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_basic_auth_protects_every_endpoint(self):
        web = self.write("web.yml", f"basic_auth_users:\n  alice: '{HASH}'\n")
        exporter = h.start_exporter(["--web.config.file", web])
        try:
            for path in ("/metrics", "/probe?target=127.0.0.1:1", "/api/v1/targets", "/"):
                with self.subTest(path=path):
                    self.assertEqual(h.http_get(exporter.url + path)[0], 401)
                    self.assertEqual(h.http_get(exporter.url + path, headers=basic("alice", "wrong"))[0], 401)
                    self.assertEqual(h.http_get(exporter.url + path, headers=basic("alice", "hunter2"))[0], 200)
            self.assertEqual(h.http_get(exporter.url + "/", headers={"Authorization": "Basic !!!"})[0], 401)
        finally:
            exporter.stop()
        self.assertNotIn("hunter2", exporter.output())

    def test_tls_serves_https_only(self):
        if not h.have("openssl"):
            self.skipTest("openssl not installed")
        cert, key = self_signed(self.tmp)
        web = self.write("web.yml", f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
        exporter = h.start_exporter(["--web.config.file", web])
        try:
            ctx = ssl.create_default_context(cafile=cert)
            with urllib.request.urlopen(f"https://{exporter.address}/-/healthy", context=ctx, timeout=10) as r:
                self.assertEqual(r.status, 200)
            with self.assertRaises(Exception):
                urllib.request.urlopen(f"http://{exporter.address}/-/healthy", timeout=5).read()
        finally:
            exporter.stop()

    def test_rotated_tls_files_are_served_without_a_restart(self):
        # cert-manager and the like replace the files in place; the exporter must present the
        # new certificate from the next handshake on, and keep the last good one when the
        # new files do not load.
        if not h.have("openssl"):
            self.skipTest("openssl not installed")

        def norm(pem):
            return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(pem))

        def served(address):
            host, port = address.rsplit(":", 1)
            return norm(ssl.get_server_certificate((host, int(port)), timeout=10))

        cert, key = self_signed(self.tmp, "rot-", cn="first")
        web = self.write("web-rot.yml", f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
        exporter = h.start_exporter(["--web.config.file", web])
        try:
            with open(cert) as f:
                first = f.read()
            self.assertEqual(served(exporter.address), norm(first))
            # Rotate: new files written aside, then renamed over the old ones.
            new_cert, new_key = self_signed(self.tmp, "rot-new-", cn="second")
            os.replace(new_key, key)
            os.replace(new_cert, cert)
            with open(cert) as f:
                second = f.read()
            self.assertNotEqual(first, second)
            want = norm(second)
            h.wait_until(lambda: served(exporter.address) == want, 10, what="the rotated certificate")
            # A broken rotation: the previous (good) certificate stays in use.
            with open(cert, "w") as f:
                f.write("not a certificate\n")
            self.assertEqual(served(exporter.address), want)
            ctx = ssl.create_default_context(cadata=want)
            with urllib.request.urlopen(f"https://{exporter.address}/-/healthy", context=ctx, timeout=10) as r:
                self.assertEqual(r.status, 200)
        finally:
            exporter.stop()
        self.assertIn("reloaded the TLS certificate", exporter.output())
        self.assertIn("do not load", exporter.output())

    def test_bad_web_config_is_refused_at_start(self):
        web = self.write("web.yml", "basic_auth_users:\n  alice: not-a-bcrypt-hash\n")
        with self.assertRaises(RuntimeError):
            h.start_exporter(["--web.config.file", web])
        p = subprocess.run([h.EXPORTER, "--config.check", "--web.config.file", web], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 1)


class TargetAuthTest(unittest.TestCase):
    """TLS to targets with a private CA, bearer tokens and basic auth read from files."""

    def test_https_target_with_ca_and_bearer_token_then_basic_auth(self):
        if not h.have("openssl"):
            self.skipTest("openssl not installed")
        tmp = tempfile.mkdtemp(prefix="gx-tls-")
        cert, key = self_signed(tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CaptureHandler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        token = os.path.join(tmp, "token")
        with open(token, "w") as f:
            f.write("tok-123\n")
        password = os.path.join(tmp, "password")
        with open(password, "w") as f:
            f.write("pw-456\n")
        config = os.path.join(tmp, "config.yml")
        with open(config, "w") as f:
            f.write(f"""modules:
  bearer:
    scheme: https
    tls_config: {{ca_file: {cert}}}
    bearer_token_file: {token}
  basic:
    scheme: https
    tls_config: {{insecure_skip_verify: true}}
    basic_auth: {{username: prom, password_file: {password}}}
  untrusted:
    scheme: https
""")
        exporter = h.start_exporter(["--config.file", config])
        target = f"127.0.0.1:{server.server_address[1]}"
        try:
            def probe(module):
                _, _, body = h.http_get(f"{exporter.url}/probe?target={target}&module={module}")
                m = h.parse_metrics(body.decode())
                return {n: v for n, l, v in m if n in ("goroutine_probe_success", "goroutine_goroutines")}
            CaptureHandler.expected_auth = "Bearer tok-123"
            self.assertEqual(probe("bearer"), {"goroutine_probe_success": 1, "goroutine_goroutines": 159})
            CaptureHandler.expected_auth = "Basic " + base64.b64encode(b"prom:pw-456").decode()
            self.assertEqual(probe("basic")["goroutine_probe_success"], 1)
            # Without the CA the self-signed certificate is refused.
            self.assertEqual(probe("untrusted")["goroutine_probe_success"], 0)
        finally:
            exporter.stop()
            server.shutdown()
        for secret in ("tok-123", "pw-456"):
            self.assertNotIn(secret, exporter.output())


class HostileTlsTargetTest(unittest.TestCase):
    """The read budget holds over TLS too: a target that answers with headers without end
    fails the probe at once as too_large, and the exporter does not grow."""

    def test_tls_header_flood_is_cut_off(self):
        if not h.have("openssl"):
            self.skipTest("openssl not installed")
        tmp = tempfile.mkdtemp(prefix="gx-tls-flood-")
        cert, key = self_signed(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        stop = threading.Event()

        def serve():
            # Up to 64 MiB of header lines per connection, until the exporter hangs up.
            lines = b"X-A: b\r\n" * 8192
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                try:
                    with ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(65536)
                        tls.sendall(b"HTTP/1.1 200 OK\r\n")
                        for _ in range(1024):
                            tls.sendall(lines)
                except (OSError, ssl.SSLError):
                    pass

        threading.Thread(target=serve, daemon=True).start()
        config = os.path.join(tmp, "config.yml")
        with open(config, "w") as f:
            f.write("modules:\n  default:\n    scheme: https\n    tls_config: {insecure_skip_verify: true}\n")
        exporter = h.start_exporter(["--config.file", config], name="exporter-tls-flood")
        target = f"127.0.0.1:{listener.getsockname()[1]}"
        try:
            _, _, body = h.http_get(f"{exporter.url}/probe?target={target}", timeout=30)
            probe = {n: v for n, l, v in h.parse_metrics(body.decode())}
            self.assertEqual(probe["goroutine_probe_success"], 0)
            self.assertLess(probe["goroutine_probe_duration_seconds"], 5)
            _, _, body = h.http_get(f"{exporter.url}/metrics")
            errors = {l.get("reason"): v for n, l, v in h.parse_metrics(body.decode())
                      if n == "goroutine_exporter_fetch_errors_total"}
            self.assertEqual(errors["too_large"], 1, errors)
            self.assertIn("response headers longer than 65536 bytes", exporter.output())
            with open(f"/proc/{exporter.proc.pid}/status") as f:
                rss_kb = int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
            self.assertLess(rss_kb, 200 * 1024, "peak RSS after the flood")
        finally:
            stop.set()
            exporter.stop()
            listener.close()


class HostileClientTest(unittest.TestCase):
    """Requests to the exporter itself are bounded too: headers without end, over HTTP or
    TLS, are cut at the request cap (cpp-httplib alone kept them all: 840 MB in 5 s), the
    exporter stays small, counts the cut, and keeps serving."""

    def flood(self, connect):
        sock = connect()
        sock.settimeout(10)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n")
        lines = b"X-Flood: " + b"a" * 40 + b"\r\n"
        sent = 0
        try:
            while sent < (256 << 20):
                sock.sendall(lines * 1024)
                sent += len(lines) * 1024
        except OSError:
            pass
        finally:
            sock.close()
        return sent

    def check(self, exporter, metrics_page, sent):
        self.assertLess(sent, 256 << 20, "the exporter hung up before 256 MiB of headers")
        body = metrics_page()
        cuts = {l.get("reason"): v for n, l, v in h.parse_metrics(body.decode())
                if n == "goroutine_exporter_http_requests_cut_total"}
        self.assertEqual(cuts, {"too_large": 1, "timeout": 0})
        with open(f"/proc/{exporter.proc.pid}/status") as f:
            rss_kb = int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
        self.assertLess(rss_kb, 100 * 1024, "peak RSS after the flood")

    def test_header_flood_is_cut_off(self):
        exporter = h.start_exporter(name="exporter-client-flood")
        try:
            host, port = exporter.address.rsplit(":", 1)
            sent = self.flood(lambda: socket.create_connection((host, int(port))))
            self.check(exporter, lambda: h.http_get(exporter.url + "/metrics")[2], sent)
        finally:
            exporter.stop()

    def test_header_flood_over_tls_is_cut_off(self):
        if not h.have("openssl"):
            self.skipTest("openssl not installed")
        tmp = tempfile.mkdtemp(prefix="gx-client-flood-")
        cert, key = self_signed(tmp)
        web = os.path.join(tmp, "web.yml")
        with open(web, "w") as f:
            f.write(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
        exporter = h.start_exporter(["--web.config.file", web], name="exporter-client-flood-tls")
        try:
            host, port = exporter.address.rsplit(":", 1)
            ctx = ssl.create_default_context(cafile=cert)
            sent = self.flood(lambda: ctx.wrap_socket(socket.create_connection((host, int(port))),
                                                      server_hostname=host))
            url = f"https://{exporter.address}/metrics"
            self.check(exporter, lambda: urllib.request.urlopen(url, context=ctx, timeout=10).read(), sent)
        finally:
            exporter.stop()


class GcLeakedApiTest(unittest.TestCase):
    """The JSON API's GC-leaked counts come from the goroutineleak profile, as the metrics do."""

    def test_stacks_api_reports_the_goroutineleak_total(self):
        captures = os.path.join(h.SOURCE_DIR, "tests", "fixtures", "captures", "go1.26-leakexp")
        names = {"/debug/pprof/goroutine?debug=0": "t2.goroutine.debug0.pb.gz",
                 "/debug/pprof/goroutine?debug=2": "t2.goroutine.debug2.txt",
                 "/debug/pprof/goroutineleak?debug=0": "t2.goroutineleak.debug0.pb.gz"}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = names.get(self.path)
                if name is None:
                    h.reply(self, 404, b"Unknown profile\n")
                    return
                with open(os.path.join(captures, name), "rb") as f:
                    h.reply(self, 200, f.read())

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        exporter = h.start_exporter(name="exporter-gcleak")
        target = f"127.0.0.1:{server.server_address[1]}"
        try:
            _, _, body = h.http_get(f"{exporter.url}/probe?target={target}")
            metrics = {n: v for n, l, v in h.parse_metrics(body.decode())
                       if n == "goroutine_gc_leaked_goroutines"}
            self.assertGreater(metrics.get("goroutine_gc_leaked_goroutines", 0), 0, metrics)
            status, reply = h.get_json(f"{exporter.url}/api/v1/stacks?target={target}&top=0")
            self.assertEqual(status, 200, reply)
            stacks = reply["data"]
            self.assertEqual(stacks["leaked"], metrics["goroutine_gc_leaked_goroutines"])
            self.assertEqual(stacks["leaked"], sum(s.get("gc_leaked", 0) for s in stacks["stacks"]))
            status, reply = h.get_json(f"{exporter.url}/api/v1/targets")
            self.assertEqual(status, 200, reply)
            targets = reply["data"]
            self.assertEqual([t["gc_leaked"] for t in targets if t["target"] == target],
                             [stacks["leaked"]], targets)
        finally:
            exporter.stop()
            server.shutdown()


class QueueTest(unittest.TestCase):
    def test_a_probe_that_waited_past_its_scrape_timeout_does_not_fetch(self):
        # One worker, busy with a probe of a slow target: a probe queued behind it whose
        # scrape timeout passes in the queue must not load its target any more.
        hits = {"slow": 0, "fast": 0}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                port = self.server.server_address[1]
                if port == slow.server_address[1]:
                    hits["slow"] += 1
                    time.sleep(3)
                    self.send_response(500)
                    self.end_headers()
                    return
                hits["fast"] += 1
                with open(os.path.join(CAPTURES, "t2.goroutine.debug0.pb.gz"), "rb") as f:
                    h.reply(self, 200, f.read())

            def log_message(self, *args):
                pass

        slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        fast = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        for srv in (slow, fast):
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        exporter = h.start_exporter(["--web.max-requests", "1"])
        try:
            def probe(port, timeout_header=None):
                headers = {"X-Prometheus-Scrape-Timeout-Seconds": timeout_header} if timeout_header else None
                q = urllib.parse.urlencode({"target": f"127.0.0.1:{port}"})
                return h.http_get(f"{exporter.url}/probe?{q}", headers=headers, timeout=20)

            busy = threading.Thread(target=probe, args=(slow.server_address[1],))
            busy.start()
            h.wait_until(lambda: hits["slow"] > 0, 10, what="the slow probe to start")
            status, _, body = probe(fast.server_address[1], "1")
            busy.join()
            self.assertEqual(status, 503, body)
            self.assertIn(b"waited", body)
            self.assertEqual(hits["fast"], 0)
            # Not queued: the same probe runs.
            status, _, body = probe(fast.server_address[1], "1")
            self.assertEqual(status, 200, body)
            self.assertGreaterEqual(hits["fast"], 1)  # debug=0, then the expensive ones
        finally:
            exporter.stop()
            for srv in (slow, fast):
                srv.shutdown()
                srv.server_close()
        self.assertIn("past its deadline", exporter.output())


class ExampleConfigTest(unittest.TestCase):
    def test_shipped_example_configs_pass_config_check(self):
        examples = os.path.join(h.SOURCE_DIR, "examples", "config")
        p = subprocess.run([h.EXPORTER, "--config.check",
                            "--config.file", os.path.join(examples, "goroutine_exporter.yml"),
                            "--web.config.file", os.path.join(examples, "web.yml")],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())


class FileSdTest(unittest.TestCase):
    def test_file_sd_targets_are_reread_when_the_file_changes_and_logs_are_json(self):
        leaky = h.start_leaky(rounds=1)
        tmp = tempfile.mkdtemp(prefix="gx-sd-")
        sd = os.path.join(tmp, "targets.json")
        with open(sd, "w") as f:
            json.dump([], f)
        config = os.path.join(tmp, "config.yml")
        with open(config, "w") as f:
            f.write("watch:\n  interval: 1s\n  timeout: 1s\n  file_sd_configs:\n"
                    f"    - files: ['{tmp}/*.json']\n      refresh_interval: 1s\n")
        exporter = h.start_exporter(["--config.file", config, "--log.format", "json"])
        try:
            def target_series():
                _, _, body = h.http_get(exporter.url + "/metrics")
                m = h.parse_metrics(body.decode())
                return [l for n, l, v in m if n == "goroutine_goroutines"]
            self.assertEqual(target_series(), [])
            with open(sd + ".tmp", "w") as f:
                json.dump([{"targets": [leaky.address], "labels": {"team": "payments"}}], f)
            os.rename(sd + ".tmp", sd)
            series = h.wait_until(target_series, 15, what="the file_sd target to be polled")
            self.assertEqual(series[0]["target"], leaky.address)
            self.assertEqual(series[0]["team"], "payments")
            with open(sd, "w") as f:
                json.dump([], f)
            h.wait_until(lambda: target_series() == [], 15, what="the removed target to disappear")
            for line in exporter.output().splitlines():
                record = json.loads(line)
                self.assertIn("level", record)
                self.assertIn("msg", record)
        finally:
            exporter.stop()
            leaky.stop()


if __name__ == "__main__":
    unittest.main()
