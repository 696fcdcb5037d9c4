"""CLI commands that act on the nodes: ``apply`` (build the design) and ``status`` (show the cluster).

Exit codes: 0 the run finished; 1 a step failed or was refused, or (status) the nodes answered but
the cluster did not; 2 bad input; 3 the machine lacks something (no node reachable, a host key
refused, the nodes held by another run - hawizard/audit/lock.py); 130 interrupted.

A run holds its lock from before its first record until its end (hawizard/run/record.py); a run
that ends before the runner does (the nodes cannot be reached) is recorded as failed in its
journal and audit log, so it is neither shown as still running nor lost for ``--resume``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import sys

from hawizard.audit.runs import runs_dir
from hawizard.cli.design import add_preset_argument, load_valid
from hawizard.common.errors import EnvironmentProblem, HawizardError, InputError, OperationFailed
from hawizard.common.sigint import sigint_deferred
from hawizard.common.terminal_text import clean
from hawizard.design.model import Design
from hawizard.design.preset_file import preset_sha256
from hawizard.events import EventBus
from hawizard.plan.build import crm_mon_command
from hawizard.readers.crm_mon.parse import parse_crm_mon
from hawizard.run.console import ConsoleSink
from hawizard.run.facade import RunRequest, RunSession
from hawizard.run.journal import Journal, latest_unfinished
from hawizard.run.runner import Runner
from hawizard.run.targets import target_for
from hawizard.sessions.factory import open_session


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apply", help="build the design on its nodes (preflight to verification)")
    add_preset_argument(p)
    p.add_argument("--dry-run", action="store_true", help="print every command and file write, touch nothing")
    p.add_argument("--yes", action="store_true", help="confirm destructive steps (create-md, forced primary, mkfs)")
    p.add_argument("--resume", nargs="?", const="latest", metavar="RUN",
                   help="continue a run that died (the newest unfinished one for this preset, or RUN)")
    p.add_argument("--only", metavar="STEP[,STEP]",
                   help="run only these steps (see hawizard plan); an empty or unknown step is an error")
    p.add_argument("--switchover-test", action="store_true", help="also run the switch-over test at the end")
    p.add_argument("--transport", choices=("ssh", "paramiko"), default="ssh",
                   help="ssh: the OpenSSH client (uses ~/.ssh/config, agents, jump hosts); paramiko: in-process")
    p.add_argument("-v", "--verbose", action="store_true", help="show every command and its output")
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser("status", help="show the cluster's state: nodes, DRBD, where each resource runs")
    add_preset_argument(p)
    p.add_argument("--transport", choices=("ssh", "paramiko"), default="ssh")
    p.set_defaults(func=cmd_status)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


class TerminalOperator:
    """The run's Operator on a terminal: typed confirmations, host keys and sudo passwords asked at
    the prompt; without a terminal, destructive steps need --yes and unknown host keys are refused."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes

    def confirm_step(self, step, phrase: str) -> bool:
        if self.yes:
            return True
        if not _interactive():
            raise OperationFailed(f"step {step.id} destroys data ({step.explain}) and needs confirmation: run "
                                  "on a terminal, or pass --yes")
        print(f"\n{step.title}: {step.explain}\nType '{phrase}' to go ahead (anything else stops the run):")
        return input("> ").strip() == phrase

    def confirm_host_key(self, label: str, key_type: str, fingerprint: str) -> bool:
        """First contact with a node: show the fingerprint, ask for yes (terminal only)."""
        if not _interactive():
            return False
        print(f"The host key of {label} is not known yet.\n  {key_type} {fingerprint}\n"
              "Compare it with the node's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on its console).")
        return input("Trust this key? Type yes: ").strip() == "yes"

    def sudo_password(self, who: str) -> str:
        if not _interactive():
            raise InputError(f"{who} needs a sudo password, and there is no terminal to ask it on")
        return getpass.getpass(f"sudo password for {who}: ")


def parse_only(value: str | None, step_ids: list[str]) -> set[str] | None:
    """``--only a,b``: the steps to run; None without the option. Empty or unknown names: InputError."""
    if value is None:
        return None
    names = [s.strip() for s in value.split(",")]
    if not any(names):
        raise InputError(f"--only {value!r} names no step: give one or more of {', '.join(step_ids)} "
                         "(comma-separated), or leave --only out to run them all")
    if "" in names:
        raise InputError(f"--only {value!r} has an empty step name (two commas, or one at an end)")
    unknown = sorted(set(names) - set(step_ids))
    if unknown:
        raise InputError(f"--only: unknown step(s) {', '.join(unknown)}; steps: {', '.join(step_ids)}")
    return set(names)


def cmd_apply(args: argparse.Namespace) -> int:
    prepared = load_valid(args.preset)
    design, plan = prepared.design, prepared.plan
    only = parse_only(args.only, list(plan.step_ids))
    if args.dry_run:
        return _dry_run(design, plan, EventBus(), only, args.switchover_test)

    sha = preset_sha256(design)
    resume = None
    if args.resume:
        resume = latest_unfinished(sha) if args.resume == "latest" else _load_journal(args.resume)
        if resume is None:
            raise InputError(f"--resume: no unfinished run of {args.preset} in {runs_dir()}")
        if resume.preset_sha256 != sha:
            raise InputError(f"--resume: run {resume.run_id} was made from a different version of the preset; "
                             "start a new run instead")
    ref = os.path.abspath(args.preset) if os.path.exists(args.preset) else args.preset
    run = RunSession(RunRequest(design, plan, ref, transport=args.transport, resume=resume),
                     TerminalOperator(args.yes))
    run.bus.subscribe(ConsoleSink(verbose=args.verbose, redactor=run.redactor))  # redacts the run's secrets
    previous = signal.getsignal(signal.SIGTERM)
    try:
        # the run's lock first (RunLocked, exit 3, names who holds the run or its nodes), then its records
        run.start()
        if resume is not None:
            print(f"resuming run {run.run_id} at step {run.journal.first_unfinished() or '(all recorded done)'}")
        try:
            run.connect()
        except HawizardError:
            print(f"audit log: {run.audit_path}; continue with: hawizard apply {args.preset} --resume "
                  f"{run.run_id}", file=sys.stderr)
            raise
        signal.signal(signal.SIGTERM, lambda *_: run.cancel())
        try:
            result = run.run(only, include_optional=args.switchover_test)
        except KeyboardInterrupt:
            run.cancel()
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        with sigint_deferred():  # a second Ctrl-C must not cut the records short
            run.close()  # the sessions, the audit log, then the run's lock
    print(f"audit log: {run.audit_path}  (hawizard export {run.run_id} --format md)")
    if result.status == "finished":
        return 0
    if result.message:
        print(f"hawizard: {run.redactor.redact_text(clean(result.message))}", file=sys.stderr)
    if result.status == "cancelled":
        return 130 if "not confirmed" not in result.message else 1
    print(f"continue with: hawizard apply {args.preset} --resume", file=sys.stderr)
    return 1


def _load_journal(run_id: str) -> Journal:
    """The journal of ``--resume RUN``; a missing or malformed one is an InputError naming the file."""
    try:
        return Journal.load(run_id)
    except InputError as exc:
        raise InputError(f"--resume: {exc}") from None


def _dry_run(design: Design, plan, bus: EventBus, only, switchover: bool) -> int:
    """Every command and file write per node, in order, as the run would issue them."""
    from hawizard.sessions.dryrun import DryRunSession

    sessions = {n: DryRunSession(n) for n in design.node_names}
    runner = Runner(plan, sessions, bus, confirm=lambda step, phrase: True, secrets=None, only=only,
                    include_optional=switchover, dry_run=True)
    print(f"dry run of {design.name} ({design.stack}): nothing is sent to the nodes")
    for step in runner.selected_steps():
        print(f"\n== {step.id}: {step.title}" + (f"  [destructive: asks for '{step.confirm}']" if step.destructive
                                                  else ""))
        for node in step.nodes:
            if step.probe.get(node):
                print(f"  {node}: skipped if already done: {step.probe[node]}")
            for act in step.actions[node]:
                print(f"  {node}: {act.describe(plan)}")
    result = runner.run()
    print(f"\n{len(runner.selected_steps())} step(s); dry run {result.status}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Ask each node in turn until one answers with the cluster's state.

    Exit 0 a node answered; 1 nodes were reached but none could show the cluster (crm_mon
    failed: the cluster is not running there); 3 no node could be reached (each one's reason is
    named, a refused host key included). A node that could not be asked is named on stderr
    even when another one answered.
    """
    prepared = load_valid(args.preset)
    design = prepared.design
    mon_cmd, _reader = crm_mon_command(prepared.stack)
    operator = TerminalOperator(yes=False)
    unreachable: list[str] = []
    failed: list[str] = []
    for node in design.nodes:
        try:
            session = open_session(target_for(node), args.transport, confirm_host_key=operator.confirm_host_key,
                                   sudo_password=operator.sudo_password)
        except (OperationFailed, EnvironmentProblem) as exc:
            unreachable.append(f"{node.name}: {clean(str(exc))}")
            continue
        try:
            with session:
                res = session.run(mon_cmd, timeout=30)
                drbd = session.run(f"drbdadm dstate {design.drbd.resource}; drbdadm role {design.drbd.resource}; "
                                   f"drbdadm cstate {design.drbd.resource}", timeout=30)
        except (OperationFailed, EnvironmentProblem) as exc:
            unreachable.append(f"{node.name}: lost the connection: {clean(str(exc))}")
            continue
        if res.exit_status != 0:
            failed.append(f"{node.name}: crm_mon failed: {clean((res.stderr or res.stdout).strip())[:200]}")
            continue
        st = parse_crm_mon(res.stdout)
        for problem in unreachable + failed:
            print(f"hawizard: could not ask {problem}", file=sys.stderr)
        print(clean(f"asked {node.name}; online: {' '.join(st.nodes_online) or '-'}"
                    + (f"; offline: {' '.join(st.nodes_offline)}" if st.nodes_offline else "")))
        for r in st.resources:
            print(clean(f"  {r.id:24} {r.role or '-':12} {r.node or '-'}" + ("  FAILED" if r.failed else "")))
        ids = design.cluster.ids
        print(clean(f"  {ids.drbd_clone} promoted on: {st.promoted_node(ids.drbd_clone) or '-'}; "
                    f"{ids.group} on: {st.all_started_on(ids.group) or '-'}"))
        print(clean(f"  DRBD on {node.name}: {' '.join(drbd.stdout.split())}"))
        return 0
    if failed:
        raise OperationFailed("the cluster did not answer on the nodes that were reached: "
                              + "; ".join(failed + unreachable))
    raise EnvironmentProblem("no node answered: " + "; ".join(unreachable))
