"""Benchmark: the runner's overhead against a plain shell script over the same SSH connection.

Starts a real sshd on loopback (tests/support/sshd.py), opens one session, then runs the same
N commands (a) as one plain shell script sent through that session and (b) as N plan actions
through the runner (events, audit log, redaction, probes off). Prints medians and the ratio;
goal: within 5 %. Usage: python bench/runner_overhead.py [N_COMMANDS] [REPEATS]
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
from tests.support.sshd import SshServer, sshd_available  # noqa: E402
from tests.support.targets import make_target  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 40
R = int(sys.argv[2]) if len(sys.argv) > 2 else 5
COMMAND = "sleep 0.05; seq 1 20"


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
        plain, runner_t, direct = [], [], []
        for _ in range(R):
            t = time.perf_counter()
            session.run(script, timeout=600)
            plain.append(time.perf_counter() - t)

            t = time.perf_counter()
            for _ in range(N):
                session.run(COMMAND, timeout=60)
            direct.append(time.perf_counter() - t)

            steps = (Step("bench", "bench", "bench", "primary",
                          {"srv1": tuple(Run(COMMAND) for _ in range(N))}),)
            plan = Plan("bench", design.stack, "srv1", "srv2", steps, Rendering((), {}))
            bus = EventBus()
            redactor = Redactor(["not-a-real-secret-123456"])
            sink = audit.AuditSink.for_run(runs.new_run_id(), redactor=redactor)
            bus.subscribe(sink, critical=True)
            runner = Runner(plan, {"srv1": session}, bus, confirm=lambda s, p: True, secrets=None)
            t = time.perf_counter()
            result = runner.run()
            runner_t.append(time.perf_counter() - t)
            bus.close()
            assert result.status == "finished", result.message
        session.close()
    mp, mr = statistics.median(plain), statistics.median(runner_t)
    print(f"{N} commands ({COMMAND!r}) over one SSH session, {R} repeats")
    print(f"plain shell script: median {mp:.3f} s  (min {min(plain):.3f})")
    print(f"runner + events + audit log: median {mr:.3f} s  (min {min(runner_t):.3f})")
    md = statistics.median(direct)
    print(f"same commands one by one through the session, no runner: median {md:.3f} s")
    print(f"overhead: {100 * (mr / mp - 1):+.1f} %  (goal: within 5 %); of which the runner itself "
          f"{100 * (mr / md - 1):+.1f} % and one round trip per command {100 * (md / mp - 1):+.1f} %")


if __name__ == "__main__":
    main()
