#!/bin/sh
# hawizard lab image, step 2 of 2: runs inside the image (chroot) after the guest packages
# are installed and the cluster packages sit in /srv/lab-repo with their index.
# Part of the recipe hash.
set -eu

# --- identity: every node gets its own at boot --------------------------------------------
# The hostname comes from the kernel command line (systemd.hostname=), the machine-id from
# systemd.machine_id= (an empty /etc/machine-id is filled in from it at first boot), and
# the SSH host key and the operator's public key from the node's seed disk (below).
echo lab > /etc/hostname
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > /etc/hosts
: > /etc/resolv.conf
echo '/dev/vda / ext4 defaults 0 0' > /etc/fstab

# --- SSH: root by key only, host key from the seed disk ------------------------------------
rm -f /etc/ssh/ssh_host_*
cat > /etc/ssh/sshd_config.d/hawizard-lab.conf <<'CFG'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CFG
passwd -l root >/dev/null

# --- the seed disk ---------------------------------------------------------------------
# Each node has a small read-only disk (serial "labseed") that holds a tar archive written
# by the host: SSH host key, authorized_keys, systemd-networkd files. It is unpacked over /
# at every boot, before the network and sshd start.
cat > /etc/systemd/system/hawizard-lab-seed.service <<'UNIT'
[Unit]
Description=hawizard lab: unpack this node's seed disk (host key, operator key, addresses)
DefaultDependencies=no
Requires=dev-disk-by\x2did-virtio\x2dlabseed.device
After=dev-disk-by\x2did-virtio\x2dlabseed.device local-fs.target
Before=sysinit.target systemd-networkd.service ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/tar --extract --file=/dev/disk/by-id/virtio-labseed --directory=/ --no-overwrite-dir --numeric-owner

[Install]
WantedBy=sysinit.target
UNIT
systemctl enable hawizard-lab-seed.service systemd-networkd.service ssh.service
# Nothing may wait for a network that the lab never gives, nor wake up for maintenance
# that only costs emulated CPU.
systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer dpkg-db-backup.timer

# --- small initramfs: only what finds and mounts the virtio root disk ---------------------
sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
printf 'virtio_pci\nvirtio_blk\next4\n' >> /etc/initramfs-tools/modules
update-initramfs -u -k all

# --- apt: the local repository only, no network mirror ------------------------------------
rm -f /etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/srv/lab-repo ./' > /etc/apt/sources.list
rm -rf /var/lib/apt/lists/*
apt-get update
apt-get clean

rm -f /usr/sbin/policy-rc.d
