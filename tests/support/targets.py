"""SshTarget for a test sshd (tests/support/sshd.py), shared by the session tests and others."""

from __future__ import annotations

from pathlib import Path

from hawizard.sessions import SshTarget

from .sshd import SshServer

TRANSPORTS = ("ssh", "paramiko")


def make_target(srv: SshServer, known_hosts_dir: Path, *, user: str = "root", trusted: bool = True,
                **kw) -> SshTarget:
    """A target for ``srv`` whose known_hosts (in ``known_hosts_dir``) holds its key if ``trusted``."""
    kh = Path(known_hosts_dir) / f"known_hosts-{srv.port}"
    if trusted and not kh.exists():
        kh.write_text(srv.known_hosts_line())
    return SshTarget(name="srv1", host=srv.host, port=srv.port, user=user,
                     identity_file=str(srv.client_key), known_hosts=str(kh), ssh_config=False,
                     keepalive=5, connect_timeout=10, **kw)
