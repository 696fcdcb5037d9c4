"""Operation timeouts come from the agents: the table against the real metadata, and every shipped
preset's rendered timeouts against the table.

The metadata is read from the installed agents with the real ``crm_resource --show-metadata``; an
agent that is not installed here is skipped with the reason. The rendered configuration is read back
from its text (crm or pcs words); tests/validators load the same files into a CIB with the real
tools and check the CIB's operations there.
"""

from __future__ import annotations

import re

import pytest
from support import agent_metadata

from hawizard.design import agent_timeouts, stacks, timing
from hawizard.design.preset_file import load_preset, shipped_presets
from hawizard.render.renderer import render

# The stacks whose agents are the ones installed here (Debian 12: resource-agents 4.12, drbd-utils 9.22)
INSTALLED_HERE = ("debian12-crmsh", "debian12-pcs")
PACEMAKER_DEFAULT_S = 20  # an operation with no timeout and no default gets 20 s (Pacemaker Explained)


@pytest.mark.parametrize("agent", sorted(agent_timeouts.AGENT_TYPES))
def test_the_table_is_the_installed_agents_metadata(agent):
    meta = agent_metadata.advertised(agent_timeouts.AGENT_TYPES[agent])
    for stack_name in INSTALLED_HERE:
        for op in agent_timeouts.operations(agent):
            assert op in meta, f"{agent_timeouts.AGENT_TYPES[agent]} advertises no {op} timeout"
            assert agent_timeouts.advertised(stack_name, agent, op) == meta[op], (
                f"{stack_name}: {agent_timeouts.AGENT_TYPES[agent]} {op}: table "
                f"{agent_timeouts.advertised(stack_name, agent, op)} s, metadata {meta[op]} s")


def test_every_stack_has_a_value_for_every_operation_hawizard_writes():
    for stack in stacks.all_stacks():
        for agent in agent_timeouts.AGENT_TYPES:
            for op in agent_timeouts.operations(agent):
                assert agent_timeouts.advertised(stack.name, agent, op) > 0, (stack.name, agent, op)


# -- the rendered configuration, read back -------------------------------------------------------

def _op_words(tokens: list[str]) -> list[tuple[str, dict[str, str]]]:
    """crm: 'op start timeout=40s op stop ...'; pcs: 'op start timeout=40s stop ...' -> [(op, attrs)]."""
    ops: list[tuple[str, dict[str, str]]] = []
    for tok in tokens:
        if tok == "op":
            continue
        if tok.startswith("--"):
            break
        if "=" in tok:
            k, v = tok.split("=", 1)
            ops[-1][1][k] = v
        else:
            ops.append((tok, {}))
    return ops


def rendered_operations(design) -> dict[str, list[tuple[str, int]]]:
    """{resource: [(op, seconds the cluster waits)]} read from the rendered cluster configuration: the
    operation's own timeout, else the blanket default, else Pacemaker's 20 s."""
    text = render(design).get("cluster-config").content
    ids = design.cluster.ids
    blanket = re.search(r"(?:op_defaults op-options: |op defaults update |default-action-timeout=)"
                        r"(?:timeout=)?(\d+s?)", text)
    default = agent_metadata.seconds(blanket.group(1)) if blanket else PACEMAKER_DEFAULT_S
    out = {}
    for agent, rid in (("drbd", ids.drbd), ("ip", ids.ip), ("fs", ids.fs), ("web", ids.web)):
        (line,) = [ln for ln in text.splitlines()
                   if re.match(rf"^(primitive|\$PCS -f \"\$CIB\" resource create) {re.escape(rid)} ", ln)]
        tokens = line.split()
        # pcs makes the DRBD resource and its promotable clone in one run: the clone's options follow
        end = tokens.index("promotable") if "promotable" in tokens else len(tokens)
        ops = _op_words(tokens[tokens.index("op"):end])
        out[agent] = [(op, agent_metadata.seconds(attrs["timeout"]) if "timeout" in attrs else default) for op, attrs in ops]
    return out


@pytest.mark.parametrize("name", shipped_presets())
def test_no_shipped_preset_renders_a_timeout_below_its_agents_value(name):
    design = load_preset(name)
    stack = stacks.get(design.stack)
    ops = rendered_operations(design)
    for agent in agent_timeouts.AGENT_TYPES:
        written = {op for op, _ in ops[agent]}
        assert written == set(agent_timeouts.operations(agent)) or design.timing.default_action_timeout_s, (
            f"{name}: {agent} writes {sorted(written)}")
        for op in agent_timeouts.operations(agent):
            advertised = agent_timeouts.advertised(stack.name, agent, op)
            waits = [t for o, t in ops[agent] if o == op] or [design.timing.default_action_timeout_s]
            for t in waits:
                assert t >= advertised, f"{name}: {agent} {op} waits {t} s, its agent advertises {advertised} s"
            assert min(waits) == timing.effective_timeout(design, agent, op, stack), (name, agent, op)


def test_the_article_keeps_its_blanket_240_s_and_writes_no_timeout_of_its_own():
    design = load_preset("article")
    text = render(design).get("cluster-config").content
    assert "default-action-timeout=240 " in text and "timeout=" not in text.replace("default-action-timeout=", "")
    assert all(t == 240 for ops in rendered_operations(design).values() for _, t in ops)


@pytest.mark.parametrize("name", ["debian12", "debian12-pcs", "el9"])
def test_the_blanket_default_never_shortens_an_operation(name):
    design = load_preset(name)
    design.timing.default_action_timeout_s = 120
    stack = stacks.get(design.stack)
    text = render(design).get("cluster-config").content
    assert re.search(r"(op_defaults op-options: |op defaults update )timeout=120s", text)
    for agent, ops in rendered_operations(design).items():
        for op, t in ops:
            assert t == max(120, agent_timeouts.advertised(stack.name, agent, op)), (agent, op, t)
    drbd = next(ln for ln in text.splitlines() if f" {design.cluster.ids.drbd} ocf:linbit:drbd" in ln)
    assert "start timeout=240s" in drbd.replace("op start", "start")  # DRBD's own start, not the 120 s default


def test_pcs_gets_every_timeout_written_because_it_would_add_the_agents_own():
    design = load_preset("debian12-pcs")
    design.timing.default_action_timeout_s = 300  # longer than every agent's value
    text = render(design).get("cluster-config").content
    web = next(ln for ln in text.splitlines() if f"resource create {design.cluster.ids.web} " in ln)
    assert "start timeout=300s" in web and "stop timeout=300s" in web
    crm = load_preset("debian12")
    crm.timing.default_action_timeout_s = 300
    text = render(crm).get("cluster-config").content
    web = next(ln for ln in text.splitlines() if ln.startswith(f"primitive {crm.cluster.ids.web} "))
    assert "timeout=" not in web and "op_defaults op-options: timeout=300s" in text


def test_an_operators_monitor_timeout_is_written_exactly_even_below_the_agents():
    design = load_preset("debian12")
    design.timing.monitor_timeout_s = 30
    ops = rendered_operations(design)
    assert ("monitor", 30) in ops["fs"]  # below Filesystem's 40 s: as set, and the lint warns
    assert timing.below_advertised(design) == [("fs", "monitor", 30, 40)]
