"""The target stacks: each one's dialects, packages, paths and service commands.

Everything that differs between the article's CentOS 5 cluster and today's Debian and
RHEL-family clusters is a value here, so templates and the plan ask "what does this stack
say" instead of testing stack names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hawizard.common.errors import InputError
from hawizard.common.shellquote import q


@dataclass(frozen=True)
class Stack:
    name: str
    title: str
    os_family: str  # el5 | debian | el9
    membership: str  # heartbeat | corosync
    config_tool: str  # crm | pcs
    pacemaker: str  # "1.0" | "2.1"
    drbd: str  # "8.3" | "8.4" | "9"
    init: str  # sysv | systemd
    # packages
    install_prepare: tuple[str, ...]  # commands run before installing (repositories)
    install_command: str  # prefix; package names are appended
    packages: tuple[str, ...]
    installed_probe: str  # prefix; package names are appended; exit 0 when all are installed
    # apache
    apache_service: str
    apache_config: str
    apache_status_snippet: str
    apache_enable_snippet: str  # command run after writing the snippet ("" = none)
    apache_24: bool  # Apache 2.4 access syntax (Require) instead of Order/Allow
    apache_ctl: str
    # cluster words
    promoted: str  # Master | Promoted
    unpromoted: str  # Slave | Unpromoted
    move: str  # crm/pcs sub-command that moves a resource
    clear: str
    force_primary: str  # format with res=
    drbd_service: str
    membership_services: tuple[str, ...]  # started in this order
    drbd_main_conf: bool  # render /etc/drbd.conf (the article copies the packaged one)
    ocf_root: str = "/usr/lib/ocf"
    # fencing with a shared disk (fencing.method = sbd): where sbd reads its settings ("" = the stack
    # has no sbd integration), what to install, and the fence agent that talks to sbd
    sbd_config: str = ""
    sbd_packages: tuple[str, ...] = ()
    sbd_agent: str = ""
    # Pacemaker 2.0.4+ knows priority-fencing-delay, and every 2.x pcmk_delay_base/pcmk_delay_max
    # (pacemaker-schedulerd and pacemaker-fenced metadata); Pacemaker 1.0 knows neither
    fence_delays: bool = True
    # a quorum device (corosync.qdevice): the package with corosync-qdevice, which needs Corosync 3's votequorum
    # (corosync-qdevice(8)); () = the stack cannot carry one (Heartbeat has no votequorum)
    qdevice_packages: tuple[str, ...] = ()
    # the on-fail values of its Pacemaker (Pacemaker Explained, "Operation Properties"): 1.0 knows ignore,
    # block, stop, restart, fence and standby (the on-fail choice of Pacemaker's resources-1.0.rng); demote came with
    # 2.0.5 and restart-container with 1.1.13 (bundles and container resources)
    on_fail_values: tuple[str, ...] = ("ignore", "block", "stop", "restart", "standby", "fence", "demote",
                                       "restart-container")
    # where the templates are looked up, first match wins; empty = the stack's own directory only
    template_dirs: tuple[str, ...] = ()

    def template(self, name: str) -> list[str]:
        """Candidate template paths for ``name``: this stack's directory, then the ones it borrows from."""
        return [f"{d}/{name}" for d in (self.template_dirs or (self.name,))]

    def service(self, action: str, name: str) -> str:
        """Command that starts/stops/enables/disables a service, in this stack's init system."""
        if self.init == "systemd":
            verb = {"start": "start", "stop": "stop", "enable": "enable", "disable": "disable",
                    "status": "is-active"}[action]
            return f"systemctl {verb} {name}"
        if action in ("enable", "disable"):
            return f"chkconfig {name} {'on' if action == 'enable' else 'off'}"
        return f"/etc/init.d/{name} {action}"

    def boot_setting(self, action: str, name: str) -> str:
        """Command that enables or disables a service at boot only when it is not so already.

        ``systemctl enable``/``disable`` re-runs the unit's install logic and a daemon reload each time
        (20 to 30 s on the lab's emulated CPUs, where post-install spent 52 s of its 60 on two of them);
        ``systemctl is-enabled`` answers from the unit files. systemctl(1), is-enabled: exit status 0 for
        enabled, enabled-runtime, static, alias, indirect, generated and transient, non-zero for disabled,
        linked and masked. chkconfig is cheap: called as it is."""
        if self.init != "systemd":
            return self.service(action, name)
        if action == "enable":
            return f"systemctl is-enabled -q {name} 2>/dev/null || systemctl enable {name}"
        if action == "disable":
            return f"! systemctl is-enabled -q {name} 2>/dev/null || systemctl disable {name}"
        raise ValueError(action)


# What every Corosync 3 + Pacemaker 2.1 stack says alike: the role names of Pacemaker 2.1, crm/pcs
# move and clear, DRBD 8.4/9's forced primary, and the services started in this order.
_PACEMAKER2 = dict(
    promoted="Promoted", unpromoted="Unpromoted",
    move="move", clear="clear",
    force_primary="drbdadm primary --force {res}",
    drbd_service="drbd",
    membership_services=("corosync", "pacemaker"),
    drbd_main_conf=False,
)

_STACKS = {
    "centos5-heartbeat": Stack(
        name="centos5-heartbeat",
        title="CentOS 5 + Heartbeat 3 + Pacemaker 1.0 (crm) + DRBD 8.3 — the article's stack",
        os_family="el5", membership="heartbeat", config_tool="crm", pacemaker="1.0", drbd="8.3",
        init="sysv",
        install_prepare=(
            "test -f /tmp/pacemaker-1.0.10-1.4.1.el5.x86_64.repo.tar.gz || { echo " + q(
                "copy pacemaker-1.0.10-1.4.1.el5.x86_64.repo.tar.gz (the article's repository package) to /tmp "
                "first") + " >&2; false; }",
            "cd /tmp && tar xzf pacemaker-1.0.10-1.4.1.el5.x86_64.repo.tar.gz",
            "cp /tmp/pacemaker-1.0.10-1.4.1.el5.x86_64.repo/pacemaker.repo /etc/yum.repos.d/",
            "yum clean all",
        ),
        install_command="yum -y install",
        packages=("pacemaker", "heartbeat", "kmod-drbd83", "drbd83", "httpd"),
        installed_probe="rpm -q",
        apache_service="httpd",
        apache_config="/etc/httpd/conf/httpd.conf",
        apache_status_snippet="/etc/httpd/conf.d/hawizard-status.conf",
        apache_enable_snippet="",
        apache_24=False,
        apache_ctl="apachectl",
        promoted="Master", unpromoted="Slave",
        move="migrate", clear="unmigrate",
        force_primary="drbdadm -- --overwrite-data-of-peer primary {res}",
        drbd_service="drbd",
        membership_services=("heartbeat",),
        drbd_main_conf=True,
        fence_delays=False,
        on_fail_values=("ignore", "block", "stop", "restart", "standby", "fence"),
    ),
    "debian12-crmsh": Stack(
        name="debian12-crmsh",
        title="Debian 12 / Ubuntu LTS + Corosync 3 + Pacemaker 2.1 (crmsh) + DRBD 8.4 module, drbd-utils 9",
        os_family="debian", membership="corosync", config_tool="crm", pacemaker="2.1", drbd="8.4",
        init="systemd",
        install_prepare=("DEBIAN_FRONTEND=noninteractive apt-get update -q",),
        install_command="DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends",
        # pacemaker-cli-utils (crm_mon, cibadmin, crm_resource, crm_verify) is only a Recommends of
        # pacemaker, and psmisc (fuser, which the Filesystem agent needs) only a Recommends too
        packages=("pacemaker", "pacemaker-cli-utils", "corosync", "crmsh", "resource-agents", "drbd-utils",
                  "apache2", "curl", "psmisc"),
        # Debian's sbd ships the cluster-glue plugin stonith:external/sbd (it reads SBD_DEVICE from
        # /etc/default/sbd), which Pacemaker runs through cluster-glue; fence_sbd would need the whole
        # fence-agents package
        sbd_config="/etc/default/sbd",
        sbd_packages=("sbd", "cluster-glue"),
        sbd_agent="stonith:external/sbd",
        qdevice_packages=("corosync-qdevice",),
        installed_probe="dpkg-query -W -f='${Status}\\n'",
        apache_service="apache2",
        apache_config="/etc/apache2/apache2.conf",
        apache_status_snippet="/etc/apache2/conf-available/hawizard-status.conf",
        apache_enable_snippet="a2enconf -q hawizard-status",
        apache_24=True,
        apache_ctl="apache2ctl",
        **_PACEMAKER2,
    ),
    "el9-pcs": Stack(
        name="el9-pcs",
        title="Rocky/Alma/RHEL 9 + Corosync 3 + Pacemaker 2.1 (pcs) + DRBD 9 (ELRepo)",
        os_family="el9", membership="corosync", config_tool="pcs", pacemaker="2.1", drbd="9",
        init="systemd",
        install_prepare=(
            "dnf -y -q install dnf-plugins-core",
            "dnf config-manager --set-enabled highavailability",
            "dnf -y -q install elrepo-release",
        ),
        install_command="dnf -y -q install",
        packages=("pacemaker", "corosync", "pcs", "resource-agents", "kmod-drbd9x", "drbd9x-utils",
                  "httpd", "curl", "psmisc"),
        sbd_config="/etc/sysconfig/sbd",
        sbd_packages=("sbd", "fence-agents-sbd"),
        sbd_agent="stonith:fence_sbd",
        qdevice_packages=("corosync-qdevice",),
        installed_probe="rpm -q",
        apache_service="httpd",
        apache_config="/etc/httpd/conf/httpd.conf",
        apache_status_snippet="/etc/httpd/conf.d/hawizard-status.conf",
        apache_enable_snippet="",
        apache_24=True,
        apache_ctl="apachectl",
        **_PACEMAKER2,
    ),
}


# Debian 12 with pcs instead of crmsh: everything else (packages, DRBD 8.4 dialect, paths) is the crmsh stack's.
_STACKS["debian12-pcs"] = replace(
    _STACKS["debian12-crmsh"],
    name="debian12-pcs",
    title="Debian 12 / Ubuntu LTS + Corosync 3 + Pacemaker 2.1 (pcs) + DRBD 8.4 module, drbd-utils 9",
    config_tool="pcs",
    packages=tuple("pcs" if p == "crmsh" else p for p in _STACKS["debian12-crmsh"].packages),
    template_dirs=("debian12-pcs", "debian12-crmsh"),
)


def get(name: str) -> Stack:
    try:
        return _STACKS[name]
    except KeyError:
        raise InputError(f"unknown stack '{name}'; known stacks: {', '.join(_STACKS)}") from None


def all_stacks() -> list[Stack]:
    return list(_STACKS.values())
