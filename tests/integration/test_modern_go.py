"""Goroutines of newer Go code, from a real Go program (tests/fixtures/modern): generic
functions, whose debug=0 names spell out the instantiation ("Pool[go.shape.int]") where the text
formats print "[...]"; iter.Pull sequences never stopped (coroutines); os/exec children that do
not exit. Each must keep one stack id across debug=0, 1 and 2 and get its category, in the CLI
and in the exporter's /probe metrics."""
import json
import os
import subprocess
import unittest

import harness as h

# identifying function -> (goroutines, category); debug=1 cannot tell HIDDEN_IN_DEBUG1 apart
EXPECTED = {
    "main.(*Pool[...]).worker": (4, "chan_receive"),
    "main.counter.func1": (3, "coroutine"),
    "main.pullWhileBlocked": (2, "coroutine"),
    "main.blockingSeq.func1": (2, "chan_receive"),
    "os/exec.(*Cmd).writerDescriptor.func1": (2, "subprocess"),
    "main.waitForChild": (2, "subprocess"),
}
HIDDEN_IN_DEBUG1 = {"chan_receive"}  # the runtime frames that show it are not in debug=1


def start_modern():
    binary = h.go_build(os.path.join(h.SOURCE_DIR, "tests", "fixtures", "modern"), "modern")
    p = h.Process("modern", [binary, "-listen", "127.0.0.1:0"], r"listening on (127\.0\.0\.1:\d+)")
    p.url = "http://" + p.match.group(1)
    return p


def stacks_by_function(url, debug):
    out = subprocess.run([h.TRIAGE, "analyze", url, "--debug", str(debug), "--top", "0", "--frames",
                          "-o", "json"], capture_output=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(out.stderr.decode())
    found = {}
    for stack in json.loads(out.stdout)["stacks"]:
        names = [f["function"] for f in stack["frames"]]
        for name in EXPECTED:
            if name in names:
                found.setdefault(name, []).append(stack)
    return found


class ModernGoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.target = start_modern()

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()  # its process group: the children go with it

    def test_one_id_and_category_per_stack_in_every_format(self):
        ids = {}
        for debug in (0, 1, 2):
            found = stacks_by_function(self.target.url, debug)
            for name, (count, category) in EXPECTED.items():
                with self.subTest(debug=debug, function=name):
                    self.assertEqual(len(found.get(name, [])), 1, found.get(name))
                    stack = found[name][0]
                    self.assertEqual(stack["count"], count)
                    if not (debug == 1 and category in HIDDEN_IN_DEBUG1):
                        self.assertEqual(stack["category"], category)
                    # No shape names leak into what users see or match rules against.
                    for frame in stack["frames"]:
                        self.assertNotIn("go.shape", frame["function"])
                    ids.setdefault(name, set()).add(stack["stack_id"])
        for name, seen in ids.items():
            self.assertEqual(len(seen), 1, f"{name}: ids {seen} differ between formats")

    def test_probe_metrics_count_the_new_categories(self):
        exporter = h.start_exporter()
        try:
            status, _, body = h.http_get(
                f"{exporter.url}/probe?target={self.target.url.removeprefix('http://')}")
            self.assertEqual(status, 200, body[:500])
            by_category = {labels["category"]: value
                           for name, labels, value in h.parse_metrics(body.decode())
                           if name == "goroutine_category_goroutines"}
            self.assertEqual(by_category.get("coroutine"), 5)
            self.assertEqual(by_category.get("subprocess"), 4)
            hints = [labels["hint"] for name, labels, _ in h.parse_metrics(body.decode())
                     if name == "goroutine_category_info" and labels["category"] == "coroutine"]
            self.assertEqual(len(hints), 1)
            self.assertIn("stop", hints[0])
        finally:
            exporter.stop()


if __name__ == "__main__":
    unittest.main()
