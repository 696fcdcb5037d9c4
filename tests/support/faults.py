"""What the fencing tests watch while they break the lab: a writer whose acknowledged records are
kept on the host, a poller that catches DRBD Primary on both nodes, and each node's boot id.

The writer appends numbered records to a file on the replicated filesystem with synchronous
writes (``dd oflag=append,sync``): a number is acknowledged (``ack N`` read back over the SSH
stream) only after DRBD has it on disk - on both disks with protocol C, or, once the peer is
lost, only after DRBD's fencing policy let the write through. Every acknowledged number must be
on the disk of whichever node serves afterwards.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time

from hawizard.lab import ssh as labssh

RECORDS = "/var/www/html/records.txt"

# what the fencing race leaves in a node's journal: corosync's loss of the peer, the controller's
# election and transitions, the scheduler's plan, the fencer's requests, delays and results, sbd's
# messages, and the kernel's and DRBD's fence-peer handler's view of the replication link
_FENCE_IDENTS = ("corosync", "pacemaker-controld", "pacemaker-fenced", "pacemaker-schedulerd", "sbd", "kernel",
                 "crm-fence-peer.sh")
_FENCE_WORDS = ("fenc|stonith|Election|elected|State transition|Members|processor failed|reset|Delaying|poison|"
                "drbd|Scheduling|Calculated")


class _NodeLoop:
    """A shell loop on a node over one SSH stream; each line it prints is handed to ``_line`` with the host's time."""

    def __init__(self, lab, node: str, script: str) -> None:
        self.node = node
        argv = labssh.ssh_argv(lab.paths, lab.node(node), [script])
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     stdin=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._line(line.strip(), time.monotonic())

    def _line(self, line: str, when: float) -> None:
        raise NotImplementedError

    def _end(self) -> bool:
        """Stop the loop; whether it was still running (a loop that died early measured nothing after)."""
        alive = self.proc.poll() is None
        if alive:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._thread.join(10)
        return alive


class Writer(_NodeLoop):
    """Appends records on ``node`` until stopped; ``acked`` holds (number, host time) of each acknowledged one."""

    def __init__(self, lab, node: str, path: str = RECORDS) -> None:
        self.path = path
        self.acked: list[tuple[int, float]] = []
        super().__init__(lab, node, f"i=$(wc -l < {path} 2>/dev/null || echo 0); while :; do i=$((i+1)); "
                                    f"printf '%d\\n' \"$i\" | dd of={path} oflag=append,sync conv=notrunc status=none "
                                    "|| exit 3; echo \"ack $i\"; sleep 0.2; done")

    def _line(self, line: str, when: float) -> None:
        if line.startswith("ack "):
            self.acked.append((int(line.split()[1]), when))

    def wait_for(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"the writer on {self.node} acknowledged {len(self.acked)} records, not {count}")
            time.sleep(0.2)

    def first_ack_after(self, t: float) -> float | None:
        return next((when for _, when in self.acked if when > t), None)

    def stop(self) -> list[int]:
        self._end()
        return [n for n, _ in self.acked]


class JournalTail(_NodeLoop):
    """The fencing race's journal lines on ``node`` as they are logged, kept on the host.

    Read live because a node that is reset loses what its journal had not yet written to disk:
    read afterwards, the loser's story stops seconds before its end.
    """

    def __init__(self, lab, node: str) -> None:
        self.lines: list[str] = []
        idents = " ".join(f"-t {i}" for i in _FENCE_IDENTS)
        super().__init__(lab, node, f"journalctl -f -n 0 --no-pager -o short-precise {idents} | "
                                    f"grep --line-buffered -E {shlex.quote(_FENCE_WORDS)}")

    def _line(self, line: str, when: float) -> None:
        self.lines.append(line)

    def stop(self) -> str:
        self._end()
        return "\n".join(self.lines[-200:]) or f"({self.node}: nothing logged)"


class VipWatcher(_NodeLoop):
    """Fetches the page through the VIP from ``node`` twice a second; ``stop`` gives the longest time without an answer.

    The loop runs in the node's shell (the VIP lives on the lab's VM-to-VM service link, so the host cannot
    reach it); each answer is stamped on the host as it arrives over the SSH stream.
    """

    def __init__(self, lab, node: str, vip: str, want: str) -> None:
        self.answers: list[tuple[float, bool]] = []
        super().__init__(lab, node, f"while :; do if curl -fsS --max-time 1 http://{vip}/ 2>/dev/null | "
                                    f"grep -q {shlex.quote(want)}; then echo up; else echo down; fi; sleep 0.5; done")

    def _line(self, line: str, when: float) -> None:
        self.answers.append((when, line == "up"))

    def wait_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(up for _, up in self.answers):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"the page never answered through the VIP from {self.node}")
            time.sleep(0.5)

    def stop(self) -> tuple[float, int, int]:
        """(longest gap in seconds between two answers, fetches, failed fetches); the loop must have run throughout."""
        alive = self._end()
        assert alive, f"the VIP watcher on {self.node} died (its SSH stream ended)"
        ups = [t for t, up in self.answers if up]
        assert ups, "no answer through the VIP at all"
        gap, last = 0.0, ups[0]
        for t in ups[1:]:
            gap, last = max(gap, t - last), t
        gap = max(gap, time.monotonic() - last)
        return gap, len(self.answers), sum(1 for _, up in self.answers if not up)


class _RoleLoop(_NodeLoop):
    """Prints the node's DRBD role every ``every`` seconds from one shell loop (one SSH stream, not one login per
    sample: a login costs the emulated CPU a key exchange, and the polls must not load the node they watch).

    The role comes from /proc/drbd (DRBD 8.4: ``ro:Primary/Unknown``), which never blocks; ``drbdadm role``
    asks the module over netlink and can hang while DRBD's fence-peer handler runs, so it is only the
    fallback where /proc/drbd has no roles (DRBD 9).
    """

    def __init__(self, lab, node: str, resource: str, every: float, seen) -> None:
        self._seen = seen
        role_of_proc = "sed -n 's|.* ro:\\([A-Za-z]*\\)/.*|\\1|p' /proc/drbd 2>/dev/null | head -n 1"
        super().__init__(lab, node, f"while :; do r=$({role_of_proc}); "
                                    f"[ -n \"$r\" ] || r=$(timeout 5 drbdadm role {shlex.quote(resource)} 2>/dev/null "
                                    f"| cut -d/ -f1); echo \"role ${{r:-none}}\"; sleep {every}; done")

    def _line(self, line: str, when: float) -> None:
        if line.startswith("role "):
            self._seen(self.node, line.split()[1], when)


class RolePoller:
    """Watches the DRBD role on both nodes; ``both_primary`` lists every moment both were Primary.

    Each node's loop is restarted when its stream ends (the node was reset, or is booting); a node's role
    counts only while it is fresh, so a node that stopped answering is never taken for Primary.
    """

    NODES = ("srv1", "srv2")

    def __init__(self, lab, resource: str = "r0", every: float = 2.0) -> None:
        self.lab, self.resource, self.every = lab, resource, every
        self.both_primary: list[float] = []
        self.samples = 0
        self._latest: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._loops: dict[str, _RoleLoop] = {}
        self.streams_ended = {n: 0 for n in self.NODES}  # a node reset ends its stream (ServerAlive, 15 s x 3)
        self._threads = [threading.Thread(target=self._keep, args=(n,), daemon=True) for n in self.NODES]
        for t in self._threads:
            t.start()

    def _seen(self, node: str, role: str, when: float) -> None:
        with self._lock:
            self.samples += 1
            self._latest[node] = (role, when)
            fresh = [r for r, t in self._latest.values() if when - t <= 2.5 * self.every]
            if len(fresh) == len(self.NODES) and all(r == "Primary" for r in fresh):
                self.both_primary.append(when)

    def _keep(self, node: str) -> None:
        while not self._stop.is_set():
            loop = _RoleLoop(self.lab, node, self.resource, self.every, self._seen)
            self._loops[node] = loop
            while loop.proc.poll() is None and not self._stop.wait(0.5):
                pass
            if not self._stop.is_set():
                self.streams_ended[node] += 1
            loop._end()
            self._stop.wait(3)  # a node being reset or booting: try again shortly

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)


def wait_reset(lab, poller: RolePoller, boots: dict[str, str | None], timeout: float) -> str | None:
    """The node whose boot id changed within ``timeout`` seconds (None: neither).

    A node is asked again every 2 s only once its role stream ended (it was reset, or is booting),
    and both every 15 s otherwise: a login costs an emulated CPU a key exchange, and logins every
    couple of seconds during the fence race slowed the very node that had to fence first.
    """
    deadline = time.monotonic() + timeout
    last_both = time.monotonic()
    while time.monotonic() < deadline:
        both = time.monotonic() - last_both >= 15
        for n in RolePoller.NODES:
            if both or poller.streams_ended[n]:
                now = boot_id(lab, n)
                if now and now != boots[n]:
                    return n
        if both:
            last_both = time.monotonic()
        time.sleep(2)
    return None


def boot_id(lab, node: str) -> str | None:
    """The node's boot id, or None when it does not answer (being fenced, booting)."""
    try:
        r = lab.ssh(node, "cat /proc/sys/kernel/random/boot_id", check=False, timeout=15)
    except subprocess.TimeoutExpired:
        return None
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def wait_rebooted(lab, node: str, before: str, timeout: float) -> float:
    """Seconds until ``node`` answers with a boot id other than ``before`` (it was reset and is back)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        now = boot_id(lab, node)
        if now and now != before:
            return time.monotonic() - t0
        time.sleep(3)
    raise AssertionError(f"{node} did not come back with a new boot id within {timeout:.0f} s")


def wait_rejoined(lab, node: str, resource: str, timeout: float = 600) -> float:
    """Seconds until ``node`` is an UpToDate Secondary connected to an UpToDate Primary."""
    t0 = time.monotonic()
    last = ""
    while time.monotonic() - t0 < timeout:
        r = lab.ssh(node, f"drbdadm role {resource}; drbdadm dstate {resource}; drbdadm cstate {resource}",
                    check=False, timeout=30)
        last = " ".join(r.stdout.split())
        if r.returncode == 0 and r.stdout.split()[:3] == ["Secondary/Primary", "UpToDate/UpToDate", "Connected"]:
            return time.monotonic() - t0
        time.sleep(3)
    raise AssertionError(f"{node} did not rejoin as an UpToDate Secondary within {timeout:.0f} s (last: {last})")


def split_brain_logged(lab, node: str) -> bool:
    return "Split-Brain detected" in lab.ssh(node, "dmesg", check=False, timeout=30).stdout


def dc_of(lab, node: str) -> str:
    """The designated controller as ``node`` sees it ('?' when it does not say)."""
    r = lab.ssh(node, "crmadmin -D 2>&1", check=False, timeout=60)
    return r.stdout.strip().rsplit(" ", 1)[-1] if "Designated Controller" in r.stdout else "?"
