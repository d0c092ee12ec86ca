#!/bin/sh
# The health gate: a new version that says started, then dies within
# health_wait, is rolled back like one that never started, and kept for
# its logs.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1 crash
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config
pass
is 'setup: 1.0.0 installed' "$rc" 0
old=$(cat "$W/falcon-agent/1.0.0/agent.pid")

serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
config '"health_wait": 4'
pass
is 'a version that dies 2 s after its start: exit 1' "$rc" 1
is '.version unchanged' "$(cat "$W/falcon-agent/.version")" 1.0.0
check 'the old version runs again' running "$W/falcon-agent/1.0.0"
check_fails 'in a new process (it was stopped for the switch)' test "$(cat "$W/falcon-agent/1.0.0/agent.pid")" = "$old"
check_fails 'the new version no longer runs' running "$W/falcon-agent/1.0.1"
check 'and is kept, for its logs' test -x "$W/falcon-agent/1.0.1/control"
is 'the state names it' "$(st 'a["kept_failed"]')" 1.0.1
grep_log 'the log says it was unhealthy' "error falcon-agent: health: .*/falcon-agent/1.0.1 failed the health gate after [0-9.]+ s: status is 'stoped', not 'started' \(no output\)\$"
grep_log 'and that it rolled back' 'warning falcon-agent: 1.0.1 failed the health gate; rolling back to 1.0.0$'
is 'the state says failed' "$(st 'a["result"]')" failed
case $(st 'a["error"]') in "health: "*"/falcon-agent/1.0.1 failed the health gate after "*) r=0 ;; *) r=1 ;; esac
is 'with the health error as logged' "$r" 0

# Without the gate the same release is committed: the gate is what caught it.
config '"health_wait": 0'
pass
is 'health_wait 0: exit 0' "$rc" 0
is 'health_wait 0: committed' "$(cat "$W/falcon-agent/.version")" 1.0.1
is 'from a fresh download' "$(grep -c '^GET /files/falcon-agent-1.0.1.tar.gz ' "$T/requests")" 2
is 'and nothing is kept as failed any more' "$(st '"kept_failed" in a')" False
done_testing
