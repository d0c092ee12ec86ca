#!/bin/sh
# One name twice in desiredAgents: the server's intent is unknown, so every
# entry with that name is refused, the pass fails, and the agent is left
# exactly as it is (not switched twice every pass).
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
mkagent falcon-agent 1.0.2
mkagent dinp-agent 2.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config
pass
is 'setup: 1.0.0 installed' "$rc" 0
pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")

serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want dinp-agent 2.0.0), $(want falcon-agent 1.0.2)]}"
: >"$W/ops-updater.log"
pass
is 'the same name twice: exit 1' "$rc" 1
is '.version still 1.0.0' "$(cat "$W/falcon-agent/.version")" 1.0.0
is 'the same agent process runs' "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$pid"
check 'and it is alive' running "$W/falcon-agent/1.0.0"
is 'neither version downloaded or unpacked' "$(ls "$W/falcon-agent" | grep -v '^control-.*\.log$' | tr '\n' ' ')" '1.0.0 '
grep_log 'the log says why, for the first entry' \
    "error: desiredAgents entry 1 skipped: name 'falcon-agent' appears 2 times in desiredAgents"
grep_log 'and for the second' \
    "error: desiredAgents entry 3 skipped: name 'falcon-agent' appears 2 times in desiredAgents"
check 'another agent in the same response is installed' running "$W/dinp-agent/2.0.0"

# A stop beside a start for the same name: the agent keeps running.
serve "{\"agents\": [$(want falcon-agent 1.0.0 stop), $(want falcon-agent 1.0.0)]}"
: >"$W/ops-updater.log"
pass
is 'a stop and a start for one name: exit 1' "$rc" 1
is 'the agent was not stopped' "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$pid"
check 'and is alive' running "$W/falcon-agent/1.0.0"

# A hostile name twice: refused, and the reason cannot forge a log line.
serve '{"agents": [{"default": {"name": "x\nerror: forged", "cmd": "stop"}}, {"default": {"name": "x\nerror: forged", "cmd": "stop"}}]}'
: >"$W/ops-updater.log"
pass
is 'a hostile name twice: exit 1' "$rc" 1
check_fails 'no forged log line' grep -q '^error: forged' "$W/ops-updater.log"
done_testing
