"""``parse_crm_mon``: a crm_mon sample in whichever format it is (the runner and ``status`` call this).

Why apart: the callers hold a node's output without knowing which Pacemaker printed it.
"""

from __future__ import annotations

from hawizard.readers.crm_mon.model import ClusterStatus
from hawizard.readers.crm_mon.text_format import parse_crm_mon_text
from hawizard.readers.crm_mon.xml_format import parse_crm_mon_xml


def parse_crm_mon(text: str) -> ClusterStatus:
    """XML or text, whichever ``text`` is."""
    stripped = (text or "").lstrip()
    if stripped.startswith("<"):
        return parse_crm_mon_xml(text)
    return parse_crm_mon_text(text)
