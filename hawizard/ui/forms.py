"""One question field, built from the model's metadata: label, control, and what is wrong with it.

The control follows the field: a switch for true/false, a list for fields with choices, an
integer-only input for numbers, a text input otherwise. What the operator types is checked
as it is typed (the engine's field checks); a refused value is explained under the field and
never reaches the design. Lint findings about the field are shown in the same place.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select, Static

from hawizard.design.model import Design
from hawizard.design.problems import Problem
from hawizard.ui.fieldpaths import FieldInfo, display_value, field_info, get_value, parse_input

UNITS = {"_s": " (s)", "_ms": " (ms)", "_mbps": " (Mbit/s)"}
STYLE = {"error": ("✗", "bold red"), "warning": ("⚠", "yellow"), "info": ("ℹ", "cyan")}


def field_id(path: str) -> str:
    """A widget id for a key path (ids allow letters, digits, '_' and '-')."""
    return "f-" + path.replace(".", "--").replace("[", "_").replace("]", "")


# Labels in words for the fields whose key names are abbreviations or jargon ("after_sb_0pri",
# "udpport"), keyed by the last two parts of the key path without list indexes; the unit of a
# field ending in _s, _ms or _mbps is added after. Any other field: its name with spaces. A
# label fits the 21 columns the form gives it at 80x24 (the help box below names the key).
LABELS = {
    "answers.io_error": "On a disk I/O error",
    "answers.split_brain": "After a split brain",
    "answers.switchover_failure": "If switch-over fails",
    "answers.reuse_data": "Reuse existing data",
    "timing.default_action_timeout_s": "Default timeout",
    "cluster.drbd_monitor_interval_s": "DRBD monitor",
    "cluster.drbd_promoted_monitor_interval_s": "Promoted monitor",
    "cluster.drbd_conf_param": "Agent's drbdconf",
    "fencing.method": "Fencing (STONITH)",
    "fencing.sbd_devices": "Shared sbd disk(s)",
    "fencing.watchdog_device": "Watchdog device",
    "fencing.watchdog_timeout_s": "Watchdog timeout",
    "fencing.msgwait_timeout_s": "Msgwait timeout",
    "fencing.race": "Fence-race protection",
    "fencing.delay_s": "Fence-race delay",
    "fencing.stonith_timeout_s": "Fencing timeout",
    "fencing.action": "What a fence does",
    "cluster.no_quorum_policy": "No-quorum policy",
    "drbd.on_io_error": "DRBD on-io-error",
    "drbd.local_io_error_handler": "I/O error handler",
    "drbd.after_sb_0pri": "If split, no primary",
    "drbd.after_sb_1pri": "If split, 1 primary",
    "drbd.after_sb_2pri": "If split, 2 primaries",
    "drbd.fencing": "DRBD fencing",
    "drbd.c_plan_ahead": "Plan-ahead (0.1 s)",
    "drbd.c_fill_target": "Fill target (sectors)",
    "drbd.c_max_rate": "Resync controller cap",
    "drbd.c_min_rate": "Resync under app I/O",
    "drbd.resource": "DRBD resource name",
    "drbd.device": "DRBD device",
    "drbd.meta_disk": "Metadata disk",
    "drbd.port": "Replication port",
    "drbd.shared_secret_ref": "Shared secret source",
    "drbd.usage_count": "LINBIT usage count",
    "network.interconnect_direct": "Direct cables",
    "network.replication_link_mbps": "Link speed",
    "network.manage_hosts": "Manage /etc/hosts",
    "nodes.ssh_host": "SSH host",
    "nodes.ssh_port": "SSH port",
    "nodes.ssh_user": "SSH user",
    "nodes.ssh_identity_file": "SSH identity file",
    "nodes.ssh_known_hosts": "SSH known_hosts file",
    "nodes.ssh_fingerprint": "Host key fingerprint",
    "nodes.service_nic": "Service interface",
    "nodes.fence_params": "Fence parameters",
    "nodes.fence_password_ref": "Fence password source",
    "interconnects.nic": "interface",
    "heartbeat.keepalive_s": "Keepalive",
    "heartbeat.warntime_s": "Warn time",
    "heartbeat.deadtime_s": "Dead time",
    "heartbeat.initdead_s": "Initial dead time",
    "heartbeat.udpport": "UDP port",
    "heartbeat.auth": "Authentication",
    "heartbeat.auth_secret_ref": "Auth secret source",
    "heartbeat.logfile": "Log file",
    "heartbeat.logfacility": "Syslog facility",
    "corosync.crypto_cipher": "Encryption cipher",
    "corosync.crypto_hash": "Authentication hash",
    "corosync.token_ms": "Token timeout",
    "corosync.two_node": "Two-node quorum",
    "corosync.wait_for_all": "Wait for all nodes",
    "corosync.link_mode": "Link mode (knet)",
    "corosync.authkey_ref": "Authkey source",
    "qdevice.host": "Quorum device (qnetd)",
    "qdevice.port": "qnetd port",
    "qdevice.algorithm": "qnetd algorithm",
    "qdevice.tls": "TLS to qnetd",
    "qdevice.tie_breaker": "qnetd tie-breaker",
    "drbd.quorum": "DRBD 9 quorum",
    "drbd.on_no_quorum": "Without DRBD quorum",
    "on_fail.monitor": "Failed monitor",
    "on_fail.promoted_monitor": "Failed promoted check",
    "on_fail.start": "Failed start",
    "on_fail.stop": "Failed stop",
    "on_fail.promote": "Failed promote",
    "on_fail.demote": "Failed demote",
    "service.vip": "Virtual IP (VIP)",
    "service.vip_prefix": "VIP prefix length",
    "service.vip_nic": "VIP interface",
    "service.fstype": "Filesystem type",
    "service.apache_config": "Apache config file",
    "service.status_url": "Status page URL",
    "service.status_allow": "Status readable from",
    "service.port": "Apache port",
    "service.index_page": "Test page text",
    "service.verify_page": "Verify wants",
    "ids.drbd": "DRBD primitive",
    "ids.drbd_clone": "DRBD promotable clone",
    "ids.ip": "VIP primitive",
    "ids.fs": "Filesystem primitive",
    "ids.web": "Apache primitive",
    "ids.group": "Resource group",
    "ids.colocation": "Colocation constraint",
    "ids.order": "Order constraint",
    "ids.fence_prefix": "Fence device prefix",
    "stack": "Target stack",
}


def label_for(info: FieldInfo) -> str:
    name = info.name
    suffix = ""
    for end, unit in UNITS.items():
        if name.endswith(end):
            name, suffix = name[: -len(end)], unit
            break
    key = ".".join(re.sub(r"\[\d+\]", "", info.path).split(".")[-2:])
    text = LABELS.get(key) or name.replace("_", " ")
    if ".interconnects[" in info.path:
        j = int(info.path.split(".interconnects[")[1].split("]")[0])
        text = f"link {j + 1} {text}"
    return text[:1].upper() + text[1:] + suffix


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def problem_text(problems: list[Problem], error: str | None = None) -> Text:
    out = Text()
    if error:
        icon, style = STYLE["error"]
        out.append(f"{icon} {error}", style=style)
    for p in problems:
        icon, style = STYLE.get(p.severity, ("•", ""))
        if out:
            out.append("\n")
        out.append(f"{icon} {p.message}", style=style)
    return out


class FieldInput(Input):
    """A text field that shows the start of its value while it is not being edited.

    Textual's Input keeps its view at the cursor, which is at the end of the value: a long value
    read as its tail (a disk path as "...1405a1b2c3d4e5f6"). Once the cursor leaves, it goes back
    to the start; on focus the whole text is selected again (Input's own behaviour), cursor at the end.
    """

    def on_mount(self) -> None:
        if not self.has_focus:
            self.cursor_position = 0

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self.cursor_position = 0


class FieldRow(Container):
    """A labelled control for one key path of the design."""

    class Edited(Message):
        """The operator changed the field: ``value`` is set, or ``error`` says why it was refused."""

        def __init__(self, row: FieldRow, value: Any, error: str | None) -> None:
            super().__init__()
            self.row, self.value, self.error = row, value, error

    def __init__(self, design: Design, path: str) -> None:
        super().__init__(id=field_id(path), classes="field")
        self.path = path
        self.info = field_info(design, path)
        self.initial = get_value(design, path)
        self._shown: tuple = (None, ())

    @property
    def label(self) -> str:
        return label_for(self.info)

    def compose(self) -> ComposeResult:
        # a grid of label | control, and a message line under both once there is something to say:
        # few widgets per row keeps a section of thirty questions quick to open
        info, value = self.info, self.initial
        yield Label(self.label, classes="field-label")
        if info.type == "bool":
            yield Checkbox(yes_no(bool(value)), bool(value), compact=True, classes="field-control")
        elif info.choices is not None:
            options = [(c, c) for c in info.choices]
            if value not in info.choices:  # only a preset could hold it; keep it visible
                options.insert(0, (f"{value} (not valid)", value))
            yield Select(options, value=value, allow_blank=False, compact=True, classes="field-control")
        else:
            lo, hi = info.minimum, info.maximum
            placeholder = f"{lo:.15g} to {hi:.15g}" if info.type == "int" and lo is not None else ""
            if info.kind and info.kind.endswith("?"):
                placeholder = "(empty: not used)"
            if info.items is not None:
                placeholder = f"(up to {info.items[1]}, separated by spaces)"
            yield FieldInput(display_value(info, value), type="integer" if info.type == "int" else "text",
                             compact=True, placeholder=placeholder, classes="field-control")

    def show_problems(self, problems: list[Problem], error: str | None = None) -> None:
        key = (error, tuple(problems))
        if key == self._shown:
            return  # restyling a row costs a layout pass: only when something changed
        if not self.query(".field-control"):
            # not composed yet (mounted by the other task a moment ago): a message mounted now
            # would sit above the label; show it once the row has its control
            self.call_after_refresh(self.show_problems, problems, error)
            return
        self._shown = key
        text = problem_text(problems, error)
        found = self.query(".field-msg")
        if found:
            msg = found.first(Static)
            msg.update(text)
        elif text:
            msg = Static(text, classes="field-msg")
            self.mount(msg)
        else:
            return
        msg.display = bool(text)
        self.set_class(bool(error) or any(p.severity == "error" for p in problems), "-error")
        self.set_class(not error and any(p.severity == "warning" for p in problems), "-warning")

    def on_resize(self) -> None:
        """A message appeared or went: this row, or the one being edited below it, moved."""
        keep = getattr(self.screen, "keep_focus_in_view", None)
        if keep is not None:
            keep()

    def focus_control(self, scroll: bool = True) -> None:
        # Screen.set_focus moves the focus now; Widget.focus only queues it behind keys already typed
        control = self.query(".field-control")
        if control:
            self.screen.set_focus(control.first(), scroll_visible=scroll)
        else:  # a row mounted a moment ago composes its control on its next turn: focus it then
            self.call_after_refresh(self.focus_control, scroll)

    def current_text(self) -> str:
        control = self.query_one(".field-control")
        if isinstance(control, Input):
            return control.value
        if isinstance(control, Select):
            return str(control.value)
        return str(control.value)

    # -- the controls' messages ---------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        value, error = parse_input(self.info, event.value)
        self.post_message(self.Edited(self, value, error))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value, error = parse_input(self.info, str(event.value))
        self.post_message(self.Edited(self, value, error))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        event.checkbox.label = yes_no(event.value)
        self.post_message(self.Edited(self, bool(event.value), None))
