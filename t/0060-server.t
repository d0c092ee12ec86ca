#!/bin/sh
# What the server says, and what it fails to say: down, errors, bad JSON,
# errorMessage, null, hostile entries, unknown cmd, allow-list, prefixes.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
mkagent dinp-agent 2.0.0
start_server

# Server down: a port nothing listens on (ours, once the server is gone).
PORT_SAVED=$PORT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
config
pass
is 'server down: exit 1' "$rc" 1
grep_log 'server down: logged with the URL' "error: POST http://127.0.0.1:$PORT/heartbeat: .*(refused|connect)"
PORT=$PORT_SAVED
config

serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
pass
is 'install: exit 0' "$rc" 0
pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")

fault() {	# what the heartbeat answers; nothing may change
	serve "{\"agents\": [$(want falcon-agent 1.0.1)], $1}"
	: >"$W/ops-updater.log"
	pass
	is "$2: exit 1" "$rc" 1
	is "$2: nothing changed" "$(cat "$W/falcon-agent/.version") $(cat "$W/falcon-agent/1.0.0/agent.pid")" "1.0.0 $pid"
	grep_log "$2: logged" "$3"
}
fault '"faults": {"heartbeat": {"status": 500, "body": "boom"}}' 'HTTP 500' "POST $BASE/heartbeat: HTTP 500"
fault '"faults": {"heartbeat": {"status": 200, "body": "<html>"}}' 'not JSON' 'response is not a JSON object'
fault '"faults": {"heartbeat": {"status": 200, "body": "{\"desiredAgents\": \"x\"}"}}' 'wrong shape' 'desiredAgents is not a list'
fault '"errorMessage": "maintenance"' 'errorMessage' 'server says: maintenance; changing nothing this pass'
big=$(python3 -c 'print("[" + ",".join(["1"] * 600000) + "]")')
fault "\"faults\": {\"heartbeat\": {\"status\": 200, \"body\": \"{\\\"desiredAgents\\\": $big}\"}}" 'oversized' 'response larger than 1048576 bytes'
fault '"faults": {"heartbeat": {"status": 400, "body": "hostname is blank"}}' 'HTTP 400' "POST $BASE/heartbeat: HTTP 400"

serve '{"agents": []}'
pass
is 'desiredAgents null: exit 0' "$rc" 0
is 'desiredAgents null: agents left alone' "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$pid"

# Hostile entries are skipped one by one; a good entry beside them works.
serve '{"agents": [{"default": {"name": "../../tmp", "version": "1", "tarball": "{base}/files", "cmd": "start"}},
  {"default": {"name": "x", "version": "../../../etc", "tarball": "{base}/files", "cmd": "start"}},
  {"default": {"name": "y", "version": "1", "tarball": "file:///etc", "cmd": "start"}},
  {"default": {"name": "evil\nname", "version": "1", "tarball": "{base}/files", "cmd": "start"}},
  {"default": {"name": "z", "version": "1", "tarball": "{base}/files", "cmd": "reboot"}},
  {"default": {"name": "dinp-agent", "version": "2.0.0", "tarball": "{base}/files", "cmd": "start"}}]}'
: >"$W/ops-updater.log"
pass
is 'hostile entries: exit 1' "$rc" 1
grep_log 'hostile name logged' "entry 1 skipped: name '../../tmp' is not a valid name"
grep_log 'hostile version logged' "entry 2 skipped: version '../../../etc' is not a valid version"
grep_log 'file:// refused' "entry 3 skipped: tarball 'file:///etc' is not an http\\(s\\) URL"
grep_log 'a newline cannot forge a log line' "entry 4 skipped: name 'evil\\\\x0aname'"
grep_log 'unknown cmd logged and ignored' "warning z: unknown cmd 'reboot': ignored"
is 'nothing hostile on disk' "$(ls "$W" | sort | tr '\n' ' ')" 'cfg.json dinp-agent falcon-agent ops-updater.log ops-updater.pid ops-updater.state.json '
check 'the good entry beside them installed' running "$W/dinp-agent/2.0.0"

# The allow-list: only named agents are touched.
config '"agents": ["dinp-agent"]'
serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want dinp-agent 2.0.0 stop)]}"
pass
is 'allow-list: exit 0' "$rc" 0
is 'falcon-agent not in the list: left alone' "$(cat "$W/falcon-agent/.version")" 1.0.0
check_fails 'dinp-agent in the list: stopped' running "$W/dinp-agent/2.0.0"

# Canary by hostname prefix (the server's others blocks).
config
HOSTNAME_CFG=bj-canary-1 config
serve "{\"agents\": [{\"default\": {\"name\": \"falcon-agent\", \"version\": \"1.0.0\", \"tarball\": \"{base}/files\", \"md5\": \"\", \"cmd\": \"start\"}, \"others\": [{\"prefix\": \"bj\", \"version\": \"1.0.1\"}]}]}"
pass
is 'prefix override: exit 0' "$rc" 0
is 'a bj- host gets the canary version' "$(cat "$W/falcon-agent/.version")" 1.0.1
HOSTNAME_CFG=sh-1 config
pass
is 'another host gets the default' "$(cat "$W/falcon-agent/.version")" 1.0.0
done_testing
