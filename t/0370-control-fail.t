#!/bin/sh
# Control failures say why, at once: a control start or stop that exits
# non-zero fails without waiting for status_wait, and the error names the
# command, how it ended and the last line of its output, in the log, the
# state, status, status --json, check and the heartbeat. A status that
# gives no answer (timed out) is no verdict: the switch is rolled back but
# not held. A definite failure is recorded before the rollback, so a kill
# during the rollback does not turn it into an "interruption".
. "$(dirname "$0")/lib.sh"

# agent VERSION START STOP [DAEMON]: a web agent whose control runs the
# shell snippets START and STOP; status answers started while the daemon
# runs (and counts its calls in ../status-VERSION.calls), or runs $STATUS
# when set.
agent() {
	d=$T/src/web-$1
	rm -rf "$d" && mkdir -p "$d"
	printf '#!/bin/sh\n%s\n' "${4:-exec sleep 300}" >"$d/daemon"
	cat >"$d/control" <<CONTROL
#!/bin/sh
running() { [ -f agent.pid ] && grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/\$(cat agent.pid)/status" 2>/dev/null; }
case "\$1" in
start) echo start >>starts; $2 ;;
stop) $3 ;;
status) echo x >>"../status-$1.calls"; ${STATUS:-running && echo started || echo stoped} ;;
esac
CONTROL
	chmod +x "$d/control" "$d/daemon"
	publish web "$1"
}
START='./daemon & echo $! >agent.pid'
STOP='running && kill "$(cat agent.pid)"; rm -f agent.pid'
calls() { cat "$W/web/status-$1.calls" 2>/dev/null | wc -l; }
json_error() {
	"$OPS_UPDATER" -c "$W/cfg.json" status --json 2>/dev/null |
	    python3 -c 'import json,sys; print([a for a in json.load(sys.stdin)["agents"] if a["name"] == "web"][0]["error"])'
}

agent 1 "$START" "$STOP"
agent 2 'echo "web-agent: cannot open /etc/web-agent/new.conf" >&2; exit 1' "$STOP"
agent 3 "$START" "$STOP" 'echo "web-agent: panic: out of cheese"; sleep 1; exit 3'
STATUS='running && { sleep 30; echo started; } || echo stoped' agent 4 "$START" "$STOP"
STATUS='running && { [ -e hang ] && sleep 30; echo started; } || echo stoped' \
    agent 5 "$START" "$STOP; rm -f hang" 'sleep 1; touch hang; exec sleep 300'
agent 6 "$START" 'echo "web-agent: cannot read the pid file" >&2; exit 2'
agent 7 "$START; echo 'web-agent: config check failed' >&2; exit 1" "sleep 3; $STOP"
serve "{\"agents\": [$(want web 1)]}"
start_server
config '"status_wait": 30, "retry_failed": 600'
pass
is 'setup: 1 installed' "$rc" 0

# 1. A start that exits non-zero: no wait, and its reason everywhere.
serve "{\"agents\": [$(want web 2)]}"
pass
is 'a start that exits 1: exit 1' "$rc" 1
check 'status was not polled for status_wait (30 s)' test "$(calls 2)" -le 3
is 'the old version runs again' "$(cat "$W/web/.version") $(running "$W/web/1" && echo up)" '1 up'
why="start $W/web/2: control start exited 1 (last output: 'web-agent: cannot open /etc/web-agent/new.conf')"
check 'the log names the command, its exit and its last output line' grep -qF "error web: $why" "$W/ops-updater.log"
grep_log 'and says it did not start' 'warning web: 2 did not start; rolling back to 1$'
is 'the state has it' "$(st 'a["error"]')" "$why"
is 'and holds 2 for it, from this pass on' "$(st 'a["result"], a["held_version"]')" "('held', '2')"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status shows it' grep -qF "web                      held     2: failed at " "$T/status"
check 'and why' grep -qF "($why); next try after " "$T/status"
is 'status --json has it' "$(json_error)" "$why"
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
check 'check names the agent and why' grep -qF "OPS-UPDATER WARNING - held: web ($why); last pass" "$T/check"
pass
is 'the next pass holds 2' "$(st 'a["result"]') $rc" 'held 1'
is 'the heartbeat told the server' \
    "$(curl -s "$BASE/status/json/web" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["error"])')" "held: $why"

# 2. Started, then died in the health gate: said as it was, with what the
# daemon printed last.
serve "{\"agents\": [$(want web 3)]}"
config '"status_wait": 30, "retry_failed": 600, "health_wait": 4'
pass
is 'a version that dies in its health gate: exit 1' "$rc" 1
grep_log 'the log says it failed the health gate, and what it printed' \
    "error web: health: $W/web/3 failed the health gate after [0-9.]+ s: status is 'stoped', not 'started' \\(last output: 'web-agent: panic: out of cheese'\\)\$"
grep_log 'not that it never started' 'warning web: 3 failed the health gate; rolling back to 1$'
is 'held for it' "$(st 'a["held_version"], a["error"].startswith("health: ")')" "('3', True)"

# 3. A status that never answers once the new version runs: no verdict.
# Rolled back (the old version must run), not held: the next pass tries
# again, as after a cut download.
serve "{\"agents\": [$(want web 4)]}"
config '"control_timeout": 1, "status_wait": 2, "retry_failed": 600'
pass
is 'status times out after the start: exit 1' "$rc" 1
grep_log 'the log says there was no answer' \
    "error web: start $W/web/4: no answer: status is 'error: control status timed out after 1 s', not 'started', after 2 s; control start exited 0 \\(no output\\)\$"
grep_log 'rolled back, not held' 'warning web: 4 gave no answer \(a slow or loaded host\?\): not held; rolling back to 1$'
is 'one version runs: the old one' "$(running "$W/web/1" && echo up) $(running "$W/web/4" && echo up)" 'up '
is 'failed, not held' "$(st 'a["result"], a["held_version"], a["error"].startswith("start ")')" "('failed', '', True)"
pass
is 'the next pass tries 4 again' "$(grep -c "info web: start $W/web/4;" "$W/ops-updater.log")" 2

# The same in the health gate: started, then status stops answering.
serve "{\"agents\": [$(want web 5)]}"
config '"control_timeout": 1, "status_wait": 5, "retry_failed": 600, "health_wait": 3'
pass
is 'status times out in the health gate: exit 1' "$rc" 1
grep_log 'no answer at the end of the gate' \
    "error web: health: $W/web/5: no answer at the end of the health gate \\(3 s\\): status is 'error: control status timed out after 1 s'"
is 'not held' "$(st 'a["result"], a["held_version"]')" "('failed', '')"
check 'the old version runs' running "$W/web/1"

# 4. A definite failure is on record before the rollback: a pass killed
# while it stops the failed version leaves a hold for the start's
# failure, and the next pass only finishes the rollback.
serve "{\"agents\": [$(want web 7)]}"
config '"status_wait": 5, "retry_failed": 600'
"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1 &
bg=$!
i=0
while ! grep -q 'warning web: 7 did not start; rolling back' "$W/ops-updater.log" && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -9 $bg
wait $bg 2>/dev/null
why7="start $W/web/7: control start exited 1 (last output: 'web-agent: config check failed')"
is 'killed in the rollback: the failure and the hold are on record' \
    "$(st 'a["held_version"], a["held_fails"], a["error"], a["trial_failed"]')" "('7', 1, \"$why7\", 1)"
sleep 3.5	# the control stop the killed pass ran goes on to its end
pass
is 'next pass: held, exit 1' "$(st 'a["result"]') $rc" 'held 1'
grep_log 'it finished the rollback' 'warning web: the rollback from failed 7 was interrupted; back to 1$'
is 'not blamed as an interruption, not counted twice' "$(st 'a["held_version"], a["held_fails"], a["fails"], a["error"]')" \
    "('7', 1, $(st 'a["fails"]'), \"$why7\")"
check_fails 'no interruption logged' grep -q 'trial of 7 interrupted' "$W/ops-updater.log"
is 'one version runs: the old one' "$(running "$W/web/1" && echo up) $(running "$W/web/7" && echo up)" 'up '

# 5. A stop that exits non-zero fails at once too.
serve "{\"agents\": [$(want web 6)]}"
pass
is 'setup: switched to 6' "$(cat "$W/web/.version") $rc" '6 0'
n=$(calls 6)
serve "{\"agents\": [$(want web 6 stop)]}"
pass
is 'a stop that exits 2: exit 1' "$rc" 1
# The scan, the look before the stop, the scan that reports the change.
check 'status was not polled for status_wait' test "$(calls 6)" -le $((n + 3))
grep_log 'the log names it' \
    "error web: stop $W/web/6: control stop exited 2 \\(last output: 'web-agent: cannot read the pid file'\\)\$"
done_testing
