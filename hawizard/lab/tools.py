"""The host programs the lab runs, and one clear error naming the missing ones.

Every lab command checks its tools before it touches anything, so a machine without qemu
gets "qemu-system-x86_64 is missing (Debian package qemu-system-x86)" and exit code 3, not a
traceback from subprocess halfway through a build.
"""

from __future__ import annotations

import shutil

from hawizard.common.errors import EnvironmentProblem

#: tool -> the Debian package that ships it
PACKAGE_OF = {
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "debootstrap": "debootstrap",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "mkfs.ext4": "e2fsprogs",
    "dpkg-deb": "dpkg",
    "chroot": "coreutils",
    "mount": "mount",
    "umount": "mount",
    "ipmi_sim": "openipmi",
}

BUILD_TOOLS = ("debootstrap", "mkfs.ext4", "dpkg-deb", "chroot", "mount", "umount", "qemu-img")
RUN_TOOLS = ("qemu-system-x86_64", "qemu-img", "ssh", "ssh-keygen")
SSH_TOOLS = ("ssh",)


def find(tool: str) -> str | None:
    """The tool's path on $PATH, or None."""
    return shutil.which(tool)


def require(*tools: str) -> dict[str, str]:
    """Paths of ``tools``; EnvironmentProblem (exit 3) naming every missing one and its package."""
    paths: dict[str, str] = {}
    missing: list[str] = []
    for tool in tools:
        path = find(tool)
        if path is None:
            missing.append(tool)
        else:
            paths[tool] = path
    if missing:
        names = ", ".join(missing)
        packages = sorted({PACKAGE_OF.get(t, t) for t in missing})
        verb = "is" if len(missing) == 1 else "are"
        raise EnvironmentProblem(
            f"{names} {verb} missing on this machine; the lab needs "
            f"{'it' if len(missing) == 1 else 'them'} (install with: apt-get install {' '.join(packages)})"
        )
    return paths
