"""Render a design into the exact files each node gets, from one jinja2 template set per stack.

A rendered file knows its path, mode, owner and the nodes it goes to. Secrets never enter a
rendering: the template writes a placeholder (``@@SECRET:name@@``) that the runner fills at
apply time, and a preview shows it as text that says where the secret will come from.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2

from . import stacks, timing
from .fieldcheck import drbd_minor
from .model import Design

SECRET_RE = re.compile(r"@@SECRET:([a-z0-9-]+)(?::(sh|crm))?@@")
STATE_DIR = "/var/lib/hawizard"  # on the nodes: the cluster configuration hawizard loads


@dataclass(frozen=True)
class SecretSpec:
    """A secret the runner must supply: generated, or read from a reference, at apply time."""

    name: str
    ref: str  # "" = generate; env:NAME; file:/path
    kind: str  # hex | alnum | bytes | ref-only
    description: str
    reuse_path: str = ""  # a node file that may already hold it (reused so a re-run changes nothing)
    reuse_pattern: str = ""  # regex whose group 1 is the secret in that file; "" = the whole file


@dataclass(frozen=True)
class RenderedFile:
    id: str  # stable name used by the plan, e.g. "drbd-resource"
    path: str
    content: str
    mode: int
    owner: str = "root"
    group: str = "root"
    nodes: tuple[str, ...] = ()
    description: str = ""
    secrets: tuple[str, ...] = field(default=())

    def preview(self, secrets: dict[str, SecretSpec] | None = None) -> str:
        """The content with every secret placeholder replaced by a note (never a secret)."""
        def note(m: re.Match[str]) -> str:
            spec = (secrets or {}).get(m.group(1))
            if spec and spec.ref:
                return f"«secret {m.group(1)}: read from {spec.ref} at apply time»"
            return f"«secret {m.group(1)}: generated at apply time»"
        return SECRET_RE.sub(note, self.content)

    def with_secrets(self, values: dict[str, str]) -> str:
        """The content with real secrets, quoted for where each placeholder stands (apply time only)."""
        def fill(m: re.Match[str]) -> str:
            value = values[m.group(1)]
            if m.group(2) == "sh":
                return shlex.quote(value)
            if m.group(2) == "crm":
                return _crm_value(value)
            return value
        return SECRET_RE.sub(fill, self.content)

    @property
    def mode_str(self) -> str:
        return f"{self.mode:04o}"


@dataclass(frozen=True)
class Rendering:
    files: tuple[RenderedFile, ...]
    secrets: dict[str, SecretSpec]

    def get(self, file_id: str) -> RenderedFile:
        for f in self.files:
            if f.id == file_id:
                return f
        raise KeyError(file_id)

    def for_node(self, node: str) -> list[RenderedFile]:
        return [f for f in self.files if node in f.nodes]


def _crm_value(value: object) -> str:
    """A value in crm shell syntax: bare when safe, else double-quoted."""
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9_./:@+-]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _drbd_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hawizard", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["q"] = shlex.quote
    env.filters["crm"] = _crm_value
    env.filters["drbdstr"] = _drbd_string
    return env


def _context(design: Design) -> dict:
    stack = stacks.get(design.stack)
    a, b = design.nodes
    same_disk = a.backing_disk == b.backing_disk
    ops = {agent: {op: timing.rendered_timeout(design, agent, op) for op in timing.AGENT_DEFAULTS[agent]}
           for agent in timing.AGENTS}
    fence = [n for n in design.nodes if n.fence_agent] if design.cluster.stonith_enabled else []
    oplists = {agent: _operations(design, stack, agent) for agent in timing.AGENTS}
    return {
        "d": design, "stack": stack, "nodes": design.nodes, "a": a, "b": b,
        "same_disk": same_disk, "minor": drbd_minor(design.drbd.device), "ops": ops,
        "fence_nodes": fence, "state_dir": STATE_DIR, "oplists": oplists,
        "drbd_secret": bool(design.drbd.shared_secret_ref),
        "hb_secret": design.heartbeat.auth != "crc",
    }


def _operations(design: Design, stack: stacks.Stack, agent: str) -> list[str]:
    """The operations of one resource as 'name interval=... role=... timeout=...' words, in order."""
    c = design.cluster
    monitors: list[tuple[int, str | None]]
    if agent == "drbd":
        if c.drbd_promoted_monitor_interval_s:
            monitors = [(c.drbd_promoted_monitor_interval_s, stack.promoted),
                        (c.drbd_monitor_interval_s, stack.unpromoted)]
        else:
            monitors = [(c.drbd_monitor_interval_s, None)]
    else:
        monitors = [(design.timing.monitor_interval_s, None)]
    out = []
    mt = timing.rendered_timeout(design, agent, "monitor")
    for interval, role in monitors:
        words = ["monitor", f"interval={interval}s"]
        if role:
            words.append(f"role={role}")
        if mt is not None:
            words.append(f"timeout={mt}s")
        out.append(" ".join(words))
    for op in timing.AGENT_DEFAULTS[agent]:
        if op == "monitor":
            continue
        t = timing.rendered_timeout(design, agent, op)
        if t is not None:
            out.append(f"{op} timeout={t}s")
    return out


def _secrets(design: Design) -> dict[str, SecretSpec]:
    stack = stacks.get(design.stack)
    out: dict[str, SecretSpec] = {}
    if stack.membership == "heartbeat" and design.heartbeat.auth != "crc":
        out["heartbeat-authkey"] = SecretSpec("heartbeat-authkey", design.heartbeat.auth_secret_ref, "hex",
                                              "Heartbeat authkeys secret", "/etc/ha.d/authkeys",
                                              r"(?m)^1 (?:sha1|md5) (\S+)$")
    if stack.membership == "corosync":
        out["corosync-authkey"] = SecretSpec("corosync-authkey", design.corosync.authkey_ref, "bytes",
                                             "Corosync authkey (256 random bytes, as corosync-keygen makes)",
                                             "/etc/corosync/authkey")
    ref = design.drbd.shared_secret_ref
    if ref:
        out["drbd-secret"] = SecretSpec("drbd-secret", "" if ref == "generate" else ref, "alnum",
                                        "DRBD peer authentication secret",
                                        f"/etc/drbd.d/{design.drbd.resource}.res", r'shared-secret "([^"]+)"')
    if design.cluster.stonith_enabled:
        for n in design.nodes:
            if n.fence_agent:
                out[f"fence-{n.name}"] = SecretSpec(f"fence-{n.name}", n.fence_password_ref, "ref-only",
                                                    f"fence device password of {n.name}")
    return out


def render(design: Design) -> Rendering:
    """Every file hawizard writes for this design, in the order the plan writes them."""
    stack = stacks.get(design.stack)
    env = _env()
    ctx = _context(design)
    both = tuple(design.node_names)
    files: list[RenderedFile] = []

    def add(file_id: str, template: str, path: str, mode: int, nodes: tuple[str, ...], description: str,
            owner: str = "root", group: str = "root") -> None:
        # a bare name is looked up in the stack's template directories; "dir/name" is taken as it is
        content = env.select_template([template] if "/" in template else stack.template(template)).render(**ctx)
        files.append(RenderedFile(file_id, path, content, mode, owner, group, nodes, description,
                                  tuple(sorted({m.group(1) for m in SECRET_RE.finditer(content)}))))

    if stack.membership == "heartbeat":
        add("ha-cf", "ha.cf.j2", "/etc/ha.d/ha.cf", 0o644, both, "Heartbeat: nodes, links, timing")
        add("authkeys", "authkeys.j2", "/etc/ha.d/authkeys", 0o600, both,
            "Heartbeat: authentication of cluster messages (mode 0600 or Heartbeat refuses it)")
    else:
        add("corosync-conf", "corosync.conf.j2", "/etc/corosync/corosync.conf", 0o644, both,
            "Corosync: nodes, knet links, crypto, two-node quorum")
        files.append(RenderedFile("corosync-authkey", "/etc/corosync/authkey", "@@SECRET:corosync-authkey@@", 0o400,
                                  "root", "root", both, "Corosync: the key that encrypts cluster traffic",
                                  ("corosync-authkey",)))
    if stack.drbd_main_conf:
        add("drbd-conf", "drbd.conf.j2", "/etc/drbd.conf", 0o644, both,
            "DRBD: the main file, which includes /etc/drbd.d/")
    add("drbd-global", "global_common.conf.j2", "/etc/drbd.d/global_common.conf",
        0o600 if ctx["drbd_secret"] else 0o644, both, "DRBD: policies common to all resources")
    add("drbd-resource", "resource.res.j2", f"/etc/drbd.d/{design.drbd.resource}.res",
        0o600 if ctx["drbd_secret"] else 0o644, both, f"DRBD: resource {design.drbd.resource}")
    add("apache-status", "status.conf.j2", stack.apache_status_snippet, 0o644, both,
        "Apache: server-status for the cluster's monitor")
    if stack.config_tool == "crm":
        add("cluster-config", "cluster.crm.j2", f"{STATE_DIR}/cluster.crm", 0o600, both,
            "Cluster configuration, loaded with crm configure load update")
    else:
        add("cluster-config", "cluster.pcs.sh.j2", f"{STATE_DIR}/cluster.pcs.sh", 0o700, both,
            "Cluster configuration as pcs commands against a file CIB, then pushed")
    doc = design.service.document_root.rstrip("/")
    add("index-html", "common/index.html.j2", f"{doc}/index.html", 0o644, (design.primary.name,),
        "Test page on the DRBD filesystem (written during the rehearsal)")
    return Rendering(tuple(files), _secrets(design))
