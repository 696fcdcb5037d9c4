"""Where the lab keeps its files.

Two kinds of files with different lives: the base image is expensive (minutes to build) and
shared by every lab on the machine, so it lives in a cache; a running lab's overlays, disks,
keys and pid files are cheap and belong to one lab. Tests therefore point the state at a
temporary directory while sharing the image cache, so CI builds the image only once.

  lab dir    ``--dir``, else ``$HAWIZARD_LAB_DIR``, else ``$XDG_CACHE_HOME/hawizard/lab``,
             else ``~/.cache/hawizard/lab``
  cache      ``$HAWIZARD_LAB_CACHE`` if set, else ``<lab dir>/cache``
  state      ``<lab dir>/state``
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem

ENV_DIR = "HAWIZARD_LAB_DIR"
ENV_CACHE = "HAWIZARD_LAB_CACHE"


def invoking_user() -> tuple[Path, int, int] | None:
    """(home, uid, gid) of the user behind ``sudo``, or None when not run through sudo."""
    name = os.environ.get("SUDO_USER")
    if os.geteuid() != 0 or not name or name == "root":
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Path(entry.pw_dir), entry.pw_uid, entry.pw_gid


def default_lab_dir() -> Path:
    """The lab directory when neither ``--dir`` nor ``$HAWIZARD_LAB_DIR`` is given.

    Under sudo it is the invoking user's, so that ``sudo hawizard lab build`` fills the cache
    that the same user's ``hawizard lab up`` (no root needed) reads.
    """
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "hawizard" / "lab"
    user = invoking_user()
    home = user[0] if user else Path.home()
    return home / ".cache" / "hawizard" / "lab"


@dataclass(frozen=True)
class LabPaths:
    """Every path the lab uses, derived from two roots (lab dir and cache dir)."""

    root: Path
    cache: Path

    @classmethod
    def resolve(cls, cli_dir: str | os.PathLike | None = None) -> LabPaths:
        """Apply the precedence documented above; paths are made absolute."""
        if cli_dir:
            root = Path(cli_dir)
        elif os.environ.get(ENV_DIR):
            root = Path(os.environ[ENV_DIR])
        else:
            root = default_lab_dir()
        root = root.expanduser().absolute()
        cache_env = os.environ.get(ENV_CACHE)
        cache = Path(cache_env).expanduser().absolute() if cache_env else root / "cache"
        return cls(root=root, cache=cache)

    # -- the image cache ------------------------------------------------------------------
    @property
    def images(self) -> Path:
        return self.cache / "images"

    def image_dir(self, recipe_hash: str) -> Path:
        return self.images / recipe_hash

    # -- the lab's state ------------------------------------------------------------------
    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def state_file(self) -> Path:
        """lab.json: the facts fixed at ``up`` (ports, image, disk sizes) that later commands reuse."""
        return self.state / "lab.json"

    @property
    def keys(self) -> Path:
        return self.state / "keys"

    @property
    def operator_key(self) -> Path:
        return self.keys / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state / "known_hosts"

    @property
    def preset(self) -> Path:
        return self.state / "lab.toml"

    @property
    def sbd_disk(self) -> Path:
        """The disk both nodes see for SBD (a shared LUN in a real cluster)."""
        return self.state / "sbd.img"

    @property
    def snapshots(self) -> Path:
        """Saved disks of both nodes (``hawizard lab snapshot``), to boot later scenarios from."""
        return self.state / "snapshots"

    def node_dir(self, name: str) -> Path:
        return self.state / "nodes" / name

    def host_key(self, name: str) -> Path:
        return self.keys / f"{name}_ssh_host_ed25519_key"

    def ensure(self, path: Path) -> Path:
        """mkdir -p with a clear error (exit 3) when the directory cannot be made."""
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create the lab directory {path}: {exc.strerror}") from exc
        return path
