#!/bin/sh
# What ops-updater prints for a person at a terminal: names, versions,
# statuses and reasons come from the server or from agents' scripts, and
# are shown escaped (\xNN), never as bytes that drive the terminal.
. "$(dirname "$0")/lib.sh"

# Installed by hand: agents whose control status prints escape sequences.
mkstatus() {	# NAME PRINTF-FORMAT
	mkdir -p "$W/$1/1"
	printf '#!/bin/sh\n[ "$1" = status ] && printf %s\nexit 0\n' "'$2'" >"$W/$1/1/control"
	chmod +x "$W/$1/1/control"
	echo 1 >"$W/$1/.version"
}
mkstatus clear 'started\033[2J\007\n'
mkstatus cr 'ok\033]0;title\007\rstarted\n'
config

"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>"$T/status.err"
sanitizer_clean "$T/status.err" status
is 'status: escape sequence shown escaped' "$(grep '^clear ' "$T/status")" \
    "$(printf '%-24s %-16s %s' clear 1 'started\x1b[2J\x07')"
is 'status: OSC sequence shown escaped, cut at the carriage return' "$(grep '^cr ' "$T/status")" \
    "$(printf '%-24s %-16s %s' cr 1 'ok\x1b]0;title\x07')"
check_fails 'status: no raw control byte printed' grep -q "$(printf '[\001-\011\013-\037\177]')" "$T/status"

# A plan for names and cmds from the server with control bytes in them.
python3 -c '
import json, sys
def want(name, cmd):
    return {"default": {"name": name, "version": "1", "tarball": "{base}/files", "md5": "", "cmd": cmd}}
json.dump({"agents": [want("evil\033[2J\r", "start"), want("clear", "re\033[2Jboot\r")]},
          open(sys.argv[1], "w"))' "$T/meta.json"
start_server
config
"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>"$T/plan.err"
sanitizer_clean "$T/plan.err" plan
q="'"
is 'plan: a hostile name is quoted escaped' "$(sed -n 1p "$T/plan")" \
    "$(printf 'entry %-18s %s' 1 "refuse: name ${q}evil\\x1b[2J\\x0d${q} is not a valid name ([A-Za-z0-9._-], no leading ${q}.${q})")"
is 'plan: an unknown cmd is quoted escaped' "$(sed -n 2p "$T/plan")" \
    "$(printf '%-24s %s' clear "nothing: unknown cmd ${q}re\\x1b[2Jboot\\x0d${q} ignored")"
check_fails 'plan: no raw control byte printed' grep -q "$(printf '[\001-\011\013-\037\177]')" "$T/plan"
# What a status script prints on stderr (a pid file the agent's user wrote,
# say) is no log line of ours: it goes to control-<version>.log.
mkdir -p "$W/forge/1"
cat >"$W/forge/1/control" <<'CONTROL'
#!/bin/sh
[ "$1" = status ] || exit 0
printf 'x\n2026-01-01T00:00:00Z [1] info forge: now at 9.9.9 (was 1)\n' >&2
echo stoped
CONTROL
chmod +x "$W/forge/1/control"
echo 1 >"$W/forge/.version"
serve '{"agents": []}'
pass
is 'a status that writes to stderr: exit 0' "$rc" 0
check_fails 'its stderr forged no log line' grep -q 'now at 9.9.9' "$W/ops-updater.log"
check 'it is in control-1.log instead' grep -q 'now at 9.9.9' "$W/forge/control-1.log"
# A status of bytes that are not UTF-8: the heartbeat stays valid JSON
# (a strict server answers 400 to anything else, and every agent of the
# host would wait for it), the status escaped as everywhere else.
mkstatus raw 'stoped\377\376\n'
pass
is 'a status that is not UTF-8: the heartbeat is taken, exit 0' "$rc" 0
is 'the server has it escaped' "$(reported raw)" '1 stoped\xff\xfe'
done_testing
