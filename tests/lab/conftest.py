"""Shared fixtures for tests that boot the lab (``pytest -m lab``).

``lab_session`` (session scope) builds or reuses the image, brings two nodes up in a
temporary lab directory on free loopback ports, and at the end powers them down and checks,
by pid, that no qemu is left. ``lab`` (per test) hands out the same lab, booting it again
first if an earlier test took it down. The image cache is shared: ``$HAWIZARD_LAB_CACHE``,
else ``$HAWIZARD_LAB_DIR/cache``, else the user's cache, so CI builds the image only once.

Phase timings (image, boot, ...) are collected in ``lab_session.timings`` and printed in
pytest's terminal summary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hawizard.lab import image as image_mod
from hawizard.lab import layout, network, ssh, vm
from hawizard.lab.paths import LabPaths, default_lab_dir

TIMINGS: dict[str, str] = {}
QEMU_MISSING = shutil.which("qemu-system-x86_64") is None


@pytest.hookimpl(tryfirst=True)  # before -m selects: every test here counts as 'lab'
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.lab)
            if QEMU_MISSING:
                item.add_marker(pytest.mark.skip(reason="qemu-system-x86_64 is not installed "
                                                        "(apt-get install qemu-system-x86 qemu-utils)"))


@pytest.fixture(scope="session")
def snapshot_wanted(request: pytest.FixtureRequest) -> bool:
    """Whether a selected test boots from the post-install snapshot (saving it costs about 3 minutes)."""
    return any(item.get_closest_marker("uses_post_install_snapshot") for item in request.session.items)


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if TIMINGS:
        terminalreporter.write_sep("-", "hawizard lab timings")
        for key, value in TIMINGS.items():
            terminalreporter.write_line(f"{key:<28} {value}")


def lab_command() -> list[str]:
    """``hawizard lab`` through the main CLI when it loads, else the lab's own entry point."""
    try:
        from hawizard.cli.main import build_parser

        build_parser()
        return [sys.executable, "-m", "hawizard", "lab"]
    except Exception:  # the rest of the CLI is still being written: the lab does not need it
        return [sys.executable, "-m", "hawizard.lab"]


def shared_cache() -> Path:
    if os.environ.get("HAWIZARD_LAB_CACHE"):
        return Path(os.environ["HAWIZARD_LAB_CACHE"])
    if os.environ.get("HAWIZARD_LAB_DIR"):
        return Path(os.environ["HAWIZARD_LAB_DIR"]) / "cache"
    return default_lab_dir() / "cache"




@dataclass
class Lab:
    """A running lab for tests: its paths, nodes, and helpers that drive it."""

    root: Path
    cache: Path
    port_base: int
    count: int = 2
    env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, str] = field(default_factory=lambda: TIMINGS)

    @property
    def paths(self) -> LabPaths:
        return LabPaths(root=self.root, cache=self.cache)

    @property
    def nodes(self) -> list[layout.LabNode]:
        return layout.plan_nodes(self.count, self.port_base)

    def node(self, name: str) -> layout.LabNode:
        return next(n for n in self.nodes if n.name == name)

    @property
    def preset(self) -> Path:
        return self.paths.preset

    def cli(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run ``hawizard lab ARGS`` against this lab; output captured, echoed for ``-s``."""
        result = subprocess.run(
            [*lab_command(), *args], capture_output=True, text=True, env=self.env, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        print(f"$ hawizard lab {' '.join(args)}  -> {result.returncode}\n{result.stdout}{result.stderr}")
        if check and result.returncode != 0:
            raise AssertionError(f"hawizard lab {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def ssh(self, name: str, command: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        """One command on a node over SSH (the lab's key, strict host-key checking)."""
        argv = ssh.ssh_argv(self.paths, self.node(name), [command])
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"{name}: {command!r} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def pid(self, name: str) -> int | None:
        return vm.running_pid(vm.NodeFiles(self.paths.node_dir(name)))

    def is_up(self) -> bool:
        return all(self.pid(n.name) is not None for n in self.nodes)

    def up(self) -> None:
        t0 = time.monotonic()
        self.cli("up", "--nodes", str(self.count), "--port-base", str(self.port_base))
        self.timings.setdefault("lab up (boot to SSH)", f"{time.monotonic() - t0:.1f}s")
        rss = [vm.rss_mib(self.pid(n.name) or 0) for n in self.nodes]
        self.timings.setdefault("qemu RSS after boot", ", ".join(f"{r} MiB" for r in rss))

    def ensure_up(self) -> Lab:
        if not self.is_up():
            self.cli("down", check=False)
            self.up()
        return self

    def teardown(self) -> list[int]:
        """Power everything down; the pids that are still alive afterwards (should be none)."""
        pids = {n.name: self.pid(n.name) for n in self.nodes}
        self.cli("down", "--timeout", "60", check=False)
        left = [pid for name, pid in pids.items() if pid and vm.pid_is_ours(pid, self.paths.node_dir(name) / "qemu.pid")]
        for name, pid in pids.items():  # never leave a qemu behind, even if 'down' failed
            if pid and pid in left:
                vm.kill(vm.NodeFiles(self.paths.node_dir(name)))
        return left


@pytest.fixture(scope="session")
def lab_image() -> Path:
    """The cache directory holding a current image (built here if needed, which needs root)."""
    cache = shared_cache()
    paths = LabPaths(root=cache.parent, cache=cache)
    if image_mod.find_image(paths) is not None:
        TIMINGS["image"] = "reused from the cache"
        return cache
    if os.geteuid() != 0:
        pytest.skip(f"no lab image in {cache} and building one needs root (run: sudo hawizard lab build)")
    env = dict(os.environ, HAWIZARD_LAB_CACHE=str(cache))
    t0 = time.monotonic()
    # output not captured here: with -s its progress lines stream; without, pytest keeps them
    result = subprocess.run([*lab_command(), "build"], env=env, timeout=1800, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"hawizard lab build failed (exit {result.returncode}); see its output above"
    TIMINGS["image build"] = f"{time.monotonic() - t0:.1f}s"
    return cache


@pytest.fixture(scope="session")
def lab_session(lab_image: Path, tmp_path_factory: pytest.TempPathFactory):
    """Two nodes up for the whole session; down (and checked gone, by pid) at its end."""
    root = tmp_path_factory.mktemp("lab")
    port_base = network.free_port_base()
    env = dict(os.environ, HAWIZARD_LAB_DIR=str(root), HAWIZARD_LAB_CACHE=str(lab_image),
               HAWIZARD_LAB_PORT_BASE=str(port_base))
    the_lab = Lab(root=root, cache=lab_image, port_base=port_base, env=env)
    the_lab.up()
    try:
        yield the_lab
    finally:
        left = the_lab.teardown()
        assert not left, f"qemu processes left after 'lab down': {left}"


@pytest.fixture
def lab(lab_session: Lab) -> Lab:
    """The session's lab, booted again first if an earlier test stopped it."""
    return lab_session.ensure_up()


@pytest.fixture(scope="session")
def lab_timings() -> dict[str, str]:
    """The dict printed as 'hawizard lab timings' at the end: add 'phase': 'figure' entries."""
    return TIMINGS
