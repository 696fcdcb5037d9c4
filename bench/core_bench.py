"""Benchmark: validate + render + plan per shipped preset (goal: under 0.3 s each).

Prints the median and spread of N runs in a fresh interpreter (cold: imports included) and
in-process (warm). Not a test: the machines are noisy, so read the medians.
Usage: python bench/core_bench.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 7
COLD = ("import time; t=time.perf_counter(); "
        "from hawizard.design.preset_file import load_preset; from hawizard.design import lint; from hawizard.render.renderer import render; "
        "from hawizard.plan.build import build_plan; d=load_preset({name!r}); lint.check(d); r=render(d); build_plan(d, r); "
        "print(time.perf_counter()-t)")


def warm(name: str) -> float:
    from hawizard.design import lint
    from hawizard.design.preset_file import load_preset
    from hawizard.plan.build import build_plan
    from hawizard.render.renderer import render

    t = time.perf_counter()
    d = load_preset(name)
    lint.check(d)
    build_plan(d, render(d))
    return time.perf_counter() - t


def main() -> None:
    print(f"validate+render+plan, {N} runs each; goal < 0.300 s")
    print(f"{'preset':10} {'cold median':>12} {'cold max':>9} {'warm median':>12}")
    for name in ("article", "debian12", "el9"):
        cold = [float(subprocess.run([sys.executable, "-c", COLD.format(name=name)], capture_output=True, text=True,
                                     check=True).stdout) for _ in range(N)]
        warm(name)
        hot = [warm(name) for _ in range(N)]
        print(f"{name:10} {statistics.median(cold):12.3f} {max(cold):9.3f} {statistics.median(hot):12.4f}")


if __name__ == "__main__":
    main()
