"""The goroutine_triage CLI as users run it: files, stdin, URLs, diff, watch, exit codes."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness as h

FIXTURES = os.path.join(h.SOURCE_DIR, "tests", "fixtures", "captures", "go1.26")


def fixture(name):
    """The bytes of a committed capture of the go1.26 fixture program."""
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


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
            # The profile's own URL, as `go tool pprof` takes it, honours --debug too; a URL
            # with its own query is fetched as written, and says so.
            out = triage("analyze", leaky.url + "/debug/pprof/goroutine", "--debug", "2", "-o", "json")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["format"], "debug=2")
            out = triage("analyze", leaky.url + "/debug/pprof/goroutine?debug=1", "--debug", "2",
                         "-o", "json")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["format"], "debug=1")
            self.assertIn(b"--debug 2 does not apply to", out.stderr)
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
            # --debug 2: the same target as text, so the diff rows name their creators.
            proc = subprocess.Popen([h.TRIAGE, "watch", leaky.url, "--interval", "2s", "-o", "json",
                                     "--debug", "2"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(0.8)
            h.http_get(leaky.url + "/leak-extra?n=5")
            stdout, stderr = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, stderr)
            diff = json.loads(stdout)
            top = diff["stacks"][0]
            self.assertEqual((top["function"], top["delta"], top["created_by"]),
                             ("main.leakExtraSend.func1", 5, "main.leakExtraSend"))
        finally:
            leaky.stop()

    def test_watch_saves_the_first_capture_when_the_second_fails(self):
        # A second fetch that fails must not cost the first capture (and another interval).
        body = fixture("t1.goroutine.debug0.pb.gz")
        served = []

        def once(path):
            served.append(path)
            return (200, body) if len(served) == 1 else (500, b"boom")

        save_dir = tempfile.mkdtemp(prefix="gx-watch-")
        with h.loopback_server(once) as url:
            out = triage("watch", url, "--interval", "1s", "--save-dir", save_dir)
        self.addCleanup(shutil.rmtree, save_dir, True)
        self.assertEqual(out.returncode, 1, out.stderr)
        saved = [os.path.join(save_dir, n) for n in os.listdir(save_dir)]
        self.assertEqual(len(saved), 1)
        self.assertTrue(saved[0].endswith(".pb.gz"), saved[0])
        with open(saved[0], "rb") as f:
            self.assertEqual(f.read(), body)
        err = out.stderr.decode()
        self.assertIn("second capture failed", err)
        self.assertIn(f"goroutine_triage diff {saved[0]} {url}", err)
        # The saved capture is a capture: analyze reads it.
        self.assertEqual(triage("analyze", saved[0]).returncode, 0)

    def test_debug2_is_refused_for_a_large_target_unless_forced(self):
        # A target with 20,000 goroutines: its "debug=0" answer is a debug=1 text body, which
        # the decoder reads as well; the debug=2 answer is a small committed dump.
        dump = fixture("t2.goroutine.debug2.txt")
        counts = "goroutine profile: total 20000\n20000 @ 0x1\n#\t0x1\tmain.serve+0x1\tm.go:1\n\n"
        asked = []

        def answer(path):
            asked.append(path)
            return 200, dump if path.endswith("debug=2") else counts.encode()

        with h.loopback_server(answer) as url:
            refused = triage("analyze", url, "--debug", "2")
            self.assertEqual(refused.returncode, 1, refused.stderr)
            self.assertIn(b"the target has 20000 goroutines", refused.stderr)
            self.assertIn(b"--force", refused.stderr)
            self.assertEqual(asked, ["/debug/pprof/goroutine?debug=0"])
            forced = triage("analyze", url, "--debug", "2", "--force", "-o", "json")
            self.assertEqual(forced.returncode, 0, forced.stderr)
            self.assertEqual(json.loads(forced.stdout)["total"], 159)
            self.assertEqual(asked[1:], ["/debug/pprof/goroutine?debug=2"])
            # watch takes two dumps: refused as well, with --debug 2 or with the dump's URL.
            for args in (["--debug", "2"], []):
                del asked[:]
                target = url if args else url + "/debug/pprof/goroutine?debug=2"
                watched = triage("watch", target, "--interval", "1s", *args)
                self.assertEqual(watched.returncode, 1, watched.stderr)
                self.assertIn(b"the target has 20000 goroutines", watched.stderr)
                self.assertEqual(asked, ["/debug/pprof/goroutine?debug=0"])

    def test_a_missing_goroutineleak_profile_says_what_it_needs(self):
        # Go <= 1.25 (or 1.26 without the experiment) answers 404 for the profile.
        with h.loopback_server(lambda path: (404, b"404 page not found\n")) as base:
            leak = triage("analyze", base + "/debug/pprof/goroutineleak?debug=1")
            self.assertEqual(leak.returncode, 1, leak.stderr)
            self.assertIn(b"HTTP 404", leak.stderr)
            self.assertIn(b"it needs Go 1.27, or Go 1.26 built with GOEXPERIMENT=goroutineleakprofile",
                          leak.stderr)
            # Any other 404 is only a 404.
            plain = triage("analyze", base)
            self.assertEqual(plain.returncode, 1, plain.stderr)
            self.assertIn(b"HTTP 404", plain.stderr)
            self.assertNotIn(b"goroutineleak", plain.stderr)

    def test_redirects_are_followed_a_few_hops_with_the_final_url_named(self):
        body = fixture("t2.goroutine.debug0.pb.gz")
        asked = []

        def answer(path):
            asked.append(path)
            if path == "/debug/pprof/goroutine?debug=0":  # as a proxy in front of pprof might
                return 301, b"", {"Location": "/internal/pprof/goroutine?debug=0"}
            if path == "/internal/pprof/goroutine?debug=0":
                return 200, body
            if path.startswith("/loop"):  # never ends
                return 302, b"", {"Location": "/loop" + str(len(asked))}
            return 404, b"404 page not found\n"

        with h.loopback_server(answer) as url:
            out = triage("analyze", url, "-o", "json")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["total"], 159)
            self.assertEqual(asked, ["/debug/pprof/goroutine?debug=0",
                                     "/internal/pprof/goroutine?debug=0"])
            del asked[:]
            looping = triage("analyze", url + "/loop")
            self.assertEqual(looping.returncode, 1, looping.stderr)
            self.assertEqual(len(asked), 11)  # the URL and ten redirects
            self.assertIn(b"stopped after 10 redirects, at " + url.encode() + b"/loop10",
                          looping.stderr)

    def test_exit_codes_and_messages(self):
        missing = triage("analyze", "/nonexistent/capture.pb.gz")
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"cannot open: No such file or directory", missing.stderr)
        host_port = triage("analyze", "127.0.0.1:6060")
        self.assertEqual(host_port.returncode, 1)
        self.assertIn(b"use http://127.0.0.1:6060", host_port.stderr)
        self.assertIn(b"is a directory", triage("analyze", FIXTURES).stderr)
        self.assertEqual(triage("analyze", "x", "--timeout", "0s").returncode, 2)
        self.assertEqual(triage("watch", "http://127.0.0.1:1", "--interval", "0s").returncode, 2)
        garbage = triage("analyze", "-", stdin=b"<html>not a profile</html>\n")
        self.assertEqual(garbage.returncode, 1)
        self.assertIn(b"not a goroutine profile", garbage.stderr)
        self.assertEqual(triage("analyze").returncode, 2)
        self.assertEqual(triage("analyze", "x", "--output", "yaml").returncode, 2)
        none = triage()
        self.assertEqual(none.returncode, 2)
        self.assertIn(b"a command is required", none.stderr)
        version = triage("--version")
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertTrue(version.stdout.startswith(b"goroutine_triage "), version.stdout)
        bogus = triage("bogus-command")
        self.assertEqual(bogus.returncode, 2)
        self.assertIn(b"unknown command 'bogus-command'", bogus.stderr)
        refused = triage("analyze", f"http://127.0.0.1:{h.free_port()}", "--timeout", "2s")
        self.assertEqual(refused.returncode, 1)
        self.assertIn(b"cannot connect", refused.stderr)
        self.assertEqual(triage("--help").returncode, 0)

    def test_json_output_survives_names_that_are_not_utf8(self):
        # Profiles carry whatever bytes the target's symbols hold; JSON must not abort on them.
        dump = (b"goroutine 1 [chan receive]:\nmain.bad\xff\xfe()\n\t/src/m.go:5 +0x1\n"
                b"created by main.start in goroutine 1\n\t/src/m.go:9 +0x1\n\n")
        out = triage("analyze", "-", "-o", "json", "--frames", stdin=dump)
        self.assertEqual(out.returncode, 0, out.stderr)
        stacks = json.loads(out.stdout)["stacks"]
        self.assertEqual(stacks[0]["function"], "main.bad\ufffd\ufffd")


if __name__ == "__main__":
    unittest.main()
