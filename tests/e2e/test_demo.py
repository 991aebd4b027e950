"""scripts/demo.sh end to end, twice in a row: it prints the links and, after about a minute,
the triage answer naming the leak's category; on exit no process it started is left, its ports
are closed and its temporary directory is gone."""
import os
import re
import socket
import subprocess
import sys
import time
import unittest
import uuid

import env as e2e
from env import h

DEMO = os.path.join(h.SOURCE_DIR, "scripts", "demo.sh")


def processes_with_marker(marker):
    """PIDs of processes whose environment contains marker (children inherit it)."""
    pids = []
    needle = marker.encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


def describe(pids):
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            out.append(f"{pid}: {cmdline}")
        except OSError:
            pass
    return "\n".join(out)


def port_open(address):
    host, port = address.rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


class DemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            e2e.check_tools()
        except e2e.MissingTool as e:
            raise unittest.SkipTest(str(e))

    def run_demo(self, *args, timeout):
        marker = "GX_DEMO_RUN=" + uuid.uuid4().hex
        key, value = marker.split("=")
        env = dict(os.environ, **{key: value})
        start = time.time()
        p = subprocess.Popen([DEMO, "--no-setup", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 15)
            out, _ = p.communicate(timeout=30)
            self.fail("demo did not stop by itself:\n" + out.decode(errors="replace"))
        text = out.decode(errors="replace")
        sys.stdout.write(f"\n--- demo {' '.join(args)} ({time.time() - start:.0f}s)\n{text}")
        self.assertEqual(p.returncode, 0, text)
        time.sleep(0.5)
        left = processes_with_marker(marker)
        self.assertEqual(left, [], "processes left behind:\n" + describe(left))
        for address in re.findall(r"http://(127\.0\.0\.1:\d+)", text):
            self.assertFalse(port_open(address), f"{address} still accepts connections\n{text}")
        m = re.search(r"state in (\S+), removed on exit", text)
        self.assertIsNotNone(m, text)
        self.assertFalse(os.path.exists(m.group(1)), f"{m.group(1)} left behind")
        return text

    def test_demo_finds_the_leak_and_cleans_up_twice(self):
        text = self.run_demo("--duration", "70", timeout=240)
        for what in (r"exporter landing page\s+http://127\.0\.0\.1:\d+/",
                     r"goroutines by category\s+http://127\.0\.0\.1:\d+/graph\?g0\.expr=.*goroutine_category_goroutines",
                     r"JSON diff \(what grew\)\s+http://127\.0\.0\.1:\d+/api/v1/diff\?target=127\.0\.0\.1%3A\d+",
                     r"goroutine_triage diff \S+before\.pb\.gz 'http://127\.0\.0\.1:\d+/debug/pprof/goroutine"):
            self.assertRegex(text, what)
        answer = text[text.index("==== Triage answer"):]
        self.assertRegex(answer, r"category:\s+chan_send\n")
        self.assertRegex(answer, r"function:\s+main\.\(\*orderEvents\)\.publish")
        self.assertRegex(answer, r"created_by:\s+main\.leakChanSend")
        self.assertRegex(answer, r"first fix:\s+\S+")
        # Again at once: fresh ports and directory, nothing left from the first run in the way.
        text = self.run_demo("--duration", "12", "--answer-after", "10", timeout=120)
        self.assertRegex(text[text.index("==== Triage answer"):], r"category:\s+chan_send\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
