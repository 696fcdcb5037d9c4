"""Build the lab's base image once, and find it again.

The image is a raw ext4 disk (the root file system of every node, shared read-only under a
qcow2 overlay per node) plus the guest kernel and a trimmed initramfs for direct kernel boot.
Its recipe is the package lists and the two guest scripts shipped beside this module; their
hash names the image's directory, so the image is rebuilt only when the recipe changes
(or with ``--force``).

A build happens in a temporary directory next to the cache and becomes visible only by one
rename at the very end, after its manifest is written: a killed or failed build leaves no
directory that looks like an image (its leftovers are removed on the next build).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem, OperationFailed
from hawizard.lab import mirror as mirror_mod
from hawizard.lab import repo, tools
from hawizard.lab.chroot import Chroot, log_tail, remove_tree
from hawizard.lab.paths import LabPaths, default_lab_dir, invoking_user

SUITE = "bookworm"
ARCH = "amd64"
RECIPE_VERSION = 1  # bump when the build steps in this module change what the image holds
RECIPE_FILES = ("recipe-base.txt", "recipe-guest.txt", "recipe-cluster.txt", "guest-prepare.sh", "guest-finish.sh")
HEADROOM_MIB = 1536  # free space in the root file system for the cluster packages and logs


def recipe_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def package_list(text: str) -> list[str]:
    """Names from a recipe list: one per line, ``#`` comments, a trailing ``?`` = optional."""
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def recipe_hash(files: dict[str, str] | None = None) -> str:
    """A short hash of everything that decides what the image holds."""
    if files is None:
        files = {name: recipe_text(name) for name in RECIPE_FILES}
    digest = hashlib.sha256(f"hawizard-lab {RECIPE_VERSION} {SUITE} {ARCH}\n".encode())
    for name in sorted(files):
        digest.update(f"--- {name}\n".encode())
        digest.update(files[name].encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Image:
    """A finished image in the cache."""

    dir: Path
    manifest: dict

    @property
    def base(self) -> Path:
        return self.dir / "base.img"

    @property
    def kernel(self) -> Path:
        return self.dir / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.dir / "initrd.img"

    @property
    def build_id(self) -> str:
        return self.manifest["build_id"]


def find_image(paths: LabPaths, hash_: str | None = None) -> Image | None:
    """The finished image for the current recipe, or None."""
    directory = paths.image_dir(hash_ or recipe_hash())
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    image = Image(directory, data)
    if not all(p.is_file() for p in (image.base, image.kernel, image.initrd)):
        return None
    return image


def require_image(paths: LabPaths) -> Image:
    image = find_image(paths)
    if image is None:
        raise EnvironmentProblem(
            f"no lab image for the current recipe in {paths.images}; build it first with: sudo hawizard lab build"
            + ("" if paths.cache == default_lab_dir() / "cache" else " (with the same --dir or $HAWIZARD_LAB_CACHE)")
        )
    return image


class Progress:
    """Phase lines with the seconds elapsed since the build began."""

    def __init__(self, out: Callable[[str], None] = print):
        self.start = time.monotonic()
        self.out = out
        self.phases: dict[str, float] = {}

    def phase(self, name: str, detail: str = "") -> _Phase:
        return _Phase(self, name, detail)

    def line(self, text: str) -> None:
        self.out(f"[{time.monotonic() - self.start:6.1f}s] {text}")


class _Phase:
    def __init__(self, progress: Progress, name: str, detail: str):
        self.progress, self.name, self.detail = progress, name, detail

    def __enter__(self) -> _Phase:
        self.t0 = time.monotonic()
        self.progress.line(f"{self.name}: {self.detail}..." if self.detail else f"{self.name}...")
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        took = time.monotonic() - self.t0
        self.progress.phases[self.name] = round(took, 1)
        if exc_type is None:
            self.progress.line(f"{self.name}: done in {took:.1f}s")
        else:
            self.progress.line(f"{self.name}: FAILED after {took:.1f}s")


def _run_logged(argv: list[str], log_path: Path, what: str, env: dict[str, str] | None = None) -> None:
    with open(log_path, "a") as log:
        log.write(f"\n### {' '.join(argv)}\n")
        log.flush()
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        raise OperationFailed(f"{what} failed (exit {result.returncode}):\n{log_tail(log_path)}")


def _tree_mib(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                pass
    return total // (1 << 20)


def _clean_leftovers(paths: LabPaths) -> None:
    """Remove temporary trees of builds that died (no other build holds the lock now)."""
    for leftover in paths.images.glob(".build-*"):
        remove_tree(leftover)


def _prune_other_images(paths: LabPaths, keep: str) -> None:
    for other in paths.images.iterdir():
        if other.is_dir() and not other.name.startswith(".") and other.name != keep:
            shutil.rmtree(other, ignore_errors=True)


def _hand_back(paths: LabPaths, image_dir: Path) -> None:
    """Under sudo, give the cache in the invoking user's home back to that user."""
    user = invoking_user()
    if user is None:
        return
    home, uid, gid = user
    chain = [p for p in (paths.root, paths.cache, paths.images) if p.is_relative_to(home)]
    if not image_dir.is_relative_to(home):
        return
    for path in chain + [image_dir, *image_dir.iterdir()]:
        os.chown(path, uid, gid, follow_symlinks=False)


def build(paths: LabPaths, force: bool = False, mirror: str | None = None, out: Callable[[str], None] = print) -> Image:
    """Build the image for the current recipe unless it is cached; return it."""
    tools.require(*tools.BUILD_TOOLS)
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            "hawizard lab build needs root (debootstrap, chroot and mount); run it as root. "
            "The other lab commands do not"
        )
    hash_ = recipe_hash()
    paths.ensure(paths.images)
    lock_path = paths.images / ".lock"
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            out(f"another lab build is running in {paths.images}; waiting for it...")
            fcntl.flock(lock, fcntl.LOCK_EX)  # then this one finds the image made
        existing = find_image(paths, hash_)
        if existing is not None and not force:
            out(f"lab image {hash_} is up to date: {existing.dir}")
            return existing
        _clean_leftovers(paths)
        return _build_locked(paths, hash_, mirror, out)


def _build_locked(paths: LabPaths, hash_: str, mirror_override: str | None, out: Callable[[str], None]) -> Image:
    progress = Progress(out)
    mirror, security = mirror_mod.find_mirrors(SUITE)
    if mirror_override:
        mirror, security = mirror_override.rstrip("/"), None
    work = paths.images / f".build-{hash_}-{os.getpid()}"
    log_path = paths.images / f"build-{hash_}.log"
    log_path.write_text(f"hawizard lab build {hash_}, mirror {mirror}\n")
    rootfs = work / "rootfs"
    out(f"building lab image {hash_} (Debian {SUITE}, {ARCH}) from {mirror}; log: {log_path}")
    try:
        with progress.phase("registry", f"checking {mirror}"):
            mirror_mod.check_reachable(mirror, SUITE)
            if security:
                try:
                    mirror_mod.check_reachable(security, f"{SUITE}-security")
                except EnvironmentProblem:
                    progress.line(f"registry: {security} does not answer; building without security updates")
                    security = None
        work.mkdir(parents=True)
        base_pkgs = package_list(recipe_text("recipe-base.txt"))
        with progress.phase("debootstrap", f"{SUITE} minbase with {len(base_pkgs)} extra packages"):
            _run_logged(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--arch={ARCH}",
                    f"--include={','.join(base_pkgs)}",
                    SUITE,
                    str(rootfs),
                    mirror,
                ],
                log_path,
                "debootstrap",
            )
        manifest = _configure(rootfs, log_path, progress, mirror, security)
        with progress.phase("kernel", "copying the guest kernel and initramfs"):
            kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
            initrds = sorted((rootfs / "boot").glob("initrd.img-*"))
            if len(kernels) != 1 or len(initrds) != 1:
                raise OperationFailed(f"expected one guest kernel and initramfs in /boot, found {kernels} {initrds}")
            shutil.copyfile(kernels[0], work / "vmlinuz")
            shutil.copyfile(initrds[0], work / "initrd.img")
            manifest["kernel"] = kernels[0].name.removeprefix("vmlinuz-")
            manifest["initrd_mib"] = round(initrds[0].stat().st_size / (1 << 20), 1)
        with progress.phase("root disk", "mkfs.ext4 -d (no loop device)"):
            used = _tree_mib(rootfs)
            size_mib = -(-(used + HEADROOM_MIB) // 256) * 256
            _run_logged(
                ["mkfs.ext4", "-q", "-F", "-L", "labroot", "-d", str(rootfs), str(work / "base.img"), f"{size_mib}M"],
                log_path,
                "mkfs.ext4",
            )
            os.chmod(work / "base.img", 0o444)  # shared by every overlay: never written
            manifest["rootfs_used_mib"] = used
            manifest["disk_size_mib"] = size_mib
        remove_tree(rootfs)
        manifest.update(
            recipe_hash=hash_,
            build_id=uuid.uuid4().hex,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            suite=SUITE,
            arch=ARCH,
            mirror=mirror,
            phases=progress.phases,
            build_seconds=round(time.monotonic() - progress.start, 1),
        )
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        final = paths.image_dir(hash_)
        if final.exists():  # --force: the old one goes only now that the new one is whole
            shutil.rmtree(final)
        shutil.move(str(log_path), str(work / "build.log"))
        os.rename(work, final)
    except BaseException:
        remove_tree(work)  # unmounts first; nothing half-built stays behind
        raise
    _prune_other_images(paths, keep=hash_)
    _hand_back(paths, paths.image_dir(hash_))
    image = find_image(paths, hash_)
    assert image is not None
    progress.line(
        f"lab image {hash_} ready in {image.dir}: kernel {manifest['kernel']}, "
        f"{manifest['repo_packages']} packages in the local repository"
        + (f" (left out: {', '.join(manifest['optional_missing'])})" if manifest["optional_missing"] else "")
    )
    return image


def _configure(rootfs: Path, log_path: Path, progress: Progress, mirror: str, security: str | None) -> dict:
    """Everything done inside the chroot; returns the manifest facts it learns."""
    manifest: dict = {}
    scripts = rootfs / "root" / "hawizard-lab"
    scripts.mkdir(parents=True, exist_ok=True)
    for name in ("guest-prepare.sh", "guest-finish.sh"):
        (scripts / name).write_text(recipe_text(name))
    if Path("/etc/resolv.conf").is_file():  # name resolution for apt in the chroot (emptied later)
        (rootfs / "etc" / "resolv.conf").unlink(missing_ok=True)
        shutil.copyfile("/etc/resolv.conf", rootfs / "etc" / "resolv.conf")
    env = {"LAB_SUITE": SUITE, "LAB_MIRROR": mirror, "LAB_SECURITY": security or ""}
    guest_pkgs = package_list(recipe_text("recipe-guest.txt"))
    cluster = package_list(recipe_text("recipe-cluster.txt"))
    wanted = [p.rstrip("?") for p in cluster]
    optional = [p.rstrip("?") for p in cluster if p.endswith("?")]
    with Chroot(rootfs, log_path, env) as ch:
        with progress.phase("apt sources", "pointing the chroot's apt at the mirror"):
            ch.run(["sh", "/root/hawizard-lab/guest-prepare.sh"], "guest-prepare.sh")
        with progress.phase("guest packages", " ".join(guest_pkgs)):
            ch.run(["apt-get", "install", "-y", "--no-install-recommends", *guest_pkgs], "installing the guest packages")
        with progress.phase("local repository", f"downloading {' '.join(wanted)} with dependencies"):
            missing: list[str] = []
            archives = rootfs / "var" / "cache" / "apt" / "archives"
            try:
                ch.run(["apt-get", "install", "-y", "--download-only", *wanted], "downloading the cluster packages")
            except OperationFailed:
                if not optional:
                    raise
                missing = optional
                progress.line(f"local repository: cannot resolve with {', '.join(optional)}; trying without")
                ch.run(
                    ["apt-get", "install", "-y", "--download-only", *[p for p in wanted if p not in optional]],
                    "downloading the cluster packages",
                )
            repo_dir = rootfs / "srv" / "lab-repo"
            repo_dir.mkdir(parents=True, exist_ok=True)
            for deb in archives.glob("*.deb"):
                shutil.move(str(deb), str(repo_dir / deb.name))
            names = repo.write_index(repo_dir)
            absent = [p for p in wanted if p not in names and p not in missing]
            if absent:
                raise OperationFailed(f"the local repository lacks {', '.join(absent)} after the download")
            manifest["repo_packages"] = len(names)
            manifest["repo_mib"] = _tree_mib(repo_dir)
            manifest["optional_missing"] = missing
        with progress.phase("configure", "identity, sshd, seed unit, networkd, initramfs, apt source"):
            ch.run(["sh", "/root/hawizard-lab/guest-finish.sh"], "guest-finish.sh")
        drbd = list((rootfs / "lib" / "modules").glob("*/kernel/drivers/block/drbd/drbd.ko*"))
        if not drbd:
            raise OperationFailed("the guest kernel's modules have no drbd.ko; the lab cannot run DRBD")
        manifest["drbd_module"] = str(drbd[0].relative_to(rootfs))
    shutil.rmtree(scripts)
    return manifest
