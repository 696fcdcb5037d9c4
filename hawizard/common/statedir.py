"""Where hawizard keeps its state on this machine: the one function that decides it.

Why one function: the runs (audit logs, journals), the run locks and hawizard's own
known_hosts must land in the same place whatever the environment says; two copies of the rule
once disagreed on a relative ``XDG_STATE_HOME`` and split a user's state in two.

The rule is the XDG Base Directory Specification (0.8, "Environment variables"):
``$XDG_STATE_HOME`` defaults to ``$HOME/.local/state``, and "All paths set in these environment
variables must be absolute. If an implementation encounters a relative path in any of these
variables it should consider the path invalid and ignore it."
Engine core: standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path


def state_home() -> Path:
    """``$XDG_STATE_HOME`` if it is an absolute path, else ``~/.local/state``."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if base and os.path.isabs(base):
        return Path(base)
    return Path(os.path.expanduser("~")) / ".local" / "state"


def state_dir() -> Path:
    """hawizard's state directory: ``<state home>/hawizard``."""
    return state_home() / "hawizard"


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 (exactly: the umask is not trusted)."""
    missing = []
    p = Path(path)
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            pass
        os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask; be exact
    os.chmod(path, 0o700)
