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
  handler running (median, p95), and to the screen having settled (the pilot's round trip).
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

FIRST_SCREEN_CHILD = r"""
import time, json, sys
from hawizard.screens import start as start_module
from hawizard.screens.app import HawizardApp

original = start_module.StartScreen.on_mount

def on_mount(self):
    original(self)
    def report():
        status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
        print(json.dumps({"t": time.time(), "rss_kib": int(status["VmRSS"].split()[0])}), flush=True)
        self.app.exit()
    self.call_after_refresh(report)

start_module.StartScreen.on_mount = on_mount
HawizardApp().run(headless=True, size=(80, 24))
"""


def rss_kib() -> tuple[int, int]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def cold_start(runs: int) -> None:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        env.update(XDG_STATE_HOME=tmp, HAWIZARD_LAB_DIR=tmp)
        times, rss, totals = [], [], []
        for _ in range(runs + 1):  # the first run warms the OS file cache; it is not counted
            t0 = time.time()
            p = subprocess.run([sys.executable, "-c", FIRST_SCREEN_CHILD], capture_output=True, text=True, env=env,
                               cwd=tmp, timeout=60)
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
    print(f"cold start to first screen: median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}, {runs} runs)   goal < 0.6 s")
    print(f"  whole process incl. exit:  median {statistics.median(totals):.3f} s")
    print(f"resident memory at first screen: median {statistics.median(rss):.1f} MiB   goal < 90 MB")


# -- the flood --------------------------------------------------------------------------------

def flood_session_class():
    from hawizard.sessions.base import CommandResult, NodeSession, WriteResult

    class FakeFloodSession(NodeSession):
        """FAKE node: the install command prints ``lines`` lines of package-manager chatter."""

        kind = "fake-flood"

        def __init__(self, name: str, lines: int, started: threading.Event, probes: set[str]) -> None:
            self.name, self.lines, self.started, self.probes = name, lines, started, probes
            self.finished_at = 0.0

        def run(self, command, *, timeout=None, on_output=None, stdin=None, sudo=False):
            if command in self.probes:
                return CommandResult(command, 1, "", "", 0.0)
            if "install" in command and self.lines and on_output is not None:
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
    from hawizard.plan import build_plan
    from hawizard.presets import load_preset
    from hawizard.screens.app import HawizardApp
    from hawizard.screens.run import RunScreen
    from hawizard.screens.runctl import RunController

    design = load_preset("debian12")
    plan = build_plan(design)
    session_cls = flood_session_class()
    started = threading.Event()
    sessions: dict[str, object] = {}

    def factory(node: str):
        probes = {s.probe[node] for s in plan.steps if node in s.probe}
        sessions[node] = session_cls(node, lines if node == design.primary.name else 0, started, probes)
        return sessions[node]

    handled: list[float] = []
    original = RunScreen.action_next_output

    def timed_next_output(self):
        handled.append(time.perf_counter())
        original(self)
    RunScreen.action_next_output = timed_next_output

    app = HawizardApp(session_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        app.design = design
        controller = RunController(app, design, plan, mode="apply", preset_ref="debian12", session_factory=factory,
                                   only={"install"})
        app.controller = controller
        controller.start()
        await app.push_screen(RunScreen(controller))
        t_start = time.perf_counter()
        while not started.is_set():
            await asyncio.sleep(0.005)
        latencies, round_trips = [], []
        primary = sessions[design.primary.name]
        while not primary.finished_at:
            sent = time.perf_counter()
            before = len(handled)
            await pilot.press("n")
            settled = time.perf_counter()
            if len(handled) > before:
                latencies.append((handled[-1] - sent) * 1000)
                round_trips.append((settled - sent) * 1000)
            await asyncio.sleep(interval)
        streamed_s = primary.finished_at - t_start
        while controller.live:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        shown = app.screen.query_one("#out-0").line_count
        rss, hwm = rss_kib()
    RunScreen.action_next_output = original
    print(f"keypress latency while {lines:,} lines stream ({streamed_s:.1f} s, "
          f"{lines / streamed_s:,.0f} lines/s, {len(latencies)} keys, one every {interval * 1000:.0f} ms):")
    if latencies:
        print(f"  key -> handler:        median {statistics.median(latencies):.1f} ms, "
              f"p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms   goal < 50 ms")
        print(f"  key -> screen settled: median {statistics.median(round_trips):.1f} ms, "
              f"p95 {percentile(round_trips, 95):.1f} ms")
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
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_STATE_HOME"] = tmp
        os.environ["HAWIZARD_LAB_DIR"] = tmp
        asyncio.run(flood(args.lines, args.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
