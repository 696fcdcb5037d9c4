"""Opening an authenticated paramiko client: ~/.ssh/config, host keys, one jump host.

Why apart from the session (paramiko_session.py): connecting is a job of its own, with its own
failure modes (unreachable, refused key, unknown or changed host key), and a jump host needs a
client of its own, connected the same way. Host keys follow hostkeys.py's rules: hawizard's own
known_hosts (plus the operator's, read-only), a policy that refuses unknown keys unless pinned
or confirmed (then appended to hawizard's file), and a changed key always refused with both
fingerprints. paramiko never writes any known_hosts file.
"""

from __future__ import annotations

import logging
import os
import socket

import paramiko

from hawizard.sessions import hostkeys
from hawizard.sessions.base import ConnectFailed, HostKeyConfirm, HostKeyRefused
from hawizard.sessions.target import SshTarget

log = logging.getLogger("hawizard.sessions")


class _HostKeyPolicy(paramiko.MissingHostKeyPolicy):
    """Unknown key: accept only the pinned fingerprint or what the operator confirms."""

    def __init__(self, target: SshTarget, label: str, confirm: HostKeyConfirm | None) -> None:
        self.target, self.label, self.confirm = target, label, confirm

    def missing_host_key(self, client, hostname, key) -> None:
        fp = hostkeys.fingerprint(key.asbytes())
        t = self.target
        hostkeys.check_offered(t, self.label, key.get_name(), fp, self.confirm)
        hostkeys.add_known_host(t.known_hosts_path, self.label, key.get_name(), key.asbytes())
        log.info("%s: host key %s %s accepted and saved", t.name, key.get_name(), fp)


def _resolve(target: SshTarget) -> tuple[str, list[str] | None]:
    """(hostname, identity files) after ~/.ssh/config, when the target allows it."""
    hostname, identities = target.host, [target.identity_file] if target.identity_file else None
    path = os.path.expanduser("~/.ssh/config")
    if target.ssh_config and os.path.exists(path):
        try:
            cfg = paramiko.SSHConfig.from_path(path).lookup(target.host)
        except Exception as exc:  # noqa: BLE001 - a broken config is the operator's to fix
            raise ConnectFailed(f"cannot read {path}: {exc}") from None
        hostname = cfg.get("hostname", hostname)
        if identities is None and cfg.get("identityfile"):
            identities = [os.path.expanduser(p) for p in cfg["identityfile"]]
    return hostname, identities


def connect_client(target: SshTarget, confirm: HostKeyConfirm | None) -> paramiko.SSHClient:
    """An authenticated SSHClient, host key checked as described in the module docstring."""
    hostname, identities = _resolve(target)
    label = hostname if target.port == 22 else f"[{hostname}]:{target.port}"
    own = target.known_hosts_path
    known = hostkeys.entries_for(label, hostkeys.files_for(target))
    hostkeys.check_pin_against_record(label, target.name, target.pinned_fingerprint, known)

    client = paramiko.SSHClient()
    for e in known:
        if e.marker:
            continue
        try:
            client.get_host_keys().add(label, e.key_type, paramiko.PKey.from_type_string(e.key_type, e.blob))
        except Exception:  # noqa: BLE001 - a key type paramiko does not know: skip that line
            continue
    client.set_missing_host_key_policy(_HostKeyPolicy(target, label, confirm))

    sock = None
    jump_client = None
    if target.jump is not None:
        jump_client = connect_client(target.jump, None)
        try:
            sock = jump_client.get_transport().open_channel(
                "direct-tcpip", (hostname, target.port), ("127.0.0.1", 0),
                timeout=target.connect_timeout)
        except (paramiko.SSHException, OSError) as exc:
            jump_client.close()
            raise ConnectFailed(f"jump host {target.jump.describe()} cannot reach "
                                f"{hostname}:{target.port}: {exc}") from None
    try:
        client.connect(
            hostname, target.port, username=target.user, key_filename=identities,
            allow_agent=True, look_for_keys=identities is None, timeout=target.connect_timeout,
            banner_timeout=target.connect_timeout, auth_timeout=target.connect_timeout,
            sock=sock,
        )
    except HostKeyRefused:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise hostkeys.changed_error(label, target.name, [e for e in known if not e.marker],
                                     hostkeys.fingerprint(exc.key.asbytes()), own) from None
    except paramiko.AuthenticationException:
        client.close()
        raise ConnectFailed(f"{target.describe()} refused our SSH key (install the public key "
                            f"for {target.user}, or load the right key into ssh-agent)") from None
    except paramiko.ssh_exception.NoValidConnectionsError as exc:
        client.close()
        reasons = sorted({getattr(e, "strerror", None) or str(e) for e in exc.errors.values()})
        raise ConnectFailed(f"cannot connect to {target.describe()}: {'; '.join(reasons)}") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConnectFailed(f"cannot connect to {target.describe()}: {reason}") from None
    transport = client.get_transport()
    try:  # small request/reply messages (channel open, exec): no Nagle delay (~40 ms each)
        transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass  # a jump channel is not a socket
    if target.pinned_fingerprint:
        got = hostkeys.fingerprint(transport.get_remote_server_key().asbytes())
        pin = hostkeys.normalise_fingerprint(target.pinned_fingerprint)
        if got != pin:
            client.close()
            raise hostkeys.pin_mismatch_error(label, target.name, pin, got)
    if target.keepalive:
        transport.set_keepalive(target.keepalive)
    client._hawizard_jump = jump_client  # keep the jump alive as long as the client
    return client
