#!/usr/bin/env python3
"""The demo behind scripts/demo.sh (run that; it builds first): one leaking `shop` under steady
load, goroutine_exporter (watch mode for the JSON API, probe mode for Prometheus) and a real
Prometheus with the mixin's rules (short-window variant), all on loopback, started through
tests/e2e/env.py. Prints what to open, then after --answer-after seconds the triage answer from
the exporter's diff, then the leak alert's state as it changes, until Ctrl-C or --duration.
"""
import argparse
import json
import os
import shlex
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import env as e2e  # noqa: E402
from env import GOROUTINE_JOB, h  # noqa: E402

SHOP = "shop"
BENIGN = ("idle_server", "runtime", "ignored")


def say(msg=""):
    print(msg, flush=True)


def note(msg):
    print(f"demo: {msg}", file=sys.stderr, flush=True)


def parse_args():
    ap = argparse.ArgumentParser(prog="scripts/demo.sh", description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=0,
                    help="stop after this many seconds (default 0: run until Ctrl-C)")
    ap.add_argument("--answer-after", type=float, default=60,
                    help="seconds of leaking before the triage answer is printed (default 60)")
    ap.add_argument("--leak", default="chan_send=5",
                    help="leaks of the shop, kind=rate[,kind=rate] (default chan_send=5)")
    ap.add_argument("--qps", type=float, default=20, help="steady request rate of loadgen (default 20)")
    return ap.parse_args()


def get_json(url):
    status, _, body = h.http_get(url, timeout=10)
    data = json.loads(body)
    if status != 200 or data.get("status") != "success":
        raise RuntimeError(f"{url}: HTTP {status}: {data.get('error', body[:200])}")
    return data["data"]


def print_links(env, before_capture):
    shop = env.shops[SHOP]
    category_expr = f'sum by (category) (goroutine_category_goroutines{{job="{GOROUTINE_JOB}", instance="{SHOP}"}})'
    triage = " ".join(shlex.quote(a) for a in (
        h.TRIAGE, "diff", before_capture, f"http://{shop.pprof}/debug/pprof/goroutine?debug=0"))
    say()
    say("=" * 78)
    say(f"Running: shop (leak {shop.spec.leak or 'none'}) under loadgen at {shop.spec.qps:g} qps, "
        "goroutine_exporter, Prometheus.")
    say("Open while it runs:")
    say(f"  exporter landing page   {env.exporter.url}/")
    say(f"  goroutines by category  {env.graph_url(category_expr, '5m')}")
    say(f"  triage report           {env.exporter.url}/report?" + urllib.parse.urlencode({"target": shop.pprof}))
    say(f"  JSON diff (what grew)   {env.diff_url(SHOP)}")
    say(f"  Prometheus alerts       {env.prometheus.url}/alerts")
    say("  triage CLI, the start of the demo against now:")
    say(f"    {triage}")
    say(f"  (service API http://{shop.api}, its pprof http://{shop.pprof}/debug/pprof/; "
        f"state in {env.workdir}, removed on exit)")
    say("=" * 78)
    say()


def triage_answer(env, waited):
    """The top growing non-benign stack from the exporter's diff, as a few lines of text."""
    diff = get_json(env.diff_url(SHOP))
    rows = [r for r in diff["stacks"] if r["delta"] > 0 and r["category"] not in BENIGN]
    lines = [f"==== Triage answer after {waited:.0f} s: what is growing in {SHOP} ====",
             f"source: {env.diff_url(SHOP)}",
             f"goroutines: {diff['total_before']} -> {diff['total_after']} "
             f"({diff['total_after'] - diff['total_before']:+d}) in {diff['interval_seconds']:.0f} s"]
    if not rows:
        lines.append("no non-benign stack grew: no leak visible yet")
        return lines, None
    top = rows[0]
    if not top.get("created_by"):
        # debug=0 profiles (the diff's history) have no creator; the latest debug=2 capture
        # joined in by /api/v1/stacks has it.
        try:
            stacks = get_json(env.exporter.url + "/api/v1/stacks?" + urllib.parse.urlencode(
                {"target": env.shops[SHOP].pprof}))["stacks"]
            top["created_by"] = next((st.get("created_by") for st in stacks
                                      if st["stack_id"] == top["stack_id"]), "")
        except (RuntimeError, OSError, KeyError, ValueError):
            pass
    labels = ", ".join(" ".join(f"{k}={v}" for k, v in sorted(l["labels"].items()))
                       for l in top.get("labels", [])[:3])
    lines += [
        f"top growing stack: {top['stack_id']}  ({top['delta']:+d} goroutines: "
        f"{top['before']} -> {top['after']})",
        f"  category:    {top['category']}",
        f"  function:    {top['function']}" + (f"  ({top['location']})" if top.get("location") else ""),
        f"  created_by:  {top['created_by'] or '(unknown)'}",
    ]
    if labels:
        lines.append(f"  labels:      {labels}")
    lines.append(f"  first fix:   {top['hint']}")
    for other in rows[1:3]:
        lines.append(f"next: {other['function']} ({other['category']}) {other['delta']:+d}")
    return lines, top


def prometheus_agrees(env):
    expr = (f'topk(1, sum by (stack_id, category, function) (deriv(goroutine_stack_goroutines'
            f'{{job="{GOROUTINE_JOB}", instance="{SHOP}", stack_id!="other", '
            f'category!~"{"|".join(BENIGN)}"}}[1m])))')
    try:
        r = env.query(expr)
    except Exception as e:  # noqa: BLE001 - informative only
        return f"Prometheus: query failed: {e}"
    if not r:
        return "Prometheus: no growing stack yet"
    m = r[0]["metric"]
    return (f"Prometheus agrees: fastest-growing stack {m.get('stack_id')} {m.get('function')} "
            f"({m.get('category')}) at {float(r[0]['value'][1]) * 3600:+.0f}/h")


def leak_alert_state(env):
    for a in env.alerts():
        if a["labels"].get("alertname") == "GoroutineLeakSuspected" and a["labels"].get("instance") == SHOP:
            return a["state"], a["annotations"].get("description", "")
    return None, ""


def goroutines_now(env):
    for t in get_json(env.exporter.url + "/api/v1/targets"):
        if t["target"] == env.shops[SHOP].pprof and t.get("module") == "default":
            return t.get("goroutines")
    return None


def run(env, args):
    started = time.time()
    shop = env.shops[SHOP]
    before_capture = os.path.join(env.workdir, "before.pb.gz")
    status, _, body = h.http_get(f"http://{shop.pprof}/debug/pprof/goroutine?debug=0")
    if status == 200:
        with open(before_capture, "wb") as f:
            f.write(body)
    print_links(env, before_capture)

    answer_at = started + args.answer_after
    end = started + args.duration if args.duration > 0 else None
    if end is not None:
        answer_at = min(answer_at, end)
    answered, alert_state, next_progress = False, None, started + 15
    while True:
        now = time.time()
        if not answered and now >= answer_at:
            lines, _ = triage_answer(env, now - started)
            say()
            for line in lines:
                say(line)
            say(prometheus_agrees(env))
            say("Next: the triage report lists every growing stack (&frames=1 for all frames):")
            say(f"  {env.exporter.url}/report?" + urllib.parse.urlencode({"target": shop.pprof}))
            say("  docs/runbook.md, step 3, maps each category to its first fix; the dashboards")
            say("  (dashboards/out/dashboards/*.json) import into a Grafana that reads this Prometheus")
            say(f"  ({env.prometheus.url}); the demo starts no Grafana.")
            short = end is not None and end - started < 300
            say("(the leak alert GoroutineLeakSuspected, short-window rules, can become pending "
                "about 4 minutes after start" + ("; --duration 300 shows it)" if short else ")"))
            say("Still running; Ctrl-C stops everything." if end is None else
                f"Stopping in {max(0, end - now):.0f} s (--duration).")
            say()
            answered = True
        elif not answered and now >= next_progress:
            n = goroutines_now(env)
            say(f"[{now - started:3.0f}s] {SHOP}: {n} goroutines; triage answer at "
                f"{answer_at - started:.0f}s")
            next_progress += 15
        if answered:
            try:
                state, desc = leak_alert_state(env)
            except Exception:  # noqa: BLE001 - Prometheus busy; try again
                state, desc = alert_state, ""
            if state != alert_state and state:
                say(f"[{now - started:3.0f}s] alert GoroutineLeakSuspected for {SHOP} is {state}:")
                for line in desc.splitlines():
                    say(f"    {line}")
            alert_state = state or alert_state
        if end is not None and now >= end:
            return
        time.sleep(1 if not answered else 5 if end is None else min(5, max(0.2, end - now)))


def main():
    args = parse_args()

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Explicitly, also for SIGINT: a shell that starts the demo in the background leaves SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler of its own.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    shop = e2e.ShopSpec(SHOP, leak=args.leak, qps=args.qps)
    environment = e2e.Environment([shop], workdir_prefix="gx-demo-", log=note)
    code = 0
    try:
        environment.__enter__()
        run(environment, args)
    except KeyboardInterrupt:
        note("interrupted")
    except e2e.MissingTool as e:
        note(f"{e}; run scripts/demo.sh without --no-setup")
        code = 1
    except Exception as e:  # noqa: BLE001 - report, then clean up
        note(f"failed: {e}")
        if os.path.isdir(getattr(environment, "log_dir", "") or ""):
            print(environment.logs(), file=sys.stderr)
        code = 1
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        environment.close()
        note("stopped: every process ended, temporary directory removed")
    return code


if __name__ == "__main__":
    sys.exit(main())
