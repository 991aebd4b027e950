"""Integration tests of the exporter's web config (TLS and basic auth), file_sd watch targets
that change on disk, and JSON logs; the real binary on loopback."""
import base64
import json
import os
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness as h

# bcrypt of "hunter2" at cost 4 (made with crypt(3); the exporter verifies it with crypt_r).
HASH = "$2b$04$E4YQgktJRWpDc3Mp8VHanuaRVWSqFPQgW/8VF4L3T95PS4SB/Ligu"


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
        cert, key = os.path.join(self.tmp, "c.pem"), os.path.join(self.tmp, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
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

    def test_bad_web_config_is_refused_at_start(self):
        web = self.write("web.yml", "basic_auth_users:\n  alice: not-a-bcrypt-hash\n")
        with self.assertRaises(RuntimeError):
            h.start_exporter(["--web.config.file", web])
        p = subprocess.run([h.EXPORTER, "--config.check", "--web.config.file", web], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 1)


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
