"""The index of the apt repository that sits inside the image.

The cluster packages are downloaded into the image, not installed, so that the wizard's own
install step runs a real ``apt-get install`` in the VM with no network. apt needs a
``Packages`` index (and a ``Release`` file listing its hashes) to use a directory of .deb
files; this module writes both from ``dpkg-deb --field``, which every Debian host has, so
the build needs neither dpkg-dev nor apt-utils.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

from hawizard.common.errors import OperationFailed

SOURCE_LINE = "deb [trusted=yes] file:/srv/lab-repo ./\n"
GUEST_PATH = "/srv/lab-repo"


def _digests(path: Path) -> tuple[str, str, int]:
    md5 = hashlib.md5()
    sha256 = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            md5.update(block)
            sha256.update(block)
            size += len(block)
    return md5.hexdigest(), sha256.hexdigest(), size


def control_of(deb: Path) -> str:
    """The control stanza of a .deb, as dpkg-deb prints it."""
    result = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True)
    if result.returncode != 0:
        raise OperationFailed(f"dpkg-deb cannot read {deb.name}: {result.stderr.strip()}")
    return result.stdout.rstrip("\n")


def write_index(repo: Path) -> list[str]:
    """Write ``Packages`` and ``Release`` for the .debs in ``repo``; return the package names."""
    stanzas: list[str] = []
    names: list[str] = []
    for deb in sorted(repo.glob("*.deb")):
        md5, sha256, size = _digests(deb)
        control = control_of(deb)
        for line in control.splitlines():
            if line.startswith("Package:"):
                names.append(line.split(":", 1)[1].strip())
        stanzas.append(f"{control}\nFilename: ./{deb.name}\nSize: {size}\nMD5sum: {md5}\nSHA256: {sha256}\n")
    packages = repo / "Packages"
    packages.write_text("\n".join(stanzas))
    md5, sha256, size = _digests(packages)
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    (repo / "Release").write_text(
        "Origin: hawizard-lab\nLabel: hawizard-lab\nSuite: lab\nCodename: lab\n"
        f"Date: {date}\nArchitectures: amd64 all\n"
        "Description: cluster packages for the hawizard lab (downloaded at image build)\n"
        f"MD5Sum:\n {md5} {size} Packages\nSHA256:\n {sha256} {size} Packages\n"
    )
    return names
