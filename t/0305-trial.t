#!/bin/sh
# A pass killed during a trial (between stopping the old version and the
# end of the new one's health wait), or a host that went down then, is a
# failure of the version on trial: the next pass finds the trial recorded
# in the state, stops that version, starts the one .version names, counts
# the failure and holds the version. Never two versions running for good.
. "$(dirname "$0")/lib.sh"

A=$W/a
# A pass in the background, killed -9 once the log has $1 more lines
# matching the ERE $2 than now, after $3 more seconds.
kill_after() {
	n0=$(grep -Ec -- "$2" "$W/ops-updater.log" 2>/dev/null)
	"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1 &
	bg=$!
	i=0
	while [ "$(grep -Ec -- "$2" "$W/ops-updater.log")" -lt $((n0 + $1)) ] && [ $i -lt 300 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep "$3"
	kill -9 $bg
	wait $bg 2>/dev/null
}
alive() { running "$A/$1" && echo y || echo n; }
check_rc() { "$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1; echo $?; }

start_server
config '"health_wait": 6, "retry_failed": 3600'
mkagent a 1; mkagent a 2; mkagent a 3 crash
serve "{\"agents\": [$(want a 1)]}"
pass
is 'setup: 1 installed' "$rc" 0

# 1. Killed in 2's health wait; then the server goes back to 1.
serve "{\"agents\": [$(want a 2)]}"
kill_after 1 'health: .*/a/2 must stay' 1
is 'killed in the health wait: 1 stopped, 2 runs' "$(alive 1) $(alive 2)" "n y"
is 'the trial was recorded before 1 was stopped' "$(st 'a["trial_version"], a["trial_from"]')" "('2', '1')"
serve "{\"agents\": [$(want a 1)]}"
pass
is 'next pass (server back on 1): exit 1' "$rc" 1
is 'exactly one version runs: the one .version names' "$(alive 1) $(alive 2) $(cat "$A/.version")" "y n 1"
is 'the failure and the hold are recorded' "$(st 'a["result"], a["held_version"], a["fails"], "trial_version" in a')" \
    "('failed', '2', 1, False)"
st 'a["error"]' >"$T/error"
check 'the error says the trial was interrupted' \
    grep -Eqx 'trial of 2 interrupted \(the pass was killed, or the host went down, after [0-9TZ:-]+\)' "$T/error"
grep_log 'logged' 'error a: trial of 2 interrupted .*; back to 1$'
is 'check: WARNING' "$(check_rc)" 1
check 'check names a, and why' grep -q '^OPS-UPDATER WARNING - failed: a (trial of 2 interrupted .*); last pass' "$T/check"
pass
is 'a pass later: still one version running' "$(alive 1) $(alive 2) $rc" "y n 0"

# 2. A release that dies in its trial, the pass killed each time before
# the health wait could fail it (a reboot, the OOM killer): one trial,
# then a hold, and check warns.
serve "{\"agents\": [$(want a 3)]}"
kill_after 1 'health: .*/a/3 must stay' 0.5
pass
is 'next pass (server still on 3): held, exit 1' "$rc" 1
is 'state: held, one failure' "$(st 'a["result"], a["held_version"], a["fails"], a["held_fails"]')" "('held', '3', 1, 1)"
is 'one version runs: 1' "$(alive 1) $(alive 3) $(cat "$A/.version")" "y n 1"
is 'check: WARNING' "$(check_rc)" 1
pass
pass
is '3 was tried once only' "$(grep -c 'start .*/a/3;' "$W/ops-updater.log")" 1
is 'still held' "$(st 'a["result"], a["held_fails"]')" "('held', 1)"

# 3. Killed after .version was written, before the state: the trial had
# ended well; nothing is held, nothing stopped.
serve "{\"agents\": [$(want a 2)]}"
pass
is 'setup: switched to 2' "$(cat "$A/.version") $rc" "2 0"
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["agents"][0].update(trial_version="2", trial_from="1", trial_tarball="x", trial_started=1)
json.dump(s, open(sys.argv[1], "w"))
PY
pass
is 'a trial that .version shows committed is no failure' "$(st 'a["result"], a["held_version"], "trial_version" in a') $rc" "('nothing', '', False) 0"
is '2 still runs' "$(alive 2)" y
done_testing
