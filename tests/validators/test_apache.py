"""The Apache server-status snippet checked by Apache itself (Apache 2.4.x from Debian 12).

Three layouts, one per stack:
- debian12-crmsh: Debian's own. The packaged /etc/apache2 is copied to a temporary
  APACHE_CONFDIR, the snippet goes to conf-available/ and is linked into conf-enabled/ as
  `a2enconf` does, and `APACHE_CONFDIR=DIR apache2ctl -t` checks what the node would run
  (Debian's modules, ports.conf, the default site 000-default.conf, the snippet).
- el9-pcs: a minimal httpd.conf in the shape of EL9's (global DocumentRoot /var/www/html first,
  `IncludeOptional conf.d/*.conf` last), modules mpm_event, authz_core, authz_host, status, dir
  and NOT mod_access_compat, so Apache 2.2 directives would fail. `apache2 -t -d ROOT -f CONF`.
- centos5-heartbeat: Apache 2.2 syntax (Order/Allow/Deny) through mod_access_compat, the 2.4
  module implementing those directives with their 2.2 syntax, in a minimal httpd.conf in the
  shape of CentOS 5's (`Include conf.d/*.conf` *before* `DocumentRoot "/var/www/html"`). It
  cannot prove that Apache 2.2.3 itself parses the file, nor anything about the rest of the real
  CentOS 5 or EL9 httpd.conf (neither is installed here).

Two states of a node, each in fresh namespaces (private /run, /var/log, network with only lo):
- standby (the plan's "apache" step runs `apachectl -t` on both nodes before DRBD is ever
  mounted): `-t` must pass; the one warning allowed is AH00112 "DocumentRoot [...] does not
  exist" for a document root on the DRBD filesystem.
- active (DRBD mounted: a tmpfs at the mount point holding the rendered index.html): Apache is
  started for real and must serve the rendered index page at / and the server-status page at the
  design's status URL, with the body the apache agent's default testregex looks for; when
  server-status is opened to another address, that address gets it and a third one gets 403.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from .harness import Case, case, case_ids, in_namespace, require, show, write

MODULES = Path("/usr/lib/apache2/modules")
STRANGER = "192.0.2.77"  # an address server-status must refuse

FETCH = r"""
import http.client, json, sys, urllib.parse
out = []
for url, src in json.loads(sys.argv[1]):
    u = urllib.parse.urlsplit(url)
    try:
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=5, source_address=(src, 0) if src else None)
        c.request("GET", (u.path or "/") + ("?" + u.query if u.query else ""))
        r = c.getresponse()
        out.append([url, src, r.status, r.read().decode("utf-8", "replace")])
    except Exception as e:
        out.append([url, src, None, repr(e)])
print(json.dumps(out))
"""


def _minimal(c: Case, where: Path, snippet: str, compat: bool) -> tuple[str, str]:
    """(config test command, start command) for a minimal EL-shaped httpd.conf including the snippet."""
    f = c.rendering.get("apache-status")
    mods = ["mpm_event", "authz_core", "authz_host", "status", "dir"] + (["access_compat"] if compat else [])
    head = [f"ServerRoot {where}", "Listen 80", f"PidFile {where}/httpd.pid", f"ErrorLog {where}/error.log",
            f"DefaultRuntimeDir {where}", "User nobody", "Group nogroup"]
    head += [f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in mods]
    head += ["DirectoryIndex index.html"]
    if compat:  # CentOS 5 (Apache 2.2): conf.d is included before the main server's DocumentRoot
        body = ["Include conf.d/*.conf", 'DocumentRoot "/var/www/html"',
                '<Directory "/var/www/html">', "    Order allow,deny", "    Allow from all", "</Directory>"]
    else:  # EL9 (Apache 2.4): DocumentRoot first, conf.d at the end
        body = ["<Directory />", "    Require all denied", "</Directory>", 'DocumentRoot "/var/www/html"',
                '<Directory "/var/www/html">', "    Require all granted", "</Directory>",
                "IncludeOptional conf.d/*.conf"]
    conf = write(where / "conf" / "httpd.conf", "\n".join(head + body + [""]))
    write(where / "conf.d" / Path(f.path).name, snippet)
    base = f"apache2 -d {shlex.quote(str(where))} -f {shlex.quote(str(conf))}"
    return f"{base} -t", f"{base} -k start || {{ cat {shlex.quote(str(where))}/error.log >&2; exit 1; }}"


def _debian(c: Case, where: Path, snippet: str) -> tuple[str, str]:
    require("apache2ctl")
    if not Path("/etc/apache2/apache2.conf").exists():
        pytest.skip("Debian's /etc/apache2 is not installed")
    confdir = where / "apache2"
    shutil.copytree("/etc/apache2", confdir, symlinks=True)
    f = c.rendering.get("apache-status")
    assert f.path.startswith("/etc/apache2/conf-available/")
    name = Path(f.path).name
    write(confdir / "conf-available" / name, snippet, f.mode)
    link = confdir / "conf-enabled" / name
    link.unlink(missing_ok=True)
    link.symlink_to(f"../conf-available/{name}")  # what `a2enconf -q hawizard-status` does
    env = f"env APACHE_CONFDIR={shlex.quote(str(confdir))}"
    return f"{env} apache2ctl -t", f"{env} apache2ctl start"


def _commands(c: Case, where: Path, snippet: str, compat: bool | None = None) -> tuple[str, str]:
    require("apache2", "unshare", "ip")
    if c.stack.os_family == "debian":
        return _debian(c, where, snippet)
    return _minimal(c, where, snippet, (not c.stack.apache_24) if compat is None else compat)


PRIVATE = ("mount -t tmpfs tmpfs /run\nmkdir -p /run/lock\n"
           "mount -t tmpfs tmpfs /var/log\nmkdir -p /var/log/apache2\nip link set lo up\n")


def _config_test(c: Case, where: Path, snippet: str, compat: bool | None = None):
    test, _ = _commands(c, where, snippet, compat)
    return in_namespace(PRIVATE + f"exec {test}\n")


def _unexpected(stderr: str, c: Case) -> list[str]:
    out = []
    for line in stderr.splitlines():
        if not line.strip() or line.strip() == "Syntax OK":
            continue
        if "AH00112" in line and f"[{c.design.service.document_root}]" in line:
            continue  # the document root lives on DRBD, not mounted on this node
        out.append(line)
    return out


@pytest.mark.parametrize("cid", case_ids())
def test_apache_accepts_snippet_on_standby_node(cid, tmp_path):
    c = case(cid)
    proc = _config_test(c, tmp_path, c.text("apache-status"))
    assert proc.returncode == 0 and "Syntax OK" in proc.stdout + proc.stderr, show(proc)
    assert not _unexpected(proc.stderr, c), show(proc)
    text = c.text("apache-status")
    assert ("Require" in text) == c.stack.apache_24 and ("Order" in text) != c.stack.apache_24


@pytest.mark.parametrize("cid", case_ids())
def test_apache_serves_page_and_status_on_active_node(cid, tmp_path):
    c = case(cid)
    svc = c.design.service
    _, start = _commands(c, tmp_path, c.text("apache-status"))
    index = c.rendering.get("index-html")
    page = write(tmp_path / "index.html", index.content)
    assert index.path == svc.document_root.rstrip("/") + "/index.html"
    requests = [[f"http://127.0.0.1:{svc.port}/", None], [svc.status_url, None]]
    extra = []
    if svc.status_allow not in ("127.0.0.1", "::1"):
        extra = [svc.status_allow, STRANGER]
        requests += [[svc.status_url.replace("localhost", "127.0.0.1"), a] for a in extra]
        requests = [[u.replace("127.0.0.1", _peer_ip(c)) if src else u, src] for u, src in requests]
    script = (PRIVATE
              + "".join(f"ip addr add {a}/32 dev lo\n" for a in extra + ([_peer_ip(c)] if extra else []))
              + _private_dir(svc.mount_point)
              + f"mount -t tmpfs tmpfs {shlex.quote(svc.mount_point)}\n"  # the DRBD filesystem
              + f"mkdir -p {shlex.quote(svc.document_root)}\n"
              + f"cp {shlex.quote(str(page))} {shlex.quote(index.path)}\nchmod 644 {shlex.quote(index.path)}\n"
              + f"{start}\n"
              + "for i in 1 2 3 4 5 6 7 8 9 10; do [ -n \"$(ss -Hltn 'sport = :80' 2>/dev/null)\" ] && break; "
                "sleep 0.2; done\n"
              + f"{shlex.quote(sys.executable)} -c {shlex.quote(FETCH)} {shlex.quote(json.dumps(requests))}\n")
    proc = in_namespace(script, pid=True)
    assert proc.returncode == 0, show(proc)
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    (root_url, _, status, body), (surl, _, sstatus, sbody) = results[:2]
    assert status == 200 and body == index.content, f"{root_url} -> {status}:\n{body[:400]}\n{show(proc)}"
    # what the apache agent's monitor does: fetch statusurl, grep -Ei its default testregex
    assert sstatus == 200 and re.search(r"</ *html *>", sbody, re.I) and "Apache Server Status" in sbody, \
        f"{surl} -> {sstatus}:\n{sbody[:400]}"
    if extra:
        (_, src_ok, st_ok, _), (_, src_no, st_no, _) = results[2:]
        assert st_ok == 200, f"server-status from {src_ok}: {st_ok}"
        assert st_no == 403, f"server-status from {src_no}: {st_no}"


def _private_dir(path: str) -> str:
    """Shell lines making PATH exist inside the mount namespace without creating it on the host:
    a tmpfs over its deepest existing ancestor (never /), then mkdir."""
    if Path(path).is_dir():
        return ""
    ancestor = Path(path).parent
    while not ancestor.is_dir():
        ancestor = ancestor.parent
    if ancestor == Path("/"):
        pytest.skip(f"{path} has no existing ancestor below / to cover with a private tmpfs")
    return f"mount -t tmpfs tmpfs {shlex.quote(str(ancestor))}\nmkdir -p {shlex.quote(path)}\n"


def _peer_ip(c: Case) -> str:
    """An address of the node itself to connect to when the client address must not be loopback."""
    return c.design.nodes[0].interconnects[0].address.split("/")[0]


@pytest.mark.parametrize("cid,old,new,reason", [
    ("debian12", "Require local", "Require lokal", "Unknown Authz provider: lokal"),
    ("el9", "SetHandler server-status", "SetHandlr server-status", "Invalid command 'SetHandlr'"),
    ("article", "Order deny,allow", "Order deny,alow", "unknown order"),
])
def test_negative_apache_rejects_broken_snippet(cid, old, new, reason, tmp_path):
    c = case(cid)
    text = c.text("apache-status")
    assert old in text
    proc = _config_test(c, tmp_path, text.replace(old, new))
    assert proc.returncode != 0 and reason in proc.stderr, show(proc)


def test_negative_apache22_snippet_needs_access_compat(tmp_path):
    """Without mod_access_compat Apache 2.4 refuses the 2.2 snippet, so the el9 check (no compat
    module) would catch 2.2 syntax slipping into a 2.4 snippet."""
    c = case("article")
    proc = _config_test(c, tmp_path, c.text("apache-status"), compat=False)
    assert proc.returncode != 0 and "Invalid command 'Order'" in proc.stderr, show(proc)
