"""Where each node of a design is reached: the design's SSH settings as a session target."""

from __future__ import annotations

from hawizard.design.model import Node
from hawizard.sessions.target import SshTarget


def target_for(node: Node) -> SshTarget:
    """The SshTarget of a design node; a user other than root works through sudo."""
    return SshTarget(name=node.name, host=node.ssh_host, port=node.ssh_port, user=node.ssh_user,
                     identity_file=node.ssh_identity_file or None, known_hosts=node.ssh_known_hosts or None,
                     pinned_fingerprint=node.ssh_fingerprint or None, become_root=node.ssh_user != "root")
