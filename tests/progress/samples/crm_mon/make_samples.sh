#!/bin/sh
# Regenerates the Pacemaker 2.1 crm_mon samples in this directory with the REAL tools
# (Debian 12: pacemaker-cli-utils 2.1.5, crmsh 4.4.0). No cluster is needed: every tool
# works on a CIB file (CIB_file=...), as Pacemaker's own cts-cli does.
# Usage: sh make_samples.sh   (run from this directory; writes cib-*.xml and pcmk21-*.{xml,txt})
set -eu
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cibadmin --empty > "$t/cib.xml"
CIB_file="$t/cib.xml" crm configure load update article.crm
# bring both nodes up and start everything (no promotion yet: no promotion score)
crm_simulate -x "$t/cib.xml" -u srv1 -u srv2 -S -O "$t/up.xml" > /dev/null
# the drbd agent would set these promotion scores itself (crm_master); do it by hand
CIB_file="$t/up.xml" crm_attribute -N srv1 -n master-res_drbd0 -v 10000 -l reboot
CIB_file="$t/up.xml" crm_attribute -N srv2 -n master-res_drbd0 -v 1000 -l reboot
crm_simulate -x "$t/up.xml" -S -O cib-running.xml > /dev/null
# a failed monitor of apache on srv1 (rc 7, not running), not yet recovered
crm_simulate -x cib-running.xml -i res_httpd_monitor_20000@srv1=7 -O cib-failed.xml > /dev/null
# srv1 goes down: everything moves to srv2
crm_simulate -x cib-running.xml -d srv1 -S -O cib-failover.xml > /dev/null
# srv2 in standby
cp cib-running.xml "$t/standby-in.xml"
CIB_file="$t/standby-in.xml" crm_attribute -N srv2 -n standby -v on
crm_simulate -x "$t/standby-in.xml" -S -O cib-standby.xml > /dev/null
for s in running failed failover standby; do
  CIB_file=cib-$s.xml crm_mon --output-as=xml > pcmk21-$s.xml
  CIB_file=cib-$s.xml crm_mon -1 -r --failcounts > pcmk21-$s.txt
done
