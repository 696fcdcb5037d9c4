"""Node sessions: run commands, write and read files on a node, through one interface.

Modules, one job each:
  base              the interface (NodeSession), CommandResult, the error types, small shared pieces
  factory           open_session: picks the transport by name, importing only the one used
  target            SshTarget: where a node is and how to trust it
  live              what the real transports share: one command at a time, cancel, sudo, files
  pty               the pty shell driver (pexpect): start-up, one framed command, Ctrl-C recovery
  frames            the framing protocol of the pty shell: the frame sent, the reader of its output
  openssh           SshShellSession: the OpenSSH client in a pty, its argv and login questions
  local             LocalSession: the same pty driver over a local bash
  paramiko_connect  an authenticated paramiko client: ~/.ssh/config, host keys, a jump host
  paramiko_session  ParamikoSession: exec channels (streams apart, real exit status) and SFTP reads
  dryrun            DryRunSession: records what would be done, touches nothing
  hostkeys          known_hosts reading and appending, fingerprints, the trust decision, refusals
  sudo              becoming root: the wrapper, the password cache, failure detection
  filewrite         atomic, checksummed file writes and reads shared by every real transport
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
