"""The DRBD configuration (as drbdadm dumped it), read into the design's [drbd] and each node's disk and address.

Options hawizard writes (hawizard/render/templates/*/global_common.conf.j2, resource.res.j2) are
carried; the crm fence-peer handlers are implied by a fencing policy; a shared secret is never
copied (shared_secret_ref = 'generate' keeps the one on the first node). Every other option is
listed as not carried.
"""

from __future__ import annotations

from hawizard.adopt import drbd
from hawizard.adopt.cib_map import NotActiveStandby
from hawizard.adopt.findings import CHANGED, DEFAULTED, DROPPED, GUESSED, SECRET, Findings
from hawizard.common.errors import InputError
from hawizard.design.model import Design, Drbd


def apply(cfg: drbd.DrbdConfig, d: Design, f: Findings, where: str, names: list[str]) -> None:
    dd = d.drbd
    res = [r for r in cfg.resources if r.name == dd.resource]
    if not res:
        raise InputError(f"{where}: no DRBD resource '{dd.resource}' (the CIB's drbd_resource); the files define "
                         f"{', '.join(r.name for r in cfg.resources) or 'none'}")
    r = res[0]
    for other in cfg.resources:
        if other is not r:
            f.add(f"DRBD resource {other.name}", where, DROPPED, "hawizard builds one replicated disk; a re-apply "
                  "leaves its .res file alone but it is not in the design")
    hosts = {h.name: h for h in r.hosts}
    missing = [n for n in names if n not in hosts]
    if missing:
        raise InputError(f"{where}: DRBD resource {r.name} has no 'on {missing[0]}' section (the membership's "
                         f"nodes are {', '.join(names)}; DRBD's are {', '.join(hosts)})")
    first, second = hosts[names[0]], hosts[names[1]]
    if first.device != dd.device:
        raise NotActiveStandby(
            f"{where}: the Filesystem resource mounts {dd.device or '(no device)'}, not the device of DRBD "
            f"resource {r.name} ({first.device}): the service's data is not on the replicated disk")
    dd.device, dd.meta_disk, dd.port = first.device, first.meta_disk or "internal", first.port or dd.port
    for h in (first, second):
        if h.device != first.device or h.port != first.port or h.meta_disk != first.meta_disk:
            f.add(f"DRBD {r.name} on {h.name}: device/port/meta-disk", where, CHANGED,
                  f"differs from {first.name}; the preset has one: {dd.device}, port {dd.port}, {dd.meta_disk}")
    for node, h in zip(d.nodes, (first, second), strict=True):
        node.backing_disk = h.disk
        node.replication_address = h.address
        ics = [ic for ic in node.interconnects if ic.address.split("/")[0] == h.address]
        if not ics:
            if node.interconnects:
                old = node.interconnects[0].address
                node.interconnects[0].address = f"{h.address}/{old.split('/')[1] if '/' in old else 24}"
                f.add(f"{node.name}: interconnect of the DRBD address {h.address}", where, GUESSED,
                      f"taken as the first link ({node.interconnects[0].nic})")
    sec = {k: dict(v) for k, v in cfg.common.items()}
    for k, v in r.options.items():
        sec.setdefault(k, {}).update(v)
    net, disk, handlers = sec.pop("net", {}), sec.pop("disk", {}), sec.pop("handlers", {})
    syncer = sec.pop("syncer", {})
    _quorum(sec.get("options", {}), dd, f, where)
    dd.protocol = net.pop("protocol", "C")
    rate = disk.pop("resync-rate", syncer.pop("rate", ""))
    if rate:
        dd.resync_rate = rate.upper() if rate[-1:].lower() in "kmg" else rate
        # hawizard writes resync_rate as c-max-rate too where the dynamic resync controller is on by default
        # (8.4, 9: there c-max-rate is the real cap): the same value is that rendering, not a setting of its own
        if disk.get("c-max-rate", "").upper() == rate.upper():
            disk.pop("c-max-rate")
    else:
        f.add("DRBD resync-rate", where, DEFAULTED, f"not set (DRBD's own default applies); the preset says "
              f"{dd.resync_rate}, which a re-apply writes")
    # the dynamic resync controller's own keys (drbd.conf(5), 8.4 and 9); unset: -1 / "" in the model
    if "c-max-rate" in disk:
        dd.c_max_rate = disk.pop("c-max-rate").upper()
    if "c-min-rate" in disk:
        dd.c_min_rate = disk.pop("c-min-rate").upper()
    for key, attr in (("c-plan-ahead", "c_plan_ahead"), ("c-fill-target", "c_fill_target")):
        if disk.get(key, "").isdigit():
            setattr(dd, attr, int(disk.pop(key)))
    dd.on_io_error = disk.pop("on-io-error", "unset")
    dd.fencing = disk.pop("fencing", net.pop("fencing", "dont-care"))
    for k in ("after-sb-0pri", "after-sb-1pri", "after-sb-2pri"):
        setattr(dd, k.replace("-", "_"), net.pop(k, "disconnect"))
    dd.local_io_error_handler = handlers.pop("local-io-error", "")
    hb = {"fence-peer": "/usr/lib/drbd/crm-fence-peer", "after-resync-target": "/usr/lib/drbd/crm-unfence-peer",
          "unfence-peer": "/usr/lib/drbd/crm-unfence-peer"}
    for k, prefix in hb.items():
        v = handlers.get(k, "")
        if v.startswith(prefix) and dd.fencing != "dont-care":
            handlers.pop(k)
    alg = net.pop("cram-hmac-alg", "")
    if r.has_secret:
        dd.shared_secret_ref = "generate"
        f.add(f"DRBD {r.name} shared-secret", where, SECRET, "not copied; shared_secret_ref = 'generate' keeps the "
              f"secret already on the first node at apply time (cram-hmac-alg {alg or 'not set'})")
    if cfg.usage_count is not None:
        dd.usage_count = cfg.usage_count
    else:
        f.add("DRBD global usage-count", where, DEFAULTED, "not set; the preset says no")
    for section, opts in (("net", net), ("disk", disk), ("handlers", handlers), ("syncer", syncer), *sec.items()):
        for k, v in opts.items():
            f.add(f"DRBD {section} {k} {v}", where, DROPPED, "a re-apply writes the DRBD files without it")
    for e in cfg.extras:
        f.add(f"DRBD {e}", where, DROPPED, "a re-apply writes the DRBD files without it")


def _quorum(options: dict[str, str], dd: Drbd, f: Findings, where: str) -> None:
    """DRBD 9's quorum (drbd.conf(5) for 9, options section) into drbd.quorum and on_no_quorum; hawizard
    writes on-no-data-accessible with on-no-quorum's value, so that one is carried when they agree. A
    numeric quorum is reported (the model has off, majority and all) and taken as majority."""
    quorum = options.pop("quorum", "off")
    if quorum not in ("off", "majority", "all"):
        f.add(f"DRBD options quorum {quorum}", where, CHANGED, "a number of nodes: the preset says majority, "
              "which a re-apply writes")
        quorum = "majority"
    dd.quorum = quorum
    on_no = options.pop("on-no-quorum", "suspend-io")
    dd.on_no_quorum = on_no if on_no in ("suspend-io", "io-error") else dd.on_no_quorum
    if quorum != "off" and options.get("on-no-data-accessible") == dd.on_no_quorum:
        options.pop("on-no-data-accessible")

