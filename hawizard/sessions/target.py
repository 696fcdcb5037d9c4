"""Where a node is and how to trust it: the data a session needs before it connects.

Why a hawizard-owned known_hosts by default: hawizard must never rewrite the operator's
~/.ssh/known_hosts, and keys it accepted on the operator's word should be kept apart.
The operator's own file is still *read* (trusted) when ``ssh_config`` is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hawizard.common.statedir import state_dir


def default_known_hosts() -> Path:
    """hawizard's own known_hosts, beside its runs (hawizard/common/statedir.py decides where)."""
    return state_dir() / "known_hosts"


@dataclass(frozen=True)
class SshTarget:
    name: str  # the node's name in the design, e.g. 'srv1'
    host: str  # address or ~/.ssh/config alias
    port: int = 22
    user: str = "root"
    identity_file: str | None = None
    known_hosts: str | None = None  # hawizard-owned file; None -> default_known_hosts()
    pinned_fingerprint: str | None = None  # 'SHA256:...' from the preset
    keepalive: int = 15  # seconds; 0 disables
    connect_timeout: int = 15
    ssh_config: bool = True  # use ~/.ssh/config (and trust ~/.ssh/known_hosts, read-only)
    jump: SshTarget | None = None  # one jump host (ssh -J / a direct-tcpip channel)
    become_root: bool = False  # run every command and write through sudo (user != root)

    @property
    def known_hosts_path(self) -> Path:
        return Path(self.known_hosts) if self.known_hosts else default_known_hosts()

    @property
    def host_label(self) -> str:
        """How known_hosts names this host: 'host' on port 22, '[host]:port' otherwise."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    @property
    def needs_sudo(self) -> bool:
        return self.user != "root"

    def describe(self) -> str:
        return f"{self.name} ({self.user}@{self.host}:{self.port})"
