"""The Apache server-status configuration: ServerName, who may read the page, the document root.

Read from the snippet hawizard writes (conf.d/hawizard-status.conf, conf-available/hawizard-status.conf)
or from the main httpd.conf/apache2.conf and their conf.d, as the article edits httpd.conf itself.
Both access syntaxes: 2.2 ``Allow from`` and 2.4 ``Require ip``/``Require local``. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class StatusConfig:
    server_name: str = ""
    allow: str = ""  # the address allowed besides local, or 127.0.0.1 when only local
    document_root: str = ""  # of a VirtualHost, or the global DocumentRoot
    has_status: bool = False


def parse(text: str) -> StatusConfig:
    out = StatusConfig()
    clean = "\n".join(ln.split("#", 1)[0] if ln.lstrip().startswith("#") else ln for ln in text.splitlines())
    m = re.search(r"(?im)^\s*ServerName\s+(\S+)", clean)
    if m:
        out.server_name = m.group(1)
    m = re.search(r"(?is)<Location\s+/server-status\s*>(.*?)</Location>", clean)
    if m:
        body = m.group(1)
        out.has_status = bool(re.search(r"(?im)^\s*SetHandler\s+server-status", body))
        allow = re.search(r"(?im)^\s*Allow\s+from\s+(\S+)", body)
        req = re.search(r"(?im)^\s*Require\s+ip\s+(\S+)", body)
        if allow:
            out.allow = allow.group(1)
        elif req:
            out.allow = req.group(1)
        elif re.search(r"(?im)^\s*Require\s+local", body):
            out.allow = "127.0.0.1"
    m = re.search(r"(?im)^\s*DocumentRoot\s+\"?([^\"\s]+)", clean)
    if m:
        out.document_root = m.group(1)
    return out
