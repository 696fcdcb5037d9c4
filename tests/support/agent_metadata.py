"""The operation timeouts an installed resource agent advertises, read with the real
``crm_resource --show-metadata``; a test is skipped, with the reason, when the tool or the agent is
not installed here."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

OCF_ROOT = Path("/usr/lib/ocf/resource.d")


def seconds(text: str) -> int:
    """A Pacemaker/OCF interval as seconds: '40s', '240', '2m', '1500ms'."""
    m = re.fullmatch(r"\s*(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?\s*", text)
    assert m, f"not a timeout: {text!r}"
    n, unit = int(m.group(1)), m.group(2) or "s"
    return {"ms": n // 1000, "msec": n // 1000, "s": n, "sec": n, "m": 60 * n, "min": 60 * n,
            "h": 3600 * n, "hr": 3600 * n}[unit]


@functools.cache
def advertised(agent_type: str) -> dict[str, int]:
    """{operation: advertised timeout in seconds} of an installed OCF agent (the longest of several
    actions of one name, such as DRBD's two monitors)."""
    _standard, provider, name = agent_type.split(":")
    if not shutil.which("crm_resource"):
        pytest.skip("crm_resource is not installed (pacemaker-cli-utils)")
    if not (OCF_ROOT / provider / name).exists():
        pytest.skip(f"{agent_type} is not installed here ({OCF_ROOT / provider / name} missing)")
    out = subprocess.run(["crm_resource", "--show-metadata", agent_type], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    found: dict[str, int] = {}
    for action in ET.fromstring(out.stdout).iter("action"):
        if action.get("timeout"):
            op = action.get("name", "")
            found[op] = max(found.get(op, 0), seconds(action.get("timeout", "")))
    return found
