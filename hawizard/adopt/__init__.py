"""Adoption: a running cluster's collected files -> a preset, with everything it cannot say listed.

Why a stage of its own: it reads the configuration formats hawizard writes (and older ones it
does not) back into a design, the one flow that goes the other way. It reads a directory only;
collecting the files from the nodes is hawizard/run/collect.py's job (or the operator's). Every module is one source
format or one step (reading the nodes over SSH into such a directory is hawizard/run/collect.py):

  collected      the directory: one copy of a node's files, or one sub-directory per node
  corosync_conf  corosync.conf's brace format, and its membership values
  heartbeat      ha.cf lines and the authkeys method (never the key)
  drbd           DRBD files through drbdadm dump-xml, per dialect
  cib            the CIB, upgraded offline by cibadmin, into plain data
  sysconfig      NAME=value files (sbd's settings)
  apache         the server-status configuration
  units          Pacemaker durations into seconds
  membership     ha.cf/corosync.conf -> nodes, links, [heartbeat]/[corosync]
  cib_map        the CIB -> service, cluster, timing; the active/standby shape check
  fence_map      the CIB's fencing -> [fencing] and each node's fence agent (passwords become references)
  drbd_map       drbdadm's dump -> [drbd] and each node's disk and replication address
  findings       what adoption did with each item it could not carry as it was
  engine         adopt(DIR): every reader, the stack decided, the design checked by the preset loader
  report         the findings as the text printed and written next to the preset
  filediff       every file a design renders against the collected copy, as unified diffs, secrets masked
  ipaddr         `ip -o -4 addr show` lines: the NIC and prefix of each address
  shadow         the CIB objects hawizard would create: its script loaded offline by crmsh or pcs
  cibdiff        those objects against the live CIB: added, changed, removed, not hawizard's
  nodediff       hawizard diff's engine: files and CIB objects of a design against a collected directory
"""
