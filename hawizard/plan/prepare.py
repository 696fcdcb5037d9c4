"""The pure pipeline of one design: its stack, its problems, its files and its plan, the stack looked up once.

    design -> problems (hawizard/design/lint.py) -> files (hawizard/render/renderer.py) -> plan

Why one function: every stage needs the design's stack. Each used to look it up by name again
(lint, render, timing for every operation's timeout, the plan); here it is resolved once and
handed down, and a front end gets all four results together. Pure: reads no file, runs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from hawizard.design import lint, stacks
from hawizard.design.model import Design
from hawizard.design.problems import Problem, errors
from hawizard.plan.build import build_plan
from hawizard.plan.types import Plan
from hawizard.render.renderer import Rendering, render


@dataclass(frozen=True)
class Prepared:
    design: Design
    stack: stacks.Stack
    problems: tuple[Problem, ...]  # errors first, then warnings, then notes
    rendering: Rendering | None  # None when the design has errors: it is not rendered
    plan: Plan | None  # None when the design has errors

    @property
    def errors(self) -> list[Problem]:
        return errors(list(self.problems))


def prepare(design: Design) -> Prepared:
    """Check, render and plan ``design``. An unknown stack raises ``InputError`` (exit 2) naming the known ones."""
    stack = stacks.get(design.stack)
    problems = tuple(lint.check(design, stack))
    if errors(list(problems)):
        return Prepared(design, stack, problems, None, None)
    rendering = render(design, stack)
    return Prepared(design, stack, problems, rendering, build_plan(design, rendering, stack))
