#!/bin/sh
# The output of control start and stop goes to <agent>/control-<version>.log,
# which is truncated in place, never renamed: a daemon that keeps its stdout
# open writes where it can be read after any number of log rotations. It
# goes with its version; a sweep removes those whose version is gone.
. "$(dirname "$0")/lib.sh"

mkagent ticker 1 ticker
mkagent ticker 2 ticker
mkagent ticker 3
serve "{\"agents\": [$(want ticker 1)]}"
start_server
# Probation off: the agent is killed again and again to be restarted,
# which would fail it so soon after its install (t/0306-probation.t).
config '"log_max_mb": 1, "keep_versions": 0, "probation_deaths": 0'

# Descriptors of any process to a file under $W that was removed.
deleted_fds() {
	for fd in /proc/[0-9]*/fd/*; do
		case $(readlink "$fd" 2>/dev/null) in "$W"/*" (deleted)") echo "$fd -> $(readlink "$fd")" ;; esac
	done
}
fill() {	# FILE: make it larger than 1 MiB
	head -c 1100000 /dev/zero | tr '\0' x >>"$1"
}

for i in 1 2 3; do
	fill "$W/ops-updater.log"
	pass
	is "pass $i with a rotation: exit 0" "$rc" 0
done
grep_log 'the log rotated' 'log rotated: the previous one is'
check 'the daemon runs' running "$W/ticker/1"
pid=$(cat "$W/ticker/1/agent.pid")
is 'after three rotations no process writes to a removed file' "$(deleted_fds)" ''
is 'the daemon writes to control-1.log' "$(readlink "/proc/$pid/fd/1")" "$W/ticker/control-1.log"
sleep 0.3
check 'its output is there' grep -q '^tick [0-9]' "$W/ticker/control-1.log"
is 'control-1.log is a regular file of mode 0640' "$(stat -c '%F %a' "$W/ticker/control-1.log")" 'regular file 640'

# Too large: truncated in place before the next start, and the daemon
# started then writes on at the new end. Past control_log_max_mb (its
# default, 10 MiB) also where log_max_mb leaves the log to logrotate
# (0), as the Debian package has it: logrotate never sees these files.
config '"log_max_mb": 0, "keep_versions": 0, "probation_deaths": 0'
head -c 11000000 /dev/zero | tr '\0' x >>"$W/ticker/control-1.log"
kill "$pid"
pass
is 'restart: exit 0' "$rc" 0
grep_log 'the start says where its output goes' "info ticker: start $W/ticker/1; output in $W/ticker/control-1.log\$"
check 'truncated before the start' test "$(stat -c %s "$W/ticker/control-1.log")" -lt 1100000
config '"log_max_mb": 1, "keep_versions": 0, "probation_deaths": 0'
pid=$(cat "$W/ticker/1/agent.pid")
sleep 0.3
check 'the new daemon writes there' grep -q '^tick [0-9]' "$W/ticker/control-1.log"
is 'still no process writes to a removed file' "$(deleted_fds)" ''

# A link in place of control-N.log: nothing is written through it. (Only
# for a version on disk: the log of one that is not is an orphan, swept.)
echo canary >"$T/canary"
rm -f "$W/ticker/control-1.log"
ln -s "$T/canary" "$W/ticker/control-1.log"
kill "$pid"
pass
is 'restart with a symlinked control-1.log: exit 0' "$rc" 0
is 'the canary is unchanged' "$(cat "$T/canary")" canary
grep_log 'the refusal is logged' "error ticker: open $W/ticker/control-1.log; the output of control is dropped"
serve "{\"agents\": [$(want ticker 2)]}"
pass
is 'switch to 2: exit 0' "$rc" 0
pass	# old versions go in the pass after a switch
grep_log 'version 1 was pruned' 'info ticker: removed old version 1$'
check_fails 'and its control-1.log with it (the link itself)' test -L "$W/ticker/control-1.log"
is 'not what it pointed to' "$(cat "$T/canary")" canary
check_fails 'no process of version 1 is left' test -n "$(procs_in "$W/ticker/1")"

# Nor through anything that is not a regular file.
rm -f "$W/ticker/control-2.log"
mknod "$W/ticker/control-2.log" c 1 3	# /dev/null
kill "$(cat "$W/ticker/2/agent.pid")"
pass
is 'restart with a device as control-2.log: exit 0' "$rc" 0
grep_log 'the refusal is logged' "error ticker: $W/ticker/control-2.log is not a regular file; the output of control is dropped"
serve "{\"agents\": [$(want ticker 3)]}"
pass
is 'switch to 3: exit 0' "$rc" 0
pass
check_fails 'the device went with version 2' test -e "$W/ticker/control-2.log"

# Orphans: the log of a version that is gone is swept at the start of a
# pass, a link by itself (never its target); a log whose version is there,
# and files that are no version's log, stay.
echo old >"$W/ticker/control-0.9.log"
ln -s "$T/canary" "$W/ticker/control-0.8.log"
mkdir "$W/ticker/control-0.7.log"
echo keep >"$W/ticker/control-.hidden.log"
echo keep >"$W/ticker/notes.log"
pass
is 'a pass with orphaned logs: exit 0' "$rc" 0
check_fails 'the orphaned log is removed' test -e "$W/ticker/control-0.9.log"
grep_log 'and the log says so' "info: removed $W/ticker/control-0.9.log: its version is gone"
check_fails 'an orphaned link is removed' test -L "$W/ticker/control-0.8.log"
is 'not what it pointed to' "$(cat "$T/canary")" canary
check 'a directory of that name is not a log: left' test -d "$W/ticker/control-0.7.log"
check 'a name that is no version: left' test -f "$W/ticker/control-.hidden.log"
check 'nor other files' test -f "$W/ticker/notes.log"
check 'the running version keeps its log' test -f "$W/ticker/control-3.log"
done_testing
