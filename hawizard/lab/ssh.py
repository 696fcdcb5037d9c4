"""SSH between the operator and the lab: keys, known_hosts, the client's command line.

Host keys are made on the host, not in the guest, so the lab knows each node's real key
before the node boots: known_hosts is written up front and every connection, from the CLI,
the tests or the wizard, can use strict host-key checking from the first packet. The
operator key is one ed25519 key per lab. Every call builds an argv list for OpenSSH's
client; nothing goes through a shell on the host.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hawizard.common.errors import OperationFailed
from hawizard.lab.layout import LabNode
from hawizard.lab.network import LOOPBACK
from hawizard.lab.paths import LabPaths

POLL_SECONDS = 2.0  # polling costs emulated guest CPU: not faster than this


def keygen(path: Path, comment: str) -> Path:
    """An ed25519 key pair at ``path`` (private) and ``path.pub``, made once."""
    if path.is_file() and path.with_suffix(".pub").is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, Path(f"{path}.pub")):
        stale.unlink(missing_ok=True)
    result = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise OperationFailed(f"ssh-keygen failed for {path}: {result.stderr.strip()}")
    return path


def public_key(path: Path) -> str:
    """The ``type base64`` part of a .pub file (comment dropped)."""
    fields = Path(f"{path}.pub").read_text().split()
    return f"{fields[0]} {fields[1]}"


def ensure_keys(paths: LabPaths, nodes: Sequence[LabNode]) -> None:
    """The operator key and one host key per node, kept across up/down/reset."""
    paths.ensure(paths.keys)
    os.chmod(paths.keys, 0o700)
    keygen(paths.operator_key, "hawizard-lab-operator")
    for node in nodes:
        keygen(paths.host_key(node.name), f"root@{node.name}")


def known_hosts_lines(paths: LabPaths, nodes: Sequence[LabNode]) -> list[str]:
    return [f"[{LOOPBACK}]:{node.ssh_port} {public_key(paths.host_key(node.name))}" for node in nodes]


def write_known_hosts(paths: LabPaths, nodes: Sequence[LabNode]) -> Path:
    tmp = paths.known_hosts.with_suffix(".tmp")
    tmp.write_text("".join(line + "\n" for line in known_hosts_lines(paths, nodes)))
    os.replace(tmp, paths.known_hosts)
    return paths.known_hosts


def client_options(paths: LabPaths, node: LabNode, connect_timeout: int = 10) -> list[str]:
    """OpenSSH client options for one node: the lab's key and known_hosts only, strict checking."""
    return [
        "-F", "/dev/null",  # the operator's own ~/.ssh/config must not change what the lab does
        "-i", str(paths.operator_key),
        "-p", str(node.ssh_port),
        "-l", "root",
        "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={paths.known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "CheckHostIP=no",
        "-o", "LogLevel=ERROR",
        "-o", f"ConnectTimeout={connect_timeout}",
        "-o", "ServerAliveInterval=15",
    ]  # fmt: skip


def remote_command(words: Sequence[str]) -> str | None:
    """The command string sshd hands to the guest's shell.

    One word is taken as a shell command line, as ``ssh host 'cmd | cmd'`` would; several
    words are an argv, each quoted, so ``lab ssh srv1 echo 'a b'`` prints ``a b`` unchanged.
    """
    if not words:
        return None
    if len(words) == 1:
        return words[0]
    return " ".join(shlex.quote(w) for w in words)


def ssh_argv(paths: LabPaths, node: LabNode, words: Sequence[str] = (), connect_timeout: int = 10) -> list[str]:
    argv = ["ssh", *client_options(paths, node, connect_timeout), "--", LOOPBACK]
    command = remote_command(words)
    if command is not None:
        argv.append(command)
    return argv


def probe(paths: LabPaths, node: LabNode, timeout: float = 15.0) -> bool:
    """True when the node's sshd answers with the expected host key and accepts the key."""
    try:
        result = subprocess.run(
            ssh_argv(paths, node, ["true"], connect_timeout=5),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def wait_for_ssh(
    paths: LabPaths,
    nodes: Sequence[LabNode],
    timeout: float,
    still_running: Callable[[LabNode], bool],
    on_ready: Callable[[LabNode, float], None],
    explain: Callable[[LabNode], str],
) -> dict[str, float]:
    """Poll every node until its SSH answers; {name: seconds}. OperationFailed on death or timeout."""
    start = time.monotonic()
    ready: dict[str, float] = {}
    pending = list(nodes)
    while pending:
        for node in list(pending):
            if not still_running(node):
                raise OperationFailed(f"{node.name}'s qemu stopped while booting.\n{explain(node)}")
            if probe(paths, node):
                ready[node.name] = round(time.monotonic() - start, 1)
                on_ready(node, ready[node.name])
                pending.remove(node)
        if not pending:
            break
        if time.monotonic() - start > timeout:
            names = ", ".join(n.name for n in pending)
            details = "\n".join(explain(n) for n in pending)
            raise OperationFailed(f"SSH did not answer on {names} within {timeout:.0f}s.\n{details}")
        time.sleep(POLL_SECONDS)
    return ready
