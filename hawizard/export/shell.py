"""``export-plan --format sh``: the plan as one POSIX sh script per node and a driver that runs them.

Why a script per node and a driver: a step runs on each node in turn, on both at once or on the
primary only, and the nodes must keep in step (DRBD connects only while both sides come up; the
secondary must not take DRBD down while the primary still syncs). Each node script holds that
node's steps as functions (``sh srv1.sh step ID``); the driver ``run.sh`` runs on the operator's
machine like ``hawizard apply`` and calls them over ssh in the plan's order, both at once where
the plan says so, and only on the primary where it says so. It does what the runner does
(hawizard/run/runner.py): the probe first (exit 0 = already done, the step is skipped), the typed
confirmation of a destructive step once before any node is touched, the actions, the step's
completion marker, the check of the nodes' preflight facts.

Secrets never enter the export: a file that holds one is written from literal parts and the
secret read at run time. The driver reads each secret where the preset's reference says (env:NAME
or file:/path on the operator's machine, as ``hawizard apply`` does), makes a generated one once
(or reuses the one on the primary, so a re-run changes nothing) and hands it to the nodes in a
root-only directory that it removes at the end. A node script run by hand reads the same
reference on the node.

Every value in the scripts is one shell word made by ``q`` (the plan's commands included, which
the plan itself built from quoted values); comments are made one line by ``comment``.
"""

from __future__ import annotations

import math

from hawizard.common.shellquote import sq
from hawizard.design.model import Design
from hawizard.export.files import Export, ExportedFile, comment
from hawizard.export.shlib import LIBRARY
from hawizard.export.shwaits import check_words
from hawizard.plan.crosscheck import CLOCK, CLOCK_SKEW_FATAL_S, CLOCK_SKEW_WARN_S, DISK_BYTES, NodesAgree
from hawizard.plan.types import Fact, Plan, Poll, Run, Step, Where, Write
from hawizard.render.renderer import RenderedFile, SecretSpec

REMOTE_DIR = "/var/run/hawizard-export"  # on the nodes: the node script and the secrets, root only
# the commands are single-quoted on purpose: they run in sh -c on the node, as the runner runs them
SHELLCHECK = "# shellcheck disable=SC2016"
QUOTERS = {"": "hw_q_", "sh": "hw_q_sh", "crm": "hw_q_crm", "drbd": "hw_q_drbd"}


def script_name(node: str, index: int) -> str:
    """The node script's file name: the node's index, so a node name never becomes a path."""
    return f"node{index + 1}.sh"


def _timeout(step: Step, action_timeout: float) -> int:
    return int(math.ceil(action_timeout or step.timeout_s))


# -- the node scripts -------------------------------------------------------------------------

def _secret_getter(index: int, spec: SecretSpec) -> str:
    """``hw_secret_N``: the secret's value into $HW_STAGE (whole-file binary) or printed (text)."""
    staged = f'"$HW_DIR/secrets/{index}"'
    what = sq(f"secret {spec.name} ({spec.description})")
    lines = [f"# secret {comment(spec.name)}: {comment(spec.description)}; "
             f"{'read from ' + comment(spec.ref) if spec.ref else 'generated once for both nodes by run.sh'}",
             f"hw_secret_{index}() {{"]
    binary = spec.kind == "bytes"
    if binary:
        lines.append(f"  if [ -f {staged} ]; then cat {staged} > \"$HW_STAGE\" || exit 1; "
                     f"hw_bytes_ok {what} \"$HW_STAGE\"; return 0; fi")
    else:
        lines.append(f"  if [ -f {staged} ]; then hw_v=$(cat {staged}) || exit 1; hw_text_ok {what} \"$hw_v\"; "
                     "printf '%s' \"$hw_v\"; return 0; fi")
    if spec.ref.startswith("env:"):
        var = spec.ref[4:]
        lines.append(f"  hw_v=$(printenv {sq(var)}) || hw_die {sq(f'{spec.name} is read from the environment variable {var}, which is not set')}")
        if binary:
            lines.append("  printf '%s' \"$hw_v\" > \"$HW_STAGE\" || exit 1")
            lines.append(f"  hw_bytes_ok {what} \"$HW_STAGE\"")
        else:
            lines.append(f"  hw_text_ok {what} \"$hw_v\"")
            lines.append("  printf '%s' \"$hw_v\"")
    elif spec.ref.startswith("file:"):
        path = spec.ref[5:]
        lines.append(f"  [ -f {sq(path)} ] || hw_die {sq(f'{spec.name}: {path} is not a regular file')}")
        if binary:
            lines.append(f"  cat {sq(path)} > \"$HW_STAGE\" || exit 1")
            lines.append(f"  hw_bytes_ok {what} \"$HW_STAGE\"")
        else:
            # hawizard/run/secrets.py strips the whitespace around a text secret read from a file
            lines.append(f"  hw_v=$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' {sq(path)}) || exit 1")
            lines.append(f"  hw_text_ok {what} \"$hw_v\"")
            lines.append("  printf '%s' \"$hw_v\"")
    else:
        why = (f"{spec.name} needs a reference (env:NAME or file:PATH) in the preset" if spec.kind == "ref-only"
               else f"{spec.name} is generated once for both nodes: run run.sh, which makes it (or reuses the "
                    "primary's) and hands it to both nodes")
        lines.append(f"  hw_die {sq(why)}")
    lines.append("}")
    return "\n".join(lines)


def _reuse_case(index: int, spec: SecretSpec) -> str:
    """``sh nodeN.sh reuse N``: print the secret an earlier build left on this node, if any."""
    if spec.ref or not spec.reuse_path:
        return f"      {index}) exit 0 ;;"
    path = sq(spec.reuse_path)
    if not spec.reuse_pattern:
        return f"      {index}) if [ -f {path} ]; then cat {path}; fi; exit 0 ;;"
    # the renderer's patterns (hawizard/render/renderer.py _secrets), as sed programs
    sed = {
        r'shared-secret "([^"]+)"': r's/.*shared-secret "\([^"][^"]*\)".*/\1/p',
        r"(?m)^1 (?:sha1|md5) (\S+)$": r's/^1 \(sha1\|md5\) \([^[:space:]][^[:space:]]*\)$/\2/p',
    }.get(spec.reuse_pattern)
    if sed is None:
        raise ValueError(f"the shell export cannot read secret {spec.name} back with {spec.reuse_pattern!r}")
    return f"      {index}) if [ -f {path} ]; then sed -n {sq(sed)} {path} | head -n 1; fi; exit 0 ;;"


def _write_lines(f: RenderedFile, secret_index: dict[str, int], plan_kinds: dict[str, str]) -> list[str]:
    """Stage the file's bytes in $HW_STAGE (literal parts and secrets read now), then hw_write."""
    out = []
    if f.whole_secret and plan_kinds[f.whole_secret] == "bytes":  # raw bytes, staged by the getter
        out.append(f"  hw_secret_{secret_index[f.whole_secret]}")
    elif f.whole_secret:
        out.append(f"  hw_secret_{secret_index[f.whole_secret]} > \"$HW_STAGE\" || exit 1")
    else:
        names = sorted({s.name for s in f.slots})
        for name in names:
            out.append(f"  hw_s{secret_index[name]}=$(hw_secret_{secret_index[name]}) || exit 1")
        parts, pos = [], 0
        for slot in f.slots:
            if f.content[pos:slot.start]:
                parts.append(f"printf '%s' {sq(f.content[pos:slot.start])}")
            parts.append(f"{QUOTERS[slot.quoting]} \"$hw_s{secret_index[slot.name]}\"")
            pos = slot.end
        if f.content[pos:]:
            parts.append(f"printf '%s' {sq(f.content[pos:])}")
        if not parts:
            parts.append("printf ''")
        out.append("  {\n    " + "\n    ".join(parts) + "\n  } > \"$HW_STAGE\" || exit 1")
    out.append(f"  hw_write {sq(f.path)} {f.mode:04o} {f.mode:o} {sq(f.owner)} {sq(f.group)} 1 "
               f"|| hw_die {sq('cannot write ' + f.path)}")
    return out


def _step_function(plan: Plan, step: Step, node: str, number: int, secret_index: dict[str, int]) -> str:
    lines = [f"# -- step {comment(step.id)}: {comment(step.title)} ({step.where.words})"]
    if step.explain:
        lines.append(f"# why: {comment(step.explain)}")
    if step.destructive:
        lines.append(f"# DESTROYS DATA: runs only when the operator types {comment(step.confirm)!r} (or --yes)")
    probe = step.probe.get(node, "")
    lines.append(f"hw_probe_{number}() {{")
    lines.append(f"  sh -c {sq(probe)} >/dev/null 2>&1" if probe else "  return 1")
    lines.append("}")
    lines.append(f"hw_step_{number}() {{")
    lines.append(f"  hw_say {sq('step ' + step.id + ': ' + step.title)}")
    if probe:
        lines.append(f"  if hw_probe_{number}; then hw_say {sq(step.id + ': already done (probe)')}; return 0; fi")
    if step.destructive:
        lines.append(f"  [ \"$HW_CONFIRMED\" = {sq(step.id)} ] || hw_confirm {sq(step.id)} {sq(step.confirm)} "
                     f"{sq(step.explain or step.title)}")
    for action in step.actions[node]:
        if action.description:
            lines.append(f"  # {comment(action.description)}")
        if isinstance(action, Run):
            lines.append(f"  hw_run {sq(action.description or action.command)} {int(action.fatal)} "
                         f"{_timeout(step, action.timeout_s)} {sq(action.command)}")
        elif isinstance(action, Fact):
            lines.append(f"  hw_fact {sq(action.fact)} {sq(action.description or action.command)} {int(action.fatal)} "
                         f"{_timeout(step, action.timeout_s)} {sq(action.command)}")
        elif isinstance(action, Write):
            lines += _write_lines(plan.rendering.get(action.file_id), secret_index,
                                  {s.name: s.kind for s in plan.rendering.secrets.values()})
        elif isinstance(action, Poll):
            interval = max(1, int(math.ceil(action.interval_s)))
            lines.append(f"  hw_poll {sq(action.description or action.until.wire)} {interval} "
                         f"{_timeout(step, action.timeout_s)} {sq(action.command)} {check_words(action)}")
        else:  # pragma: no cover - hawizard/plan/types.py has the kinds above
            raise ValueError(f"the shell export has no form for {type(action).__name__}")
    if step.marker is not None:
        lines.append(f"  hw_marker {sq(step.marker.path)} {sq(step.marker.content)}")
    lines.append(f"  hw_say {sq(step.id + ': done')}")
    lines.append("}")
    return "\n".join(lines)


def node_script(plan: Plan, node: str, index: int) -> str:
    """The script of ``node`` (the ``index``-th of the design): its steps as functions, and the commands."""
    specs = list(plan.rendering.secrets.values())
    secret_index = {s.name: i + 1 for i, s in enumerate(specs)}
    steps = [s for s in plan.steps if node in s.actions]
    out = [
        "#!/bin/sh",
        SHELLCHECK,
        f"# hawizard export of design {comment(plan.design_name)} (stack {comment(plan.stack)}): "
        f"the steps of node {comment(node)}.",
        "# Run by run.sh over ssh, as root. By hand, as root on this node:",
        f"#   sh {script_name(node, index)} list            the steps of this node, in the plan's order",
        f"#   sh {script_name(node, index)} step ID [--yes]  one step (its probe first: done = skipped)",
        "# Steps must run in the plan's order across both nodes (README.md); run.sh does that.",
        "set -u",
        f"HW_NODE={sq(node)}",
        "HW_CONFIRMED=''",
        LIBRARY,
        "# -- secrets (never in this file: read at run time) ---------------------------------------",
    ]
    out += [_secret_getter(secret_index[s.name], s) for s in specs]
    out.append("")
    for number, step in enumerate(steps, 1):
        out.append(_step_function(plan, step, node, number, secret_index))
        out.append("")
    out += [
        "hw_usage() {",
        f"  printf '%s\\n' {sq('usage: sh ' + script_name(node, index) + ' list | probe ID | step ID [--yes|--confirmed]')}"
        " >&2",
        "  exit 2",
        "}",
        "",
        "hw_number() {  # the function number of step $1",
        "  case $1 in",
    ]
    out += [f"    {sq(s.id)}) echo {n} ;;" for n, s in enumerate(steps, 1)]
    out += [
        f"    *) printf '%s\\n' \"no step $1 on \"{sq(node)} >&2; exit 2 ;;",
        "  esac",
        "}",
        "",
        "[ $# -ge 1 ] || hw_usage",
        "case $1 in",
        "  list)",
    ]
    out += [f"    printf '%s\\n' {sq(f'{s.id}  {s.where.value}  {s.title}')}" for s in steps]
    out += [
        "    ;;",
        "  probe)",
        "    [ $# -eq 2 ] || hw_usage",
        "    n=$(hw_number \"$2\") || exit 2",
        "    \"hw_probe_$n\"",
        "    ;;",
        "  step)",
        "    [ $# -ge 2 ] || hw_usage",
        "    n=$(hw_number \"$2\") || exit 2",
        "    case ${3:-} in",
        "      --yes) HW_YES=1 ;;",
        "      --confirmed) HW_CONFIRMED=$2 ;;",
        "      '') ;;",
        "      *) hw_usage ;;",
        "    esac",
        "    hw_init",
        "    \"hw_step_$n\"",
        "    ;;",
    ]
    if specs:
        out += ["  put-secret)  # N: the secret on stdin, kept root-only until run.sh removes it",
                "    [ $# -eq 2 ] || hw_usage",
                "    case $2 in"]
        out += [f"      {i}) ;;" for i in secret_index.values()]
        out += ["      *) hw_usage ;;",
                "    esac",
                "    hw_init",
                "    cat > \"$HW_DIR/secrets/$2\" || hw_die \"cannot keep secret $2\"",
                "    ;;",
                "  reuse)  # N: print the secret an earlier build left here (a re-run then changes nothing)",
                "    [ $# -eq 2 ] || hw_usage",
                "    case $2 in"]
        out += [_reuse_case(secret_index[s.name], s) for s in specs]
        out += ["      *) hw_usage ;;",
                "    esac",
                "    ;;"]
    out += [
        "  cleanup)  # what run.sh and this script put in $HW_DIR, and the directory if it is then empty",
        "    rm -rf \"$HW_DIR/secrets\"",
        "    rm -f \"$HW_DIR\"/node*.sh \"$HW_DIR\"/stage.*",
        "    rmdir \"$HW_DIR\" 2>/dev/null || true",
        "    ;;",
        "  *) hw_usage ;;",
        "esac",
        "",
    ]
    return "\n".join(out)


# -- the driver --------------------------------------------------------------------------------

def _ssh_function(design: Design, index: int) -> str:
    n = design.nodes[index]
    words = ["ssh", "-o", "BatchMode=yes", "-p", sq(n.ssh_port)]
    if n.ssh_identity_file:
        words += ["-i", sq(n.ssh_identity_file)]
    if n.ssh_known_hosts:
        words += ["-o", sq("UserKnownHostsFile=" + n.ssh_known_hosts), "-o", "StrictHostKeyChecking=yes"]
    words += ["--", sq(f"{n.ssh_user}@{n.ssh_host}")]
    sudo = "" if n.ssh_user == "root" else "sudo -n "
    return "\n".join([
        f"# node {comment(n.name)}: {comment(n.ssh_user)}@{comment(n.ssh_host)} port {n.ssh_port}"
        + (f"; pinned host key {comment(n.ssh_fingerprint)}" if n.ssh_fingerprint else ""),
        f"hw_ssh_{index + 1}() {{  # REMOTE-COMMAND (fixed words only)",
        f"  {' '.join(words)} \"$1\"",
        "}",
        f"HW_SUDO_{index + 1}={sq(sudo)}",
    ])


def _driver_step(plan: Plan, step: Step, index_of: dict[str, int]) -> list[str]:
    nodes = [index_of[n] for n in step.nodes]
    ids = " ".join(str(i) for i in nodes)
    lines = [f"# {comment(step.id)}: {comment(step.title)} ({step.where.words})"]
    if step.explain:
        lines.append(f"# why: {comment(step.explain)}")
    cond = "hw_selected " + sq(step.id) + (" 1" if step.optional else " 0")
    lines.append(f"if {cond}; then")
    lines.append(f"  hw_say {sq('step ' + step.id + ': ' + step.title + ' (' + step.where.words + ')')}")
    confirmed = ""
    if step.destructive:
        lines.append(f"  hw_confirm_step {sq(step.id)} {sq(step.confirm)} {sq(step.explain or step.title)} {ids}")
        confirmed = " --confirmed"
    if step.where == Where.BOTH and len(nodes) > 1:
        lines.append(f"  hw_both {sq(step.id)}{confirmed or ' -'} {ids}")
    else:
        lines.append(f"  hw_each {sq(step.id)}{confirmed or ' -'} {ids}")
    if isinstance(step.facts_check, NodesAgree):
        a, b = index_of[step.facts_check.a], index_of[step.facts_check.b]
        lines.append(f"  hw_nodes_agree {a} {b} {sq(step.facts_check.a)} {sq(step.facts_check.b)}")
    elif step.facts_check is not None:
        raise ValueError(f"the shell export has no form for the check of step {step.id}")
    lines.append("fi")
    return lines


def _secret_resolver(index: int, spec: SecretSpec, primary: int) -> str:
    """``hw_resolve_N``: the secret into $HW_TMP/N on the operator's machine (hawizard/run/secrets.py)."""
    dest = f'"$HW_TMP/{index}"'
    lines = [f"hw_resolve_{index}() {{  # {comment(spec.name)}: {comment(spec.description)}"]
    if spec.ref.startswith("env:"):
        var = spec.ref[4:]
        lines.append(f"  hw_v=$(printenv {sq(var)}) || hw_die {sq(f'secret {spec.name} is read from the environment variable {var}, which is not set')}")
        lines.append(f"  [ -n \"$hw_v\" ] || hw_die {sq(f'secret {spec.name}: the environment variable {var} is empty')}")
        lines.append(f"  printf '%s' \"$hw_v\" > {dest}")
    elif spec.ref.startswith("file:"):
        path = spec.ref[5:]
        lines.append(f"  [ -f {sq(path)} ] || hw_die {sq(f'secret {spec.name}: {path} is not a regular file')}")
        # hawizard/run/secrets.py strips the whitespace around a text secret read from a file
        read = "cat" if spec.kind == "bytes" else "sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'"
        lines.append(f"  {read} {sq(path)} > {dest} || hw_die {sq(f'secret {spec.name}: cannot read {path}')}")
    elif spec.kind == "ref-only":
        lines.append(f"  hw_die {sq(f'secret {spec.name} needs a reference (env:NAME or file:PATH) in the preset')}")
    else:
        make = {"bytes": "dd if=/dev/urandom bs=256 count=1 2>/dev/null",  # what corosync-keygen writes
                "hex": "od -An -N32 -tx1 /dev/urandom | tr -d ' \\n'",
                }.get(spec.kind, "tr -dc 'A-Za-z0-9' < /dev/urandom | fold -w 32 | head -n 1 | tr -d '\\n'")
        lines.append(f"  hw_remote {primary} \"reuse {index}\" > {dest} < /dev/null || "
                     f"hw_die {sq(f'cannot ask the primary for an existing {spec.name}')}")
        lines.append(f"  if [ ! -s {dest} ]; then {make} > {dest}; fi")
    lines.append("}")
    return "\n".join(lines)


DRIVER_LIB = r"""
hw_say() {
  printf '%s\n' "hawizard: $*" >&2
}

hw_die() {
  hw_say "FAILED: $*"
  exit 1
}


hw_selected() {  # STEP OPTIONAL
  if [ -n "$HW_ONLY" ]; then
    [ "$HW_ONLY" = "$1" ]
    return
  fi
  [ "$2" = 0 ] || [ "$HW_OPTIONAL" = 1 ]
}

hw_confirm_step() {  # STEP PHRASE WHY NODE...: asked once, before any node is touched
  hw_cs=$1
  hw_phrase=$2
  hw_why=$3
  shift 3
  hw_todo=""
  for hw_n in "$@"; do
    if ! hw_remote "$hw_n" "probe '$hw_cs'" < /dev/null; then hw_todo="$hw_todo $hw_n"; fi
  done
  [ -n "$hw_todo" ] || return 0
  if [ "$HW_YES" = 1 ]; then
    hw_say "$hw_cs: confirmed by --yes"
    return 0
  fi
  hw_say "$hw_cs destroys data: $hw_why"
  printf '%s' "hawizard: type '$hw_phrase' to go on (anything else stops): " >&2
  hw_answer=""
  IFS= read -r hw_answer || true
  if [ "$hw_answer" != "$hw_phrase" ]; then
    hw_say "$hw_cs was not confirmed; nothing was changed by it"
    exit 130
  fi
}

hw_each() {  # STEP --confirmed|- NODE...: on each node in turn
  hw_st=$1
  hw_c=$2
  shift 2
  [ "$hw_c" = - ] && hw_c=""
  for hw_n in "$@"; do
    hw_at=$(date +%s)
    hw_remote "$hw_n" "step '$hw_st' $hw_c" < /dev/null > "$HW_TMP/out.$hw_n" || hw_die "step $hw_st failed on node $hw_n"
    printf 'HWFACT clock_at %s\n' "$hw_at" >> "$HW_TMP/out.$hw_n"
  done
}

hw_both() {  # STEP --confirmed|- NODE...: on all nodes at once
  hw_st=$1
  hw_c=$2
  shift 2
  [ "$hw_c" = - ] && hw_c=""
  hw_pids=""
  for hw_n in "$@"; do
    printf 'HWFACT clock_at %s\n' "$(date +%s)" > "$HW_TMP/at.$hw_n"
    hw_remote "$hw_n" "step '$hw_st' $hw_c" < /dev/null > "$HW_TMP/out.$hw_n" &
    hw_pids="$hw_pids $!"
  done
  hw_bad=0
  for hw_p in $hw_pids; do
    wait "$hw_p" || hw_bad=1
  done
  for hw_n in "$@"; do
    cat "$HW_TMP/at.$hw_n" >> "$HW_TMP/out.$hw_n"
  done
  [ "$hw_bad" = 0 ] || hw_die "step $hw_st failed"
}

hw_fact() {  # NODE NAME: a fact the node's last step printed
  sed -n "s/^HWFACT $2 //p" "$HW_TMP/out.$1" | head -n 1 | tr -d ' '
}

hw_nodes_agree() {  # NODE-A NODE-B NAME-A NAME-B: hawizard/plan/crosscheck.py NodesAgree
  hw_da=$(hw_fact "$1" disk_bytes)
  hw_db=$(hw_fact "$2" disk_bytes)
  if [ -n "$hw_da" ] && [ -n "$hw_db" ] && [ "$hw_da" != "$hw_db" ]; then
    hw_die "backing disks differ in size: $3 has $hw_da bytes, $4 has $hw_db bytes; DRBD needs the same size on both nodes"
  fi
  hw_ca=$(hw_fact "$1" clock)
  hw_cb=$(hw_fact "$2" clock)
  case "$hw_ca$hw_cb" in
    '' | *[!0-9]*) return 0 ;;
  esac
  # each node's offset from this machine's clock when its step began: "each node in turn" reads them a step apart
  hw_aa=$(hw_fact "$1" clock_at)
  hw_ab=$(hw_fact "$2" clock_at)
  case "$hw_aa$hw_ab" in
    '' | *[!0-9]*) hw_aa=0 hw_ab=0 ;;
  esac
  hw_skew=$(( (hw_ca - hw_aa) - (hw_cb - hw_ab) ))
  [ "$hw_skew" -ge 0 ] || hw_skew=$((0 - hw_skew))
  if [ "$hw_skew" -gt "$HW_SKEW_FATAL" ]; then
    hw_die "the clocks of $3 and $4 differ by $hw_skew s; synchronise them (NTP) first"
  elif [ "$hw_skew" -gt "$HW_SKEW_WARN" ]; then
    hw_say "warning: the clocks of $3 and $4 differ by $hw_skew s; synchronise them (NTP)"
  fi
}
"""


def driver(design: Design, plan: Plan) -> str:
    names = design.node_names
    index_of = {n: i + 1 for i, n in enumerate(names)}
    specs = list(plan.rendering.secrets.values())
    step_ids = [s.id for s in plan.steps]
    out = [
        "#!/bin/sh",
        SHELLCHECK,
        f"# hawizard export of design {comment(plan.design_name)} (stack {comment(plan.stack)}): the driver.",
        "# Runs on the operator's machine, like hawizard apply: copies the node scripts to the nodes and",
        "# runs each step of the plan on the right nodes, in the plan's order, over ssh (README.md).",
        "#   sh run.sh [--yes] [--only STEP] [--with-optional]",
        "set -u",
        "LC_ALL=C",
        "export LC_ALL",
        "umask 077",
        f"HW_REMOTE=${{HW_REMOTE:-{REMOTE_DIR}}}",
        "case $HW_REMOTE in",
        "  /*[!A-Za-z0-9_./-]* | *..* | '' | [!/]*) hw_bad_remote=1 ;;",
        "  /*/*hawizard* | /*hawizard*) hw_bad_remote=0 ;;",
        "  *) hw_bad_remote=1 ;;",
        "esac",
        "if [ \"$hw_bad_remote\" = 1 ]; then",
        "  printf '%s\\n' \"HW_REMOTE=$HW_REMOTE: an absolute path of letters, digits and _ . / - whose last part "
        "names hawizard\" >&2",
        "  exit 2",
        "fi",
        f"HW_SKEW_WARN={CLOCK_SKEW_WARN_S}",
        f"HW_SKEW_FATAL={CLOCK_SKEW_FATAL_S}",
        f"# the facts preflight reads: {DISK_BYTES}, {CLOCK}",
        "HW_YES=0",
        "HW_ONLY=''",
        "HW_OPTIONAL=0",
        "HW_HERE=$(cd \"$(dirname \"$0\")\" && pwd) || exit 1",
        DRIVER_LIB,
    ]
    for i in range(len(names)):
        out.append(_ssh_function(design, i))
    out += ["hw_remote() {  # NODE-NUMBER COMMAND-WORDS: the node script's command on that node, as root",
            "  case $1 in"]
    out += [f"    {i + 1}) hw_ssh_{i + 1} \"${{HW_SUDO_{i + 1}}}env HW_DIR=$HW_REMOTE sh $HW_REMOTE/node{i + 1}.sh $2\" ;;"
            for i in range(len(names))]
    out += ["  esac", "}"]
    out.append("")
    for i, spec in enumerate(specs, 1):
        out.append(_secret_resolver(i, spec, index_of[plan.primary]))
    out += [
        "",
        "while [ $# -gt 0 ]; do",
        "  case $1 in",
        "    --yes) HW_YES=1 ;;",
        "    --with-optional) HW_OPTIONAL=1 ;;",
        "    --only) [ $# -ge 2 ] || hw_die '--only needs a step'; HW_ONLY=$2; shift ;;",
        "    *) printf '%s\\n' 'usage: sh run.sh [--yes] [--only STEP] [--with-optional]' >&2; exit 2 ;;",
        "  esac",
        "  shift",
        "done",
        "if [ -n \"$HW_ONLY\" ]; then",
        "  case $HW_ONLY in",
        "    " + " | ".join(sq(s) for s in step_ids) + ") ;;",
        "    *) hw_say \"no step $HW_ONLY in this plan\"; exit 2 ;;",
        "  esac",
        "fi",
        "HW_TMP=$(mktemp -d) || exit 1",
        "hw_cleanup() {",
        "  rm -rf \"$HW_TMP\"",
    ]
    out += [f"  hw_remote {i} cleanup < /dev/null 2>/dev/null" for i in index_of.values()]
    out += [
        "}",
        "trap hw_cleanup EXIT",
        "trap 'exit 130' INT TERM",
        "",
        "# the node scripts, root-only on each node",
    ]
    for name, i in index_of.items():
        upload = f"'umask 077 && mkdir -p $HW_REMOTE && chmod 700 $HW_REMOTE && cat > $HW_REMOTE/node{i}.sh'"
        out.append(f"hw_ssh_{i} \"${{HW_SUDO_{i}}}sh -c {upload}\" < \"$HW_HERE/{script_name(name, i - 1)}\" "
                   f"|| hw_die {sq('cannot copy the script of ' + name)}")
    if specs:
        out.append("")
        out.append("# the secrets: read or made here, handed to the nodes, removed from them at the end")
        for i, spec in enumerate(specs, 1):
            out.append(f"hw_resolve_{i}")
            for n in (index_of[x] for x in names):
                out.append(f"hw_remote {n} 'put-secret {i}' < \"$HW_TMP/{i}\" "
                           f"|| hw_die {sq('cannot hand secret ' + spec.name + ' to a node')}")
    out.append("")
    for step in plan.steps:
        out += _driver_step(plan, step, index_of)
        out.append("")
    out.append("hw_say 'the plan ran to its end'")
    out.append("")
    return "\n".join(out)


def readme(design: Design, plan: Plan) -> str:
    names = design.node_names
    rows = "\n".join(f"| {i} | `{s.id}` | {s.where.words} | {comment(s.title)}"
                     f"{' (destroys data; confirm: `' + comment(s.confirm) + '`)' if s.destructive else ''}"
                     f"{' (optional)' if s.optional else ''} |"
                     for i, s in enumerate(plan.steps, 1))
    scripts = "\n".join(f"- `{script_name(n, i)}`: the steps of node `{comment(n)}`"
                        f"{' (the primary)' if n == plan.primary else ''}" for i, n in enumerate(names))
    secrets = "\n".join(f"- {comment(s.name)}: {comment(s.description)}; "
                        + (f"read from `{comment(s.ref)}`" if s.ref else "generated once (or the primary's reused)")
                        for s in plan.rendering.secrets.values()) or "- none"
    return f"""# hawizard export: design {comment(plan.design_name)} as shell scripts

Made by `hawizard export-plan ... --format sh`. The scripts perform the plan that
`hawizard plan` prints and `hawizard apply` runs: the same commands, files, probes, waits and
confirmations. Nothing here holds a secret.

{scripts}
- `run.sh`: the driver; it runs on your machine, like `hawizard apply`.

## Run it

    sh run.sh                  # every step, in order; destructive steps ask for their phrase
    sh run.sh --yes            # no questions (a fresh build you have reviewed)
    sh run.sh --only STEP      # one step
    sh run.sh --with-optional  # with the optional steps (the switch-over test)

`run.sh` copies each node script to `{REMOTE_DIR}/nodeN.sh` on its node (root only, mode 0700
directory) over ssh (the preset's host, port, user, identity file and known_hosts; a user other
than root runs the scripts with `sudo -n`), then runs each step: on each node in turn, on both
nodes at once, or on the primary only, as the table says. A step whose probe succeeds on a node
is skipped there, so a second run changes nothing. The nodes' output streams back with
`hawizard[NODE]:` in front; waits print a line each time the state changes and fail after their
limit.

## Secrets

{secrets}

`run.sh` reads each secret on your machine where the preset says (`env:NAME`: the environment
variable; `file:/path`: the file), makes a generated one once for both nodes (reusing the one an
earlier build left on the primary), and hands it to the node script over ssh's stdin into
`{REMOTE_DIR}/secrets` (root only), which it removes when it ends. A node script run by hand
reads the reference on the node itself.

## Running the node scripts by hand

As root on each node, in the order of the table, and only on the nodes it names (a
primary-only step exists only in the primary's script):

    sh node1.sh list
    sh node1.sh step preflight

"Both nodes at once" steps must run on both nodes at the same time (two terminals): DRBD
connects only while both sides come up. The preflight check that compares the two nodes' disks
and clocks is made by `run.sh` only.

## The steps

| # | step | where | what |
|---|------|-------|------|
{rows}
"""


def export_sh(design: Design, plan: Plan) -> Export:
    """The node scripts, the driver and the README of ``plan`` (made from ``design``)."""
    files = [ExportedFile(script_name(n, i), node_script(plan, n, i), 0o755)
             for i, n in enumerate(design.node_names)]
    files.append(ExportedFile("run.sh", driver(design, plan), 0o755))
    files.append(ExportedFile("README.md", readme(design, plan), 0o644))
    return Export(tuple(files))
