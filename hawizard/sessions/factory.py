"""``open_session``: one entry point that picks the transport for a node.

Why a factory: the runner and the CLI choose a transport by name (from the preset or a
flag) and must not import paramiko or pexpect unless that transport is used.
"""

from __future__ import annotations

from hawizard.common.errors import InputError
from hawizard.sessions.base import HostKeyConfirm, NodeSession, SudoPassword
from hawizard.sessions.target import SshTarget

KINDS = ("ssh", "paramiko", "local", "dry-run")


def open_session(
    target: SshTarget,
    kind: str = "ssh",
    *,
    confirm_host_key: HostKeyConfirm | None = None,
    sudo_password: SudoPassword | None = None,
) -> NodeSession:
    """Connect to ``target`` with the transport ``kind`` (see KINDS).

    ``confirm_host_key(label, key_type, 'SHA256:...') -> bool`` is asked on first contact
    with an unknown key (None: unknown keys are refused unless pinned);
    ``sudo_password('user@node') -> str`` is asked once, when sudo first wants a password.
    """
    if kind == "ssh":
        from hawizard.sessions.openssh import SshShellSession

        return SshShellSession(target, confirm_host_key=confirm_host_key,
                               sudo_password=sudo_password)
    if kind == "paramiko":
        from hawizard.sessions.paramiko_session import ParamikoSession

        return ParamikoSession(target, confirm_host_key=confirm_host_key,
                               sudo_password=sudo_password)
    if kind == "local":
        from hawizard.sessions.local import LocalSession

        return LocalSession(target.name, become_root=target.become_root,
                            sudo_password=sudo_password)
    if kind == "dry-run":
        from hawizard.sessions.dryrun import DryRunSession

        return DryRunSession(target.name)
    raise InputError(f"unknown session kind {kind!r}: use one of {', '.join(KINDS)}")
