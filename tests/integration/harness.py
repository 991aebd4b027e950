"""Process harness for the integration and end-to-end tests.

Starts real programs (the exporter, Go targets, Prometheus) on 127.0.0.1 with free ports,
reads the addresses they print, and tears everything down even when a test fails.
"""
import contextlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

SOURCE_DIR = os.environ.get("GX_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("GX_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
EXPORTER = os.environ.get("GX_EXPORTER", os.path.join(BUILD_DIR, "exporter", "goroutine_exporter"))
TRIAGE = os.environ.get("GX_TRIAGE", os.path.join(BUILD_DIR, "exporter", "goroutine_triage"))
GO_BIN_DIR = os.path.join(BUILD_DIR, "go-bin")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have(tool):
    return shutil.which(tool) is not None


def go_build(module_dir, output_name, package="."):
    """Builds a Go program of the project (its own module) once per build directory."""
    os.makedirs(GO_BIN_DIR, exist_ok=True)
    out = os.path.join(GO_BIN_DIR, output_name)
    subprocess.run(["go", "build", "-trimpath", "-o", out, package], cwd=module_dir, check=True,
                   timeout=600)
    return out


def http_get(url, timeout=10, headers=None, method="GET", data=None):
    """Returns (status, headers, body bytes); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@contextlib.contextmanager
def loopback_server(answer):
    """Serves GET on 127.0.0.1 (a free port) with answer(path) -> (status, body bytes) or
    (status, body bytes, headers dict); yields the base URL ("http://127.0.0.1:PORT") and stops
    the server on exit."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            reply(self, *answer(self.path))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def reply(handler, status, body=b"", headers=None):
    """Answers a BaseHTTPRequestHandler request with `status`, `body` (Content-Length set) and
    any extra `headers`."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def get_json(url, timeout=10):
    status, _, body = http_get(url, timeout)
    return status, json.loads(body)


def parse_metrics(text):
    """Parses exposition text into a list of (name, labels dict, value)."""
    out = []
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            raise ValueError("unparsable metrics line: " + line)
        labels = {k: v.encode().decode("unicode_escape") for k, v in label_re.findall(m.group(3) or "")}
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def promtool_check(text):
    """Runs `promtool check metrics` on exposition text; returns (ok, output)."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=60)
    return p.returncode == 0, (p.stdout + p.stderr).decode()


class Process:
    """A child process whose output goes to a log file; waits for a line matching a regex."""

    def __init__(self, name, argv, ready_regex, cwd=None, env=None, timeout=30, log_dir=None):
        self.name = name
        if log_dir:
            self.log_path = os.path.join(log_dir, name + ".log")
        else:
            self.log_path = tempfile.mktemp(prefix=name + "-", suffix=".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd,
                                     env=env, start_new_session=True)
        try:
            self.match = self._wait_for(ready_regex, timeout)
        except BaseException:
            self.stop(timeout=5)
            raise

    def _wait_for(self, regex, timeout):
        deadline = time.time() + timeout
        pattern = re.compile(regex)
        while time.time() < deadline:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
            m = pattern.search(text)
            if m:
                return m
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{text[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not become ready in {timeout}s:\n{self.output()[-3000:]}")

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()
        return self.proc.returncode


def start_exporter(args=(), name="exporter", log_dir=None):
    p = Process(name, [EXPORTER, "--web.listen-address", "127.0.0.1:0", *args],
                r'(?:msg=listening address=|"msg":"listening","address":")([0-9.]+:\d+)',
                log_dir=log_dir)
    p.address = p.match.group(1)
    p.url = "http://" + p.address
    return p


def start_leaky(rounds=2):
    binary = go_build(os.path.join(SOURCE_DIR, "tests", "fixtures", "leaky"), "leaky")
    p = Process("leaky", [binary, "-listen", "127.0.0.1:0", "-rounds", str(rounds)],
                r"listening on (127\.0\.0\.1:\d+)")
    p.address = p.match.group(1)
    p.url = "http://" + p.address
    return p


def wait_until(predicate, timeout, interval=0.2, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


# --- end-to-end additions (tests/e2e, scripts/demo.py) ----------------------------------------

SHOP_DIR = os.path.join(SOURCE_DIR, "examples", "shop")
PROMETHEUS = os.environ.get("GX_PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("GX_PROMTOOL", "promtool")


def build_shop(goexperiment="goroutineleakprofile"):
    """Builds examples/shop (shop + loadgen) with examples/shop/build.sh into the build directory
    and returns the output directory. GOEXPERIMENT=goroutineleakprofile (Go 1.26) makes the
    goroutineleak profile available; on Go >= 1.27 it is there anyway."""
    out = os.path.join(GO_BIN_DIR, "shop-" + (goexperiment or "plain"))
    env = dict(os.environ)
    if goexperiment:
        env["GOEXPERIMENT"] = goexperiment
    subprocess.run([os.path.join(SHOP_DIR, "build.sh"), out], env=env, check=True, timeout=600,
                   stdout=subprocess.DEVNULL)
    return out


def start_shop(bin_dir, name="shop", args=(), log_dir=None):
    """Starts bin_dir/shop on loopback; .api, .pprof, .downstream are its addresses."""
    p = Process(name, [os.path.join(bin_dir, "shop"), "-listen", "127.0.0.1:0",
                       "-pprof-listen", "127.0.0.1:0", "-downstream-listen", "127.0.0.1:0", *args],
                r"(?s)api listening on (\S+).*?pprof listening on (\S+).*?"
                r"downstream listening on (\S+)", log_dir=log_dir)
    p.api, p.pprof, p.downstream = p.match.group(1), p.match.group(2), p.match.group(3)
    p.url = "http://" + p.api
    return p


def start_loadgen(bin_dir, target_url, qps, duration="24h", name="loadgen", args=(), log_dir=None):
    """Starts bin_dir/loadgen against target_url (open loop, steady qps) until stopped."""
    p = Process(name, [os.path.join(bin_dir, "loadgen"), "-target", target_url, "-qps", str(qps),
                       "-duration", duration, *args], r"", log_dir=log_dir)
    time.sleep(0.2)
    if p.proc.poll() is not None:
        raise RuntimeError(f"{name} exited with {p.proc.returncode}:\n{p.output()[-3000:]}")
    return p


def start_prometheus(config_file, storage_dir, log_dir=None, name="prometheus", timeout=60,
                     attempts=3):
    """Starts the real Prometheus server on a free loopback port (retrying when the port was
    taken between choosing and binding it) and waits for /-/ready. .url is its base URL."""
    last = None
    for _ in range(attempts):
        port = free_port()
        argv = [PROMETHEUS, "--config.file", config_file, "--storage.tsdb.path", storage_dir,
                "--web.listen-address", f"127.0.0.1:{port}", "--web.enable-lifecycle"]
        try:
            p = Process(name, argv, r"Server is ready to receive web requests", log_dir=log_dir,
                        timeout=timeout)
        except RuntimeError as e:
            last = e
            if "address already in use" in str(e):
                continue
            raise
        p.address = f"127.0.0.1:{port}"
        p.url = "http://" + p.address
        try:
            wait_until(lambda: http_ok(p.url + "/-/ready"), timeout, interval=0.2,
                       what="prometheus /-/ready")
        except BaseException:
            p.stop()
            raise
        return p
    raise last


def http_ok(url, timeout=2):
    """True if url answers 200; connection errors count as not ready."""
    try:
        return http_get(url, timeout=timeout)[0] == 200
    except (OSError, urllib.error.URLError):
        return False


def promtool(*args, timeout=60):
    """Runs promtool; returns (ok, combined output)."""
    p = subprocess.run([PROMTOOL, *args], capture_output=True, timeout=timeout)
    return p.returncode == 0, (p.stdout + p.stderr).decode(errors="replace")
