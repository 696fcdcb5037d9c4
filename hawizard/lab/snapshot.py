"""Snapshots of the lab's disks: boot later scenarios from a state that took minutes to reach.

Why: installing the cluster packages under software emulation takes four to seven minutes, and
only one scenario tests installing. A snapshot taken after that step lets the others start from
it in seconds.

How, without copying gigabytes: the nodes must be stopped; each node's root overlay is *moved*
into the snapshot (it becomes read-only from then on) and the node gets a new, empty overlay
on top of it, so it goes on exactly where it was. A lab booted from the snapshot gets new
overlays over the same read-only files. The small disks (DRBD backing disks, the shared SBD
disk) are copied, sparse. The snapshot records the image it was made from: a rebuilt image
makes it unusable, and it says so.

``save_command`` and ``list_command`` are ``hawizard lab snapshot [NAME]``; ``restore`` is
what ``hawizard lab up --from-snapshot`` does (control.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, InputError, OperationFailed
from hawizard.lab import vm
from hawizard.lab.layout import LabNode
from hawizard.lab.paths import LabPaths
from hawizard.lab.state import Out, locked, nodes_of, print_line, require_state

MANIFEST = "snapshot.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,40}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(f"snapshot name {name!r}: use lower-case letters, digits, '.', '_' and '-' "
                         "(at most 41 characters)")
    return name


def snapshot_dir(paths: LabPaths, name: str) -> Path:
    return paths.snapshots / check_name(name)


def names(paths: LabPaths) -> list[str]:
    if not paths.snapshots.is_dir():
        return []
    return sorted(d.name for d in paths.snapshots.iterdir() if (d / MANIFEST).is_file())


def _overlay_on(backing: Path, overlay: Path, backing_format: str) -> None:
    overlay.unlink(missing_ok=True)
    result = subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(backing), "-F", backing_format, str(overlay)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise OperationFailed(f"qemu-img could not create {overlay}: {result.stderr.strip()}")


def _copy_sparse(src: Path, dst: Path) -> None:
    result = subprocess.run(["cp", "--sparse=always", str(src), str(dst)], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise OperationFailed(f"cannot copy {src} to {dst}: {result.stderr.strip()}")


def save(paths: LabPaths, state: dict, nodes: Sequence[LabNode], name: str) -> Path:
    """Freeze the stopped nodes' disks as snapshot ``name``; the nodes keep running from it later."""
    target = snapshot_dir(paths, name)
    if target.exists():
        raise InputError(f"a snapshot named {name!r} exists already ({target}); choose another name")
    running = [n.name for n in nodes if vm.running_pid(vm.NodeFiles(paths.node_dir(n.name))) is not None]
    if running:
        raise EnvironmentProblem(f"{', '.join(running)} still running: a snapshot needs stopped nodes "
                                 "(hawizard lab down, then snapshot, then start them again)")
    tmp = target.with_name(f".{name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    paths.ensure(tmp)
    moved: list[tuple[Path, Path]] = []
    try:
        for node in nodes:
            files = vm.NodeFiles(paths.node_dir(node.name))
            if not files.overlay.is_file():
                raise EnvironmentProblem(f"{node.name} has no disks to snapshot")
            _copy_sparse(files.disk, tmp / f"{node.name}-drbd.img")
        if paths.sbd_disk.is_file():
            _copy_sparse(paths.sbd_disk, tmp / "sbd.img")
        manifest = {"name": name, "image": state["image"], "machine_ids": state["machine_ids"],
                    "disk_mib": state["disk_mib"], "nodes": [n.name for n in nodes]}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        tmp.rename(target)
        # from here the overlays belong to the snapshot; each node continues on a new layer over it
        for node in nodes:
            files = vm.NodeFiles(paths.node_dir(node.name))
            frozen = target / f"{node.name}-root.qcow2"
            files.overlay.rename(frozen)
            moved.append((frozen, files.overlay))
            frozen.chmod(0o444)
            _overlay_on(frozen, files.overlay, "qcow2")
    except BaseException:
        for frozen, overlay in moved:  # put the node's own disk back as it was
            if not overlay.exists() or overlay.stat().st_size < frozen.stat().st_size:
                frozen.chmod(0o644)
                frozen.replace(overlay)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def restore(paths: LabPaths, state: dict, nodes: Sequence[LabNode], name: str, image) -> None:
    """New node disks over snapshot ``name`` (the nodes must be stopped; ``state`` is updated)."""
    source = snapshot_dir(paths, name)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError):
        known = ", ".join(names(paths)) or "none"
        raise InputError(f"no snapshot named {name!r} in {paths.snapshots} (snapshots: {known})") from None
    if manifest.get("image") != {"hash": image.manifest["recipe_hash"], "build_id": image.build_id}:
        raise EnvironmentProblem(f"snapshot {name!r} was taken on another build of the lab image; "
                                 "it cannot be used with this one")
    missing = [n.name for n in nodes if n.name not in manifest.get("nodes", [])]
    if missing:
        raise InputError(f"snapshot {name!r} has no disks for {', '.join(missing)}")
    for node in nodes:
        files = vm.NodeFiles(paths.node_dir(node.name))
        if vm.running_pid(files) is not None:
            raise OperationFailed(f"{node.name} is running; stop it before its disks are replaced")
        if files.dir.exists():
            shutil.rmtree(files.dir)
        files.dir.mkdir(parents=True)
        _overlay_on(source / f"{node.name}-root.qcow2", files.overlay, "qcow2")
        _copy_sparse(source / f"{node.name}-drbd.img", files.disk)
        state["machine_ids"][node.name] = manifest["machine_ids"][node.name]
        state["disk_mib"][node.name] = manifest["disk_mib"][node.name]
    paths.sbd_disk.unlink(missing_ok=True)
    if (source / "sbd.img").is_file():
        _copy_sparse(source / "sbd.img", paths.sbd_disk)


# -- the commands -------------------------------------------------------------------------------


def save_command(paths: LabPaths, name: str, out: Out = print_line) -> Path:
    """Save the stopped nodes' disks as ``name``; the nodes stay as they were."""
    state = require_state(paths)
    with locked(paths):
        target = save(paths, state, nodes_of(state), name)
    out(f"snapshot {name!r} saved in {target}; boot a lab from it with: hawizard lab up --from-snapshot {name}")
    return target


def list_command(paths: LabPaths, out: Out = print_line) -> list[str]:
    found = names(paths)
    out("\n".join(found) if found else f"no snapshots in {paths.snapshots}")
    return found
