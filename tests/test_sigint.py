"""sigint_deferred: the first Ctrl-C during a run's last records is noted, the second interrupts."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from hawizard.common.sigint import sigint_deferred
    presses = int(sys.argv[1])
    try:
        with sigint_deferred():
            for _ in range(presses):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # the handler runs between bytecodes
            print("block finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted in the block", flush=True)
    # outside the block Ctrl-C is KeyboardInterrupt again
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        print("no interrupt after the block", flush=True)
    except KeyboardInterrupt:
        print("default again", flush=True)
""")


def sigint_default() -> None:
    """In the child, before exec: SIGINT at its default, as a terminal gives it. A harness started in the
    background without job control ignores SIGINT (POSIX, Shell Command Language 2.11), its children inherit
    that, and Python then installs no KeyboardInterrupt handler at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(presses: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(presses)], capture_output=True, text=True, timeout=60,
                          preexec_fn=sigint_default)


def test_one_ctrl_c_lets_the_block_finish_and_says_why():
    r = run(1)
    assert r.stdout.split("\n")[:2] == ["block finished", "default again"], r.stdout + r.stderr
    assert "finishing the run's records" in r.stderr and "Traceback" not in r.stderr


def test_a_second_ctrl_c_interrupts_the_block():
    r = run(2)
    assert r.stdout.split("\n")[:2] == ["interrupted in the block", "default again"], r.stdout + r.stderr
