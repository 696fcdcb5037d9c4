"""Benchmark: the runner's overhead against a plain shell script over the same SSH connection.

Starts a real sshd on loopback (tests/support/sshd.py), opens one session, then runs the same
N commands (a) as one plain shell script sent through that session, (b) as N plan actions
through the runner (events, audit log, redaction, probes off), which sends a step's consecutive
commands in one batch (one round trip), (c) the same through the runner over a session made to
pay one round trip per command (the runner before batches), and (d) one by one through the
session without the runner. The four alternate within each repeat. Prints medians and the
ratios; goal: within 5 %. Usage: python bench/runner_overhead.py [N_COMMANDS] [REPEATS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hawizard.audit import log as audit
from hawizard.audit import runs
from hawizard.common.redact import Redactor  # noqa: E402
from hawizard.design.preset_file import load_preset  # noqa: E402
from hawizard.events import EventBus  # noqa: E402
from hawizard.plan.types import Plan, Run, Step  # noqa: E402
from hawizard.render.renderer import Rendering  # noqa: E402
from hawizard.run.runner import Runner  # noqa: E402
from hawizard.sessions import open_session  # noqa: E402
from hawizard.sessions.base import NodeSession  # noqa: E402
from tests.support.sshd import SshServer, sshd_available  # noqa: E402
from tests.support.targets import make_target  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 40
R = int(sys.argv[2]) if len(sys.argv) > 2 else 5
COMMAND = "sleep 0.05; seq 1 20"


class OneByOne:
    """The session, made to pay one round trip per command (the interface's default ``run_batch``)."""

    def __init__(self, inner: NodeSession) -> None:
        self.inner = inner

    def __getattr__(self, item: str) -> object:
        return getattr(self.inner, item)

    def run_batch(self, commands, **kw):  # noqa: ANN001, ANN003, ANN201 - the interface's signature
        return NodeSession.run_batch(self, commands, **kw)  # type: ignore[arg-type]


def through_runner(session, design) -> float:  # noqa: ANN001
    steps = (Step("bench", "bench", "bench", "primary", {"srv1": tuple(Run(COMMAND) for _ in range(N))}),)
    plan = Plan("bench", design.stack, "srv1", "srv2", steps, Rendering((), {}))
    bus = EventBus()
    redactor = Redactor(["not-a-real-secret-123456"])
    sink = audit.AuditSink.for_run(runs.new_run_id(), redactor=redactor)
    bus.subscribe(sink, critical=True)
    runner = Runner(plan, {"srv1": session}, bus, confirm=lambda s, p: True, secrets=None)
    t = time.perf_counter()
    result = runner.run()
    took = time.perf_counter() - t
    bus.close()
    assert result.status == "finished", result.message
    return took


def main() -> None:
    why = sshd_available()
    if why:
        print(f"skipped: {why}")
        return
    tmp = Path(tempfile.mkdtemp(prefix="hw-bench-"))
    os.environ["XDG_STATE_HOME"] = str(tmp / "state")
    design = load_preset("debian12")
    with SshServer(tmp) as srv:
        session = open_session(make_target(srv, tmp), "ssh")
        script = "\n".join([COMMAND] * N)
        plain, runner_t, one_t, direct = [], [], [], []
        for _ in range(R):
            t = time.perf_counter()
            session.run(script, timeout=600)
            plain.append(time.perf_counter() - t)
            runner_t.append(through_runner(session, design))
            one_t.append(through_runner(OneByOne(session), design))
            t = time.perf_counter()
            for _ in range(N):
                session.run(COMMAND, timeout=60)
            direct.append(time.perf_counter() - t)
        session.close()
    mp, mr, mo, md = (statistics.median(x) for x in (plain, runner_t, one_t, direct))
    print(f"{N} commands ({COMMAND!r}) over one SSH session, {R} repeats, medians")
    print(f"plain shell script:                                  {mp:.3f} s  (min {min(plain):.3f})")
    print(f"runner + events + audit log, batched:                {mr:.3f} s  (min {min(runner_t):.3f})"
          f"  {100 * (mr / mp - 1):+.1f} %  (goal: within 5 %)")
    print(f"runner + events + audit log, one round trip each:    {mo:.3f} s  (min {min(one_t):.3f})"
          f"  {100 * (mo / mp - 1):+.1f} %  (before batches)")
    print(f"one by one through the session, no runner:           {md:.3f} s  (min {min(direct):.3f})"
          f"  {100 * (md / mp - 1):+.1f} %")
    print(f"batched / one round trip each: {mr / mo:.3f}")


if __name__ == "__main__":
    main()
