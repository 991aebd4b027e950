"""The goroutine_triage CLI as users run it: files, stdin, URLs, diff, watch, exit codes."""
import json
import os
import subprocess
import unittest

import harness as h

FIXTURES = os.path.join(h.SOURCE_DIR, "tests", "fixtures", "captures", "go1.26")


def triage(*args, stdin=None):
    return subprocess.run([h.TRIAGE, *args], input=stdin, capture_output=True, timeout=120)


class TriageCliTest(unittest.TestCase):
    def test_analyze_file_and_stdin_agree(self):
        path = os.path.join(FIXTURES, "t2.goroutine.debug2.txt")
        by_file = triage("analyze", path, "-o", "json")
        self.assertEqual(by_file.returncode, 0, by_file.stderr)
        with open(path, "rb") as f:
            by_stdin = triage("analyze", "-", "-o", "json", stdin=f.read())
        self.assertEqual(by_stdin.returncode, 0, by_stdin.stderr)
        a, b = json.loads(by_file.stdout), json.loads(by_stdin.stdout)
        self.assertEqual(a["total"], 159)
        self.assertEqual(a["categories"], b["categories"])
        text = triage("analyze", path).stdout.decode()
        self.assertIn("chan_send", text)
        self.assertIn("fix: ", text)

    def test_diff_across_formats(self):
        out = triage("diff", os.path.join(FIXTURES, "t1.goroutine.debug0.pb.gz"),
                     os.path.join(FIXTURES, "t2.goroutine.debug2.txt"), "-o", "json", "--top", "0")
        self.assertEqual(out.returncode, 0, out.stderr)
        diff = json.loads(out.stdout)
        self.assertEqual(diff["total_before"], 66)
        self.assertEqual(diff["total_after"], 159)
        grew = [s for s in diff["stacks"] if s["delta"] == 3 and not s["benign"]]
        self.assertGreaterEqual(len(grew), 25)

    def test_live_url_and_watch(self):
        leaky = h.start_leaky(rounds=1)
        try:
            out = triage("analyze", leaky.url, "-o", "json")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["format"], "debug=0")
            proc = subprocess.Popen([h.TRIAGE, "watch", leaky.url, "--interval", "2s", "-o", "json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            import time
            time.sleep(0.8)
            h.http_get(leaky.url + "/leak-extra?n=7")
            stdout, stderr = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, stderr)
            top = json.loads(stdout)["stacks"][0]
            self.assertEqual((top["function"], top["delta"], top["category"]),
                             ("main.leakExtraSend.func1", 7, "chan_send"))
        finally:
            leaky.stop()

    def test_exit_codes_and_messages(self):
        missing = triage("analyze", "/nonexistent/capture.pb.gz")
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"cannot open", missing.stderr)
        garbage = triage("analyze", "-", stdin=b"<html>not a profile</html>\n")
        self.assertEqual(garbage.returncode, 1)
        self.assertIn(b"not a goroutine profile", garbage.stderr)
        self.assertEqual(triage("analyze").returncode, 2)
        self.assertEqual(triage("analyze", "x", "--output", "yaml").returncode, 2)
        self.assertEqual(triage("bogus-command").returncode, 2)
        refused = triage("analyze", f"http://127.0.0.1:{h.free_port()}", "--timeout", "2s")
        self.assertEqual(refused.returncode, 1)
        self.assertIn(b"cannot connect", refused.stderr)
        self.assertEqual(triage("--help").returncode, 0)


if __name__ == "__main__":
    unittest.main()
