"""Collect a cluster's configuration from its nodes over SSH, read-only, into the layout adoption reads.

Why here (the run stage): adoption (hawizard/adopt/) reads a directory and does no node I/O; the
sessions, host-key rules and sudo handling are the ones ``apply`` and ``status`` use
(hawizard/sessions/factory.py, hostkeys.py, sudo.py). This module opens a session per node, runs
only commands that read (``test``, ``sed`` on a file, ``base64``, ``uname -n``, ``ip -o -4 addr show``,
``cibadmin -Q``),
and writes what it read into a private directory (0700, removed by the caller's ``with``) as
DIR/NODE/<path on the node>: the layout ``--from-dir`` reads, so one engine serves both.

Secrets never leave the node: the authkeys key, a DRBD ``shared-secret`` and a ``password=``/``passwd=``
value are cut by ``sed`` on the node before the text is sent (the line stays, with «redacted» in the
secret's place, so adoption sees the method and that a secret is set, and the file diff matches
hawizard's line by its shape); the corosync authkey, a file that is one secret, is only tested for
presence. The CIB's nvpairs named like a password are cut the same way, and once more here before
anything is written.

Errors (exit 2, named): a node that cannot be reached or whose host key is refused, a file that is
there but cannot be read, a node that answers with a name that is not the cluster's.
"""

from __future__ import annotations

import base64
import binascii
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hawizard.adopt import nodediff
from hawizard.adopt.collected import MAX_CIB_BYTES, MAX_FILE_BYTES, Collected
from hawizard.adopt.engine import CIB_PATHS, IP_FACTS
from hawizard.adopt.nodediff import NodeDiff
from hawizard.common.errors import EnvironmentProblem, InputError, OperationFailed
from hawizard.common.shellquote import q
from hawizard.common.terminal_text import clean
from hawizard.design.model import Design
from hawizard.render.renderer import Rendering
from hawizard.run.targets import target_for
from hawizard.sessions.base import CommandResult, HostKeyConfirm, NodeSession, SudoPassword
from hawizard.sessions.factory import open_session
from hawizard.sessions.target import SshTarget

# Test hook, empty on real nodes: "host:port" -> a directory on that machine that stands for the node's "/"
# (the loopback sshd of tests/test_collect_ssh.py has no cluster node's /etc). Under a root, the node's name
# is ROOT/etc/hostname (uname -n would be the test machine's), its addresses ROOT/ip-addr.txt (the test
# machine's are not a node's) and the CIB is ``CIB_file=ROOT/cib.xml cibadmin -Q``: the real cibadmin reading
# a recorded CIB, as no cluster runs there.
TEST_ROOTS: dict[str, str] = {}
NAME_QUERY = "uname -n"
IP_QUERY = "ip -o -4 addr show"  # NICs, addresses and prefixes (hawizard/adopt/ipaddr.py)
CIB_QUERY = "cibadmin -Q"


def _root(target: SshTarget) -> str:
    return TEST_ROOTS.get(f"{target.host}:{target.port}", "")


# what adoption reads (hawizard/adopt/collected.py and engine.py), as paths and globs on the node
ADOPT_FILES = ("etc/corosync/corosync.conf", "etc/ha.d/ha.cf", "etc/ha.d/authkeys", "etc/drbd.conf",
               "etc/default/sbd", "etc/sysconfig/sbd", "etc/hosts", "etc/httpd/conf/httpd.conf",
               "etc/apache2/apache2.conf", "var/lib/pcsd/known-hosts",
               "var/lib/hawizard/cluster.pcs.sh",
               # the served page where the replicated filesystem is mounted (adopt/engine.py _index_page)
               "var/www/html/index.html")
ADOPT_GLOBS = ("etc/drbd.d/*.res", "etc/drbd.d/*.conf", "etc/httpd/conf.d/*.conf", "etc/apache2/conf-enabled/*.conf",
               "etc/apache2/conf-available/*.conf")

RED = "«redacted»"
# sed -r programs run on the node (GNU sed: -r and the I flag, in every GNU sed 4, CentOS 5's 4.1.5 included,
# where -E is not documented yet). authkeys(5): "N method [secret]", a commented-out one
# too; drbd.conf(5): shared-secret; a fence agent's password in a crm/pcs line and in the CIB's XML.
_SED_AUTHKEYS = r"s/^([[:space:]]*#?[[:space:]]*[0-9]+[[:space:]]+[A-Za-z0-9]+[[:space:]]+)[^[:space:]].*$/\1" + RED + "/"
_SED_COMMON = (
    r's/(shared-secret[[:space:]]+)("([^"\\]|\\.)*"|[^[:space:];]+)/\1"' + RED + '"/g',
    r"""s/(\b[A-Za-z_]*passw(or)?d[[:space:]]*=[[:space:]]*)(("([^"\\]|\\.)*"|'[^']*'|[^[:space:]'";])+)/\1""" + RED
    + "/gI",
    r's/(name="[^"]*passw(or)?d[^"]*"[[:space:]]+value=")[^"]*"/\1' + RED + '"/gI',
    r's/(value=")[^"]*("[[:space:]]+name="[^"]*passw(or)?d[^"]*")/\1' + RED + r'\2/gI',
)
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/+@-]+")
_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}")


def _sed(path: str) -> str:
    progs = ([_SED_AUTHKEYS] if path.endswith("/authkeys") else []) + list(_SED_COMMON)
    return "LC_ALL=C sed -r " + " ".join(f"-e {q(p)}" for p in progs)


def read_script(path: str, limit: int, root: str = "") -> str:
    """Print HW-ABSENT, HW-UNREADABLE, HW-TOOBIG or HW-FILE and the file's text, secrets cut, in base64."""
    p = q(root + path)
    return (f"p={p}; if [ ! -e \"$p\" ] && [ ! -L \"$p\" ]; then echo HW-ABSENT; "
            f"elif [ ! -f \"$p\" ] || [ ! -r \"$p\" ]; then echo HW-UNREADABLE; "
            f"elif [ \"$(stat -L -c %s \"$p\")\" -gt {limit} ]; then echo HW-TOOBIG; "
            f"else echo HW-FILE; {_sed(path)} < \"$p\" | base64; fi")


def presence_script(path: str, root: str = "") -> str:
    p = q(root + path)
    return f"p={p}; if [ -e \"$p\" ]; then echo HW-PRESENT; else echo HW-ABSENT; fi"


def glob_script(patterns: tuple[str, ...], root: str = "") -> str:
    # the patterns are ours (fixed words); only the root is a value, quoted
    words = " ".join(f"{q(root)}/{p}" if root else f"/{p}" for p in patterns)
    return f"for p in {words}; do [ -e \"$p\" ] && printf 'HW-PATH %s\\n' \"$p\"; done; true"


@dataclass(frozen=True)
class NodeAddress:
    """``[user@]host[:port]`` as given to ``--node``."""

    user: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> NodeAddress:
        m = re.fullmatch(r"(?:([A-Za-z_][A-Za-z0-9_.-]*)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d+))?",
                         text.strip())
        if not m:
            raise InputError(f"--node {text!r}: not [user@]host[:port]")
        port = int(m.group(3) or 22)
        if not 1 <= port <= 65535:
            raise InputError(f"--node {text!r}: port {port} is not 1-65535")
        return cls(m.group(1) or "root", m.group(2).strip("[]"), port)

    def __str__(self) -> str:
        return f"{self.user}@{self.host}" + (f":{self.port}" if self.port != 22 else "")


@dataclass(frozen=True)
class Access:
    """How to open sessions: the transport and the operator's answers (host keys, sudo passwords)."""

    transport: str = "ssh"
    confirm_host_key: HostKeyConfirm | None = None
    sudo_password: SudoPassword | None = None
    session_factory: Callable[[SshTarget], NodeSession] | None = None  # tests


@dataclass
class Node:
    """An open session to a node and the root its paths are read under ("" but in tests)."""

    session: NodeSession
    root: str = ""
    label: str = ""  # the node's own name once it said it (uname -n), for messages

    @property
    def name(self) -> str:
        return self.label or self.session.name


def _open(target: SshTarget, access: Access) -> Node:
    try:
        if access.session_factory is not None:
            session = access.session_factory(target)
        else:
            session = open_session(target, access.transport, confirm_host_key=access.confirm_host_key,
                                   sudo_password=access.sudo_password)
    except (OperationFailed, EnvironmentProblem, InputError) as exc:
        raise InputError(f"{target.describe()}: cannot be read over SSH: {clean(str(exc))}") from None
    return Node(session, _root(target))


def _result(node: Node, command: str, what: str, timeout: float = 120) -> CommandResult:
    try:
        return node.session.run(command, timeout=timeout, sudo=True)
    except (OperationFailed, EnvironmentProblem, InputError) as exc:
        raise InputError(f"{node.name}: {what}: {clean(str(exc))}") from None


def _run(node: Node, command: str, what: str, timeout: float = 120) -> str:
    res = _result(node, command, what, timeout)
    if not res.ok:
        text = clean((res.stderr or res.stdout).strip())[-300:]
        raise InputError(f"{node.name}: {what} failed (exit {res.exit_status}): {text}")
    return res.stdout.replace("\r", "")


def _decode(node: Node, path: str, out: str) -> bytes | None:
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    tags = [i for i, ln in enumerate(lines) if ln.startswith("HW-")]
    if not tags:
        raise InputError(f"{node.name}:{path}: no answer from the read")
    tag = lines[tags[-1]]
    if tag == "HW-ABSENT":
        return None
    if tag == "HW-UNREADABLE":
        raise InputError(f"{node.name}:{path}: there, but not a regular file that can be read")
    if tag == "HW-TOOBIG":
        raise InputError(f"{node.name}:{path}: too large to be a configuration file")
    try:
        return base64.b64decode("".join(lines[tags[-1] + 1:]), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{node.name}:{path}: garbled transfer") from None


def _write(dest: Path, path: str, data: bytes) -> None:
    out = dest / path.lstrip("/")
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.write_bytes(data)
    out.chmod(0o600)


def read_into(node: Node, path: str, dest: Path, limit: int = MAX_FILE_BYTES) -> bool:
    """Copy one file of the node (secrets cut on the node) to dest/<path>; False when the node has none."""
    data = _decode(node, path, _run(node, read_script(path, limit, node.root), f"reading {path}"))
    if data is None:
        return False
    _write(dest, path, data)
    return True


def node_name(node: Node) -> str:
    """The node's name as Pacemaker and corosync know it (uname -n)."""
    query = f"cat {q(node.root + '/etc/hostname')}" if node.root else NAME_QUERY
    lines = _run(node, query, "uname -n").strip().splitlines()
    name = lines[-1].strip() if lines else ""
    if not _NODE_NAME.fullmatch(name):
        raise InputError(f"{node.name}: uname -n answers {clean(name)!r}, not a node name")
    return name


def _glob(node: Node, patterns: tuple[str, ...]) -> list[str]:
    out = _run(node, glob_script(patterns, node.root), "listing configuration files")
    paths = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("HW-PATH "):
            p = line[len("HW-PATH "):][len(node.root):]
            if _SAFE_PATH.fullmatch(p):  # a name with blanks or quotes is no file hawizard or a package writes
                paths.append(p)
    return paths


def scrub_cib(text: str) -> str:
    """The CIB with every nvpair named like a password holding «redacted» (the node's sed did it already)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return text  # adoption names the file as not CIB XML; nothing here is kept
    for nv in root.iter("nvpair"):
        if re.search(r"passw(or)?d", nv.get("name", ""), re.IGNORECASE):
            nv.set("value", RED)
    return ET.tostring(root, encoding="unicode")


def read_cib(node: Node, dest: Path) -> str:
    """The live CIB (``cibadmin -Q``) as DEST/cib.xml, or the on-disk copy when the cluster does not run there;
    where it came from, or "" when the node has neither."""
    query = f"CIB_file={q(node.root + '/cib.xml')} {CIB_QUERY}" if node.root else CIB_QUERY
    # no pipefail in every shell: the query's own status decides, then its output is cut and sent
    res = _result(node, f"cib=$({query}) && printf '%s\\n' \"$cib\" | {_sed('cib.xml')} | base64", "cibadmin -Q")
    if res.ok and res.stdout.strip():
        try:
            data = base64.b64decode("".join(res.stdout.replace("\r", "").split()), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"{node.name}: cibadmin -Q: garbled transfer") from None
        _write(dest, "cib.xml", scrub_cib(data.decode("utf-8", "replace")).encode())
        return f"{node.name}: cibadmin -Q"
    for path in CIB_PATHS[1:]:  # the CIB a stopped cluster keeps on disk
        if read_into(node, "/" + path, dest, MAX_CIB_BYTES):
            p = dest / path
            p.write_text(scrub_cib(p.read_text(errors="replace")))
            return f"{node.name}:/{path} (cibadmin -Q failed: the cluster does not run there)"
    return ""


def _cib_from_any(nodes: list[Node], dirs: list[Path]) -> str:
    for n, d in zip(nodes, dirs, strict=True):
        where = read_cib(n, d)
        if where:
            return where
    raise InputError("no CIB on " + ", ".join(n.name for n in nodes) + ": cibadmin -Q failed (is the cluster "
                     "running?) and there is no " + " or ".join("/" + p for p in CIB_PATHS[1:]))


def target(addr: NodeAddress, *, identity_file: str = "", known_hosts: str = "") -> SshTarget:
    return SshTarget(name=addr.host, host=addr.host, port=addr.port, user=addr.user, identity_file=identity_file or None,
                     known_hosts=known_hosts or None, become_root=addr.user != "root")


@contextmanager
def private_dir() -> Iterator[Path]:
    """A directory only this user can read (it holds the nodes' files, secrets cut), removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="hawizard-collected-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@dataclass(frozen=True)
class Reached:
    name: str  # uname -n
    target: SshTarget


def collect_for_adopt(targets: list[SshTarget], dest: Path, access: Access) -> list[Reached]:
    """Every file adoption reads, from each node, into dest/<uname -n>/...; the CIB from the first node."""
    reached: list[Reached] = []
    sessions: list[Node] = []
    try:
        for t in targets:
            s = _open(t, access)
            sessions.append(s)
            name = node_name(s)
            s.label = name
            if any(r.name == name for r in reached):
                raise InputError(f"{t.describe()} answers as {name}, as another --node does: give each node once")
            reached.append(Reached(name, t))
            node_dir = dest / name
            node_dir.mkdir(mode=0o700)
            for path in ADOPT_FILES:
                read_into(s, "/" + path, node_dir)
            for path in _glob(s, ADOPT_GLOBS):
                read_into(s, path, node_dir)
            query = f"cat {q(s.root + '/' + IP_FACTS)} 2>/dev/null" if s.root else f"{IP_QUERY} 2>/dev/null"
            _write(node_dir, IP_FACTS, _run(s, f"{query}; true", IP_QUERY).encode())
        _cib_from_any(sessions, [dest / r.name for r in reached])
    finally:
        for s in sessions:
            s.session.close()
    return reached


def collect_for_diff(design_targets: dict[str, SshTarget], rendering: Rendering, dest: Path, access: Access, *,
                     with_cib: bool = True, mount_point: str = "",
                     unmounted: set[tuple[str, str]] | None = None) -> tuple[Collected, str]:
    """Every file the design renders, from each of its nodes, into dest/NODE/...; the live CIB from the first
    node that gives one. Returns the directory (as adoption reads it) and where the CIB came from.

    A file on the replicated filesystem (under ``mount_point``: the test page) is not read on a node where that
    filesystem is not mounted: it is added to ``unmounted`` as (node, path). It is on the node that runs the
    service; "missing" would be untrue, and whatever the bare directory holds is not its copy."""
    cib_from = ""
    sessions: list[Node] = []
    dirs: list[Path] = []
    try:
        for node, t in design_targets.items():
            s = _open(t, access)
            sessions.append(s)
            name = node_name(s)
            if name != node:
                raise InputError(f"{t.describe()} answers as {name}, not as {node}: the preset's ssh_host of {node} "
                                 "reaches another machine")
            node_dir = dest / node
            node_dir.mkdir(mode=0o700)
            dirs.append(node_dir)
            mounted: bool | None = None  # asked once, and only when a file lives under the mount point
            for f in rendering.for_node(node):
                if _on(f.path, mount_point) and unmounted is not None:
                    if mounted is None:
                        mounted = _mounted(s, mount_point)
                    if not mounted:
                        # what the path shows is the directory under the mount point (Debian's default
                        # index.html, say), not the replicated filesystem: not this node's copy
                        unmounted.add((node, f.path))
                        continue
                if f.whole_secret:
                    out = _run(s, presence_script(f.path, s.root), f"checking {f.path}")
                    if "HW-PRESENT" in out:
                        _write(node_dir, f.path, b"")  # presence only: the secret is never read
                else:
                    read_into(s, f.path, node_dir)
        if with_cib:
            cib_from = _cib_from_any(sessions, dirs)
    finally:
        for s in sessions:
            s.session.close()
    # one directory per design node, even one with none of the files (a node never built: every file missing)
    return Collected(dest, tuple(dirs)), cib_from


def _on(path: str, mount_point: str) -> bool:
    return bool(mount_point) and path.startswith(mount_point.rstrip("/") + "/")


def _mounted(node: Node, mount_point: str) -> bool:
    """Whether a filesystem is mounted at ``mount_point`` on the node (/proc/mounts: field 2)."""
    prog = '$2 == m { f = 1 } END { print (f ? "HW-MOUNTED" : "HW-NOT-MOUNTED") }'
    out = _run(node, f"awk -v m={q(mount_point.rstrip('/') or '/')} {q(prog)} /proc/mounts", "reading /proc/mounts")
    return "HW-MOUNTED" in out


def diff_nodes(design: Design, rendering: Rendering, access: Access, *, with_cib: bool = True) -> NodeDiff:
    """``hawizard diff`` against the design's nodes over SSH: what the command line prints and the wizard's
    review shows (hawizard/adopt/nodediff.py compares; this reads the nodes)."""
    targets = {n.name: target_for(n) for n in design.nodes}
    unmounted: set[tuple[str, str]] = set()
    with private_dir() as tmp:
        col, cib_from = collect_for_diff(targets, rendering, tmp, access, with_cib=with_cib,
                                         mount_point=design.service.mount_point, unmounted=unmounted)
        return nodediff.diff_collected(design, rendering, col, with_cib=with_cib, cib_label=cib_from,
                                       elsewhere=unmounted)
