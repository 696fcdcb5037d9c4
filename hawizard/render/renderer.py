"""Render a design into the exact files each node gets, from one jinja2 template set per stack.

A rendered file knows its path, mode, owner and the nodes it goes to. Secrets never enter a
rendering: a template asks for one with ``secret(name, quoting)``, the renderer records where
it stands (a ``SecretSlot``) and writes a placeholder (``@@SECRET:name@@``) there; the runner
fills the recorded slots at apply time, and a preview shows them as text that says where the
secret will come from.

The slots, not the text, decide where a secret goes: the placeholder text is for people and
for the file's hash only. A value from a preset that happens to read ``@@SECRET:name@@`` (the
field checks refuse it anyway) stays that literal text, so no value can name a secret. While a
template renders, ``secret()`` returns a marker holding a random nonce of this rendering, which
no value can contain; the markers are then turned into slots.
"""

from __future__ import annotations

import re
import secrets as pysecrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2
import markupsafe

from hawizard.common.errors import OperationFailed
from hawizard.design import agent_timeouts, links, stacks, timing
from hawizard.design.fieldcheck import drbd_minor
from hawizard.design.model import Design
from hawizard.render.fencing import fencing_of

# The placeholder as shown in a rendered file's content (never searched for secrets to fill).
SECRET_RE = re.compile(r"@@SECRET:([a-z0-9-]+)(?::(sh|crm|drbd))?@@")
QUOTINGS = ("", "sh", "crm", "drbd")  # as is | a shell word | a crm shell value | a DRBD string
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
class SecretSlot:
    """Where the renderer put a secret: the offsets of its placeholder in the content, its quoting."""

    start: int
    end: int
    name: str
    quoting: str = ""  # one of QUOTINGS


def placeholder(name: str, quoting: str = "") -> str:
    return f"@@SECRET:{name}{':' + quoting if quoting else ''}@@"


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
    secrets: tuple[str, ...] = field(default=())  # the names of the slots, decided by the renderer
    slots: tuple[SecretSlot, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.secrets and not self.slots:
            # a file made by hand (tests): the placeholders of the secrets it declares, and no others
            slots = tuple(SecretSlot(m.start(), m.end(), m.group(1), m.group(2) or "")
                          for m in SECRET_RE.finditer(self.content) if m.group(1) in self.secrets)
            object.__setattr__(self, "slots", slots)

    def _fill(self, fill: Callable[[SecretSlot], str]) -> str:
        out, pos = [], 0
        for slot in self.slots:
            out += [self.content[pos:slot.start], fill(slot)]
            pos = slot.end
        out.append(self.content[pos:])
        return "".join(out)

    def preview(self, secrets: dict[str, SecretSpec] | None = None) -> str:
        """The content with every secret slot replaced by a note (never a secret)."""
        def note(slot: SecretSlot) -> str:
            spec = (secrets or {}).get(slot.name)
            if spec and spec.ref:
                return f"«secret {slot.name}: read from {spec.ref} at apply time»"
            return f"«secret {slot.name}: generated at apply time»"
        return self._fill(note)

    def with_secrets(self, values: dict[str, str]) -> str:
        """The content with real secrets, quoted for where each slot stands (apply time only).

        Only the slots are filled: text elsewhere that looks like a placeholder stays as it is,
        and names in ``values`` that the file has no slot for are ignored.
        """
        def fill(slot: SecretSlot) -> str:
            value = values.get(slot.name)
            if value is None:
                raise OperationFailed(f"{self.path}: the secret {slot.name} has no text value to write here")
            if slot.quoting == "sh":
                return shlex.quote(value)
            if slot.quoting == "crm":
                return _crm_value(value)
            if slot.quoting == "drbd":
                return _drbd_string(value)
            return value
        return self._fill(fill)

    @property
    def whole_secret(self) -> str:
        """The secret's name if the file is that one secret and nothing else (written as raw bytes), else ''."""
        if len(self.slots) == 1 and (self.slots[0].start, self.slots[0].end) == (0, len(self.content)):
            return self.slots[0].name
        return ""

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
        loader=jinja2.PackageLoader("hawizard.render", "templates"),
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


def index_page_line(design: Design) -> str:
    """The line of index.html that carries the page text, exactly as it is written (HTML-escaped).

    The rehearsal and the verify step look for this whole line in the page served through the
    VIP, so the check looks for what was written, and an empty text would still be looked for as
    the line hawizard wrote (the field check refuses an empty text anyway).
    """
    return f"<body><p>{markupsafe.escape(design.service.index_page)}</p></body>"


def _context(design: Design, stack: stacks.Stack) -> dict:
    a, b = design.nodes
    same_disk = a.backing_disk == b.backing_disk
    fencing = fencing_of(design, stack)
    oplists = {agent: _operations(design, stack, agent, fencing.stop_on_fail) for agent in timing.AGENTS}
    return {
        "d": design, "stack": stack, "nodes": design.nodes, "a": a, "b": b,
        "same_disk": same_disk, "minor": drbd_minor(design.drbd.device),
        "fencing": fencing, "state_dir": STATE_DIR, "oplists": oplists,
        "drbd_secret": bool(design.drbd.shared_secret_ref),
        "hb_secret": design.heartbeat.auth != "crc",
        "page_line": index_page_line(design),
        "knet_priorities": links.knet_priorities(design),
    }


def _operations(design: Design, stack: stacks.Stack, agent: str, stop_on_fail: str = "") -> list[str]:
    """The operations of one resource as 'name interval=... role=... timeout=... on-fail=...' words, in order;
    an operation carries ``on-fail`` when cluster.on_fail sets it, and a stop also when the design says what
    a failed stop does (answers.switchover_failure; an explicit cluster.on_fail.stop wins)."""
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
    of = c.on_fail
    mt = timing.rendered_timeout(design, agent, "monitor", stack)
    for interval, role in monitors:
        words = ["monitor", f"interval={interval}s"]
        if role:
            words.append(f"role={role}")
        if mt is not None:
            words.append(f"timeout={mt}s")
        # the promoted DRBD's monitor has its own on-fail (demote is allowed there only), else the monitors'
        on_fail = of.promoted_monitor if role == stack.promoted and of.promoted_monitor != "default" else of.monitor
        if on_fail != "default":
            words.append(f"on-fail={on_fail}")
        out.append(" ".join(words))
    for op in agent_timeouts.operations(agent):
        if op == "monitor":
            continue
        t = timing.rendered_timeout(design, agent, op, stack)
        words = [op] + ([f"timeout={t}s"] if t is not None else [])
        on_fail = getattr(of, op, "default")  # notify has no key: Pacemaker's default
        if op == "stop" and on_fail == "default":
            on_fail = stop_on_fail or "default"
        if on_fail != "default":
            words.append(f"on-fail={on_fail}")
        if len(words) > 1:
            out.append(" ".join(words))
    return out


def _secrets(design: Design, stack: stacks.Stack) -> dict[str, SecretSpec]:
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
    if design.fencing.method == "agent":
        for n in design.nodes:
            if n.fence_agent:
                out[f"fence-{n.name}"] = SecretSpec(f"fence-{n.name}", n.fence_password_ref, "ref-only",
                                                    f"fence device password of {n.name}")
    return out


class _SecretMarkers:
    """``secret(name, quoting)`` for the templates, and the turning of its markers into slots.

    A marker holds a random nonce made for this one rendering and the number of the request: no
    value in the design can contain it, so every slot found is one a template asked for.
    """

    def __init__(self, specs: dict[str, SecretSpec]):
        self.specs = specs
        self._asked: list[tuple[str, str]] = []
        self._prefix = f"\x00{pysecrets.token_hex(16)}:"
        self._re = re.compile(re.escape(self._prefix) + r"(\d+)\x00")

    def __call__(self, name: str, quoting: str = "") -> str:
        if name not in self.specs or quoting not in QUOTINGS:  # a template bug, not an input error
            raise ValueError(f"template asks for secret {name!r} ({quoting!r}), which this design does not have")
        self._asked.append((name, quoting))
        return f"{self._prefix}{len(self._asked) - 1}\x00"

    def slots(self, raw: str) -> tuple[str, tuple[SecretSlot, ...]]:
        """The content with each marker replaced by its placeholder, and the slots where they stand."""
        out: list[str] = []
        slots: list[SecretSlot] = []
        pos = length = 0
        for m in self._re.finditer(raw):
            name, quoting = self._asked[int(m.group(1))]
            literal, shown = raw[pos:m.start()], placeholder(name, quoting)
            out += [literal, shown]
            length += len(literal)
            slots.append(SecretSlot(length, length + len(shown), name, quoting))
            length += len(shown)
            pos = m.end()
        out.append(raw[pos:])
        content = "".join(out)
        if self._prefix in content:  # a marker a filter changed: it would be written as it is
            raise ValueError("a secret marker was changed by a template filter")
        return content, tuple(slots)


def render(design: Design, stack: stacks.Stack | None = None) -> Rendering:
    """Every file hawizard writes for this design, in the order the plan writes them.

    ``stack`` is the design's stack when the caller has it (it is looked up otherwise)."""
    stack = stack or stacks.get(design.stack)
    env = _env()
    specs = _secrets(design, stack)
    markers = _SecretMarkers(specs)
    ctx = {**_context(design, stack), "secret": markers}
    both = tuple(design.node_names)
    files: list[RenderedFile] = []

    def add(file_id: str, template: str, path: str, mode: int, nodes: tuple[str, ...], description: str,
            owner: str = "root", group: str = "root") -> None:
        # a bare name is looked up in the stack's template directories; "dir/name" is taken as it is
        raw = env.select_template([template] if "/" in template else stack.template(template)).render(**ctx)
        content, slots = markers.slots(raw)
        files.append(RenderedFile(file_id, path, content, mode, owner, group, nodes, description,
                                  tuple(sorted({s.name for s in slots})), slots))

    if stack.membership == "heartbeat":
        add("ha-cf", "ha.cf.j2", "/etc/ha.d/ha.cf", 0o644, both, "Heartbeat: nodes, links, timing")
        add("authkeys", "authkeys.j2", "/etc/ha.d/authkeys", 0o600, both,
            "Heartbeat: authentication of cluster messages (mode 0600 or Heartbeat refuses it)")
    else:
        add("corosync-conf", "corosync.conf.j2", "/etc/corosync/corosync.conf", 0o644, both,
            "Corosync: nodes, knet links, crypto, two-node quorum")
        key = placeholder("corosync-authkey")
        files.append(RenderedFile("corosync-authkey", "/etc/corosync/authkey", key, 0o400, "root", "root", both,
                                  "Corosync: the key that encrypts cluster traffic", ("corosync-authkey",),
                                  (SecretSlot(0, len(key), "corosync-authkey"),)))
    if stack.drbd_main_conf:
        add("drbd-conf", "drbd.conf.j2", "/etc/drbd.conf", 0o644, both,
            "DRBD: the main file, which includes /etc/drbd.d/")
    add("drbd-global", "global_common.conf.j2", "/etc/drbd.d/global_common.conf",
        0o600 if ctx["drbd_secret"] else 0o644, both, "DRBD: policies common to all resources")
    add("drbd-resource", "resource.res.j2", f"/etc/drbd.d/{design.drbd.resource}.res",
        0o600 if ctx["drbd_secret"] else 0o644, both, f"DRBD: resource {design.drbd.resource}")
    if design.fencing.method == "sbd" and stack.sbd_config:
        add("sbd-config", "_shared/sbd.j2", stack.sbd_config, 0o644, both,
            "sbd: the shared disk, the watchdog, Pacemaker integration")
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
    used = {name for f in files for name in f.secrets}
    # only the secrets a file receives are resolved at apply time (a fence agent without a password
    # reference gets no password, and none is asked for)
    return Rendering(tuple(files), {name: spec for name, spec in specs.items() if name in used})
