"""Benchmark of the Textual wizard: cold start, resident memory, keypress latency under a log flood.

Prints figures next to their goals; asserts nothing. Run: ``python bench/ui_bench.py [--runs N]``.

* Cold start: a fresh interpreter runs the App headless and exits as soon as the first screen
  has been mounted and drawn once; the time is measured from spawning the process (so it
  includes the interpreter and every import) to that moment. Median of N runs.
* Resident memory: VmRSS of that process at its first screen, and of the flood run below at its
  end (VmHWM: the peak).
* Keypress latency: the real runner drives a FAKE node session whose package-install command
  prints 100,000 lines; while they stream through the event bus, the audit log and the UI sink
  into the run screen, a key is pressed every 50 ms. Latency is from sending the key to its
  handler running (median, p95); the keys are down/up in the list of steps, whose status line
  follows the cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from textual import events

FIRST_SCREEN_CHILD = r"""
import time, json, sys
from hawizard.ui import start as start_module
from hawizard.ui.app import HawizardApp

original = start_module.StartScreen.on_mount

def on_mount(self):
    original(self)
    def report():
        status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
        print(json.dumps({"t": time.time(), "rss_kib": int(status["VmRSS"].split()[0])}), flush=True)
        self.app.exit()
    self.call_after_refresh(report)

start_module.StartScreen.on_mount = on_mount
if sys.argv[1:] == ["cli"]:  # the way `hawizard` starts it: the command line's parser first
    from hawizard.__main__ import main
    original_run = HawizardApp.run
    HawizardApp.run = lambda self, **kw: original_run(self, headless=True, size=(80, 24))
    main([])
else:
    HawizardApp().run(headless=True, size=(80, 24))
"""


def rss_kib() -> tuple[int, int]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def cold_start(runs: int, via_cli: bool = False) -> None:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        env.update(XDG_STATE_HOME=tmp, HAWIZARD_LAB_DIR=tmp)
        times, rss, totals = [], [], []
        for _ in range(runs + 1):  # the first run warms the OS file cache; it is not counted
            t0 = time.time()
            argv = [sys.executable, "-c", FIRST_SCREEN_CHILD] + (["cli"] if via_cli else [])
            p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp, timeout=60)
            total = time.time() - t0
            line = next((ln for ln in p.stdout.splitlines() if ln.startswith("{")), None)
            if p.returncode != 0 or line is None:
                print(f"  cold start run failed (exit {p.returncode}): {p.stderr[-500:]}")
                return
            data = json.loads(line)
            times.append(data["t"] - t0)
            rss.append(data["rss_kib"] / 1024)
            totals.append(total)
        times, rss, totals = times[1:], rss[1:], totals[1:]
    how = "through hawizard.cli.main.main (as `hawizard` does)" if via_cli else "the App alone"
    print(f"cold start to first screen, {how}: median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}, {runs} runs)   goal < 0.6 s")
    print(f"  whole process incl. exit: median {statistics.median(totals):.3f} s; "
          f"resident memory at first screen: median {statistics.median(rss):.1f} MiB   goal < 90 MB")


# -- the flood --------------------------------------------------------------------------------

def flood_session_class():
    from hawizard.sessions.base import CommandResult, NodeSession, WriteResult

    class FakeFloodSession(NodeSession):
        """FAKE node: the install command prints ``lines`` lines of package-manager chatter."""

        kind = "fake-flood"

        def __init__(self, name: str, lines: int, started: threading.Event, probes: set[str],
                     go: threading.Event) -> None:
            self.name, self.lines, self.started, self.probes, self.go = name, lines, started, probes, go
            self.finished_at = 0.0

        def run(self, command, *, timeout=None, on_output=None, stdin=None, sudo=False):
            if command in self.probes:
                return CommandResult(command, 1, "", "", 0.0)
            if "install" in command and self.lines and on_output is not None:
                self.go.wait(30)  # until the run screen is up: the figure is the steady state
                self.started.set()
                n, self.lines = self.lines, 0
                for i in range(n):
                    on_output("stdout", f"Setting up libexample{i % 500}-dev:amd64 (1.{i % 97}.{i % 13}-1) ... [{i}]")
                self.finished_at = time.perf_counter()
            return CommandResult(command, 0, "", "", 0.0)

        def write_file(self, path, data, *, mode, owner="root", group="root", backup=True):
            return WriteResult(path, True, hashlib.sha256(data).hexdigest(), None)

        def read_file(self, path):
            return None

        def close(self):
            pass

        def cancel(self):
            pass

    return FakeFloodSession


async def flood(lines: int, interval: float) -> None:
    from hawizard.design.preset_file import load_preset
    from hawizard.plan.build import build_plan
    from hawizard.ui.app import HawizardApp
    from hawizard.ui.run import RunScreen
    from hawizard.ui.runctl import RunController

    design = load_preset("article")
    plan = build_plan(design)
    session_cls = flood_session_class()
    started, go = threading.Event(), threading.Event()
    sessions: dict[str, object] = {}

    def factory(node: str):
        probes = {s.probe[node] for s in plan.steps if node in s.probe}
        sessions[node] = session_cls(node, lines if node == design.primary.name else 0, started, probes, go)
        return sessions[node]

    from textual.widgets import DataTable

    handled: list[float] = []
    originals = DataTable.action_cursor_down, DataTable.action_cursor_up

    def timed(original):
        def action(self):
            handled.append(time.perf_counter())
            original(self)
        return action
    DataTable.action_cursor_down, DataTable.action_cursor_up = (timed(a) for a in originals)

    app = HawizardApp(session_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        app.design = design
        controller = RunController(app, design, plan, mode="apply", preset_ref="article", session_factory=factory,
                                   only={"install"})
        app.controller = controller
        controller.start()
        await app.push_screen(RunScreen(controller))
        await pilot.pause(0.5)
        go.set()
        t_start = time.perf_counter()
        while not started.is_set():
            await asyncio.sleep(0.005)
            if not controller.live and controller.state != "idle":
                print(f"  the flood run stopped before streaming: {controller.state}: {controller.message}")
                return
        sent: list[float] = []
        primary = sessions[design.primary.name]
        while not primary.finished_at:
            # the key goes in as a terminal's would: through the driver, without waiting for the app;
            # down and up in the list of steps, whose status line follows the cursor
            name = "down" if len(sent) % 2 == 0 else "up"
            key = events.Key(name, None)
            key.set_sender(app)
            sent.append(time.perf_counter())
            app._driver.send_message(key)
            await asyncio.sleep(interval)
        streamed_s = primary.finished_at - t_start
        await pilot.pause(0.5)
        latencies = [(h - s) * 1000 for s, h in zip(sent, handled, strict=False)]
        if os.environ.get("UI_BENCH_SERIES"):
            print("  series (ms):", " ".join(f"{x:.0f}" for x in latencies))
        sent_after = time.perf_counter()
        await pilot.press("down")  # one more once the stream has ended: the idle figure
        idle_ms = (handled[-1] - sent_after) * 1000
        while controller.live:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        shown = app.screen.query_one("#out-0").line_count
        rss, hwm = rss_kib()
    DataTable.action_cursor_down, DataTable.action_cursor_up = originals
    print(f"keypress latency while {lines:,} lines stream ({streamed_s:.1f} s, "
          f"{lines / streamed_s:,.0f} lines/s, a key every {interval * 1000:.0f} ms):")
    if latencies:
        print(f"  key -> handler: median {statistics.median(latencies):.1f} ms, "
              f"p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms   goal < 50 ms "
              f"({len(handled) - 1} of {len(sent)} keys handled; idle: {idle_ms:.1f} ms)")
    print(f"  lines kept on screen for the node: {shown:,} (the audit log has all of them); "
          f"run state {controller.state}")
    print(f"resident memory after the flood: {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB)   goal < 90 MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold-start runs (median reported)")
    parser.add_argument("--lines", type=int, default=100_000, help="lines of node output in the flood")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between key presses")
    args = parser.parse_args()
    print(f"hawizard UI benchmark (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    cold_start(args.runs)
    cold_start(args.runs, via_cli=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_STATE_HOME"] = tmp
        os.environ["HAWIZARD_LAB_DIR"] = tmp
        asyncio.run(flood(args.lines, args.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
