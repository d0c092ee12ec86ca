#!/bin/sh
# status and check as a user other than root (a monitoring user, an
# operator without sudo): they never run a control script, which is
# root's to run; they show the last pass's record and how old it is.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
AS="setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups"
chmod 755 "$T"		# others may reach the work directory

# An agent whose control status leaves a trace where anyone may write.
mkdir -m 1777 "$T/trace"
mkagent falcon-agent 1.0.0
sed -i "s|^status) |status) id -u >>$T/trace/status; |" "$T/src/falcon-agent-1.0.0/control"
publish falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"jitter": 0'
chmod 644 "$W/cfg.json"

# Before the first pass: no record.
$AS "$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
is 'status as uid 65534 before any pass: exit 0' "$?" 0
check 'it says there is no record yet' grep -qx 'record: none: no pass recorded yet' "$T/status"

pass
is 'setup: a pass as root, exit 0' "$rc" 0
check 'setup: the agent runs' running "$W/falcon-agent/1.0.0"
rm -f "$T/trace/status"

$AS "$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
is 'status as uid 65534: exit 0' "$?" 0
check_fails 'no control script ran' test -e "$T/trace/status"
check 'it says why no agent was asked' \
    grep -qx "agents: not asked: as uid $NOBODY, status runs no control script (they are root's to run)" "$T/status"
check 'and how old the record is' grep -Eq '^record: of the last pass, which ended [0-9T:-]+Z, [0-9]+ s ago$' "$T/status"
check 'the record: what the last pass did for the agent' grep -Eq '^falcon-agent +(ok|nothing) ' "$T/status"
check_fails 'no agent is shown as stopped' grep -q stoped "$T/status"
check_fails 'nothing was denied' grep -qi 'permission denied' "$T/status"

$AS "$OPS_UPDATER" -c "$W/cfg.json" --json status >"$T/status.json" 2>&1
is 'status --json as uid 65534: exit 0' "$?" 0
is 'agents: null (not asked), the last pass with its age' "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); print(d["agents"], d["last_pass"]["agents"][0]["name"], d["last_pass"]["age_s"] >= 0)' "$T/status.json")" \
    'None falcon-agent True'
check_fails 'no control script ran' test -e "$T/trace/status"

$AS "$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
is 'check as uid 65534: OK' "$?" 0
check 'with the age of the record' grep -Eq '^OPS-UPDATER OK - 1 agent as asked, last pass [0-9]+ s ago' "$T/check"
check_fails 'no control script ran' test -e "$T/trace/status"

# As root, status asks the agents, as ever.
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
is 'status as root: exit 0' "$?" 0
is 'it ran the control script, as root' "$(cat "$T/trace/status")" 0
check 'and shows the table' grep -Eq '^falcon-agent +1\.0\.0 +started$' "$T/status"
done_testing
