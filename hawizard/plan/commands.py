"""The DRBD and cluster commands of a stack's dialect, as the steps run them.

Why one place: DRBD 8.3, 8.4 and 9 and Pacemaker 1.0 and 2 say the same things differently
(``/etc/init.d/drbd start`` or ``drbdadm up``; ``/proc/drbd`` or ``drbdsetup events2``; crm_mon
text or XML). The step builders ask these objects and never test a stack's name or version.
"""

from __future__ import annotations

from dataclasses import dataclass

from hawizard.common.shellquote import q
from hawizard.design.stacks import Stack
from hawizard.plan.waits import CrmMon, CrmMonText, CrmMonXml, Drbd9Events2, DrbdSync, ProcDrbd


@dataclass(frozen=True)
class DrbdCommands:
    """The commands that act on one DRBD resource, in the stack's DRBD dialect."""

    create_md: str
    up: str
    down: str
    force_primary: str
    secondary: str
    cstate: str
    progress: str  # prints the sync progress that ``progress_reader`` reads
    progress_reader: DrbdSync
    has_md: str  # exit 0: the backing disk holds DRBD metadata (or the resource is up)
    is_up: str  # exit 0: the resource is configured and not StandAlone
    synced: str  # exit 0: both disks UpToDate

    @classmethod
    def of(cls, resource: str, stack: Stack) -> DrbdCommands:
        r = q(resource)
        if stack.drbd == "8.3":
            create_md = f"drbdadm -- --force create-md {r}"
            up = "/etc/init.d/drbd start"  # the article's way; blocks until the peer connects
            down = "/etc/init.d/drbd stop"
        else:
            # 8.4 (drbd-utils 9 hands it to drbdadm-84): no prompt on an empty disk, and preflight made sure
            # it is empty; DRBD 9's drbdadm takes --force to skip its questions.
            create_md = f"drbdadm create-md --force {r}" if stack.drbd == "9" else f"drbdadm create-md {r}"
            up = f"drbdadm up {r}"
            down = f"drbdadm down {r}"
        if stack.drbd == "9":
            progress, reader = f"drbdsetup events2 --now --statistics {r}", Drbd9Events2(resource)
        else:
            progress, reader = "cat /proc/drbd", ProcDrbd(resource)
        return cls(
            create_md=create_md, up=up, down=down,
            force_primary=stack.force_primary.format(res=r),
            secondary=f"drbdadm secondary {r}",
            cstate=f"drbdadm cstate {r}",
            progress=progress, progress_reader=reader,
            has_md=(f"ds=$(drbdadm dstate {r} 2>/dev/null); case \"$ds\" in ''|Unconfigured*|Diskless*) "
                    f"drbdadm dump-md {r} >/dev/null 2>&1 ;; *) true ;; esac"),
            is_up=(f"cs=$(drbdadm cstate {r} 2>/dev/null); case \"$cs\" in ''|Unconfigured*|StandAlone*) false ;; "
                   "*) true ;; esac"),
            synced=f"drbdadm dstate {r} 2>/dev/null | grep -q '^UpToDate/UpToDate'",
        )


def crm_mon_command(stack: Stack) -> tuple[str, CrmMon]:
    """The one-shot crm_mon of the stack and the reader of its output (Pacemaker 1.0 has no XML)."""
    if stack.pacemaker == "1.0":
        return "crm_mon -1", CrmMonText()
    return "crm_mon -1 --output-as=xml", CrmMonXml()
