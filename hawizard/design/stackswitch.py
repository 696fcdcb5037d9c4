"""Changing a design's target stack: the values that were the old stack's own follow the new one.

Why: a design started from the article's preset (CentOS 5) and switched to Debian 12 kept
/etc/httpd/conf/httpd.conf as Apache's configuration file, a path that does not exist there,
and nothing said so until the cluster's Apache resource failed on the node. Some design values
are properties of the stack rather than choices: where the distribution keeps Apache's main
configuration file (httpd.conf on the RHEL family, apache2.conf on Debian; see the packages'
own layouts, Debian's /usr/share/doc/apache2/README.Debian and RHEL's httpd(8)), and which
init-system resource class starts Apache (Pacemaker Explained, "Resource Classes": lsb on a
SysV-init system, systemd on a systemd one).

``switch_stack`` changes the stack and lets each such value that still holds the old stack's
own value follow the new stack (returning what changed, for the operator to see).
``foreign_values`` finds a value that is another stack's own and not this one's (typed by hand
or kept from a preset) and flags it as a warning. A value no stack uses, such as a custom path,
is the operator's choice: it is kept and never flagged.

No UI here: the wizard calls these, and so can the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hawizard.design import stacks
from hawizard.design.model import Design
from hawizard.design.problems import WARNING, Problem
from hawizard.design.stacks import Stack


def _init_agent(stack: Stack) -> str:
    """The init-system resource agent for Apache on ``stack`` (lsb:httpd, systemd:apache2, ...)."""
    return f"{'lsb' if stack.init == 'sysv' else 'systemd'}:{stack.apache_service}"


@dataclass(frozen=True)
class StackValue:
    """A design value that each stack has its own answer for."""

    path: str  # key path in the preset
    what: str  # what the value is, for messages
    of: Callable[[Stack], str]  # the stack's own value
    flag: bool = True  # warn when it is another stack's (False where validate already refuses it)


STACK_VALUES: tuple[StackValue, ...] = (
    StackValue("service.apache_config", "Apache's main configuration file", lambda s: s.apache_config),
    # validate refuses an agent that does not exist on the stack: only following is needed here
    StackValue("service.apache_agent", "the init-system agent for Apache", _init_agent, flag=False),
)


@dataclass(frozen=True)
class Followed:
    """A value that followed a stack change."""

    path: str
    old: str
    new: str

    def describe(self) -> str:
        return f"{self.path}: {self.old} -> {self.new}"


def _get(design: Design, path: str) -> str:
    obj: object = design
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def _set(design: Design, path: str, value: str) -> None:
    *parents, name = path.split(".")
    obj: object = design
    for part in parents:
        obj = getattr(obj, part)
    setattr(obj, name, value)


def switch_stack(design: Design, new_stack: str) -> list[Followed]:
    """Set ``design.stack`` to ``new_stack``; the values that were the old stack's own become the new one's.

    Raises InputError for an unknown stack (from hawizard.design.stacks.get)."""
    old, new = stacks.get(design.stack), stacks.get(new_stack)
    design.stack = new.name
    followed: list[Followed] = []
    for sv in STACK_VALUES:
        value, was, will = _get(design, sv.path), sv.of(old), sv.of(new)
        if value == was and was != will:
            _set(design, sv.path, will)
            followed.append(Followed(sv.path, was, will))
    return followed


def foreign_values(design: Design) -> list[Problem]:
    """Warnings for the values that are another stack's own and not this stack's."""
    try:
        here = stacks.get(design.stack)
    except Exception:  # noqa: BLE001 - an unknown stack is validate's error, not this check's
        return []
    found: list[Problem] = []
    for sv in STACK_VALUES:
        value, own = _get(design, sv.path), sv.of(here)
        if not sv.flag or not value or value == own:
            continue
        owners = [s.name for s in stacks.all_stacks() if sv.of(s) == value]
        if owners:
            found.append(Problem(
                WARNING, "other-stack-value", sv.path,
                f"{value} is {sv.what} on {', '.join(owners)}, not on {here.name}, which uses {own}. "
                f"Use {own} unless the nodes really keep it at {value}."))
    return found
