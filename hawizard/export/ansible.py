"""``export-plan --format ansible``: the plan as an Ansible project, ``ansible.builtin`` modules only.

Why this shape: each step of the plan is one play, in the plan's order, so Ansible keeps the
nodes in step as the runner does (hawizard/run/runner.py):

* "each node in turn" is a play with ``serial: 1``; "both nodes at once" a play over both nodes
  (Ansible's linear strategy runs a task on both hosts in parallel); "primary only" a play on the
  inventory group ``hw_primary``;
* the step's probe is a registered check (``changed_when: false``, ``failed_when: false``, run
  in ``--check`` too); the actions run ``when`` it failed, and then report a change; a step
  without a probe only re-reads or re-writes what is already there, so its commands report none;
* a destructive step asserts an explicit extra variable (``-e hw_confirm_STEP='PHRASE'``, or
  ``-e hw_yes=true`` for all) before it touches a node that needs it;
* a wait is a task with ``until``/``retries``/``delay`` that runs the poll's command through
  files/hw_wait.sh, the same checks the shell export uses (hawizard/export/shlib.py);
* files are copied with their mode, owner and ``backup: true``; a file that holds a secret is a
  template whose secret parts come from lookups (env, file) or, for a generated secret, from the
  primary's existing file (reused, so a re-run changes nothing) or ``password('/dev/null')``;
  no secret is in the project, and tasks that handle one have ``no_log`` and no diff.

Every value from the design is written ``!unsafe`` (hawizard/export/yamltext.py): Ansible never
evaluates it as a template. The nodes' commands are the plan's, which quoted every value itself.
"""

from __future__ import annotations

import math

from hawizard.common.shellquote import q
from hawizard.design.model import Design
from hawizard.export.files import Export, ExportedFile, comment
from hawizard.export.shlib import WAIT_SCRIPT
from hawizard.export.shwaits import check_argv
from hawizard.export.yamltext import Expr, Unsafe, emit
from hawizard.plan.crosscheck import CLOCK, CLOCK_SKEW_FATAL_S, CLOCK_SKEW_WARN_S, DISK_BYTES, NodesAgree
from hawizard.plan.types import Fact, Plan, Poll, Run, Step, Where, Write
from hawizard.render.renderer import RenderedFile, SecretSpec

# on the nodes: where hw_wait.sh is kept (-e hw_state_dir=DIR moves it; the tests keep it in a temp dir)
STATE_DIR = Expr("{{ hw_state_dir | default('/var/lib/hawizard/export') }}")
WAIT_PATH = Expr(STATE_DIR + "/hw_wait.sh")
# The generated secrets' alphabets and lengths, as hawizard/run/secrets.py generate() makes them.
PASSWORD = {"hex": (["0123456789abcdef"], 64), "alnum": (["ascii_letters", "digits"], 32)}


def _var(step: Step) -> str:
    """The step's id as a variable-name part (ids are the plan builders' fixed words)."""
    return "".join(c if c.isalnum() else "_" for c in step.id)


def _group(index: int) -> str:
    return f"hw_node{index + 1}"


def _name(text: str, limit: int = 120) -> str:
    """A task or play name: one line, capitalised (ansible-lint name[casing]), at most ``limit`` characters.

    Ansible templates names when it shows them, and ansible-lint matches names as plain strings (not
    ``!unsafe``): braces become parentheses, so no Jinja delimiter ({{, {%, {#) can be in a name.
    """
    text = comment(text).replace("{", "(").replace("}", ")")
    text = text[:1].upper() + text[1:]
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _mkdir(path: str) -> dict:
    """``mkdir -p`` as the runner runs it before a write: an existing directory keeps its mode."""
    return {"name": _name(f"Directory {path}"), "ansible.builtin.command": {"argv": ["mkdir", "-p", Unsafe(path)],
                                                                             "creates": Unsafe(path)}}


def _timeout(step: Step, seconds: float) -> int:
    return int(math.ceil(seconds or step.timeout_s))


# -- the inventory ------------------------------------------------------------------------------

def inventory(design: Design, plan: Plan) -> str:
    hosts: dict = {}
    for n in design.nodes:
        h: dict = {"ansible_host": Unsafe(n.ssh_host), "ansible_port": n.ssh_port, "ansible_user": Unsafe(n.ssh_user)}
        if n.ssh_identity_file:
            h["ansible_ssh_private_key_file"] = Unsafe(n.ssh_identity_file)
        if n.ssh_known_hosts:
            h["ansible_ssh_common_args"] = Unsafe(f"-o UserKnownHostsFile={q(n.ssh_known_hosts)} "
                                                  "-o StrictHostKeyChecking=yes")
        if n.ssh_user != "root":
            h["ansible_become"] = True
        hosts[n.name] = h
    groups: dict = {"cluster": {"hosts": {n: {} for n in design.node_names}},
                    "hw_primary": {"hosts": {plan.primary: {}}}}
    for i, n in enumerate(design.node_names):
        groups[_group(i)] = {"hosts": {n: {}}}
    lines = [f"# hawizard export of design {comment(plan.design_name)}: the two nodes, as the preset's ssh settings say",
             "# (hawizard's pinned host keys are not carried over: put them in known_hosts)"]
    lines += emit({"all": {"hosts": hosts, "children": groups}})
    return "\n".join(lines) + "\n"


# -- files and templates ------------------------------------------------------------------------

_RAW_END = "endraw"


def _literal(text: str) -> str:
    """Template text that Jinja copies as it is."""
    if _RAW_END in text:  # a raw block cannot hold its own end: each character as a string expression
        return "".join("{{ " + repr_jinja(c) + " }}" for c in text)
    return "{% raw %}" + text + "{% endraw %}"


def repr_jinja(text: str) -> str:
    """A Jinja string literal of ``text`` (Jinja decodes Python string escapes)."""
    return "'" + "".join(c if c.isalnum() or c == " " else f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF
                         else f"\\U{ord(c):08x}" for c in text) + "'"


# Secrets quoted as hawizard/render/renderer.py quotes them (with_secrets: shlex.quote, _crm_value,
# _drbd_string). No backslash in a Jinja literal: ansible-core 2.19 reads '\\' as two characters where
# Jinja itself reads one, so the backslash is made by format(92) and is the same under both.
_BS = "('%c' | format(92))"
_ESCAPED = "({v} | replace(" + _BS + ", " + _BS + " ~ " + _BS + ") | replace('\"', " + _BS + " ~ '\"'))"
_QUOTING = {
    "": "{v}",
    "sh": "{v} | ansible.builtin.quote",
    "crm": "({v} if {v} is match('^[A-Za-z0-9_./:@+-]+$') else '\"' ~ " + _ESCAPED + " ~ '\"')",
    "drbd": "'\"' ~ " + _ESCAPED + " ~ '\"'",
}


def template(f: RenderedFile, secret_index: dict[str, int]) -> str:
    parts, pos = [], 0
    for slot in f.slots:
        if f.content[pos:slot.start]:
            parts.append(_literal(f.content[pos:slot.start]))
        v = f"hw_secret_{secret_index[slot.name]}"
        parts.append("{{ " + _QUOTING[slot.quoting].format(v=v) + " }}")
        pos = slot.end
    if f.content[pos:]:
        parts.append(_literal(f.content[pos:]))
    return "".join(parts)


# -- plays ----------------------------------------------------------------------------------------

def _play(name: str, hosts: str, tasks: list, *, serial: bool = False, variables: dict | None = None) -> dict:
    # linear: a task runs on every host of the play before the next starts (run_once relies on it)
    play: dict = {"name": _name(name, 160), "hosts": hosts, "gather_facts": False, "strategy": "linear",
                  "any_errors_fatal": True}
    if serial:
        play["serial"] = 1
    if variables:
        play["vars"] = variables
    play["tasks"] = tasks
    return play


def _secret_tasks(index: int, spec: SecretSpec, primary: str) -> list[dict]:
    """The secret as fact ``hw_secret_N`` on every node (text), or as file hw_tmp/N on this machine (bytes)."""
    v = f"hw_secret_{index}"
    ref = f"hw_secret_ref_{index}"
    name = f"Secret {spec.name} ({spec.description})"
    base = {"run_once": True, "no_log": True}
    tasks: list[dict] = []
    binary = spec.kind == "bytes"
    if binary:
        if spec.ref.startswith("file:"):
            return []  # copied from the operator's file itself (src:), never through a fact
        if spec.ref.startswith("env:"):
            b64 = Expr("{{ lookup('ansible.builtin.env', " + ref + ") | ansible.builtin.b64encode }}")
        elif spec.kind == "ref-only":
            return [_needs_reference(spec)]
        else:
            tasks.append(_reuse_task(index, spec, primary))
            b64 = Expr("{{ hw_reuse_" + str(index) + ".content if (hw_reuse_" + str(index) + ".content | default('')) "
                       "else lookup('ansible.builtin.pipe', 'dd if=/dev/urandom bs=256 count=1 2>/dev/null | base64') }}")
        tasks.append({"name": _name(f"{name}: read or made"), "ansible.builtin.set_fact": {f"hw_b64_{index}": b64},
                      **base})
        tasks.append({"name": _name(f"{name}: kept on this machine until the end"),
                      "ansible.builtin.shell": {"cmd": "base64 -d > \"$HW_F\"",
                                                "stdin": Expr("{{ hw_b64_" + str(index) + " }}")},
                      "environment": {"HW_F": Expr("{{ hw_tmp.path }}/" + str(index))},
                      "delegate_to": "localhost", "check_mode": False, "changed_when": False, **base})
        return tasks
    if spec.ref.startswith("env:"):
        value = Expr("{{ lookup('ansible.builtin.env', " + ref + ") }}")
    elif spec.ref.startswith("file:"):
        value = Expr("{{ lookup('ansible.builtin.file', " + ref + ") | trim }}")
    elif spec.kind == "ref-only":
        return [_needs_reference(spec)]
    else:
        tasks.append(_reuse_task(index, spec, primary))
        chars, length = PASSWORD.get(spec.kind, PASSWORD["alnum"])
        if spec.reuse_pattern:  # the pattern's one group (re.findall); no backslash in a literal (see _BS)
            found = f"((hw_reuse_{index}.content | b64decode | regex_findall(hw_reuse_pattern_{index})) + ['']) | first"
        else:
            found = f"(hw_reuse_{index}.content | b64decode)"
        tasks.append({"name": _name(f"{name}: reused"), "ansible.builtin.set_fact": {
            v: Expr("{{ " + found + " if (hw_reuse_" + str(index) + ".content | default('')) else '' }}")}, **base})
        value = Expr("{{ " + v + " if " + v + " else lookup('ansible.builtin.password', '/dev/null', chars="
                     + repr(chars) + ", length=" + str(length) + ") }}")
    tasks.append({"name": _name(f"{name}: read or made"), "ansible.builtin.set_fact": {v: value}, **base})
    tasks.append({"name": _name(f"{name}: one line, not empty"), "ansible.builtin.assert": {
        "that": [Expr(v + " | length > 0"), Expr(v + " is not search('[\\x00-\\x1f\\x7f]')")],
        "fail_msg": Unsafe(f"secret {spec.name}: {spec.ref or 'the reused value'} is empty or not one line"),
        "quiet": True}, "run_once": True})
    return tasks


def _needs_reference(spec: SecretSpec) -> dict:
    return {"name": _name(f"Secret {spec.name} needs a reference"), "ansible.builtin.fail":
            {"msg": Unsafe(f"secret {spec.name} needs a reference (env:NAME or file:PATH) in the preset")}}


def _reuse_task(index: int, spec: SecretSpec, primary: str) -> dict:
    """The secret an earlier build left on the primary (hawizard/run/secrets.py reuses it the same way)."""
    return {"name": _name(f"Secret {spec.name}: the one an earlier build left on the primary"),
            "ansible.builtin.slurp": {"src": Unsafe(spec.reuse_path)}, "register": f"hw_reuse_{index}",
            "delegate_to": Unsafe(primary), "failed_when": False, "run_once": True, "no_log": True}


def secrets_play(plan: Plan) -> dict | None:
    specs = list(plan.rendering.secrets.values())
    if not specs:
        return None
    tasks: list[dict] = [{
        "name": "A private directory on this machine for binary secrets (removed by the last play)",
        "ansible.builtin.tempfile": {"state": "directory", "prefix": "hawizard-export."},
        "register": "hw_tmp", "delegate_to": "localhost", "run_once": True, "check_mode": False,
        "changed_when": False}]  # this machine's temp dir, not a change of the cluster
    variables: dict = {}
    for i, spec in enumerate(specs, 1):
        if spec.ref:
            variables[f"hw_secret_ref_{i}"] = Unsafe(spec.ref.split(":", 1)[1])
        if spec.reuse_pattern:
            variables[f"hw_reuse_pattern_{i}"] = Unsafe(spec.reuse_pattern)
        tasks += _secret_tasks(i, spec, plan.primary)
    return _play("Secrets: read where the preset says, or made once (never stored in this project)", "cluster",
                 tasks, variables=variables)


def _write_tasks(f: RenderedFile, secret_index: dict[str, int], specs: dict[str, SecretSpec],
                 when: list[str]) -> list[dict]:
    parent = f.path.rsplit("/", 1)[0] or "/"
    attrs = {"dest": Unsafe(f.path), "mode": f.mode_str, "owner": Unsafe(f.owner), "group": Unsafe(f.group),
             "backup": True}
    out: list[dict] = [_mkdir(parent)]
    if f.whole_secret:
        index = secret_index[f.whole_secret]
        spec = specs[f.whole_secret]
        if spec.kind == "bytes" and spec.ref.startswith("file:"):
            src: object = Expr("{{ hw_secret_ref_" + str(index) + " }}")
        elif spec.kind == "bytes":
            src = Expr("{{ hw_tmp.path }}/" + str(index))
        else:
            src = None
        task = {"name": _name(f"Write {f.path} ({f.mode_str}, {f.owner}:{f.group})"), "no_log": True, "diff": False}
        if src is not None:
            task["ansible.builtin.copy"] = {"src": src, **attrs}
        else:
            task["ansible.builtin.copy"] = {"content": Expr("{{ hw_secret_" + str(index) + " }}"), **attrs}
        out.append(task)
    elif f.slots:
        out.append({"name": _name(f"Write {f.path} ({f.mode_str}, {f.owner}:{f.group})"),
                    "ansible.builtin.template": {"src": f"templates/{f.id}.j2", "trim_blocks": False,
                                                 "lstrip_blocks": False, **attrs},
                    "no_log": True, "diff": False})
    else:
        out.append({"name": _name(f"Write {f.path} ({f.mode_str}, {f.owner}:{f.group})"),
                    "ansible.builtin.copy": {"src": f"files/{f.id}", **attrs}})
    for t in out:
        if when:
            t["when"] = list(when)
    return out


def _node_tasks(plan: Plan, step: Step, node: str, index: int, secret_index: dict[str, int]) -> list[dict]:
    n = index + 1
    probe = step.probe.get(node, "")
    reg = f"hw_probe_{n}"
    need = [f"{reg}.rc != 0"] if probe else []
    tasks: list[dict] = []
    if probe:
        tasks.append({"name": _name(f"Probe of {step.id} on {node} (exit 0: already done)"),
                      "ansible.builtin.shell": {"cmd": Unsafe(probe)}, "register": reg,
                      "changed_when": False, "failed_when": False, "check_mode": False})
    if step.destructive:
        tasks.append({"name": _name(f"Confirmation of {step.id}, which destroys data "
                                    f"(-e hw_confirm_{_var(step)}=PHRASE or -e hw_yes=true)"),
                      "ansible.builtin.assert": {
                          "that": Expr("(hw_yes | default(false) | bool) or "
                                       f"(hw_confirm_{_var(step)} | default('')) == hw_phrase"),
                          "fail_msg": Unsafe(f"{step.id} destroys data ({step.explain or step.title}); confirm it with "
                                             f"-e hw_confirm_{_var(step)}='{step.confirm}' (or -e hw_yes=true)"),
                          "quiet": True},
                      "when": need + ["not ansible_check_mode"]})
    specs = plan.rendering.secrets
    for k, action in enumerate(step.actions[node]):
        if isinstance(action, Run | Fact):
            reg = f"hw_fact_{_word(action.fact)}_{n}" if isinstance(action, Fact) else f"hw_run_{n}_{k}"
            task = {"name": _name(f"{'Read ' + action.fact + ': ' if isinstance(action, Fact) else 'Run: '}"
                                  f"$ {action.command}"),
                    "ansible.builtin.shell": {"cmd": Unsafe(action.command)},
                    "timeout": _timeout(step, action.timeout_s), "register": reg,
                    # a step with a probe runs only when it is not done: its commands change the node;
                    # a step without one re-checks or re-applies what is there (the runner runs it each time)
                    "changed_when": bool(probe) and isinstance(action, Run)}
            if isinstance(action, Fact):
                task["check_mode"] = False  # preflight's facts are reads, needed by the check of both nodes
            elif need:
                task["when"] = list(need)
            if not action.fatal:  # the runner reports it as a warning and goes on
                task["failed_when"] = False
            tasks.append(task)
            if isinstance(action, Fact) and action.fact == CLOCK:
                # when it was read, by this machine's clock: a step "each node in turn" reads the second node's
                # clock a whole step later (a minute on slow nodes), so the check compares offsets, not readings
                tasks.append({"name": "When the clock was read (this machine's time)",
                              "ansible.builtin.set_fact": {f"{reg}_at": Expr("{{ now().timestamp() | int }}")}})
            if not action.fatal:
                tasks.append({"name": _name(f"Warning: {action.description or action.command}"),
                              "ansible.builtin.debug": {"msg": Unsafe(f"warning: {action.description or action.command}")},
                              "when": [Expr(f"{reg}.rc is defined"), Expr(f"{reg}.rc != 0")]})
        elif isinstance(action, Write):
            tasks += _write_tasks(plan.rendering.get(action.file_id), secret_index, specs, need)
        elif isinstance(action, Poll):
            interval = max(1, int(math.ceil(action.interval_s)))
            limit = _timeout(step, action.timeout_s)
            reg_w = f"hw_wait_{n}_{k}"
            task = {"name": _name(f"Wait until {action.description or action.until.wire} (at most {limit} s)"),
                    "ansible.builtin.command": {"argv": ["sh", WAIT_PATH, Unsafe(action.command)]
                                                + [Unsafe(a) for a in check_argv(action)]},
                    "register": reg_w, "until": Expr(f"{reg_w}.rc != 1"),
                    "retries": max(1, math.ceil(limit / interval)), "delay": interval,
                    "changed_when": False, "failed_when": Expr(f"{reg_w}.rc != 0")}
            if need:
                task["when"] = list(need)
            tasks.append(task)
        else:  # pragma: no cover - hawizard/plan/types.py has the kinds above
            raise ValueError(f"the Ansible export has no form for {type(action).__name__}")
    if step.marker is not None:
        m = step.marker
        tasks.append({**_mkdir(m.directory), **({"when": list(need)} if need else {})})
        tasks.append({"name": _name(f"Marker: {step.id} is done on {node} ({m.path})"),
                      "ansible.builtin.copy": {"content": Unsafe(m.content), "dest": Unsafe(m.path), "mode": "0644",
                                               "owner": "root", "group": "root"},
                      **({"when": list(need)} if need else {})})
    return tasks


def _word(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def step_plays(plan: Plan, step: Step, index_of: dict[str, int], secret_index: dict[str, int]) -> list[dict]:
    tasks: list[dict] = []
    for node in step.nodes:
        i = index_of[node]
        tasks.append({"name": _name(f"Step {step.id} on {node}"), "when": f"'{_group(i)}' in group_names",
                      "block": _node_tasks(plan, step, node, i, secret_index)})
    hosts = "hw_primary" if step.where == Where.PRIMARY else "cluster"
    if step.where != Where.PRIMARY and len(step.nodes) == 1:
        hosts = _group(index_of[step.nodes[0]])
    variables = {"hw_phrase": Unsafe(step.confirm)} if step.destructive else None
    plays = [_play(f"Step {step.id}: {step.title} ({step.where.words})", hosts, tasks,
                   serial=step.where == Where.EACH, variables=variables)]
    if isinstance(step.facts_check, NodesAgree):
        plays.append(_agree_play(step, index_of))
    elif step.facts_check is not None:
        raise ValueError(f"the Ansible export has no form for the check of step {step.id}")
    return plays


def _agree_play(step: Step, index_of: dict[str, int]) -> dict:
    """hawizard/plan/crosscheck.py NodesAgree: equal disks, clocks within the limits."""
    fc = step.facts_check
    assert isinstance(fc, NodesAgree)
    a, b = index_of[fc.a], index_of[fc.b]
    ha, hb = f"hostvars[groups['{_group(a)}'][0]]", f"hostvars[groups['{_group(b)}'][0]]"
    disk_a, disk_b = f"{ha}.hw_fact_{DISK_BYTES}_{a + 1}.stdout | trim", f"{hb}.hw_fact_{DISK_BYTES}_{b + 1}.stdout | trim"
    clk_a, clk_b = f"{ha}.hw_fact_{CLOCK}_{a + 1}.stdout | int", f"{hb}.hw_fact_{CLOCK}_{b + 1}.stdout | int"
    at_a, at_b = f"{ha}.hw_fact_{CLOCK}_{a + 1}_at | int", f"{hb}.hw_fact_{CLOCK}_{b + 1}_at | int"
    # each node's offset from this machine's clock when it was read: the readings are a step apart
    skew = f"((({clk_a}) - ({at_a})) - (({clk_b}) - ({at_b}))) | abs"
    return _play(f"Step {step.id}: the two nodes agree (disk sizes, clocks)", "hw_primary", [
        {"name": "Backing disks of one size; clocks less than a minute apart",
         "ansible.builtin.assert": {"that": [Expr(f"({disk_a}) == ({disk_b})"),
                                             Expr(f"{skew} <= {CLOCK_SKEW_FATAL_S}")],
                                    "fail_msg": "the backing disks differ in size (DRBD needs the same size on both "
                                                "nodes), or the clocks differ by more than a minute (synchronise them)",
                                    "quiet": True}},
        {"name": "Warning when the clocks are more than a few seconds apart",
         "ansible.builtin.debug": {"msg": Expr("the clocks of the nodes differ by {{ " + skew + " }} s: "
                                               "synchronise them (NTP)")},
         "when": Expr(f"{skew} > {CLOCK_SKEW_WARN_S}")},
    ])


def playbook(plan: Plan, index_of: dict[str, int]) -> str:
    specs = list(plan.rendering.secrets.values())
    secret_index = {s.name: i + 1 for i, s in enumerate(specs)}
    lines = [
        "---",
        f"# hawizard export of design {comment(plan.design_name)} (stack {comment(plan.stack)}): one play per step,",
        "# in the plan's order. Run: ansible-playbook site.yml (README.md). Destructive steps need",
        "# -e hw_confirm_STEP='PHRASE' (or -e hw_yes=true); optional steps run with -e hw_optional=true.",
    ]
    prep = _play("The wait checks on the nodes (files/hw_wait.sh)", "cluster", [
        {"name": "Directory of the checks", "ansible.builtin.file": {"path": STATE_DIR,
                                                                      "state": "directory", "mode": "0700"}},
        {"name": "The checks", "ansible.builtin.copy": {"src": "files/hw_wait.sh", "dest": WAIT_PATH, "mode": "0700",
                                                        "owner": "root", "group": "root"}},
    ])
    # ansible.builtin modules need Python on the node; a minimal image may have none yet (raw needs none)
    boot = _play("Python for Ansible's modules on the nodes (installed when missing)", "cluster", [
        {"name": "Install python3 when it is missing", "ansible.builtin.raw": BOOTSTRAP,
         "register": "hw_python", "changed_when": Expr("'installed python3' in hw_python.stdout")}])
    plays = [boot, prep]
    sp = secrets_play(plan)
    if sp is not None:
        plays.append(sp)
    body = []
    for play in plays:
        body += emit([play])
        body.append("")
    for step in plan.steps:
        body.append(f"# -- step {comment(step.id)}: {comment(step.title)} ({step.where.words})")
        if step.explain:
            body.append(f"# why: {comment(step.explain)}")
        if step.destructive:
            body.append(f"# DESTROYS DATA: -e hw_confirm_{_var(step)}='{comment(step.confirm)}' or -e hw_yes=true")
        sp_list = step_plays(plan, step, index_of, secret_index)
        if step.optional:
            for p in sp_list:
                p["tasks"] = [{"name": "Optional step: runs with -e hw_optional=true",
                               "when": "hw_optional | default(false) | bool", "block": p["tasks"]}]
        body += emit(sp_list)
        body.append("")
    if sp is not None:
        body += emit([_play("Remove this machine's private directory of secrets", "cluster", [
            {"name": "Remove it", "ansible.builtin.file": {"path": Expr("{{ hw_tmp.path }}"), "state": "absent"},
             "delegate_to": "localhost", "run_once": True, "check_mode": False, "changed_when": False}])])
    return "\n".join(lines + body).rstrip("\n") + "\n"


def readme(design: Design, plan: Plan) -> str:
    destructive = "\n".join(f"- `{s.id}`: `-e hw_confirm_{_var(s)}='{comment(s.confirm)}'`"
                            for s in plan.steps if s.destructive) or "- none"
    secrets = "\n".join(f"- {comment(s.name)}: {comment(s.description)}; "
                        + (f"read from `{comment(s.ref)}` on this machine" if s.ref
                           else "generated once (the primary's reused on a re-run)")
                        for s in plan.rendering.secrets.values()) or "- none"
    return f"""# hawizard export: design {comment(plan.design_name)} as an Ansible project

Made by `hawizard export-plan ... --format ansible`: one play per step of the plan that
`hawizard plan` prints, in its order, with `ansible.builtin` modules only.

    ansible-playbook site.yml --syntax-check
    ansible-playbook site.yml --check --diff        # what would change (a built cluster: nothing)
    ansible-playbook site.yml -e hw_yes=true        # build; or confirm each destructive step:
    ansible-playbook site.yml -e hw_confirm_create_md='...'

- `inventory.yml`: the nodes as the preset's ssh settings say; groups `cluster`, `hw_primary`
  and one `hw_nodeN` per node.
- `site.yml`: the plays. A step's probe is checked first on each node; where it succeeds the
  step is skipped there. Waits retry their check (`until`/`retries`) up to the plan's limit.
- `files/`: the rendered files without secrets, and `hw_wait.sh` (the checks of the waits).
- `templates/`: the rendered files that hold a secret, with the secret read at run time.

## Destructive steps

They stop unless confirmed:

{destructive}

## Secrets

{secrets}

Nothing in this project holds a secret. Tasks that handle one have `no_log` and no diff.

## Many clusters

See docs/fleet.md in hawizard: one export per design; the inventory is the only part that
names hosts.
"""


BOOTSTRAP = ("command -v python3 >/dev/null 2>&1 && exit 0; "
             "if command -v apt-get >/dev/null 2>&1; then apt-get update -q && apt-get install -y -q python3; "
             "elif command -v dnf >/dev/null 2>&1; then dnf install -y -q python3; "
             "else yum install -y -q python3; fi && echo installed python3")

LINT_CONFIG = """\
# ansible-lint: the rules this project does not follow, and why
skip_list:
  # the plan's commands run as hawizard's runner runs them: each one whole, in sh -c, unchanged
  # (a pipe keeps the exit status of its last command, as there; pipefail is not POSIX sh)
  - command-instead-of-shell
  - command-instead-of-module
  - risky-shell-pipe
  # every play sets strategy: linear, so a run_once task runs once for the whole batch
  - run-once[task]
  # a command stays on one line, as the plan has it (hawizard plan shows the same line)
  - yaml[line-length]
"""


def export_ansible(design: Design, plan: Plan) -> Export:
    """The Ansible project of ``plan`` (made from ``design``)."""
    index_of = {n: i for i, n in enumerate(design.node_names)}
    specs = list(plan.rendering.secrets.values())
    secret_index = {s.name: i + 1 for i, s in enumerate(specs)}
    files = [
        ExportedFile(".ansible-lint", LINT_CONFIG),
        ExportedFile("ansible.cfg", "[defaults]\ninventory = inventory.yml\nretry_files_enabled = False\n"
                                    "interpreter_python = auto_silent\n"),
        ExportedFile("inventory.yml", inventory(design, plan)),
        ExportedFile("site.yml", playbook(plan, index_of)),
        ExportedFile("files/hw_wait.sh", WAIT_SCRIPT, 0o755),
        ExportedFile("README.md", readme(design, plan)),
    ]
    written = {a.file_id for s in plan.steps for acts in s.actions.values() for a in acts if isinstance(a, Write)}
    for f in plan.rendering.files:
        if f.id not in written or f.whole_secret:
            continue
        if f.slots:
            files.append(ExportedFile(f"templates/{f.id}.j2", template(f, secret_index), 0o644))
        else:
            files.append(ExportedFile(f"files/{f.id}", f.content, 0o644))
    return Export(tuple(files))
