"""Node sessions: run commands, write and read files on a node (see base.py for the interface).

Transports: ``shell.SshShellSession`` (pexpect over the OpenSSH client), ``local.LocalSession``
(pexpect over a local bash), ``paramiko_session.ParamikoSession`` (exec channels + SFTP),
``dryrun.DryRunSession`` (records only). ``open_session`` picks one by name.
"""

from hawizard.sessions.base import (
    CommandResult,
    ConnectFailed,
    ConnectionLost,
    HostKeyChanged,
    HostKeyRefused,
    NodeSession,
    OutputCallback,
    ReadFailed,
    SessionError,
    SudoAuthFailed,
    SudoError,
    WriteFailed,
    WriteResult,
)
from hawizard.sessions.factory import KINDS, open_session
from hawizard.sessions.target import SshTarget

__all__ = [
    "KINDS",
    "CommandResult",
    "ConnectFailed",
    "ConnectionLost",
    "HostKeyChanged",
    "HostKeyRefused",
    "NodeSession",
    "OutputCallback",
    "ReadFailed",
    "SessionError",
    "SshTarget",
    "SudoAuthFailed",
    "SudoError",
    "WriteFailed",
    "WriteResult",
    "open_session",
]
