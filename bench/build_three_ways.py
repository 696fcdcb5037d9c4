"""Benchmark: the same design built on the lab's VMs three ways, and the wall time of each.

Issue 15: ``hawizard apply`` should be within 5 % of the exported plain script for the same plan.
This builds the lab's design (lab.toml: debian12-crmsh, fenced with sbd, the design
``hawizard lab up`` writes) on freshly booted VMs

  apply    ``hawizard apply lab.toml --yes``
  sh       ``hawizard export-plan lab.toml --format sh``, then ``sh run.sh --yes``
  ansible  ``hawizard export-plan lab.toml --format ansible``, then ``ansible-playbook site.yml -e hw_yes=true``

and prints the wall time of each build (the export itself is not timed), the medians over
``--repeats N`` and the ratios against the plain script. After each build ``hawizard status``
must succeed, else the build counts as failed and its time is left out.

Fresh VMs: by default every build boots the nodes from the lab's ``post-install`` snapshot (the
nodes right after hawizard's preflight, install and post-install steps, as
tests/lab/test_stage2_cluster.py takes it), so the ways are compared on what they do after the
package installation, which is apt's time in the VMs whoever calls it (4 to 7 minutes under
emulation). The snapshot is made first when the lab directory has none (one install run through
``hawizard apply --only preflight,install,post-install``, then ``hawizard lab snapshot``). With
``--fresh`` every build boots on fresh disks and includes the installation.

The ways take turns: repeat 1 runs apply, sh, ansible; repeat 2 sh, ansible, apply; and so on, so
that a drift of the machine's load does not favour one way. Each command's output goes to a log
file under ``--work``.

Nothing here runs with ``--dry-run``: it prints every command it would run, in order, and where
the lab and the logs would be. The lab needs qemu and the image (``hawizard lab build``, as root,
once); ``ansible-playbook`` comes from ansible-core (pyproject's [test] extra).

Usage: python bench/build_three_ways.py [--repeats N] [--ways apply,sh,ansible] [--fresh]
       [--lab-dir DIR] [--port-base N] [--work DIR] [--dry-run]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hawizard.lab import image as lab_image  # noqa: E402
from hawizard.lab import network, snapshot  # noqa: E402
from hawizard.lab.paths import ENV_CACHE, ENV_DIR, LabPaths, default_lab_dir  # noqa: E402

WAYS = ("apply", "sh", "ansible")
SNAPSHOT = "post-install"  # the name tests/lab/test_stage2_cluster.py gives the same state
INSTALL_STEPS = "preflight,install,post-install"
BUILD_LIMIT_S = 3600
LAB_LIMIT_S = 900
EXIT_BAD_INPUT, EXIT_MISSING = 2, 3


class BadInput(Exception):
    """A wrong option: said on stderr, exit 2."""


def hawizard(*args: str) -> list[str]:
    return [sys.executable, "-m", "hawizard", *args]


def lab(*args: str) -> list[str]:
    return hawizard("lab", *args)




def rotation(repeat: int, ways: list[str]) -> list[str]:
    """The order of the ways in repeat ``repeat`` (0-based): each starts first in turn."""
    k = repeat % len(ways)
    return ways[k:] + ways[:k]


@dataclass
class Bench:
    paths: LabPaths
    port_base: int
    work: Path
    dry_run: bool
    fresh: bool
    log_no: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)

    # -- running things ------------------------------------------------------------------------
    def env(self, state: Path | None = None) -> dict[str, str]:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        env[ENV_DIR] = str(self.paths.root)
        env[ENV_CACHE] = str(self.paths.cache)
        if state is not None:
            env["XDG_STATE_HOME"] = str(state)  # each apply its own runs, journal and audit log
        return env

    def run(self, argv: list[str], *, what: str, cwd: Path | None = None, state: Path | None = None,
            timeout: float = LAB_LIMIT_S, check: bool = True) -> tuple[int, float]:
        """Run ``argv`` (or only print it with --dry-run); (exit status, wall seconds)."""
        self.log_no += 1
        log = self.work / "logs" / f"{self.log_no:03d}-{what}.log"
        where = f"  (in {cwd})" if cwd else ""
        print(f"$ {shlex.join(argv)}{where}", flush=True)
        if self.dry_run:
            return 0, 0.0
        log.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with log.open("w") as out:
            try:
                proc = subprocess.run(argv, cwd=cwd, env=self.env(state), stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, timeout=timeout)
                status = proc.returncode
            except subprocess.TimeoutExpired:
                status = 124
        took = time.perf_counter() - t0
        if status != 0:
            print(f"  -> exit {status} after {took:.1f} s; output in {log}", flush=True)
            if check:
                raise RuntimeError(f"{what} failed (exit {status}); see {log}")
        return status, took

    @property
    def preset(self) -> Path:
        return self.paths.preset

    def lab_up(self, *, from_snapshot: bool) -> None:
        self.run(lab("down", "--timeout", "60"), what="lab-down", check=False)
        origin = ["--from-snapshot", SNAPSHOT] if from_snapshot else []
        self.run(lab("up", "--nodes", "2", "--port-base", str(self.port_base), *origin), what="lab-up")

    # -- the phases ----------------------------------------------------------------------------
    def prepare(self) -> None:
        """The image must be there; the post-install snapshot is made when the lab has none."""
        found = lab_image.find_image(self.paths)
        print(f"lab directory {self.paths.root}, image cache {self.paths.cache}: "
              f"{'an image is there' if found else 'no image'}")
        if found is None and not self.dry_run:
            raise FileNotFoundError(f"no lab image in {self.paths.cache}: build it once with "
                                    f"`sudo {ENV_CACHE}={self.paths.cache} hawizard lab build`")
        if not self.dry_run and shutil.which("qemu-system-x86_64") is None:
            raise FileNotFoundError("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86 qemu-utils)")
        if self.fresh:
            print("every build boots on fresh disks (--fresh): the times include the package installation")
            return
        if SNAPSHOT in snapshot.names(self.paths):
            print(f"every build boots from the snapshot {SNAPSHOT!r} of {self.paths.root}")
            return
        print(f"no snapshot {SNAPSHOT!r} in {self.paths.root}: making it (one install run, not timed)")
        self.lab_up(from_snapshot=False)
        self.run(hawizard("apply", str(self.preset), "--yes", "--only", INSTALL_STEPS),
                 what="install-for-snapshot", state=self.work / "state-install", timeout=BUILD_LIMIT_S)
        self.run(lab("down", "--timeout", "90"), what="lab-down")
        self.run(lab("snapshot", SNAPSHOT), what="lab-snapshot")

    def build(self, way: str, repeat: int) -> None:
        """Fresh VMs, the export (not timed), the build (timed), the check (not timed)."""
        print(f"-- repeat {repeat + 1}: {way}")
        self.lab_up(from_snapshot=not self.fresh)
        state = self.work / f"state-{repeat + 1}-{way}"
        export = self.work / f"export-{repeat + 1}-{way}"
        if way == "apply":
            argv, cwd = hawizard("apply", str(self.preset), "--yes"), None
        else:
            if not self.dry_run:
                shutil.rmtree(export, ignore_errors=True)
            self.run(hawizard("export-plan", str(self.preset), "--format", way, "-o", str(export)),
                     what=f"export-{way}")
            if way == "sh":
                argv, cwd = ["sh", "run.sh", "--yes"], export
            else:
                argv, cwd = ["ansible-playbook", "site.yml", "-e", "hw_yes=true"], export
        status, took = self.run(argv, what=f"build-{way}", cwd=cwd, state=state, timeout=BUILD_LIMIT_S, check=False)
        checked, _ = self.run(hawizard("status", str(self.preset)), what=f"status-after-{way}", state=state,
                              timeout=300, check=False)
        if status == 0 and checked == 0:
            self.times.setdefault(way, []).append(took)
            if not self.dry_run:
                print(f"  {way}: {took:.1f} s", flush=True)
        else:
            self.failures.setdefault(way, []).append(
                f"repeat {repeat + 1}: build exit {status}, status exit {checked}")

    def finish(self) -> None:
        self.run(lab("down", "--timeout", "60"), what="lab-down", check=False)

    # -- the figures ---------------------------------------------------------------------------
    def report(self, ways: list[str], repeats: int) -> str:
        origin = "fresh disks" if self.fresh else f"the {SNAPSHOT!r} snapshot"
        lines = [f"the lab's design built three ways on VMs booted from {origin}, {repeats} repeat(s), wall time"]
        medians: dict[str, float] = {}
        for way in ways:
            got = self.times.get(way, [])
            if got:
                medians[way] = statistics.median(got)
                each = ", ".join(f"{t:.1f}" for t in got)
                lines.append(f"  {way:<8} median {medians[way]:8.1f} s  (each: {each})")
            else:
                lines.append(f"  {way:<8} no successful build")
            for failure in self.failures.get(way, []):
                lines.append(f"           failed: {failure}")
        base = medians.get("sh")
        if base:
            for way in ways:
                if way != "sh" and way in medians:
                    lines.append(f"  {way} / sh = {medians[way] / base:.3f}  ({100 * (medians[way] / base - 1):+.1f} %)")
        if "apply" in medians and "ansible" in medians:
            lines.append(f"  apply / ansible = {medians['apply'] / medians['ansible']:.3f}")
        return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--repeats", type=int, default=1, help="builds per way; medians are printed (default 1)")
    p.add_argument("--ways", default=",".join(WAYS), help="which of apply,sh,ansible (default: all three)")
    p.add_argument("--fresh", action="store_true", help="boot on fresh disks (the times include apt) instead "
                                                        f"of the {SNAPSHOT!r} snapshot")
    p.add_argument("--lab-dir", type=Path, default=None,
                   help=f"the lab directory (default: a new one under --work; the image cache is ${ENV_CACHE}, "
                        f"else ~/.cache/hawizard/lab/cache)")
    p.add_argument("--port-base", type=int, default=None, help="the lab's port base (default: a free one)")
    p.add_argument("--work", type=Path, default=None, help="exports, run states and logs (default: a new temp dir)")
    p.add_argument("--dry-run", action="store_true", help="print what would run; run nothing")
    args = p.parse_args(argv)
    if args.repeats < 1:
        raise BadInput(f"--repeats must be 1 or more, not {args.repeats}")
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    unknown = [w for w in ways if w not in WAYS]
    if not ways or unknown or len(set(ways)) != len(ways):
        raise BadInput(f"--ways {args.ways!r}: give some of {', '.join(WAYS)}, each once")
    args.ways = ways
    if args.port_base is not None and not 1024 <= args.port_base <= 65000:
        raise BadInput(f"--port-base must be between 1024 and 65000, not {args.port_base}")
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except BadInput as exc:
        print(f"build_three_ways: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    work = args.work or Path(tempfile.mkdtemp(prefix="hw-three-ways-"))
    if not args.dry_run:
        work.mkdir(parents=True, exist_ok=True)
    cache = Path(os.environ[ENV_CACHE]) if os.environ.get(ENV_CACHE) else default_lab_dir() / "cache"
    paths = LabPaths(root=(args.lab_dir or work / "lab").absolute(), cache=cache.absolute())
    bench = Bench(paths, args.port_base or network.free_port_base(), work.absolute(), args.dry_run, args.fresh)
    if args.dry_run:
        print("dry run: nothing is started; the commands a real run would run, in order:")
    if not args.dry_run and "ansible" in args.ways and shutil.which("ansible-playbook") is None:
        print("build_three_ways: ansible-playbook is not installed (pip install ansible-core)", file=sys.stderr)
        return EXIT_MISSING
    try:
        bench.prepare()
        for repeat in range(args.repeats):
            for way in rotation(repeat, args.ways):
                bench.build(way, repeat)
    except FileNotFoundError as exc:
        print(f"build_three_ways: {exc}", file=sys.stderr)
        return EXIT_MISSING
    except RuntimeError as exc:
        print(f"build_three_ways: {exc}", file=sys.stderr)
        bench.finish()
        return 1
    bench.finish()
    if args.dry_run:
        print(f"logs, exports and run states would be under {bench.work}")
        return 0
    print(bench.report(args.ways, args.repeats))
    return 0 if not bench.failures else 1


if __name__ == "__main__":
    sys.exit(main())
