#!/bin/sh
# While a new version is held back (a bad release), waits for its slot
# (rollout_spread) or for a busy file server, the version that runs now
# must go on running: found down, it is started again and counted as a
# restart, as when nothing new is asked for.
. "$(dirname "$0")/lib.sh"

for v in 1.0.0 1.0.1 1.0.2 1.0.3; do mkagent falcon-agent $v; done
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"retry_failed": 3600'
pass
is 'installed' "$rc $(cat "$W/falcon-agent/.version")" '0 1.0.0'

# $1: what is asked (JSON agents and faults), $2: the state's result,
# $3: the case, $4: passes before the crash (1: they hold, wait or skip).
crashed_meanwhile() {
	serve "$1"
	i=0
	while [ $i -lt "${4:-1}" ]; do pass; i=$((i + 1)); done
	kill "$(cat "$W/falcon-agent/1.0.0/agent.pid")"
	while running "$W/falcon-agent/1.0.0"; do sleep 0.1; done
	: >"$W/ops-updater.log"
	pass
	is "$3: 1.0.1 not installed" "$(cat "$W/falcon-agent/.version") $(st 'a["result"]')" "1.0.0 $2"
	check "$3: the current version was started again" running "$W/falcon-agent/1.0.0"
	grep_log "$3: a restart, said and counted" 'warning falcon-agent: 1\.0\.0 was stoped, started again \(1 in a row'
}

# Held: a bad MD5 (tried twice: a mismatch may be a transit error).
echo "00000000000000000000000000000000  falcon-agent-1.0.1.tar.gz" >"$F/falcon-agent-1.0.1.tar.gz.md5"
crashed_meanwhile "{\"agents\": [$(want falcon-agent 1.0.1)]}" held 'held' 2
# Its second try, the download itself: the current one runs meanwhile too.
rm -f "$W/ops-updater.state.json"
crashed_meanwhile "{\"agents\": [$(want falcon-agent 1.0.1)]}" failed 'a failed download' 0

# Waiting for its slot.
config '"retry_failed": 3600, "rollout_spread": 86400'
crashed_meanwhile "{\"agents\": [$(want falcon-agent 1.0.2)]}" waiting 'waiting'

# A busy file server: two 503s in a row, then a pass that skips it.
config '"retry_failed": 3600'
serve "{\"agents\": [$(want falcon-agent 1.0.3)], \"faults\": {\"files\": {\"falcon-agent-1.0.3.tar.gz\": {\"status\": 503}}}}"
pass
crashed_meanwhile "{\"agents\": [$(want falcon-agent 1.0.3)], \"faults\": {\"files\": {\"falcon-agent-1.0.3.tar.gz\": {\"status\": 503}}}}" \
    busy 'busy'
grep_log 'busy: the pass was a skip' 'skipping 1\.0\.3 this pass'
done_testing
