"""File writes that cannot leak or corrupt, shared by every transport that can run a command.

Why each step:

* compare first: the node's sha256 (and mode/owner) equal ours -> nothing is written, no
  backup, ``changed=False``; a re-run of a finished plan touches nothing;
* the content goes over the command's **stdin**, never on a command line;
* ``mktemp`` in the **same directory** creates the temp file 0600 under ``umask 077``; it is
  opened for writing, then given its final owner and mode, and only then does content
  arrive (through the already open descriptor, so a 0400 file works too): the data never
  exists at any other mode or owner, not even in the temp file (authkeys stay 0600);
* the written bytes are checked against our sha256 before anything is replaced;
* the old file is copied beside itself as ``<name>.<YYYYmmddTHHMMSS>.hawizard~`` with
  ``cp -p`` (mode kept, and umask 077 forbids anything wider), its path reported;
* ``mv -f`` renames the temp file over the target: readers see the old or the new file,
  never half of one. A failure removes the temp file (trap).

Scripts are POSIX sh, run in a subshell (never ``set -e`` in a persistent shell). Messages
name the path and checksums, never the content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re

from hawizard.common.shellquote import q
from hawizard.sessions.base import NodeSession, ReadFailed, WriteFailed, WriteResult

log = logging.getLogger("hawizard.sessions")

BACKUP_SUFFIX = ".hawizard~"
_OWNER = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$|^\d+$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_args(path: str, mode: int, owner: str, group: str) -> None:
    if not path.startswith("/") or path.endswith("/") or "\n" in path or "\0" in path:
        raise WriteFailed(f"refusing to write {path!r}: an absolute file path is needed")
    if not 0 <= mode <= 0o7777:
        raise WriteFailed(f"refusing to write {path}: mode {mode:o} is not a file mode")
    for who in (owner, group):
        if not _OWNER.match(who):
            raise WriteFailed(f"refusing to write {path}: {who!r} is not a user or group name")


def probe_script(path: str) -> str:
    """Prints 'absent', or 'MODE OWNER GROUP' and the sha256 line."""
    return (
        f"( p={q(path)}; if [ -e \"$p\" ]; then stat -L -c '%a %U %G' -- \"$p\" && "
        f"sha256sum < \"$p\"; else echo absent; fi )"
    )


def write_script(path: str, sha: str, mode: int, owner: str, group: str, backup: bool) -> str:
    name = path.rsplit("/", 1)[1]
    return f"""(
umask 077
p={q(path)}
d=$(dirname -- "$p") || exit 1
t=$(mktemp "$d/".{q(name)}.hawizard.XXXXXX) || exit 1
trap 'rm -f -- "$t"' EXIT
exec 3>"$t" || exit 1
chown -- {q(owner + ':' + group)} "$t" || exit 1
chmod -- {mode:04o} "$t" || exit 1
cat >&3 || exit 1
exec 3>&-
got=$(sha256sum < "$t") || exit 1
[ "${{got%% *}}" = {sha} ] || {{ echo "hawizard: the bytes written to $t do not match sha256 {sha}" >&2; exit 1; }}
if [ {1 if backup else 0} = 1 ] && [ -e "$p" ]; then
  s=$(date +%Y%m%dT%H%M%S); b="$p.$s{BACKUP_SUFFIX}"; n=0
  while [ -e "$b" ] || [ -L "$b" ]; do n=$((n+1)); b="$p.$s.$n{BACKUP_SUFFIX}"; done
  cp -p -- "$p" "$b" || exit 1
  echo "HWBACKUP $b"
fi
sync -- "$t" 2>/dev/null
mv -f -- "$t" "$p" || exit 1
trap - EXIT
echo HWWRITTEN
)"""


def fix_attrs_script(path: str, mode: int, owner: str, group: str) -> str:
    return f"( p={q(path)}; chown -- {q(owner + ':' + group)} \"$p\" && chmod -- {mode:04o} \"$p\" )"


def _describe_failure(res) -> str:
    text = (res.stderr or res.stdout).strip()
    return text[-400:] if text else f"exit status {res.exit_status}"


def probe(session: NodeSession, path: str, *, sudo: bool) -> tuple[str, int, str, str] | None:
    """(sha256, mode, owner, group) of the node's file, or None if absent."""
    res = session.run(probe_script(path), sudo=sudo, timeout=60)
    out = res.stdout.strip().splitlines()
    if res.exit_status != 0 or not out:
        raise WriteFailed(f"cannot check {path} on {session.name}: {_describe_failure(res)}")
    if out[-1] == "absent":
        return None
    try:
        mode_s, owner, group = out[-2].split()
        return out[-1].split()[0], int(mode_s, 8), owner, group
    except (ValueError, IndexError):
        raise WriteFailed(f"cannot check {path} on {session.name}: unexpected answer") from None


def write_file(session: NodeSession, path: str, data: bytes, *, mode: int, owner: str,
               group: str, backup: bool, sudo: bool) -> WriteResult:
    _check_args(path, mode, owner, group)
    sha = sha256_hex(data)
    current = probe(session, path, sudo=sudo)
    if current is not None and current[0] == sha:
        if current[1:] == (mode, owner, group):
            log.info("%s: %s unchanged (sha256 %s)", session.name, path, sha)
            return WriteResult(path, False, sha, None)
        res = session.run(fix_attrs_script(path, mode, owner, group), sudo=sudo, timeout=60)
        if res.exit_status != 0:
            raise WriteFailed(f"cannot set mode/owner of {path} on {session.name}: "
                              f"{_describe_failure(res)}")
        log.info("%s: %s content unchanged, mode/owner set to %04o %s:%s",
                 session.name, path, mode, owner, group)
        return WriteResult(path, True, sha, None)
    res = session.run(write_script(path, sha, mode, owner, group, backup), stdin=data, sudo=sudo,
                      timeout=120)
    if res.exit_status != 0 or "HWWRITTEN" not in res.stdout:
        raise WriteFailed(f"writing {path} on {session.name} failed: {_describe_failure(res)}")
    backup_path = None
    for line in res.stdout.splitlines():
        if line.startswith("HWBACKUP "):
            backup_path = line[len("HWBACKUP "):]
    if current is None:
        previous = "none"
    else:
        previous = f"backed up as {backup_path}" if backup_path else "not kept"
    log.info("%s: wrote %s (sha256 %s, mode %04o, %s:%s); previous file: %s",
             session.name, path, sha, mode, owner, group, previous)
    return WriteResult(path, True, sha, backup_path)


def read_script(path: str) -> str:
    # '-absent-' cannot be base64 output (it has '-'), so it cannot be confused with content
    return f"( p={q(path)}; if [ -e \"$p\" ]; then base64 < \"$p\"; else printf '%s\\n' -absent-; fi )"


def read_file(session: NodeSession, path: str, *, sudo: bool) -> bytes | None:
    res = session.run(read_script(path), sudo=sudo, timeout=120)
    if res.exit_status != 0:
        raise ReadFailed(f"cannot read {path} on {session.name}: {_describe_failure(res)}")
    text = res.stdout.strip()
    if text == "-absent-":
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ReadFailed(f"cannot read {path} on {session.name}: garbled transfer") from None
