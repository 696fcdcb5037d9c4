"""The directory of collected files: one copy of a node's files, or one sub-directory per node.

Layouts read (the paths below are relative to DIR, or to DIR/NODE when DIR holds a directory per
node, as ``hawizard render -o DIR`` writes them; a node directory of an unpacked report
holds its cib.xml at its top, but its other files must be put at their /etc paths):
  etc/corosync/corosync.conf | etc/ha.d/ha.cf + etc/ha.d/authkeys
  etc/drbd.conf, etc/drbd.d/*.res, etc/drbd.d/global_common.conf (or a drbd.conf with everything)
  cib.xml | var/lib/pacemaker/cib/cib.xml | var/lib/heartbeat/crm/cib.xml (Pacemaker 1.0)
  etc/default/sbd | etc/sysconfig/sbd
  etc/httpd/... | etc/apache2/... (the server-status configuration)
A file that is there but cannot be read is an InputError (exit 2) naming it; never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from hawizard.common.errors import InputError

MAX_FILE_BYTES = 1024 * 1024       # a configuration file; a larger one is the wrong file
MAX_CIB_BYTES = 64 * 1024 * 1024   # a CIB with a long status section


@dataclass(frozen=True)
class Collected:
    root: Path
    node_dirs: tuple[Path, ...]  # DIR/NODE for each node directory, or (DIR,) for a single copy

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> Collected:
        path = Path(root)
        if not path.exists():
            raise InputError(f"{path}: no such directory")
        if not path.is_dir():
            raise InputError(f"{path}: not a directory (--from-dir wants the directory of collected files)")
        if _looks_like_node(path):
            return cls(path, (path,))
        subs = sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink() and _looks_like_node(p))
        if not subs:
            raise InputError(f"{path}: no collected configuration here (looked for etc/corosync/corosync.conf, "
                             "etc/ha.d/ha.cf, etc/drbd.d, cib.xml, in DIR and in DIR/NODE/)")
        return cls(path, tuple(subs))

    def rel(self, p: Path) -> str:
        return str(p.relative_to(self.root))

    def path_on_node(self, p: Path) -> str:
        """The path a collected file has on its node: '/etc/...' (DIR/NODE/ or DIR/ taken off)."""
        for d in self.node_dirs:
            if p.is_relative_to(d):
                return "/" + str(p.relative_to(d))
        return "/" + self.rel(p)

    def find(self, *candidates: str) -> list[Path]:
        """Every existing file among the candidates, per node directory (the first match in each)."""
        out = []
        for d in self.node_dirs:
            for c in candidates:
                p = d / c
                if p.is_file() or p.is_symlink():
                    out.append(p)
                    break
        return out

    def first(self, *candidates: str) -> Path | None:
        found = self.find(*candidates)
        return found[0] if found else None

    def glob(self, pattern: str) -> list[Path]:
        """Matches of a glob in the first node directory that has any."""
        for d in self.node_dirs:
            hits = sorted(d.glob(pattern))
            if hits:
                return hits
        return []

    def read(self, p: Path, limit: int = MAX_FILE_BYTES) -> str:
        """The text of a collected file; InputError naming it when it cannot be read."""
        name = self.rel(p)
        try:
            # a link may point elsewhere in DIR (a report may link node files), never out of it: what is read
            # is echoed in findings, and DIR is all the operator said adoption may read
            if not p.resolve().is_relative_to(self.root.resolve()):
                raise InputError(f"{name}: a symbolic link out of {self.root}; copy the file itself")
            st = os.stat(p)
            if not stat.S_ISREG(st.st_mode):
                raise InputError(f"{name}: not a regular file")
            if st.st_size > limit:
                raise InputError(f"{name}: larger than {limit // 1024} KiB; not a configuration file")
            data = p.read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read: {exc.strerror or exc.__class__.__name__}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")  # a 2011 file in EUC-JP or Latin-1: the keywords are ASCII


_MARKERS = ("etc/corosync/corosync.conf", "etc/ha.d/ha.cf", "etc/drbd.d", "etc/drbd.conf", "cib.xml",
            "var/lib/pacemaker/cib/cib.xml", "var/lib/heartbeat/crm/cib.xml")


def _looks_like_node(d: Path) -> bool:
    return any((d / m).exists() for m in _MARKERS)
