"""The preset reference (docs/presets.md), generated from the model's own field table.

Generated, not written by hand, so that it cannot fall behind the model; a test compares the
file in docs/ with this output.
"""

from __future__ import annotations

import dataclasses

from hawizard.design.model import LIST_ITEM_TYPES, NESTED_TYPES, STRING_TABLES, Design

# Where the article's preset (presets/article.toml) carries a value the article does not state.
NOT_IN_ARTICLE = {
    "nodes[].ssh_host": "the article does not say how the nodes are reached; the service addresses are used",
    "nodes[].service_address": "the article gives no node addresses on eth0; .101/.102 are assumed",
    "nodes[].interconnects": "eth1/eth2 are the article's; their addresses (10.1.0.x, 10.2.0.x) follow r0.res "
                             "and the article's text, which disagree (10.1 vs 10.2)",
    "heartbeat.warntime_s": "not set in the article's ha.cf (Heartbeat's defaults applied)",
    "heartbeat.deadtime_s": "not set in the article's ha.cf",
    "heartbeat.initdead_s": "not set in the article's ha.cf",
    "answers.restart_attempts": "the article says 'restart, and fail over if it cannot be restarted' without a count",
    "network.replication_link_mbps": "the article's own words: a 1 Gbps link",
}


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "(see below)"
    return str(v)


def _section(cls, prefix: str, lines: list[str]) -> None:
    obj = cls()
    rows, nested = [], []
    for f in dataclasses.fields(cls):
        path = f"{prefix}.{f.name}" if prefix else f.name
        if (cls, f.name) in NESTED_TYPES or (cls, f.name) in LIST_ITEM_TYPES:
            nested.append((f, path))
            continue
        meta = f.metadata
        allowed = ""
        if meta.get("choices"):
            allowed = " \\| ".join(f"`{c}`" for c in meta["choices"])
        elif meta.get("min") is not None:
            allowed = f"{meta['min']:.15g} to {meta['max']:.15g}"
        elif meta.get("secret_ref"):
            allowed = ("empty, " if meta.get("ref_empty") else "") + "`env:NAME`, `file:/path`" + \
                (", `generate`" if meta.get("ref_generate") else "")
        elif (cls, f.name) in STRING_TABLES:
            allowed = "table of strings"
        elif meta.get("kind"):
            allowed = meta["kind"].rstrip("?") + (" or empty" if meta["kind"].endswith("?") else "")
        doc = meta.get("doc", "")
        note = NOT_IN_ARTICLE.get(path.replace("[0]", "[]"))
        if note:
            doc += f" *Article preset: {note}.*"
        rows.append(f"| `{path}` | `{_value(getattr(obj, f.name))}` | {allowed} | {doc} |")
    if rows:
        lines += ["| key | default | allowed | meaning |", "|---|---|---|---|", *rows, ""]
    for f, path in nested:
        sub = NESTED_TYPES.get((cls, f.name)) or LIST_ITEM_TYPES[(cls, f.name)]
        is_list = (cls, f.name) in LIST_ITEM_TYPES
        title = f"{path}[]" if is_list else path
        lines += [f"{'##' if not prefix else '###'} `{'[[' + title[:-2] + ']]' if is_list else '[' + title + ']'}`",
                  "", f.metadata.get("doc", "") + (" An array of tables." if is_list else ""), ""]
        _section(sub, f"{path}[]" if is_list else path, lines)


def preset_reference() -> str:
    lines = [
        "# Preset reference",
        "",
        "Generated from `hawizard/design/model.py` (`python -m hawizard presets --reference`); do not edit by hand.",
        "",
        "A preset is a TOML file with the whole design of one cluster. `hawizard validate FILE` checks it;",
        "unknown keys are refused with the closest valid key suggested. A saved preset has every key written",
        "out. Secrets are never written in a preset: a `*_ref` key holds where the secret is read at apply",
        "time (`env:NAME`, `file:/path`), or stays empty; what empty means differs per key (generated at apply",
        "time, no peer authentication, no password) and each key below says it.",
        "",
        "## Top level",
        "",
    ]
    _section(Design, "", lines)
    return "\n".join(lines).rstrip() + "\n"
