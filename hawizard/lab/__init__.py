"""``hawizard lab``: two disposable Debian 12 VMs under qemu, with real DRBD.

The wizard builds clusters; the only proof that it does so is a real cluster. This package
makes one that anybody with qemu can afford: a base image built once with debootstrap (the
cluster packages sit in it as a local apt repository, not installed), then one qcow2 overlay
per node, booted under software emulation, joined by point-to-point links tunnelled over
loopback UDP and reachable from the host only through SSH on 127.0.0.1.

Modules, one job each:
  paths    where the image cache and the running lab's state live
  tools    which host programs the lab needs, and a clear error when one is missing
  layout   the article's two-node layout: names, NICs, addresses, MACs, ports
  network  checking that loopback ports are free before qemu wants them
  mirror   which Debian mirror the host's apt uses, and whether it answers
  chroot   running commands inside the image being built, with mounts always undone
  repo     the Packages index of the in-image apt repository
  image    building the base image (recipe hash, atomic rename, progress)
  ssh      operator and host keys, known_hosts, the ssh command line, waiting for sshd
  seed     the per-node seed disk that gives each overlay its own identity before boot
  vm       the qemu command line, pid files, kill by pid, clean power-down
  state    lab.json (what the lab is), the lock every changing command holds, node lookups
  control  the life cycle: up / start / kill / down / reset / status / ssh, built from the pieces above
  faults   what a fenced cluster must survive: cut / heal the cluster links, freeze / thaw a node
  snapshot saving the stopped nodes' disks, and booting a lab from them
  bmc      an IPMI LAN BMC simulator per node on 127.0.0.1 (ipmi_sim): its files, start and stop
  chassis  the BMC's power, run by ipmi_sim: status, off (a power loss) and on (a boot) of the VM
  preset   lab.toml, the preset that points the wizard at the lab
  cli      the argparse wiring for ``hawizard lab``
"""
