"""The fixed POSIX sh functions every exported node script carries.

Why fixed text: the script must do what the runner does (hawizard/run/runner.py) and writes what
hawizard/sessions/filewrite.py writes, and a reviewer reads these functions once. Nothing from a
preset is in this text: values reach the functions only as arguments the exporter quoted
(hawizard.common.shellquote.q), and the awk programs read ids from the environment (ENVIRON),
never from their program text.

  hw_run      a command, its failure fatal or a warning, limited by timeout(1) where it exists
  hw_fact     a command whose output is a fact (printed as ``HWFACT name value`` on stdout)
  hw_write    a file: compared first (unchanged = not written), written to a temp file in the
              same directory that has its final owner and mode before any byte arrives, the
              old file backed up as ``<name>.<YYYYmmddTHHMMSS>.hawizard~``, then renamed over
  hw_poll     a wait: the command every N s until a check of its output holds, a progress line
              for each new state, a failure after the limit
  hw_confirm  the typed confirmation of a destructive step
  hw_q_*      a secret quoted as the renderer quotes it (hawizard/render/renderer.py
              ``with_secrets``: shlex.quote, crm value, DRBD string)
"""

from __future__ import annotations

LIBRARY = r"""
LC_ALL=C
export LC_ALL
umask 077
HW_DIR=${HW_DIR:-/var/run/hawizard-export}
HW_YES=${HW_YES:-0}
HW_STAGE=""

hw_say() {
  printf '%s\n' "hawizard[$HW_NODE]: $*" >&2
}

hw_die() {
  hw_say "FAILED: $*"
  exit 1
}

hw_init() {
  mkdir -p "$HW_DIR/secrets" || hw_die "cannot create $HW_DIR"
  chmod 700 "$HW_DIR" "$HW_DIR/secrets" || hw_die "cannot protect $HW_DIR"
  HW_STAGE=$(mktemp "$HW_DIR/stage.XXXXXX") || hw_die "cannot create a file in $HW_DIR"
  trap 'rm -f "$HW_STAGE"' EXIT
  trap 'exit 130' INT TERM
}

# hw_sh TIMEOUT COMMAND: the command in sh, limited to TIMEOUT s where timeout(1) exists (exit 124)
hw_sh() {
  if [ "$1" -gt 0 ] && command -v timeout >/dev/null 2>&1; then
    timeout "$1" sh -c "$2"
  else
    sh -c "$2"
  fi
}

hw_failed() {  # DESCRIPTION FATAL TIMEOUT: after a command that failed with status hw_rc
  if [ "$hw_rc" -eq 124 ]; then hw_why="timed out after $3 s"; else hw_why="exit status $hw_rc"; fi
  if [ "$2" = 1 ]; then hw_die "$1: $hw_why"; fi
  hw_say "warning: $1: $hw_why"
}

# hw_run DESCRIPTION FATAL TIMEOUT COMMAND (its output goes to stderr: stdout carries facts only)
hw_run() {
  hw_say "\$ $4"
  hw_rc=0
  hw_sh "$3" "$4" >&2 || hw_rc=$?
  if [ "$hw_rc" -ne 0 ]; then hw_failed "$1" "$2" "$3"; fi
  return 0
}

# hw_fact NAME DESCRIPTION FATAL TIMEOUT COMMAND
hw_fact() {
  hw_say "read $1: $5"
  hw_rc=0
  hw_out=$(hw_sh "$4" "$5") || hw_rc=$?
  printf 'HWFACT %s %s\n' "$1" "$(printf '%s' "$hw_out" | tr '\n' ' ')"
  if [ "$hw_rc" -ne 0 ]; then hw_failed "$2" "$3" "$4"; fi
  return 0
}

# hw_write PATH MODE STAT_MODE OWNER GROUP BACKUP: the content is in $HW_STAGE
hw_write() {
  hw_p=$1
  hw_d=$(dirname "$hw_p") || return 1
  mkdir -p "$hw_d" || return 1
  hw_t=$(mktemp "$hw_d/.hawizard.XXXXXX") || return 1
  # the temp file has its final owner and mode before any byte arrives
  if ! { chown "$4:$5" "$hw_t" && chmod "$2" "$hw_t" && cat "$HW_STAGE" > "$hw_t"; }; then
    rm -f "$hw_t"
    return 1
  fi
  if [ -f "$hw_p" ] && cmp -s "$hw_t" "$hw_p"; then
    rm -f "$hw_t"
    if [ "$(stat -L -c '%a %U %G' "$hw_p")" = "$3 $4 $5" ]; then
      hw_say "$hw_p unchanged"
      return 0
    fi
    chown "$4:$5" "$hw_p" && chmod "$2" "$hw_p" || return 1
    hw_say "$hw_p: content unchanged, mode and owner set to $2 $4:$5"
    return 0
  fi
  hw_b=""
  if [ "$6" = 1 ] && [ -e "$hw_p" ]; then
    hw_s=$(date +%Y%m%dT%H%M%S)
    hw_b="$hw_p.$hw_s.hawizard~"
    hw_n=0
    while [ -e "$hw_b" ] || [ -L "$hw_b" ]; do
      hw_n=$((hw_n + 1))
      hw_b="$hw_p.$hw_s.$hw_n.hawizard~"
    done
    cp -p "$hw_p" "$hw_b" || { rm -f "$hw_t"; return 1; }
  fi
  sync
  mv -f "$hw_t" "$hw_p" || { rm -f "$hw_t"; return 1; }
  if [ -n "$hw_b" ]; then
    hw_say "wrote $hw_p (mode $2, $4:$5); the previous file is kept as $hw_b"
  else
    hw_say "wrote $hw_p (mode $2, $4:$5)"
  fi
  return 0
}

# hw_confirm STEP PHRASE WHY: a destructive step runs only when the operator types PHRASE
# (or gave --yes, or the driver asked already and passed --confirmed)
hw_confirm() {
  if [ "$HW_YES" = 1 ]; then
    hw_say "$1: confirmed by --yes"
    return 0
  fi
  hw_say "$1 destroys data: $3"
  printf '%s' "hawizard[$HW_NODE]: type '$2' to go on (anything else stops): " >&2
  hw_answer=""
  IFS= read -r hw_answer || true
  if [ "$hw_answer" != "$2" ]; then
    hw_say "$1 was not confirmed; nothing was changed by it"
    exit 130
  fi
}

hw_marker() {  # PATH CONTENT: the step is done on this node (hawizard/plan/types.py Marker)
  printf '%s' "$2" > "$HW_STAGE"
  hw_write "$1" 0644 644 root root 0 || hw_die "cannot write the marker $1"
}

# secrets: quoted as the renderer's with_secrets quotes them; the values are one line
hw_esc() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

hw_q_() {
  printf '%s' "$1"
}

hw_q_sh() {  # shlex.quote
  case $1 in
    '') printf "''" ;;
    *[!A-Za-z0-9_@%+=:,./-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\"'\"'/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}

hw_q_crm() {  # a crm shell value: bare when safe, else double-quoted
  case $1 in
    '' | *[!A-Za-z0-9_./:@+-]*) printf '"%s"' "$(hw_esc "$1")" ;;
    *) printf '%s' "$1" ;;
  esac
}

hw_q_drbd() {  # a DRBD string
  printf '"%s"' "$(hw_esc "$1")"
}

hw_text_ok() {  # NAME VALUE: a text secret is one line and not empty (hawizard/run/secrets.py)
  [ -n "$2" ] || hw_die "secret $1 is empty; a secret cannot be empty"
  case $2 in
    *[[:cntrl:]]*) hw_die "secret $1 holds a line break or another control character" ;;
  esac
}

hw_bytes_ok() {  # NAME FILE: a key file of corosync's size, 128 to 4096 bytes (corosync-keygen(8))
  hw_size=$(wc -c < "$2") || hw_die "secret $1: cannot read $2"
  if [ "$hw_size" -lt 128 ] || [ "$hw_size" -gt 4096 ]; then
    hw_die "secret $1: $2 holds $hw_size bytes; a corosync authkey has 128 to 4096"
  fi
}

# hw_poll DESCRIPTION INTERVAL LIMIT COMMAND CHECK [ARGS]: COMMAND every INTERVAL s until CHECK,
# reading its output (and hw_rc), holds; a line for each new state; a failure after LIMIT s
hw_poll() {
  hw_desc=$1
  hw_iv=$2
  hw_to=$3
  hw_cmd=$4
  shift 4
  hw_end=$(( $(date +%s) + hw_to ))
  hw_last=""
  hw_say "waiting until $hw_desc (at most $hw_to s)"
  while :; do
    hw_rc=0
    hw_out=$(hw_sh 60 "$hw_cmd" 2>/dev/null) || hw_rc=$?
    if [ "$hw_rc" -eq 126 ] || [ "$hw_rc" -eq 127 ]; then
      hw_die "$hw_desc: the command cannot run (exit $hw_rc)"
    fi
    hw_ok=0
    hw_state=$(printf '%s\n' "$hw_out" | "$@") || hw_ok=$?
    if [ -n "$hw_state" ] && [ "$hw_state" != "$hw_last" ]; then
      hw_say "$hw_state"
      hw_last=$hw_state
    fi
    if [ "$hw_ok" -eq 0 ]; then return 0; fi
    if [ "$(date +%s)" -ge "$hw_end" ]; then
      hw_die "$hw_desc: not reached after $hw_to s (last: ${hw_last:-no answer})"
    fi
    sleep "$hw_iv"
  done
}

# -- the checks of the waits (hawizard/plan/waits.py): output on stdin, the state on stdout ------

hw_until_connected() {  # drbdadm cstate: Connected, or already syncing
  hw_cs=""
  IFS= read -r hw_cs || true
  printf '%s\n' "$hw_cs"
  [ "$hw_rc" -eq 0 ] || return 1
  case $hw_cs in
    Connected | Sync* | Established*) return 0 ;;
  esac
  return 1
}

hw_until_synced_proc() {  # /proc/drbd (DRBD 8.3, 8.4): connected, both disks UpToDate
  hw_in=$(cat)
  hw_st=$(printf '%s\n' "$hw_in" | sed -n 's/.*\(cs:[^ ]*\).*\(ds:[^ ]*\).*/\1 \2/p' | head -n 1)
  hw_pct=$(printf '%s\n' "$hw_in" | sed -n "s/.*sync'ed: *\([0-9.]*%\).*/\1/p" | head -n 1)
  if [ -n "$hw_pct" ]; then printf '%s\n' "$hw_st sync'ed $hw_pct"; else printf '%s\n' "$hw_st"; fi
  case $hw_st in
    "cs:Connected ds:UpToDate/UpToDate") return 0 ;;
  esac
  return 1
}

hw_until_synced_events2() {  # drbdsetup events2 --now --statistics (DRBD 9)
  hw_in=$(cat)
  hw_pct=$(printf '%s\n' "$hw_in" | sed -n 's/^exists peer-device .* done:\([0-9.]*\).*/\1%/p' | head -n 1)
  hw_disk=$(printf '%s\n' "$hw_in" | sed -n 's/^exists device .*disk:\([A-Za-z]*\).*/\1/p' | head -n 1)
  hw_peer=$(printf '%s\n' "$hw_in" | sed -n 's/^exists peer-device .*peer-disk:\([A-Za-z]*\).*/\1/p' | head -n 1)
  hw_repl=$(printf '%s\n' "$hw_in" | sed -n 's/^exists peer-device .*replication:\([A-Za-z]*\).*/\1/p' | head -n 1)
  printf '%s\n' "disk:${hw_disk:-?} peer-disk:${hw_peer:-?} replication:${hw_repl:-?}${hw_pct:+ done $hw_pct}"
  [ "$hw_disk/$hw_peer/$hw_repl" = "UpToDate/UpToDate/Established" ]
}

HW_AWK_XML='
function attr(s, n) {
  if (match(s, " " n "=\"[^\"]*\"")) return substr(s, RSTART + length(n) + 3, RLENGTH - length(n) - 4)
  return ""
}
/<node / && / online="/ { if (attr($0, "online") == "true") { on[attr($0, "name")] = 1; ons = ons " " attr($0, "name") }
                          else offs = offs " " attr($0, "name"); next }
/<clone / { clone = attr($0, "id"); next }
/<\/clone>/ { clone = ""; next }
/<group / { group = attr($0, "id"); next }
/<\/group>/ { group = ""; next }
/<resource / { rid = attr($0, "id"); role = attr($0, "role")
               if (group != "" && group == ENVIRON["HW_G"]) {
                 nm++; member[nm] = rid; mrole[rid] = role; mnode[rid] = ""; mfail[rid] = (attr($0, "failed") == "true")
               }
               next }
/<node / { n = attr($0, "name")
           if (clone != "" && clone == ENVIRON["HW_C"] && (role == "Promoted" || role == "Master")) promote(n)
           if (group != "" && group == ENVIRON["HW_G"]) mnode[rid] = n
           next }
END { exit verdict() }
'

HW_AWK_TEXT='
function ind(s) { match(s, /^[ \t]*/); return RLENGTH }
function inside(s) { sub(/^[^[]*\[ */, "", s); sub(/ *\].*$/, "", s); return s }
{ line = $0; sub(/^[ \t]*(\* )?/, "", line) }
line == "" { clone = ""; group = ""; next }
line ~ /^(Online|OFFLINE)[ \t]*:/ { k = split(inside(line), w, " ")
                                     for (i = 1; i <= k; i++) if (line ~ /^Online/) { on[w[i]] = 1; ons = ons " " w[i] }
                                     else offs = offs " " w[i]
                                     next }
line ~ /^Node [^ \t:()]+([ \t]+\([^)]*\))?[ \t]*:/ { n = line; sub(/^Node[ \t]+/, "", n); s = n; sub(/[ \t(:].*$/, "", n)
                                                   sub(/^[^:]*:[ \t]*/, "", s); s = tolower(s)
                                                   if ((s ~ /offline/ && s !~ /unclean \(online\)/) || s ~ /^pending/) offs = offs " " n
                                                   else { on[n] = 1; ons = ons " " n }
                                                   clone = ""; group = ""; next }
(clone != "" || group != "") && hind > 0 && ind($0) <= hind { clone = ""; group = "" }
line ~ /^(Master\/Slave Set|Multi-state Set|Clone Set)[ \t]*:/ { s = line; sub(/^[^:]*:[ \t]*/, "", s); split(s, w, /[ \t[]/)
                                                                 clone = w[1]; sub(/:$/, "", clone); group = ""
                                                                 hind = ind($0); next }
line ~ /^Resource Group[ \t]*:/ { s = line; sub(/^[^:]*:[ \t]*/, "", s); split(s, w, /[ \t]/); group = w[1]
                                  sub(/:$/, "", group); clone = ""
                                  hind = ind($0); next }
clone != "" && clone == ENVIRON["HW_C"] && line ~ /^(Masters|Promoted)[ \t]*:/ { k = split(inside(line), w, " ")
                                                                                for (i = 1; i <= k; i++) promote(w[i]); next }
group != "" && group == ENVIRON["HW_G"] && line ~ /\):/ { split(line, w, /[ \t]/); rid = w[1]
                                                          s = line; sub(/^.*\):[ \t]*/, "", s); k = split(s, w, /[ \t]+/)
                                                          nm++; member[nm] = rid; mrole[rid] = w[1]; mnode[rid] = w[2]
                                                          mfail[rid] = (w[1] == "FAILED")
                                                          for (i = 3; i <= k; i++) if (w[i] ~ /FAILED/) mfail[rid] = 1
                                                          next }
END { exit verdict() }
'

HW_AWK_VERDICT='
# the rules of hawizard/readers/crm_mon/model.py: promoted on exactly one node; every member of
# the group Started, not failed, on one node
function promote(n) { if (n != "" && !(n in pnode)) { pnode[n] = 1; npromoted++; promoted = (npromoted == 1) ? n : "" } }
function verdict(   i, k, w, ok, at, where) {
  if (ENVIRON["HW_MODE"] == "online") {
    k = split(ENVIRON["HW_N"], w, " "); ok = 1
    for (i = 1; i <= k; i++) if (!(w[i] in on)) ok = 0
    print "online:" (ons == "" ? " -" : ons) (offs == "" ? "" : "; offline:" offs)
    return ok ? 0 : 1
  }
  at = (ENVIRON["HW_MODE"] == "service") ? promoted : ENVIRON["HW_NODE_T"]
  ok = (nm > 0 && at != "")
  where = ""
  for (i = 1; i <= nm; i++) {
    where = where " " member[i] "=" mrole[member[i]] (mnode[member[i]] == "" ? "" : "@" mnode[member[i]])
    if (mrole[member[i]] != "Started" || mfail[member[i]] || mnode[member[i]] != at) ok = 0
  }
  print "online:" (ons == "" ? " -" : ons) (promoted == "" ? "" : "; promoted on " promoted) ";" (where == "" ? " no resource of the group yet" : where)
  return ok ? 0 : 1
}
'

hw_until_cluster() {  # FORMAT(xml|text) MODE ARG...: crm_mon's answer, judged by awk
  if [ "$hw_rc" -ne 0 ]; then
    cat > /dev/null
    printf '%s\n' "cluster not answering yet"
    return 1
  fi
  if [ "$1" = xml ]; then hw_awk=$HW_AWK_XML; else hw_awk=$HW_AWK_TEXT; fi
  case $2 in
    online) HW_MODE=online HW_N=$3 awk "$HW_AWK_VERDICT$hw_awk" ;;
    service) HW_MODE=service HW_G=$3 HW_C=$4 awk "$HW_AWK_VERDICT$hw_awk" ;;
    group) HW_MODE=group HW_G=$3 HW_NODE_T=$4 awk "$HW_AWK_VERDICT$hw_awk" ;;
  esac
}
"""

#: files/hw_wait.sh of the Ansible export: one answer of a poll's command, judged by the same checks
WAIT_SCRIPT = r"""#!/bin/sh
# hawizard: sh hw_wait.sh COMMAND CHECK [ARGS]: runs COMMAND once and judges its answer with CHECK.
# Exit 0: the condition holds; 1: not yet (the playbook asks again); 3: COMMAND cannot run.
# The state in words is printed on stdout (the task shows it when the wait ends or fails).
set -u
HW_NODE=$(uname -n)
""" + LIBRARY + r"""
[ $# -ge 2 ] || { echo 'usage: sh hw_wait.sh COMMAND CHECK [ARGS]' >&2; exit 2; }
hw_cmd=$1
shift
hw_rc=0
hw_out=$(hw_sh 60 "$hw_cmd" 2>/dev/null) || hw_rc=$?
if [ "$hw_rc" -eq 126 ] || [ "$hw_rc" -eq 127 ]; then
  echo "the command cannot run (exit $hw_rc)"
  exit 3
fi
printf '%s\n' "$hw_out" | "$@"
"""
