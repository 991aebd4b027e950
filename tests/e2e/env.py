"""An end-to-end environment on loopback: example Go services, their load, the exporter and a
real Prometheus server with the mixin's rules.

    with Environment([ShopSpec("leaky", leak="chan_send=5"), ShopSpec("bursty", burst_every=20)]) as env:
        env.query('goroutine_goroutines')

What it starts, all on 127.0.0.1 with free ports, in a fresh temporary directory:

- one `shop` per ShopSpec (examples/shop, built with GOEXPERIMENT=goroutineleakprofile so that
  the goroutineleak profile exists on Go 1.26), with the spec's leaks turned on;
- one `loadgen` per shop at a steady rate, and optionally a thread that POSTs /admin/burst
  periodically (load that drains, not a leak);
- goroutine_exporter with a generated config: watch mode on every shop's pprof address (module
  `default`, interval 1s: history, JSON API, diff) and a `probe` module for Prometheus; both
  split series by the pprof labels route and tenant and fetch debug=2 and goroutineleak at most
  every 5 s;
- Prometheus (Debian's /usr/bin/prometheus), scrape and evaluation interval 1s, with three jobs:
    shop                 the shops' own /metrics (traffic, latency, process_*)
    goroutine-probe      /probe?module=probe&target=<shop pprof address>, __address__ = exporter
    goroutine-exporter   the exporter's own /metrics
  Both per-shop jobs set `instance` to the shop's name, so the mixin joins goroutine series with
  traffic and latency on `instance`. Rule files are the short-window variant of the mixin
  (dashboards/lib/e2e.jsonnet), checked with promtool before Prometheus starts.

Everything is stopped and the directory removed on exit, also when starting fails halfway.
"""
import contextlib
import dataclasses
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402

GOROUTINE_JOB = "goroutine-probe"
EXPORTER_JOB = "goroutine-exporter"
TARGET_JOB = "shop"
PROBE_MODULE = "probe"
WATCH_MODULE = "default"
E2E_JSONNET = os.path.join(h.SOURCE_DIR, "dashboards", "lib", "e2e.jsonnet")


class MissingTool(Exception):
    """A program the environment needs is not installed (tests skip on this)."""


@dataclasses.dataclass
class ShopSpec:
    name: str                 # becomes the `instance` label of the shop's series
    leak: str = ""            # shop -leak flag: "kind=rate[,kind=rate...]"
    qps: float = 20           # loadgen rate; 0 for no loadgen
    tenants: str = "t1,t2"
    burst_every: float = 0    # seconds between POST /admin/burst; 0 for none
    burst_n: int = 500
    burst_hold: str = "3s"
    args: tuple = ()          # extra shop flags


class Shop:
    def __init__(self, spec, process):
        self.spec = spec
        self.name = spec.name
        self.process = process
        self.api = process.api          # host:port of the API (and /metrics)
        self.pprof = process.pprof      # host:port of net/http/pprof
        self.url = process.url
        self.loadgen = None
        self.bursts = []                # wall-clock times of accepted bursts

    def admin(self, path, method="GET"):
        status, _, body = h.http_get(self.url + path, method=method,
                                     data=b"" if method == "POST" else None)
        return status, body


def check_tools():
    """Raises MissingTool naming what is missing."""
    missing = []
    if not os.access(h.EXPORTER, os.X_OK):
        missing.append(f"{h.EXPORTER} (build the project first)")
    if not os.access(h.PROMETHEUS, os.X_OK):
        missing.append(f"{h.PROMETHEUS} (Debian package prometheus)")
    for tool in (h.PROMTOOL, "jsonnet", "go"):
        if not h.have(tool):
            missing.append(tool)
    if missing:
        raise MissingTool("missing: " + ", ".join(missing))


class MixinRender:
    """jsonnet on the short-window mixin variant (dashboards/lib/e2e.jsonnet), started in the
    background: rules.yaml and alerts.yaml, and the dashboards as <name>.json, into out_dir."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        tla = ["--tla-str", f"goroutineJob={GOROUTINE_JOB}", "--tla-str",
               f"exporterJob={EXPORTER_JOB}", "--tla-str", f"targetJob={TARGET_JOB}"]
        self.procs = [subprocess.Popen(["jsonnet", *argv, "-m", out_dir, *tla, E2E_JSONNET],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                      for argv in (["-S", "--tla-str", "part=rules"],
                                   ["--tla-str", "part=dashboards"])]

    def wait(self, timeout=120):
        """Waits for both; raises if one failed. Returns out_dir."""
        errors = []
        for p in self.procs:
            _, err = p.communicate(timeout=timeout)
            if p.returncode != 0:
                errors.append(err.decode(errors="replace"))
        if errors:
            raise RuntimeError("jsonnet dashboards/lib/e2e.jsonnet failed:\n" + "\n".join(errors))
        return self.out_dir

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _yaml_list(items):
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def exporter_config(shops):
    module = """
    timeout: 5s
    label_keys: [route, tenant]
    debug2: {max_goroutines: 50000, min_interval: 5s}
    goroutineleak: {max_goroutines: 50000, min_interval: 5s}"""
    static = "".join(f"""
    - targets: [{json.dumps(s.pprof)}]
      labels: {{service: {json.dumps(s.name)}}}""" for s in shops)
    return f"""# Generated by tests/e2e/env.py
modules:
  {WATCH_MODULE}:  # watch mode: history, JSON API (/api/v1/diff), landing page{module}
  {PROBE_MODULE}:  # /probe, called by Prometheus{module}
probe:
  allowed_targets:
    hosts: [localhost]
    cidrs: [127.0.0.0/8]
watch:
  interval: 1s
  timeout: 1s
  concurrency: 2
  history: {{max_snapshots: 3600, max_age: 1h}}
  static_configs:{static}
"""


def prometheus_config(shops, exporter_address, rule_files, extra_probe_targets=()):
    """extra_probe_targets: (name, address) pairs probed like the shops (e.g. a dead port)."""
    def group(address, name):
        return f"""
      - targets: [{json.dumps(address)}]
        labels: {{__tmp_name: {json.dumps(name)}}}"""

    shop_groups = "".join(group(s.api, s.name) for s in shops)
    probe_groups = "".join(group(s.pprof, s.name) for s in shops)
    probe_groups += "".join(group(addr, name) for name, addr in extra_probe_targets)
    return f"""# Generated by tests/e2e/env.py
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: {_yaml_list(rule_files)}
scrape_configs:
  # The services themselves: traffic, latency, process_*. instance = the service's name.
  - job_name: {TARGET_JOB}
    static_configs:{shop_groups}
    relabel_configs:
      - source_labels: [__tmp_name]
        target_label: instance
  # Probe pattern: the exporter fetches the target's goroutine profile per scrape.
  - job_name: {GOROUTINE_JOB}
    metrics_path: /probe
    params:
      module: [{PROBE_MODULE}]
    static_configs:{probe_groups}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__tmp_name]
        target_label: instance
      - target_label: __address__
        replacement: {exporter_address}
  # The exporter's own metrics (and, with a `target` label, its watch-mode series).
  - job_name: {EXPORTER_JOB}
    static_configs:
      - targets: [{json.dumps(exporter_address)}]
"""


class PromError(Exception):
    pass


class Environment:
    def __init__(self, shops, extra_probe_targets=(), workdir_prefix="gx-e2e-", log=None,
                 keep_workdir=False):
        self.specs = list(shops)
        self.extra_probe_targets = list(extra_probe_targets)
        self.workdir_prefix = workdir_prefix
        self.log = log or (lambda msg: None)
        self.keep_workdir = keep_workdir
        self.shops = {}
        self.exporter = None
        self.prometheus = None
        self.dashboards = {}
        self.started_at = None
        self._stack = None
        self._stop = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc):
        self._stack.close()
        return False

    def close(self):
        if self._stack is not None:
            self._stack.close()

    def _stop_process(self, p):
        self._stack.callback(p.stop)

    def _start(self):
        check_tools()
        self.workdir = tempfile.mkdtemp(prefix=self.workdir_prefix)
        if not self.keep_workdir:
            self._stack.callback(shutil.rmtree, self.workdir, True)
        self.log_dir = os.path.join(self.workdir, "logs")
        os.makedirs(self.log_dir)

        mixin = MixinRender(os.path.join(self.workdir, "mixin"))  # in parallel with the build
        self._stack.callback(mixin.kill)
        self.log("building examples/shop (GOEXPERIMENT=goroutineleakprofile)")
        self.bin_dir = h.build_shop()

        for spec in self.specs:
            args = list(spec.args) + (["-leak", spec.leak] if spec.leak else [])
            p = h.start_shop(self.bin_dir, name="shop-" + spec.name, args=args, log_dir=self.log_dir)
            self._stop_process(p)
            shop = Shop(spec, p)
            self.shops[spec.name] = shop
            self.log(f"{'shop' if spec.name == 'shop' else 'shop ' + spec.name}: api http://{shop.api}, pprof http://{shop.pprof}"
                     + (f", leak {spec.leak}" if spec.leak else ""))
            if not h.http_ok(f"http://{shop.pprof}/debug/pprof/goroutineleak?debug=1"):
                raise RuntimeError("shop has no goroutineleak profile: build it with Go >= 1.27 or "
                                   "Go 1.26 and GOEXPERIMENT=goroutineleakprofile")
        for shop in self.shops.values():
            if shop.spec.qps > 0:
                shop.loadgen = h.start_loadgen(self.bin_dir, shop.url, shop.spec.qps,
                                               name="loadgen-" + shop.name,
                                               args=["-tenants", shop.spec.tenants],
                                               log_dir=self.log_dir)
                self._stop_process(shop.loadgen)

        self.exporter_config_path = os.path.join(self.workdir, "exporter.yml")
        with open(self.exporter_config_path, "w") as f:
            f.write(exporter_config(self.shops.values()))
        check = subprocess.run([h.EXPORTER, "--config.check", "--config.file",
                                self.exporter_config_path], capture_output=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError("exporter --config.check failed:\n" + check.stdout.decode()
                               + check.stderr.decode())
        self.exporter = h.start_exporter(["--config.file", self.exporter_config_path],
                                         log_dir=self.log_dir)
        self._stop_process(self.exporter)
        h.wait_until(lambda: h.http_ok(self.exporter.url + "/-/ready"), 30, what="exporter /-/ready")
        self.log(f"exporter: {self.exporter.url}")

        self.rules_dir = mixin.wait()
        rule_files = [os.path.join(self.rules_dir, n) for n in ("rules.yaml", "alerts.yaml")]
        for path in glob.glob(os.path.join(self.rules_dir, "*.json")):
            with open(path) as f:
                self.dashboards[os.path.basename(path)] = json.load(f)
        ok, out = h.promtool("check", "rules", *rule_files)
        if not ok:
            raise RuntimeError("promtool check rules failed:\n" + out)

        self.prometheus_config_path = os.path.join(self.workdir, "prometheus.yml")
        with open(self.prometheus_config_path, "w") as f:
            f.write(prometheus_config(self.shops.values(), self.exporter.address, rule_files,
                                      self.extra_probe_targets))
        ok, out = h.promtool("check", "config", self.prometheus_config_path)
        if not ok:
            raise RuntimeError("promtool check config failed:\n" + out)
        self.prometheus = h.start_prometheus(self.prometheus_config_path,
                                             os.path.join(self.workdir, "tsdb"), log_dir=self.log_dir)
        self._stop_process(self.prometheus)
        self.started_at = time.time()
        self.log(f"prometheus: {self.prometheus.url}")

        for shop in self.shops.values():
            if shop.spec.burst_every > 0:
                t = threading.Thread(target=self._burst_loop, args=(shop,), daemon=True,
                                     name="burst-" + shop.name)
                t.start()
                self._stack.callback(t.join, 10)
        self._stack.callback(self._stop.set)  # runs before the joins above (LIFO)

    def _burst_loop(self, shop):
        q = urllib.parse.urlencode({"n": shop.spec.burst_n, "hold": shop.spec.burst_hold})
        while not self._stop.wait(shop.spec.burst_every):
            try:
                status, _ = shop.admin("/admin/burst?" + q, method="POST")
                if status == 202:
                    shop.bursts.append(time.time())
            except OSError:
                pass

    # --- Prometheus HTTP API ----------------------------------------------------------------

    def _api(self, path, params):
        url = f"{self.prometheus.url}/api/v1/{path}?" + urllib.parse.urlencode(params)
        status, _, body = h.http_get(url, timeout=30)
        data = json.loads(body)
        if data.get("status") != "success":
            raise PromError(f"{path} {params}: HTTP {status}: {data.get('errorType')}: "
                            f"{data.get('error')}")
        return data["data"]

    def query(self, expr, at=None):
        """Instant query; returns the result list (vector/matrix) or [scalar] / [string]."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._api("query", params)
        if data["resultType"] in ("scalar", "string"):
            return [data["result"]]
        return data["result"]

    def query_range(self, expr, start, end, step=1):
        return self._api("query_range", {"query": expr, "start": f"{start:.3f}",
                                         "end": f"{end:.3f}", "step": step})["result"]

    def value(self, expr, default=None):
        """The single value of an instant query that returns one series, else default."""
        r = self.query(expr)
        if len(r) != 1:
            return default
        return float(r[0]["value"][1])

    def alerts(self):
        return self._api("alerts", {})["alerts"]

    def targets(self):
        return self._api("targets", {"state": "active"})["activeTargets"]

    def wait_targets_up(self, timeout=30, jobs=None):
        """Waits until every active target of the given jobs (default: all) is up."""
        def all_up():
            ts = [t for t in self.targets() if jobs is None or t["labels"]["job"] in jobs]
            return ts and all(t["health"] == "up" for t in ts)
        h.wait_until(all_up, timeout, interval=0.5, what="prometheus targets up")

    # --- for people ---------------------------------------------------------------------------

    def graph_url(self, expr, range_input="10m"):
        return f"{self.prometheus.url}/graph?" + urllib.parse.urlencode(
            {"g0.expr": expr, "g0.tab": "0", "g0.range_input": range_input})

    def diff_url(self, shop_name, since=None):
        params = {"target": self.shops[shop_name].pprof}
        if since:
            params["from"] = since
        return f"{self.exporter.url}/api/v1/diff?" + urllib.parse.urlencode(params)

    def logs(self, tail=2000):
        """The tail of every process log, for failure messages."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.log_dir, "*.log"))):
            with open(path, "rb") as f:
                text = f.read().decode(errors="replace")
            out.append(f"--- {os.path.basename(path)} (last {tail} chars)\n{text[-tail:]}")
        return "\n".join(out)
