"""What every step builder reads: the design, its stack (looked up once), its files, its dialect's commands.

Why: the builders used to be closures inside one long function; now each is a function of a
``PlanContext``, made once per plan, so the stack is resolved once and the rendering and the
DRBD and crm_mon commands are made once and shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hawizard.design import stacks
from hawizard.design.model import Design, Node
from hawizard.plan.commands import DrbdCommands, crm_mon_command
from hawizard.plan.types import Action
from hawizard.plan.waits import CrmMon
from hawizard.render.renderer import Rendering, index_page_line, render


@dataclass(frozen=True)
class PlanContext:
    design: Design
    stack: stacks.Stack
    rendering: Rendering
    drbd: DrbdCommands
    mon_command: str  # the one-shot crm_mon of the stack
    mon_reader: CrmMon
    page_line: str  # the line of index.html the page checks look for

    @classmethod
    def of(cls, design: Design, rendering: Rendering | None = None, stack: stacks.Stack | None = None
           ) -> PlanContext:
        stack = stack or stacks.get(design.stack)
        mon_command, mon_reader = crm_mon_command(stack)
        return cls(design, stack, rendering or render(design, stack), DrbdCommands.of(design.drbd.resource, stack),
                   mon_command, mon_reader, index_page_line(design))

    @property
    def a(self) -> Node:
        """The primary: the sync source, where primary-only steps run."""
        return self.design.nodes[0]

    @property
    def b(self) -> Node:
        return self.design.nodes[1]

    @property
    def names(self) -> list[str]:
        return self.design.node_names

    def each(self, actions: Callable[[Node], Iterable[Action]]) -> dict[str, tuple[Action, ...]]:
        """The actions of every node, in the design's order of nodes."""
        return {n.name: tuple(actions(n)) for n in self.design.nodes}

    def on_primary(self, *actions: Action) -> dict[str, tuple[Action, ...]]:
        return {self.a.name: actions}
