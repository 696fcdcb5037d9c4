"""Run commands inside the image being built, with its mounts always undone.

apt and the kernel's postinst scripts need /proc, /sys and /dev inside the chroot. The
dangerous part of a chroot build is deleting a failed build tree while the host's /dev is
still bind-mounted in it, so this module never bind-mounts the host's /dev: it mounts a
private tmpfs with the handful of device nodes apt needs, and a fresh devpts instance. And
``remove_tree`` refuses to delete a directory that still has anything mounted under it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hawizard.common.errors import OperationFailed

_DEVICES = {  # name: (major, minor)
    "null": (1, 3),
    "zero": (1, 5),
    "full": (1, 7),
    "random": (1, 8),
    "urandom": (1, 9),
    "tty": (5, 0),
}


def _unescape(path: str) -> str:
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below ``path`` (deepest first), from /proc/self/mountinfo."""
    root = os.path.realpath(path)
    found: list[Path] = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) < 5:
            continue
        point = _unescape(fields[4])
        if point == root or point.startswith(root + "/"):
            found.append(Path(point))
    return sorted(found, key=lambda p: len(str(p)), reverse=True)


def unmount_all(path: Path) -> None:
    """Unmount everything below ``path``; a busy mount is detached lazily."""
    for point in mounts_under(path):
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


def remove_tree(path: Path) -> None:
    """rm -rf ``path``, but only once nothing is mounted below it."""
    if not path.exists():
        return
    unmount_all(path)
    left = mounts_under(path)
    if left:
        raise OperationFailed(
            f"{path} still has mounts ({', '.join(map(str, left))}); not deleting it. Unmount them and "
            "remove the directory by hand"
        )
    shutil.rmtree(path)


class Chroot:
    """``with Chroot(rootfs, log) as ch: ch.run([...])`` — mounts on enter, unmounts on exit."""

    def __init__(self, rootfs: Path, log_path: Path, env: dict[str, str] | None = None):
        self.rootfs = rootfs
        self.log_path = log_path
        self.env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "DEBIAN_FRONTEND": "noninteractive",
            "DEBCONF_NONINTERACTIVE_SEEN": "true",
            "LC_ALL": "C",
            "HOME": "/root",
        }
        for key in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
            if key in os.environ:
                self.env[key] = os.environ[key]
        self.env.update(env or {})

    def _mount(self, *args: str) -> None:
        result = subprocess.run(["mount", *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise OperationFailed(f"mount {' '.join(args)} failed: {result.stderr.strip()}")

    def __enter__(self) -> Chroot:
        r = self.rootfs
        try:
            for sub in ("proc", "sys", "dev"):
                (r / sub).mkdir(exist_ok=True)
            self._mount("-t", "proc", "proc", str(r / "proc"))
            self._mount("-t", "sysfs", "-o", "ro", "sysfs", str(r / "sys"))
            self._mount("-t", "tmpfs", "-o", "mode=755,size=16m", "labdev", str(r / "dev"))
            dev = r / "dev"
            for name, (major, minor) in _DEVICES.items():
                os.mknod(dev / name, 0o666 | 0o020000, os.makedev(major, minor))
                os.chmod(dev / name, 0o666)
            (dev / "pts").mkdir()
            (dev / "shm").mkdir(mode=0o1777)
            self._mount("-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620", "devpts", str(dev / "pts"))
            os.symlink("pts/ptmx", dev / "ptmx")
            os.symlink("/proc/self/fd", dev / "fd")
            for i, name in enumerate(("stdin", "stdout", "stderr")):
                os.symlink(f"/proc/self/fd/{i}", dev / name)
        except BaseException:
            unmount_all(r)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        unmount_all(self.rootfs)

    def run(self, argv: list[str], what: str) -> None:
        """Run ``argv`` inside the chroot, output appended to the build log; OperationFailed on error."""
        with open(self.log_path, "a") as log:
            log.write(f"\n### chroot: {' '.join(argv)}\n")
            log.flush()
            result = subprocess.run(
                ["chroot", str(self.rootfs), *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        if result.returncode != 0:
            raise OperationFailed(f"{what} failed (exit {result.returncode}):\n{log_tail(self.log_path)}")


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:]) + f"\n  (full log: {path})"
