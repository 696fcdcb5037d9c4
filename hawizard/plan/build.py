"""The step plan: the article's procedure as data, pure and without I/O.

preflight -> install -> hosts -> membership files -> DRBD files -> create-md (both) -> start
DRBD (both at once) -> force primary and initial sync (one node, with progress) -> mkfs ->
Apache + server-status -> rehearsal by hand (mount, VIP, start, check, undo) -> stop DRBD ->
start the cluster -> cluster configuration (properties, resources, constraints in one atomic
load) -> verify -> switch-over test (optional).

Each step says where it runs (each node in turn, both at once, the primary only), what it does
(commands, file writes, polls with a progress reader), how to tell it is already done (a probe,
so a re-run skips it), whether it destroys data (then it needs a typed confirmation), and its
timeout. The runner (hawizard/run/runner.py) executes this; ``hawizard plan`` prints it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from hawizard.common.shellquote import q
from hawizard.design import stacks, timing
from hawizard.design.fieldcheck import parse_rate
from hawizard.design.model import Design
from hawizard.render.renderer import STATE_DIR, Rendering, index_page_line, render

EACH, BOTH, PRIMARY = "each", "both", "primary"
# Clock skew between the nodes: above WARN it is reported, above FATAL the build stops. Emulated
# lab VMs drift by seconds; a minute apart means a broken or absent time service.
CLOCK_SKEW_WARN_S, CLOCK_SKEW_FATAL_S = 5, 60
DONE_DIR = f"{STATE_DIR}/done"
# sed expression deleting a 127.0.1.1 line that names the node (Debian's installer writes one)
LOOPBACK_LINE = r"/^127\.0\.1\.1[[:space:]].*[[:space:]]{name}\([[:space:]]\|$\)/d"


@dataclass(frozen=True)
class Action:
    """One thing a step does on one node."""

    kind: str  # run | write | fact | poll
    command: str = ""  # run, fact, poll
    file_id: str = ""  # write: id of a RenderedFile
    fact: str = ""  # fact: name under which stdout is kept (compared across nodes after preflight)
    reader: str = ""  # poll: proc-drbd | drbd9-events2 | drbd-cstate | crm-mon-xml | crm-mon-text
    until: str = ""  # poll: connected | synced | cluster-up | group-on:<node>
    interval_s: float = 2.0
    timeout_s: float = 0.0  # 0 = the step's timeout
    fatal: bool = True  # a failed check that is not fatal is reported as a warning
    description: str = ""

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in ("", 0.0) or k == "kind"}


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    phase: str
    where: str  # each | both | primary
    actions: dict[str, tuple[Action, ...]]  # node name -> actions, in order
    probe: dict[str, str] = field(default_factory=dict)  # node -> command; exit 0 = already done
    destructive: bool = False
    confirm: str = ""  # phrase the operator types to confirm a destructive step
    timeout_s: int = 300
    progress: str = ""  # drbd-sync | cluster | ""
    optional: bool = False  # runs only when asked for (--only, or the wizard's switch-over test)
    marker: bool = False  # the runner records completion in DONE_DIR/<id> (part of the probe)
    explain: str = ""

    @property
    def nodes(self) -> list[str]:
        return list(self.actions)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "phase": self.phase, "where": self.where,
            "destructive": self.destructive, "confirm": self.confirm, "timeout_s": self.timeout_s,
            "progress": self.progress, "optional": self.optional, "explain": self.explain,
            "probe": dict(self.probe),
            "actions": {n: [a.to_dict() for a in acts] for n, acts in self.actions.items()},
        }


@dataclass(frozen=True)
class Plan:
    design_name: str
    stack: str
    primary: str
    secondary: str
    steps: tuple[Step, ...]
    rendering: Rendering

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def to_dict(self) -> dict:
        return {"design": self.design_name, "stack": self.stack, "primary": self.primary,
                "secondary": self.secondary, "steps": [s.to_dict() for s in self.steps]}


def _run(command: str, description: str = "", fatal: bool = True) -> Action:
    return Action("run", command=command, description=description, fatal=fatal)


def _check(command: str, failure: str, description: str = "", fatal: bool = True) -> Action:
    """A read-only check: ``command`` succeeds, or ``failure`` is printed and the check fails."""
    return Action("run", command=f"{command} || {{ echo {q(failure)} >&2; false; }}",
                  description=description or failure, fatal=fatal)


def _marker_probe(step_id: str, content: str = "") -> str:
    path = q(f"{DONE_DIR}/{step_id}")
    if content:
        return f"test \"$(cat {path} 2>/dev/null)\" = {q(content)}"
    return f"test -f {path}"


def config_hash(rendering: Rendering, file_id: str) -> str:
    return hashlib.sha256(rendering.get(file_id).content.encode()).hexdigest()[:16]


# -- DRBD and cluster commands per dialect --------------------------------------------

def _drbd_cmds(design: Design, stack: stacks.Stack) -> dict[str, str]:
    res = q(design.drbd.resource)
    if stack.drbd == "8.3":
        create_md = f"drbdadm -- --force create-md {res}"
        up = "/etc/init.d/drbd start"  # the article's way; blocks until the peer connects
        down = "/etc/init.d/drbd stop"
    else:
        # 8.4 (drbd-utils 9 hands it to drbdadm-84): no prompt on an empty disk, and preflight made sure
        # it is empty; DRBD 9's drbdadm takes --force to skip its questions.
        create_md = f"drbdadm create-md --force {res}" if stack.drbd == "9" else f"drbdadm create-md {res}"
        up = f"drbdadm up {res}"
        down = f"drbdadm down {res}"
    progress = (f"drbdsetup events2 --now --statistics {res}" if stack.drbd == "9" else "cat /proc/drbd")
    return {
        "create_md": create_md, "up": up, "down": down,
        "force_primary": stack.force_primary.format(res=res),
        "secondary": f"drbdadm secondary {res}",
        "cstate": f"drbdadm cstate {res}",
        "dstate": f"drbdadm dstate {res}",
        "progress": progress,
        "progress_reader": "drbd9-events2" if stack.drbd == "9" else "proc-drbd",
        "has_md": (f"ds=$(drbdadm dstate {res} 2>/dev/null); case \"$ds\" in ''|Unconfigured*|Diskless*) "
                   f"drbdadm dump-md {res} >/dev/null 2>&1 ;; *) true ;; esac"),
        "is_up": (f"cs=$(drbdadm cstate {res} 2>/dev/null); case \"$cs\" in ''|Unconfigured*|StandAlone*) false ;; "
                  "*) true ;; esac"),
        "synced": f"drbdadm dstate {res} 2>/dev/null | grep -q '^UpToDate/UpToDate'",
    }


def crm_mon_command(stack: stacks.Stack) -> tuple[str, str]:
    if stack.pacemaker == "1.0":
        return "crm_mon -1", "crm-mon-text"
    return "crm_mon -1 --output-as=xml", "crm-mon-xml"


# -- the plan --------------------------------------------------------------------------

def build_plan(design: Design, rendering: Rendering | None = None) -> Plan:
    """The ordered steps that build this design. Pure: reads nothing, runs nothing."""
    rendering = rendering or render(design)
    stack = stacks.get(design.stack)
    a, b = design.nodes
    names = design.node_names
    dc = _drbd_cmds(design, stack)
    svc = design.service
    steps: list[Step] = []

    def each(fn) -> dict[str, tuple[Action, ...]]:
        return {n.name: tuple(fn(n)) for n in design.nodes}

    # 1. preflight -----------------------------------------------------------------
    def preflight(n) -> list[Action]:
        acts = [
            _check(f"test \"$(uname -n)\" = {q(n.name)}",
                   f"the hostname (uname -n) is not {n.name}; the cluster knows nodes by that name"),
            _check(f"test -b {q(n.backing_disk)}", f"backing disk {n.backing_disk} is not a block device here"),
            Action("fact", command=f"blockdev --getsize64 {q(n.backing_disk)}", fact="disk_bytes",
                   description=f"size of {n.backing_disk}"),
            _check(f"! grep -q {q('^' + n.backing_disk + ' ')} /proc/mounts",
                   f"{n.backing_disk} is mounted; DRBD needs it unused"),
            Action("fact", command="date +%s", fact="clock", description="clock, compared across the nodes"),
            _check("{ timedatectl show -p NTPSynchronized --value 2>/dev/null | grep -qx yes; } || "
                   "{ command -v ntpstat >/dev/null && ntpstat >/dev/null; } || "
                   "{ command -v chronyc >/dev/null && chronyc -n tracking 2>/dev/null | grep -q 'Normal'; }",
                   "time is not synchronised by NTP on this node; cluster logs and DRBD decisions "
                   "compare times between nodes", fatal=False),
        ]
        if not design.design.reuse_data:
            acts.append(_check(
                f"sig=$(blkid -p -o value -s TYPE {q(n.backing_disk)} 2>/dev/null); "
                "test -z \"$sig\" -o \"$sig\" = drbd",
                f"{n.backing_disk} holds a filesystem or other signature; DRBD would overwrite it. Use an "
                "empty disk, or set design.reuse_data = true to keep its data"))
        for nic, addr in [(n.service_nic, n.service_address)] + [(ic.nic, ic.address) for ic in n.interconnects]:
            acts.append(_check(f"test -d /sys/class/net/{q(nic)}", f"interface {nic} does not exist"))
            acts.append(_check(f"ip -o -4 addr show dev {q(nic)} | grep -q {q(' ' + addr + ' ')}",
                               f"interface {nic} does not carry {addr}"))
        acts.append(_check("modinfo drbd >/dev/null 2>&1 || test -e /proc/drbd",
                           "no DRBD kernel module for the running kernel"))
        acts.append(Action("fact", command="modinfo -F version drbd 2>/dev/null || sed -n '1s/^version: \\([^ ]*\\).*/\\1/p' /proc/drbd",
                           fact="drbd_module", description="DRBD module version"))
        port_free = (f"! (ss -Htln 2>/dev/null || netstat -ltn 2>/dev/null) | "
                     f"grep -q {q(':' + str(design.drbd.port) + ' ')}")
        acts.append(_check(f"{{ command -v drbdadm >/dev/null && {dc['is_up']}; }} || {port_free}",
                           f"TCP port {design.drbd.port} (DRBD replication) is already in use"))
        if stack.membership == "corosync":
            acts.append(_check("systemctl is-active -q corosync 2>/dev/null || "
                               "! (ss -Huln 2>/dev/null | grep -q ':5405 ')",
                               "UDP port 5405 (corosync) is in use by something that is not a running corosync"))
        else:
            acts.append(_check(f"pidof heartbeat >/dev/null 2>&1 || ! (ss -Huln 2>/dev/null || netstat -lun) | "
                               f"grep -q {q(':' + str(design.heartbeat.udpport) + ' ')}",
                               f"UDP port {design.heartbeat.udpport} (heartbeat) is in use"))
        if design.network.manage_hosts is False:
            for m in design.nodes:
                acts.append(_check(f"getent hosts {q(m.name)} | awk '{{print $1}}' | grep -qv '^127\\.'",
                                   f"{m.name} does not resolve to a non-loopback address (the 127.0.1.1 "
                                   "line of /etc/hosts?)"))
        return acts

    steps.append(Step("preflight", "Preflight checks", "preflight", EACH, each(preflight), timeout_s=120,
                      explain="Read-only checks on each node: name, disks (present, unused, equal size), "
                              "interfaces and addresses, time, DRBD module, free ports. Nothing is changed."))

    # 2. install -------------------------------------------------------------------
    packages = list(stack.packages) + fence_packages(design, stack)
    pk = " ".join(q(p) for p in packages)
    if stack.os_family == "debian":
        probe = (f"test \"$(dpkg-query -W -f='${{Status}}\\n' {pk} 2>/dev/null | grep -c 'ok installed')\" "
                 f"-eq {len(packages)}")
    else:
        probe = f"rpm -q {pk} >/dev/null 2>&1"
    install = [_run(c) for c in stack.install_prepare] + [_run(f"{stack.install_command} {pk}")]
    steps.append(Step("install", "Install the cluster packages", "install", BOTH,
                      each(lambda n: install), probe={n: probe for n in names}, timeout_s=1800,
                      explain=f"Installs {', '.join(packages)} on both nodes at once."))

    def post_install(n) -> list[Action]:
        ocf = stack.ocf_root
        agents = ["linbit/drbd", "heartbeat/IPaddr2", "heartbeat/Filesystem"]
        if svc.apache_agent == "ocf:heartbeat:apache":
            agents.append("heartbeat/apache")
        acts = [_check(f"test -x {q(ocf + '/resource.d/' + ag)}", f"resource agent {ag} is missing")
                for ag in agents]
        for tool in ("fuser", "curl"):  # the Filesystem agent needs fuser; the apache agent curl (or wget)
            acts.append(_check(f"command -v {tool} >/dev/null", f"{tool} is missing; the resource agents need it"))
        # the tools the later steps run: better said now than as a cluster that never answers
        for tool in ("crm_mon", "cibadmin", "crm_resource", "crm_verify", stack.config_tool):
            acts.append(_check(f"command -v {tool} >/dev/null",
                               f"{tool} is missing; hawizard needs it to configure and watch the cluster"))
        acts.append(Action("fact", command="drbdadm --version 2>/dev/null | sed -n 's/^DRBDADM_VERSION=//p'",
                           fact="drbd_utils", description="drbd-utils version"))
        want = {"8.3": "8.3.", "8.4": "8.4.", "9": "9."}[stack.drbd]
        acts.append(_check(f"(modinfo -F version drbd 2>/dev/null || sed -n '1s/^version: //p' /proc/drbd) | "
                           f"grep -q {q('^' + want)}",
                           f"the DRBD kernel module is not the {stack.drbd} series this stack is rendered for"))
        if stack.os_family == "debian":
            # Debian starts corosync and pacemaker on install with a one-node placeholder configuration
            # (and a CIB that names 'node1'): stop them until hawizard's own files are in place.
            acts.append(_run("grep -qs 'written by hawizard' /etc/corosync/corosync.conf || { "
                             "systemctl stop pacemaker corosync; "
                             "grep -qs '<primitive' /var/lib/pacemaker/cib/cib.xml || "
                             "rm -f /var/lib/pacemaker/cib/cib*; }",
                             "stop the placeholder cluster Debian starts on install"))
        cluster_up = (stack.service("status", "pacemaker") if stack.init == "systemd"
                      else "/etc/init.d/heartbeat status") + " >/dev/null 2>&1"
        acts.append(_run(f"{cluster_up} || {{ {stack.service('disable', stack.apache_service)} >/dev/null 2>&1; "
                         f"{stack.service('stop', stack.apache_service)} >/dev/null 2>&1; }}; true",
                         "Apache is started by the cluster only (left alone once the cluster runs it)"))
        acts.append(_run(f"{stack.service('disable', stack.drbd_service)} >/dev/null 2>&1; true",
                         "DRBD is started by the cluster only"))
        return acts

    steps.append(Step("post-install", "Check agents and DRBD versions; leave Apache and DRBD to the cluster",
                      "install", EACH, each(post_install), timeout_s=120,
                      explain="The resource agents exist, the DRBD module matches the configuration dialect, and "
                              "Apache and DRBD do not start at boot on their own."))

    # 3. hosts ---------------------------------------------------------------------
    if design.network.manage_hosts:
        def hosts(n) -> list[Action]:
            acts = []
            for m in design.nodes:
                ip = m.interconnects[0].address.split("/")[0]
                line = f"{ip} {m.name}"
                drop = q(LOOPBACK_LINE.format(name=m.name))
                acts.append(_run(f"sed -i.hawizard~ -e {drop} /etc/hosts; "
                                 f"grep -qx {q(line)} /etc/hosts || echo {q(line)} >> /etc/hosts",
                                 f"{m.name} resolves to {ip}"))
            return acts
        probe_h = " && ".join(f"grep -qx {q(m.interconnects[0].address.split('/')[0] + ' ' + m.name)} /etc/hosts"
                              for m in design.nodes)
        probe_h += "".join(f" && ! grep -q {q(LOOPBACK_LINE.format(name=m.name)[1:-2])} /etc/hosts" for m in design.nodes)
        steps.append(Step("hosts", "Name resolution in /etc/hosts", "membership", EACH, each(hosts),
                          probe={n: probe_h for n in names}, timeout_s=30,
                          explain="Both node names resolve to their first interconnect address on both nodes; "
                                  "the 127.0.1.1 line for the node's own name is removed (a backup is kept)."))

    # 4. membership files ------------------------------------------------------------
    mem_files = [f for f in rendering.files if f.id in ("ha-cf", "authkeys", "corosync-conf", "corosync-authkey")]
    steps.append(Step("membership-files", "Membership files" + (" (ha.cf, authkeys)" if stack.membership == "heartbeat"
                                                                 else " (corosync.conf, authkey)"),
                      "membership", EACH,
                      each(lambda n: [Action("write", file_id=f.id, description=f.path) for f in mem_files]),
                      timeout_s=60,
                      explain="Identical files on both nodes; secrets are generated now or read from their reference "
                              "and never shown."))

    # 5. DRBD files ------------------------------------------------------------------
    drbd_files = [f for f in rendering.files if f.id.startswith("drbd-")]
    steps.append(Step("drbd-files", "DRBD configuration", "drbd", EACH,
                      each(lambda n: [Action("write", file_id=f.id, description=f.path) for f in drbd_files]
                           + [_check(f"drbdadm dump {q(design.drbd.resource)} >/dev/null",
                                     "drbdadm does not accept the DRBD configuration")]),
                      timeout_s=60))

    # Once DRBD has been handed to the cluster (the drbd-down marker), the manual DRBD steps are done for
    # good: DRBD may be down, or Secondary on this node, and must not be set up again behind the
    # cluster's back (a resumed run found exactly that).
    handed = _marker_probe("drbd-down")

    def after_handover(probe: str) -> str:
        return f"{handed} || {{ {probe}; }}"

    # 6. create-md -------------------------------------------------------------------
    steps.append(Step("create-md", "Create DRBD metadata", "drbd", BOTH,
                      each(lambda n: [_run(dc["create_md"], f"metadata on {n.backing_disk}")]),
                      probe={n: after_handover(dc["has_md"]) for n in names}, destructive=True,
                      confirm=f"create-md {design.drbd.resource}", timeout_s=120,
                      explain="Writes DRBD metadata at the end of each backing disk; whatever was there is lost."))

    # 7. start DRBD ------------------------------------------------------------------
    steps.append(Step("drbd-up", "Start DRBD on both nodes", "drbd", BOTH,
                      each(lambda n: [_run(dc["up"]),
                                      Action("poll", command=dc["cstate"], reader="drbd-cstate", until="connected",
                                             interval_s=2, timeout_s=120, description="the peers connect")]),
                      probe={n: after_handover(dc["is_up"]) for n in names}, timeout_s=180,
                      explain="Both nodes at once: each waits for its peer."))

    # 8. initial sync ----------------------------------------------------------------
    disk_hint = ""
    try:
        rate = parse_rate(design.drbd.resync_rate)
        disk_hint = f" (at {design.drbd.resync_rate}/s at most: {rate // 1024**2} MiB/s)"
    except ValueError:
        pass
    steps.append(Step("initial-sync", "Force the first primary and run the initial sync", "drbd", PRIMARY,
                      {a.name: (_run(dc["force_primary"], f"{a.name} becomes the sync source"),
                                Action("poll", command=dc["progress"], reader=dc["progress_reader"], until="synced",
                                       interval_s=2, timeout_s=0, description="initial sync" + disk_hint))},
                      probe={a.name: after_handover(dc["synced"])}, destructive=True,
                      confirm=f"overwrite {b.name}", timeout_s=7 * 24 * 3600, progress="drbd-sync",
                      explain=f"{a.name}'s disk becomes the good copy and overwrites {b.name}'s. The sync runs "
                              "until both disks are UpToDate."))

    # 9. mkfs ------------------------------------------------------------------------
    mkfs = {"ext3": "mkfs.ext3 -q", "ext4": "mkfs.ext4 -q", "xfs": "mkfs.xfs -q"}[svc.fstype]
    steps.append(Step("mkfs", f"Make the {svc.fstype} filesystem on {design.drbd.device}", "drbd", PRIMARY,
                      {a.name: (_check(f"drbdadm role {q(design.drbd.resource)} | grep -q '^Primary'",
                                       f"{design.drbd.device} is not Primary here; mkfs only runs on the sync "
                                       "source"),
                                _run(f"{mkfs} {q(design.drbd.device)}"))},
                      probe={a.name: after_handover(f"blkid -p -o value -s TYPE {q(design.drbd.device)} 2>/dev/null | "
                                                    f"grep -qx {q(svc.fstype)}")},
                      destructive=True, confirm=f"mkfs {design.drbd.device}", timeout_s=600,
                      explain="On the primary only; DRBD replicates it."))

    # 10. Apache ---------------------------------------------------------------------
    def apache(n) -> list[Action]:
        acts = [Action("write", file_id="apache-status", description=stack.apache_status_snippet)]
        if stack.apache_enable_snippet:
            acts.append(_run(stack.apache_enable_snippet))
        acts.append(_check(f"{stack.apache_ctl} -t", "Apache does not accept its configuration"))
        return acts
    steps.append(Step("apache", "Apache server-status for the monitor", "service", EACH, each(apache), timeout_s=60))

    # 11. rehearsal ------------------------------------------------------------------
    mp, dev = q(svc.mount_point), q(design.drbd.device)
    vip_cidr = q(f"{svc.vip}/{svc.vip_prefix}")
    label = q(f"{svc.vip_nic}:0")
    # the page's line exactly as index.html holds it (HTML-escaped), as a whole line: the raw text would
    # not be found once escaped ('Tom & Jerry'), and a part of a line could be found in any page
    page = q(index_page_line(design))
    rehearse = (
        _run(f"mkdir -p {mp} && mount {dev} {mp}", "mount the DRBD filesystem"),
        _run(f"ip addr add {vip_cidr} dev {q(svc.vip_nic)} label {label}", "add the VIP"),
        Action("write", file_id="index-html", description="test page"),
        _run(stack.service("start", stack.apache_service), "start Apache"),
        _check(f"curl -fsS --max-time 10 http://{q(svc.vip)}:{svc.port}/ | grep -qxF -e {page}",
               "the test page is not served through the VIP"),
        _run(stack.service("stop", stack.apache_service), "stop Apache"),
        _run(f"umount {mp}", "unmount"),
        _run(f"ip addr del {vip_cidr} dev {q(svc.vip_nic)}", "drop the VIP"),
        _run(dc["secondary"], "demote"),
    )
    steps.append(Step("rehearsal", "Rehearse the service by hand, then undo it", "service", PRIMARY,
                      {a.name: rehearse}, probe={a.name: _marker_probe("rehearsal")}, marker=True, timeout_s=300,
                      explain="The article's manual run: mount, VIP, Apache, fetch the page through the VIP; then "
                              "everything is undone in reverse so the cluster can take over."))
    steps.append(Step("drbd-down", "Stop DRBD on both nodes (the cluster starts it)", "service", BOTH,
                      each(lambda n: [_run(dc["down"])]),
                      probe={n: f"{_marker_probe('drbd-down')} || ! ({dc['is_up']})" for n in names},
                      marker=True, timeout_s=120))

    # 12. start the cluster ----------------------------------------------------------
    mon_cmd, mon_reader = crm_mon_command(stack)
    start_cmds = []
    for s in stack.membership_services:
        start_cmds.append(_run(stack.service("enable", s) + " >/dev/null 2>&1; " + stack.service("start", s)))
    steps.append(Step("cluster-start", "Start the cluster", "cluster", BOTH,
                      each(lambda n: start_cmds + [Action("poll", command=mon_cmd, reader=mon_reader,
                                                           until="nodes-online", interval_s=3, timeout_s=300,
                                                           description="both nodes online")]),
                      probe={n: stack.service("status", stack.membership_services[-1]) + " >/dev/null 2>&1"
                             if stack.init == "systemd" else
                             f"/etc/init.d/{stack.membership_services[-1]} status >/dev/null 2>&1" for n in names},
                      timeout_s=420, progress="cluster"))

    # 13. cluster configuration ------------------------------------------------------
    cfg = rendering.get("cluster-config")
    chash = config_hash(rendering, "cluster-config")
    ids = design.cluster.ids
    colocation_attr = 'id="' + ids.colocation + '"'
    if stack.config_tool == "crm":
        load = [_run(f"crm configure load update {q(cfg.path)}", "load properties, resources, constraints")]
    else:
        cib = q(f"{STATE_DIR}/cluster.cib.xml")
        load = [_run(f"pcs cluster cib {cib}"), _run(f"sh {q(cfg.path)} {cib}"),
                _check(f"crm_verify -x {cib}", "the new cluster configuration does not verify"),
                _run(f"pcs cluster cib-push {cib} --config")]
    steps.append(Step("cluster-config", "Cluster properties, resources and constraints", "cluster", PRIMARY,
                      {a.name: (Action("write", file_id="cluster-config", description=cfg.path), *load)},
                      probe={a.name: f"{_marker_probe('cluster-config', chash)} && "
                                     f"cibadmin -Q -o constraints 2>/dev/null | grep -q {q(colocation_attr)}"},
                      marker=True, timeout_s=300,
                      explain="One atomic update of the cluster configuration (the article enters the same lines "
                              "one by one in crm configure)."))

    # 14. verify ---------------------------------------------------------------------
    # the page is fetched on both nodes: whichever one the cluster chose, the other one is its peer
    fetch = _check(f"curl -fsS --max-time 10 http://{q(svc.vip)}:{svc.port}/ | grep -qxF -e {page}",
                   "the page is not served through the VIP", "the page through the VIP, from this node")
    steps.append(Step("verify", "Verify: cluster state, and the page through the VIP from both nodes", "verify", EACH,
                      {a.name: (Action("poll", command=mon_cmd, reader=mon_reader, until=f"service-up:{ids.group}",
                                       interval_s=3, timeout_s=max(300, design.design.switchover_target_s),
                                       description=f"{ids.drbd_clone} promoted and {ids.group} started"), fetch),
                       b.name: (fetch,)},
                      timeout_s=600, progress="cluster"))

    # 15. switch-over test -----------------------------------------------------------
    g = q(ids.group)

    def moved_to(node: str) -> Action:
        return Action("poll", command=mon_cmd, reader=mon_reader, until=f"group-on:{ids.group}:{node}", interval_s=3,
                      timeout_s=max(300, design.design.switchover_target_s), description=f"{ids.group} runs on {node}")
    tool = f"crm resource {stack.move}" if stack.config_tool == "crm" else "pcs resource move"
    clear = f"crm resource {stack.clear} {g}" if stack.config_tool == "crm" else f"pcs resource clear {g}"

    def move(node: str) -> str:
        # moving to where it already runs is an error for crm_resource: skip that case
        return (f"crm_resource --locate --resource {g} 2>/dev/null | grep -q {q('running on: ' + node)} || "
                f"{tool} {g} {q(node)}")
    steps.append(Step("switchover", f"Switch-over test: {stack.move} to {b.name} and back", "verify", PRIMARY,
                      {a.name: (_run(move(b.name)), moved_to(b.name), _run(clear),
                                _run(move(a.name)), moved_to(a.name), _run(clear))},
                      timeout_s=4 * max(300, design.design.switchover_target_s), optional=True, progress="cluster",
                      explain=f"The article's migrate/unmigrate ({stack.move}/{stack.clear} here): the service moves "
                              "and comes back; the move constraint is always cleared."))
    return Plan(design.name, design.stack, a.name, b.name, tuple(steps), rendering)


def fence_packages(design: Design, stack: stacks.Stack) -> list[str]:
    """Packages that carry the fence agents the design names (crmsh and pcs need their metadata)."""
    agents = sorted({n.fence_agent for n in design.nodes if n.fence_agent}) if design.cluster.stonith_enabled else []
    if not agents:
        return []
    if stack.os_family == "debian":
        return ["fence-agents"]
    if stack.os_family == "el9":
        return [f"fence-agents-{a.removeprefix('fence_')}" for a in agents]
    return ["cman"]  # CentOS 5 ships its fence agents in cman


def cross_node_problems(design: Design, facts: dict[str, dict[str, str]]) -> list[str]:
    """Checks that need both nodes' preflight facts: equal disk sizes, clocks close together."""
    out = []
    a, b = design.node_names
    fa, fb = facts.get(a, {}), facts.get(b, {})
    try:
        da, db = int(fa.get("disk_bytes", "")), int(fb.get("disk_bytes", ""))
        if da != db:
            out.append(f"backing disks differ in size: {a} has {da} bytes, {b} has {db} bytes; DRBD needs the "
                       "same size on both nodes (the larger one's extra space is wasted or the sync fails)")
    except ValueError:
        pass
    try:
        ca, cb = int(fa.get("clock", "")), int(fb.get("clock", ""))
        if abs(ca - cb) > CLOCK_SKEW_FATAL_S:
            out.append(f"the clocks of {a} and {b} differ by {abs(ca - cb)} s; synchronise them (NTP) first")
    except ValueError:
        pass
    return out


def cross_node_warnings(design: Design, facts: dict[str, dict[str, str]]) -> list[str]:
    """What the operator should hear about but that does not stop the build."""
    a, b = design.node_names
    try:
        skew = abs(int(facts.get(a, {}).get("clock", "")) - int(facts.get(b, {}).get("clock", "")))
    except ValueError:
        return []
    if CLOCK_SKEW_WARN_S < skew <= CLOCK_SKEW_FATAL_S:
        return [f"the clocks of {a} and {b} differ by {skew} s: logs of the two nodes will not line up; "
                "synchronise them (NTP)"]
    return []


def estimate_note(design: Design) -> str:
    est = timing.estimate(design)
    return (f"worst-case switch-over: node loss {est.node_loss_s:.0f} s, service failure "
            f"{est.service_failure_s:.0f} s (target {design.design.switchover_target_s} s)")
