"""The plan as typed data: where a step runs, the kinds of action, the step, the plan.

Why classes and not kind strings: the runner, ``hawizard plan`` and the wizard's review all read
the same plan. Each kind of action says itself what it does in one line (``describe``) and how it
is written in the plan's JSON (``to_dict``), and a step carries what the runner must do beyond
its actions (a completion marker, a check of the facts both nodes reported), so no reader of a
plan decodes strings or knows particular steps.

The JSON is the one ``hawizard plan --json`` has always printed (tests/golden/plan-*.json hold it
byte for byte): the same keys in the same order, the same values. Actions were once one class
with every field, so each action's JSON still carries the fields that are set among ``_FIELDS``,
including ``interval_s`` on actions that are not polls.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol

from hawizard.common.shellquote import q
from hawizard.plan.waits import Condition, Reader, Watch
from hawizard.render.renderer import STATE_DIR, Rendering

DONE_DIR = f"{STATE_DIR}/done"  # on the nodes: one marker file per step done that has no natural probe


class Where(StrEnum):
    """Where a step runs; the value is the word in the plan's JSON."""

    EACH = "each"
    BOTH = "both"
    PRIMARY = "primary"

    @property
    def words(self) -> str:
        return {"each": "each node in turn", "both": "both nodes at once", "primary": "primary only"}[self.value]


# -- actions ----------------------------------------------------------------------------------

#: The keys of an action's JSON, in their order.
_FIELDS = ("kind", "command", "file_id", "fact", "reader", "until", "interval_s", "timeout_s", "fatal",
           "description")
#: What an unset field holds; ``interval_s`` and ``fatal`` are in every action's JSON unless given.
_DEFAULTS = {"command": "", "file_id": "", "fact": "", "reader": "", "until": "", "interval_s": 2.0, "timeout_s": 0.0,
          "fatal": True, "description": ""}


def _json(kind: str, **values: object) -> dict:
    """An action's JSON: the fields that are set, in the order of ``_FIELDS`` (false and zero count as unset)."""
    full = {"kind": kind, **_DEFAULTS, **values}
    return {k: full[k] for k in _FIELDS if full[k] not in ("", 0.0) or k == "kind"}


class Action(ABC):
    """One thing a step does on one node."""

    kind: ClassVar[str]  # the name in the plan's JSON
    description: str

    @abstractmethod
    def describe(self, plan: Plan) -> str:
        """What the action does, in one line (``hawizard plan``, the dry run, the wizard's review)."""

    @abstractmethod
    def to_dict(self) -> dict:
        """The action as the plan's JSON has it."""


@dataclass(frozen=True)
class Run(Action):
    """Run a command; a non-zero exit fails the step, or is reported as a warning when not ``fatal``."""

    kind: ClassVar[str] = "run"
    command: str
    description: str = ""
    fatal: bool = True
    timeout_s: float = 0.0  # 0 = the step's timeout

    def describe(self, plan: Plan) -> str:
        return f"$ {self.command}"

    def to_dict(self) -> dict:
        return _json(self.kind, command=self.command, timeout_s=self.timeout_s, fatal=self.fatal,
                     description=self.description)


def check(command: str, failure: str, description: str = "", fatal: bool = True) -> Run:
    """A read-only check: ``command`` succeeds, or ``failure`` is printed and the check fails."""
    return Run(f"{command} || {{ echo {q(failure)} >&2; false; }}", description or failure, fatal)


@dataclass(frozen=True)
class Fact(Action):
    """Run a command and keep its output as fact ``fact`` of the node (checks across the nodes read it)."""

    kind: ClassVar[str] = "fact"
    command: str
    fact: str
    description: str = ""
    fatal: bool = True
    timeout_s: float = 0.0

    def describe(self, plan: Plan) -> str:
        return f"read {self.fact}: {self.command}"

    def to_dict(self) -> dict:
        return _json(self.kind, command=self.command, fact=self.fact, timeout_s=self.timeout_s, fatal=self.fatal,
                     description=self.description)


@dataclass(frozen=True)
class Write(Action):
    """Write one rendered file (by its id in the plan's rendering), with its mode and owner."""

    kind: ClassVar[str] = "write"
    file_id: str
    description: str = ""

    def describe(self, plan: Plan) -> str:
        f = plan.rendering.get(self.file_id)
        return f"write {f.path} (mode {f.mode_str}, {f.owner}:{f.group})"

    def to_dict(self) -> dict:
        return _json(self.kind, file_id=self.file_id, description=self.description)


@dataclass(frozen=True)
class Poll(Action):
    """Run ``command`` every ``interval_s`` until condition ``until`` holds on what ``reader`` reads."""

    kind: ClassVar[str] = "poll"
    command: str
    reader: Reader
    until: Condition
    interval_s: float = 2.0
    timeout_s: float = 0.0  # 0 = the step's timeout
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.reader, self.until.reads):
            raise ValueError(f"a poll cannot wait until {self.until.wire} on what {self.reader.name} reads")

    def watch(self, step_id: str, node: str) -> Watch:
        """One wait under way on ``node``: it reads each answer and says whether the condition holds."""
        return Watch(self, step_id, node)

    def describe(self, plan: Plan) -> str:
        return f"watch until {self.until.wire}: {self.command}"

    def to_dict(self) -> dict:
        return _json(self.kind, command=self.command, reader=self.reader.name, until=self.until.wire,
                     interval_s=self.interval_s, timeout_s=self.timeout_s, description=self.description)



# -- steps --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Marker:
    """The file the runner writes on a node once a step is done there, for a step with no natural probe.

    ``content`` is what the file holds (the cluster configuration's step writes the hash of the
    configuration it loaded, so a changed configuration is loaded again).
    """

    step_id: str
    content: str = "done"
    directory: str = DONE_DIR

    @property
    def path(self) -> str:
        return f"{self.directory}/{self.step_id}"

    @property
    def exists(self) -> str:
        """A probe: the step was done on this node."""
        return f"test -f {q(self.path)}"

    @property
    def holds_content(self) -> str:
        """A probe: the step was done on this node, with this content."""
        return f"test \"$(cat {q(self.path)} 2>/dev/null)\" = {q(self.content)}"


class FactsCheck(Protocol):
    """A check of the facts the step's ``Fact`` actions read on every node, made once the step is done."""

    def problems(self, facts: Mapping[str, Mapping[str, str]]) -> list[str]:
        """What stops the build (the step fails on "both")."""

    def warnings(self, facts: Mapping[str, Mapping[str, str]]) -> list[str]:
        """What the operator should hear about but does not stop the build."""


@dataclass(frozen=True)
class Step:
    """One step: where it runs, its actions per node, how to tell it is already done, its safety."""

    id: str
    title: str
    phase: str
    where: Where
    actions: dict[str, tuple[Action, ...]]  # node name -> actions, in order
    probe: dict[str, str] = field(default_factory=dict)  # node -> command; exit 0 = already done
    destructive: bool = False
    confirm: str = ""  # phrase the operator types to confirm a destructive step
    timeout_s: int = 300
    progress: str = ""  # drbd-sync | cluster | "": what the front ends show while it runs
    optional: bool = False  # runs only when asked for (--only, or the wizard's switch-over test)
    marker: Marker | None = None  # written by the runner when the step is done on a node
    explain: str = ""
    facts_check: FactsCheck | None = None  # checked by the runner after the step, on every node's facts

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", Where(self.where))

    @property
    def nodes(self) -> list[str]:
        return list(self.actions)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "phase": self.phase, "where": self.where.value,
            "destructive": self.destructive, "confirm": self.confirm, "timeout_s": self.timeout_s,
            "progress": self.progress, "optional": self.optional, "explain": self.explain,
            "probe": dict(self.probe),
            "actions": {n: [a.to_dict() for a in acts] for n, acts in self.actions.items()},
        }


@dataclass(frozen=True)
class Plan:
    """The ordered steps that build one design, and the files they write."""

    design_name: str
    stack: str
    primary: str
    secondary: str
    steps: tuple[Step, ...]
    rendering: Rendering

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def to_dict(self) -> dict:
        return {"design": self.design_name, "stack": self.stack, "primary": self.primary,
                "secondary": self.secondary, "steps": [s.to_dict() for s in self.steps]}
