"""A node reached through the operator's OpenSSH client in a pty: the ssh command line and the login.

Why the real ``ssh``: ~/.ssh/config, agents, ProxyCommand and jump hosts then work exactly as
the operator expects, and the pty driver (pty.py) gets a terminal on the node. What is particular
to ssh lives here: its argv (hawizard's own known_hosts first, key or agent login only) and the
questions ssh asks while logging in, answered by hawizard's host key rules (hostkeys.py).
"""

from __future__ import annotations

import logging
import os
import re

from hawizard.common.shellquote import join
from hawizard.sessions import hostkeys
from hawizard.sessions.base import ConnectFailed, HostKeyConfirm, HostKeyRefused, SudoPassword
from hawizard.sessions.pty import PtyShellSession
from hawizard.sessions.target import SshTarget

log = logging.getLogger("hawizard.sessions")

HOSTKEY_QUESTION = re.compile(r"continue connecting \(yes/no[^)]*\)\? ?")
HOSTKEY_OFFERED = re.compile(r"(\S+) key fingerprint is (SHA256:[A-Za-z0-9+/]+)")
HOSTKEY_CHANGED = re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed")
HOSTKEY_NEW_FP = re.compile(r"sent by the remote host is\s*(SHA256:[A-Za-z0-9+/]+)")
HOSTKEY_OFFENDING = re.compile(r"Offending \S+ key in (\S+?):(\d+)")
ASKS_PASSPHRASE = re.compile(r"Enter passphrase for key")


def _ssh_option_path(path: str) -> str:
    return f'"{path}"' if any(c.isspace() for c in path) else path


class SshShellSession(PtyShellSession):
    """``ssh -tt`` to the node, host keys checked by ssh against hawizard's known_hosts.

    ssh runs with ``StrictHostKeyChecking=ask`` and this class answers its question: "yes"
    only for the pinned fingerprint or when ``confirm_host_key`` says so (ssh then saves the
    key in hawizard's file, the first ``UserKnownHostsFile``); otherwise "no" and a
    HostKeyRefused naming the fingerprint. Asking (rather than ``=yes``) is what lets the
    operator see the fingerprint; a *changed* key is refused by ssh itself in ask mode.
    Login is by key or agent only (password and keyboard-interactive auth are off).
    """

    kind = "ssh"

    def __init__(self, target: SshTarget, *, confirm_host_key: HostKeyConfirm | None = None,
                 sudo_password: SudoPassword | None = None) -> None:
        super().__init__(
            target.name,
            who=target.describe(),
            user=target.user,
            become_root=target.become_root,
            sudo_password=sudo_password,
        )
        self.target = target
        self._confirm = confirm_host_key
        own = target.known_hosts_path
        own.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(own, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # ssh would use 0644
        self._known_files = hostkeys.files_for(target)
        hostkeys.check_pin_against_record(
            target.host_label, target.name, target.pinned_fingerprint,
            hostkeys.entries_for(target.host_label, self._known_files),
        )
        self._start()

    def _start(self) -> None:
        t = self.target
        self._open(self.ssh_argv(), ready_limit=t.connect_timeout + 15, setup_limit=t.connect_timeout + 5,
                   failure=f"cannot open a shell on {self.who}", on_text=self._login_prompts)

    def ssh_argv(self) -> list[str]:
        t = self.target
        argv = ["ssh", "-tt", "-e", "none"]
        if not t.ssh_config:
            argv += ["-F", "/dev/null"]
        argv += ["-p", str(t.port), "-l", t.user]
        if t.identity_file:
            argv += ["-i", t.identity_file, "-o", "IdentitiesOnly=yes"]
        known = " ".join(_ssh_option_path(str(p)) for p in self._known_files)
        argv += [
            "-o", "StrictHostKeyChecking=ask",
            "-o", f"UserKnownHostsFile={known}",
            "-o", "HashKnownHosts=no",
            "-o", "UpdateHostKeys=no",
            "-o", f"ConnectTimeout={t.connect_timeout}",
            "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no",
            "-o", "LogLevel=ERROR",
        ]
        if t.keepalive:
            argv += ["-o", f"ServerAliveInterval={t.keepalive}", "-o", "ServerAliveCountMax=3"]
        if t.jump is not None:
            argv += ["-o", f"ProxyCommand={self._jump_command(t.jump)}"]
        argv += [t.host, self._ready_command()]
        return argv

    def _jump_command(self, j: SshTarget) -> str:
        """The jump host's own ssh: strict host key checking, no questions (BatchMode)."""
        inner = ["ssh", "-p", str(j.port), "-l", j.user, "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=yes", "-o",
                 f"UserKnownHostsFile={_ssh_option_path(str(j.known_hosts_path))}"]
        if not j.ssh_config:
            inner += ["-F", "/dev/null"]
        if j.identity_file:
            inner += ["-i", j.identity_file, "-o", "IdentitiesOnly=yes"]
        return join(*inner) + " -W '[%h]:%p' " + join(j.host)

    def _login_prompts(self) -> None:
        text = self._pending_text()
        t = self.target
        if HOSTKEY_QUESTION.search(text):
            offered = HOSTKEY_OFFERED.search(text)
            if offered is None:
                self._send("no\n")
                raise ConnectFailed(f"ssh asked about the host key of {t.host_label} without "
                                    f"showing its fingerprint; refused")
            key_type, fp = offered.group(1), offered.group(2)
            if "keys of different type are already known" in text:
                # a new key type where another is on record: as suspicious as a changed key
                self._send("no\n")
                raise hostkeys.changed_error(
                    t.host_label, t.name, hostkeys.entries_for(t.host_label, self._known_files),
                    fp, t.known_hosts_path)
            try:
                hostkeys.check_offered(t, t.host_label, key_type, fp, self._confirm)
            except HostKeyRefused:
                self._send("no\n")
                raise
            log.info("%s: host key %s %s accepted and saved", t.name, key_type, fp)
            self._send("yes\n")
            self._pending = ""
            return
        if HOSTKEY_CHANGED.search(text):
            self._drain_until_eof()
            text = self._pending_text()
            new = HOSTKEY_NEW_FP.search(text)
            offending = HOSTKEY_OFFENDING.search(text)
            old = hostkeys.entry_at(offending.group(1), int(offending.group(2))) if offending else None
            if new and old:
                raise hostkeys.changed_error(t.host_label, t.name, [old], new.group(1),
                                             t.known_hosts_path)
            raise ConnectFailed(f"ssh refused the host key of {t.host_label} ({t.name}): "
                                f"{self._tail()}")
        if ASKS_PASSPHRASE.search(text):
            raise ConnectFailed(f"the SSH key for {self.who} needs a passphrase: load it into "
                                f"ssh-agent (ssh-add) before running hawizard")
