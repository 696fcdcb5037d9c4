"""Which Debian mirror the image is built from, and a quick check that it answers.

The lab downloads from the same mirror the host's apt already uses (its sources list names
it): on machines that reach only one mirror, or go through a local one, that is the mirror
that works. ``$HAWIZARD_LAB_MIRROR`` or ``--mirror`` overrides it. Checking it first turns an
unreachable registry into one clear sentence (exit 3) instead of a debootstrap log.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hawizard.common.errors import EnvironmentProblem

FALLBACK_MIRROR = "http://deb.debian.org/debian"
ENV_MIRROR = "HAWIZARD_LAB_MIRROR"


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def _parse_deb822(text: str) -> list[AptSource]:
    sources: list[AptSource] = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
                continue
            if ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            sources.append(
                AptSource(uri, tuple(fields.get("suites", "").split()), tuple(fields.get("components", "").split()))
            )
    return sources


def _parse_one_line(text: str) -> list[AptSource]:
    sources: list[AptSource] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        line = re.sub(r"\[[^\]]*\]", "", line)  # options such as [signed-by=...]
        parts = line.split()
        if len(parts) >= 3:
            sources.append(AptSource(parts[1], (parts[2],), tuple(parts[3:])))
    return sources


def host_sources(apt_dir: Path = Path("/etc/apt")) -> list[AptSource]:
    """The host's enabled apt sources (the files apt itself reads: *.list and *.sources)."""
    files: list[Path] = []
    if (apt_dir / "sources.list").is_file():
        files.append(apt_dir / "sources.list")
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files.extend(sorted(parts.glob("*.list")) + sorted(parts.glob("*.sources")))
    sources: list[AptSource] = []
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        sources.extend(_parse_deb822(text) if path.suffix == ".sources" else _parse_one_line(text))
    return sources


def find_mirrors(suite: str, apt_dir: Path = Path("/etc/apt")) -> tuple[str, str | None]:
    """(main mirror, security mirror or None) for ``suite``, as the host's apt has them."""
    override = os.environ.get(ENV_MIRROR)
    main = override.rstrip("/") if override else None
    security = None
    for src in host_sources(apt_dir):
        if main is None and suite in src.suites and "main" in src.components:
            main = src.uri.rstrip("/")
        if security is None and f"{suite}-security" in src.suites:
            security = src.uri.rstrip("/")
    return (main or FALLBACK_MIRROR), security


def check_reachable(mirror: str, suite: str, timeout: float = 20.0) -> None:
    """EnvironmentProblem (exit 3) when the mirror does not serve ``dists/SUITE/Release``."""
    url = f"{mirror}/dists/{suite}/Release"
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status >= 400:
                raise EnvironmentProblem(f"the Debian package registry answered {response.status} for {url}")
    except urllib.error.HTTPError as exc:
        raise EnvironmentProblem(
            f"the Debian package registry answered {exc.code} for {url}; "
            f"set another mirror with --mirror or ${ENV_MIRROR}"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnvironmentProblem(
            f"the Debian package registry at {mirror} is unreachable ({reason}); the image is built from "
            f"it. Check the network, or set another mirror with --mirror or ${ENV_MIRROR}"
        ) from exc
