"""CLI commands that work on a design alone (no node is touched): presets, validate, render, plan.

Exit codes: 0 ok; 1 warnings found with --strict; 2 an invalid preset or bad option.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from hawizard.common.errors import InputError
from hawizard.common.localfiles import atomic_write
from hawizard.design import lint
from hawizard.design.model import Design
from hawizard.design.preset_file import PresetError, dump_preset, load_preset, read_preset, shipped_presets
from hawizard.design.problems import ERROR, WARNING, Problem
from hawizard.plan.build import estimate_note
from hawizard.plan.prepare import Prepared, prepare

PRESET_HELP = "a preset file, or the name of a shipped preset (see hawizard presets)"


def add_preset_argument(p: argparse.ArgumentParser) -> None:
    """The PRESET argument, the same in every sub-command."""
    p.add_argument("preset", metavar="PRESET", help=PRESET_HELP)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the presets that ship with hawizard")
    p.add_argument("--show", metavar="NAME", help="print one shipped preset (to start your own from it)")
    p.add_argument("--reference", action="store_true", help="print the reference of every preset key (Markdown)")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("validate", help="check a preset: field errors, cross-field errors, design risks")
    add_preset_argument(p)
    p.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("render", help="write every file the design produces into a directory, per node")
    add_preset_argument(p)
    p.add_argument("-o", "--output", required=True, help="directory to write into (created if needed)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("plan", help="print the ordered steps that build the design")
    add_preset_argument(p)
    p.add_argument("--json", action="store_true", help="the plan as JSON")
    p.set_defaults(func=cmd_plan)


def load_valid(preset: str) -> Prepared:
    """Load a preset, check, render and plan it (hawizard/plan/prepare.py); InputError (exit 2) naming
    each error at its file:line when it has errors."""
    loaded = read_preset(preset)
    prepared = prepare(loaded.design)
    problems = loaded.source.place(prepared.problems)
    errs = [p for p in problems if p.severity == ERROR]
    if errs:
        raise PresetError(preset, errs)
    return replace(prepared, problems=tuple(problems))


def _print_problems(problems: list[Problem], filename: str, out=sys.stdout) -> None:
    for p in problems:
        print(p.format(filename), file=out)


def cmd_presets(args: argparse.Namespace) -> int:
    if args.reference:
        from hawizard.design.reference import preset_reference

        sys.stdout.write(preset_reference())
        return 0
    if args.show:
        if args.show not in shipped_presets():
            raise InputError(f"no shipped preset named '{args.show}' (shipped: {', '.join(shipped_presets())})")
        sys.stdout.write(dump_preset(load_preset(args.show)))
        return 0
    print_preset_list([(name, load_preset(name)) for name in shipped_presets()])
    return 0


def print_preset_list(designs: list[tuple[str, Design]], out=None) -> None:
    """Name and stack on one line, the whole description wrapped and indented below it.

    Fits the terminal (80 columns when output is not a terminal); nothing is cut.
    """
    out = out or sys.stdout
    width = min(max(shutil.get_terminal_size((80, 24)).columns, 40), 100)
    name_w = max((len(n) for n, _ in designs), default=0) + 2
    for name, d in designs:
        print(f"{name:<{name_w}}{d.stack}", file=out)
        for line in textwrap.wrap(d.description, width=width - 4, break_long_words=True, break_on_hyphens=False):
            print("    " + line, file=out)
    print("\nhawizard presets --show NAME prints one in full, to start your own from it.", file=out)


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        loaded = read_preset(args.preset)
    except PresetError as err:
        if args.json:
            print(json.dumps({"ok": False, "problems": [p.to_dict() for p in err.problems]}, indent=2))
            return 2
        raise
    design = loaded.design
    problems = loaded.source.place(lint.check(design))
    n_err = sum(p.severity == ERROR for p in problems)
    n_warn = sum(p.severity == WARNING for p in problems)
    if args.json:
        print(json.dumps({"ok": n_err == 0, "stack": design.stack, "estimate": estimate_note(design),
                          "problems": [p.to_dict() for p in problems]}, indent=2))
    else:
        _print_problems(problems, args.preset)
        print(f"{args.preset}: {n_err} error(s), {n_warn} warning(s), "
              f"{len(problems) - n_err - n_warn} note(s); {estimate_note(design)}")
    if n_err:
        return 2
    if n_warn and args.strict:
        return 1
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    prepared = load_valid(args.preset)
    rendering, problems = prepared.rendering, prepared.problems
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    count = 0
    for f in rendering.files:
        for node in f.nodes:
            target = out / node / f.path.lstrip("/")
            # root=out: no symbolic link below DIR is followed (a link must not carry files out of it)
            atomic_write(target, f.preview(rendering.secrets).encode(), mode=f.mode, backup=True, root=out)
            count += 1
            print(f"{node}: {f.path} ({f.mode_str} {f.owner}:{f.group}) -> {target}")
    print(f"{count} file(s) written under {out}; secrets appear as placeholders and are generated "
          "or read at apply time.")
    warn = [p for p in problems if p.severity == WARNING]
    if warn:
        print(f"note: the design has {len(warn)} warning(s); see hawizard validate {args.preset}", file=sys.stderr)
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    prepared = load_valid(args.preset)
    design, plan = prepared.design, prepared.plan
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2))
        return 0
    print(f"Plan for {design.name} ({design.stack}); primary {plan.primary}, secondary {plan.secondary}")
    for i, step in enumerate(plan.steps, 1):
        flags = []
        if step.destructive:
            flags.append(f"DESTRUCTIVE, confirm by typing '{step.confirm}'")
        if step.optional:
            flags.append("optional")
        print(f"\n{i:2}. {step.id}: {step.title} [{step.where.words}{'; ' + '; '.join(flags) if flags else ''}]")
        if step.explain:
            print(f"    {step.explain}")
        for node, actions in step.actions.items():
            for act in actions:
                print(f"    {node}: {act.describe(plan)}")
    return 0
