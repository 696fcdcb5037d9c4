"""``hawizard diff``'s engine: a design against a directory of collected files, files and CIB objects.

Why one function both front ends call: the command line prints it, the wizard's review shows it in a tab,
and the nodes' files may come from a directory the operator collected or from the nodes over SSH
(hawizard/run/collect.py fills a private directory of the same layout). Files: filediff.py; the
cluster configuration's objects: the rendered script loaded offline (shadow.py) against the collected CIB
(``cibadmin -Q`` output, upgraded by cib.py), compared by cibdiff.py; when objects differ and the CIB holds
the cluster's status, what the re-apply would stop, start or move (restarts.py, Pacemaker's scheduler
offline). The CIB is the cluster's, one for both nodes: the first node directory's copy is compared.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hawizard.adopt import cib, cibdiff, filediff, restarts, shadow
from hawizard.adopt.collected import MAX_CIB_BYTES, Collected
from hawizard.adopt.engine import CIB_PATHS
from hawizard.adopt.filediff import FileDiff
from hawizard.design.model import Design
from hawizard.plan.build import build_plan
from hawizard.render.renderer import Rendering

DIFFERENT_FILE_STATES = ("differs", "missing", "secret-missing")


@dataclass
class NodeDiff:
    files: list[filediff.FileDiff]
    cib: cibdiff.CibDiff | None  # None: not compared (no CIB collected, or not asked)
    cib_source: str  # where the live CIB came from, or why it was not compared
    prediction: restarts.Prediction | None = None  # None: no CIB compared

    @property
    def files_differ(self) -> list[filediff.FileDiff]:
        return [r for r in self.files if r.state in DIFFERENT_FILE_STATES]

    def files_summary(self) -> str:
        n_diff = len(self.files_differ)
        n_else = sum(r.state == "elsewhere" for r in self.files)
        return (f"{len(self.files) - n_diff - n_else} file(s) the same, {n_diff} differ or missing"
                + (f", {n_else} on the DRBD filesystem of the other node (not compared)" if n_else else ""))

    @property
    def differs(self) -> bool:
        return bool(self.files_differ) or (self.cib is not None and self.cib.differs)

    def file_lines(self) -> list[str]:
        """The unified diffs, then one line per missing file."""
        out = [r.diff if r.diff.endswith("\n") else r.diff + "\n" for r in self.files
               if r.diff and r.state != "elsewhere"]
        for r in self.files:
            where = f"{r.node + ':' if r.node else ''}{r.path}"
            if r.state == "secret-missing":
                out.append(f"{where}: missing (a secret: only its presence is checked)\n")
            elif r.state == "missing":
                out.append(f"{where}: missing from the collected files\n")
            elif r.state == "elsewhere":
                out.append(f"{where}: not compared: on the DRBD filesystem, which is not mounted on {r.node} "
                           "(the service runs on the other node)\n")
        return out

    def cib_text(self) -> str:
        if self.cib is None:
            return f"CIB objects: not compared ({self.cib_source})\n"
        text = f"CIB objects (hawizard's cluster configuration -> {self.cib_source}):\n" + self.cib.text()
        return text + (self.prediction.text() if self.prediction is not None else "")


def written_on(design: Design, rendering: Rendering) -> dict[str, set[str]]:
    """{file id: the nodes the plan writes it on}: what a re-apply would put on each node.

    The test page is left out when the site's pages are not hawizard's (``service.verify_page =
    "any-answer"``, what adoption says of a cluster built by hand): the rehearsal writes it once, before the
    cluster takes DRBD over, and a re-apply never writes it over the site's own index.html.
    """
    out: dict[str, set[str]] = {}
    for step in build_plan(design, rendering).steps:
        for node, actions in step.actions.items():
            for a in actions:
                if a.kind == "write" and a.file_id == "index-html" and design.service.verify_page == "any-answer":
                    continue
                if a.kind == "write":
                    out.setdefault(a.file_id, set()).add(node)
    return out


def diff_collected(design: Design, rendering: Rendering, col: Collected, *, with_cib: bool = True,
                   cib_label: str = "", elsewhere: set[tuple[str, str]] | None = None) -> NodeDiff:
    """``cib_label``: where the collected CIB came from, when not the file itself ("srv1: cibadmin -Q");
    ``elsewhere``: (node, path) of files on the replicated filesystem that node does not have mounted: not
    compared there (the state "elsewhere"), rather than called missing."""
    files = [FileDiff(r.node, r.path, "elsewhere") if (r.node, r.path) in (elsewhere or set()) and r.state == "missing"
             else r for r in filediff.compare(rendering, col, written_on(design, rendering))]
    if not with_cib:
        return NodeDiff(files, None, "--files-only")
    live_path = col.first(*CIB_PATHS)
    if live_path is None:
        return NodeDiff(files, None, "no CIB among the collected files; `cibadmin -Q > cib.xml` on a node gives one")
    where = cib_label or col.rel(live_path)
    live_text = col.read(live_path, MAX_CIB_BYTES)
    with tempfile.TemporaryDirectory(prefix="hawizard-diff-cib-") as tmp:
        copy = Path(tmp) / "cib.xml"  # the collected file itself is never handed to a tool that writes
        copy.write_text(live_text)
        live = cib.upgrade_and_query(copy, where)
    desired = shadow.desired_cib(design, rendering)
    objects = cibdiff.compare(desired, live, cibdiff.Ownership.of(design), live_name=where)
    if objects.differs:
        predicted = restarts.predict(design, rendering, live, where)
    else:
        predicted = restarts.Prediction((), predicted=False, why_not="no object of hawizard's differs")
    return NodeDiff(files, objects, where, predicted)
