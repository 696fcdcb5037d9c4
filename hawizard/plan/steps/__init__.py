"""One builder per step (a function of a ``PlanContext`` that returns the ``Step``, or None when the design
has no such step), grouped by phase, and ``BUILDERS`` in the order the plan runs them:

  preflight   preflight: read-only checks; the facts both nodes must agree on
  install     install, post-install: packages, agents and versions; services left to the cluster
  membership  hosts, membership-files: name resolution, ha.cf/authkeys or corosync.conf/authkey
  fencing     sbd-device, sbd-config: the shared disk initialised, sbd set up (fencing.method = sbd)
  drbd        drbd-files, drbd-adjust (a running resource), create-md, drbd-up, initial-sync, mkfs
  service     apache, rehearsal (by hand, then undone), drbd-down (handed to the cluster)
  cluster     cluster-start, sbd-start (a cluster that ran without sbd: restarted node by node, detached),
              cluster-config (one atomic load, its hash in the step's marker)
  verify      verify, switchover (optional)
"""

from __future__ import annotations

from collections.abc import Callable

from hawizard.plan.context import PlanContext
from hawizard.plan.steps import cluster, drbd, fencing, install, membership, preflight, service, verify
from hawizard.plan.types import Step

Builder = Callable[[PlanContext], Step | None]

BUILDERS: tuple[Builder, ...] = (
    preflight.preflight,
    install.install, install.post_install,
    membership.hosts, membership.membership_files,
    fencing.sbd_device, fencing.sbd_config,
    drbd.drbd_files, drbd.drbd_adjust, drbd.create_md, drbd.drbd_up, drbd.initial_sync, drbd.mkfs,
    service.apache, service.rehearsal, service.drbd_down,
    cluster.cluster_start, fencing.sbd_start, cluster.cluster_config,
    verify.verify, verify.switchover,
)
