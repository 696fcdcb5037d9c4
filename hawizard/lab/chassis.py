"""The power of a lab node's BMC: what ipmi_sim's ``chassis_control`` program runs (bmc.py writes it).

Why a module of its own: this runs in a process of its own, started by ipmi_sim for every
chassis request (``get power``, ``set power 0|1``, ``set reset 1``), and acts with the lab's own
verbs: off is a power loss (control.kill), on boots the node on its disks (control.start, in
a background process of its own, so that the BMC answers at once as a real one does). What it
did goes to the BMC's chassis.log; what it prints on stdout is ipmi_sim's answer to ``get``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from hawizard.common.errors import HawizardError
from hawizard.lab import bmc, control, vm
from hawizard.lab.paths import LabPaths


def _log(files: bmc.BmcFiles, text: str) -> None:
    stamp = datetime.now().isoformat(timespec="milliseconds")
    with open(files.events, "a") as fh:
        fh.write(f"{stamp} {text}\n")


def chassis(paths: LabPaths, name: str, words: list[str]) -> int:
    """One chassis request from ipmi_sim; what it prints on stdout is the answer to ``get``."""
    files = bmc.files_of(paths, name)
    node_files = vm.NodeFiles(paths.node_dir(name))

    def out(text: str) -> None:  # control's own lines already name the node
        _log(files, text)

    request = " ".join(words)
    if len(words) >= 2 and words[0] == "get":
        answers = []
        for item in words[1:]:
            if item == "power":
                answers.append(f"power:{1 if vm.running_pid(node_files) is not None else 0}")
        print(" ".join(answers), flush=True)
        _log(files, f"{name}: {request} -> {' '.join(answers) or '(nothing asked that this chassis has)'}")
        return 0
    if words in (["set", "power", "0"], ["set", "reset", "1"]):
        pid = control.kill(paths, name, out=out)
        _log(files, f"{name}: {request}: power cut" + (f" (qemu pid {pid} killed)" if pid else " (was off)"))
        if words[1] == "power":
            return 0
    if words in (["set", "power", "1"], ["set", "reset", "1"]):
        if vm.running_pid(node_files) is not None:
            _log(files, f"{name}: {request}: already on")
            return 0
        with open(files.events, "a") as log:  # the boot's own lines go to the same log
            boot = subprocess.Popen([*bmc.chassis_argv(paths, name), "boot"], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _log(files, f"{name}: {request}: powering on in the background (pid {boot.pid})")
        return 0
    _log(files, f"{name}: {request}: not a chassis request this BMC knows")
    return 1


def boot(paths: LabPaths, name: str) -> int:
    """Power on: the lab's own start (same disks, waits for SSH), run apart from ipmi_sim."""
    files = bmc.files_of(paths, name)
    t0 = time.monotonic()
    try:
        control.start(paths, name, out=lambda text: _log(files, text))
    except HawizardError as err:
        _log(files, f"{name}: power on failed after {time.monotonic() - t0:.1f}s: {err}")
        return err.exit_code
    _log(files, f"{name}: powered on; SSH answers after {time.monotonic() - t0:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m hawizard.lab.chassis --root R --cache C --node N WORDS``.

    WORDS: ``get power``, ``set power 0|1``, ``set reset 1`` (from ipmi_sim) or ``boot`` (from ourselves).
    """
    parser = argparse.ArgumentParser(prog="hawizard-lab-bmc-chassis")
    parser.add_argument("--root", required=True)
    parser.add_argument("--cache", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("words", nargs="+")
    args = parser.parse_args(argv)
    paths = LabPaths(root=Path(args.root), cache=Path(args.cache))
    try:
        if args.words == ["boot"]:
            return boot(paths, args.node)
        return chassis(paths, args.node, args.words)
    except HawizardError as err:
        _log(bmc.files_of(paths, args.node), f"{args.node}: {' '.join(args.words)} failed: {err}")
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
