#!/bin/sh
# A pass killed during a trial (between stopping the old version and the
# end of the new one's health wait), or a host that went down then, is no
# verdict on the version: the next pass finds the trial in the state and
# asks the trial version's status. If it runs, its health gate runs again
# from the start and it is committed when it passes (or held when it
# fails); if not, the version .version names is started again and the
# trial version is tried again at once. Only the third trial of a version
# cut short in a row after its start began holds it (a release that takes
# the host down); one cut while the old version stopped, before the new
# one was started, is not counted. Never two versions running for good.
. "$(dirname "$0")/lib.sh"

A=$W/a
# A pass in the background, killed -9 once the log has $1 more lines
# matching the ERE $2 than now, after $3 more seconds. With $4, a version:
# the host goes down with the pass, that version's control scripts and
# daemon with it.
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
	# A control start the pass forked just before may not be in that
	# directory yet when /proc is first read: read it again for a while.
	r=0
	while [ -n "${4:-}" ] && [ $r -lt 10 ]; do
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/cwd" 2>/dev/null)" = "$A/$4" ] && kill -9 "${p#/proc/}" 2>/dev/null
		done
		sleep 0.05
		r=$((r + 1))
	done
	wait $bg 2>/dev/null
	sleep 0.3	# a control start or stop it ran goes on to its end
}
alive() { running "$A/$1" && echo y || echo n; }
check_rc() { "$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1; echo $?; }

start_server
config '"health_wait": 2, "retry_failed": 3600'
mkagent a 1; mkagent a 2 slow; mkagent a 3 crash; mkagent a 4 slow; mkagent a 5 slow
serve "{\"agents\": [$(want a 1)]}"
pass
is 'setup: 1 installed' "$rc" 0

# 1. Killed in 2's health wait: 2 runs. The next pass runs the gate again
# from the start and commits 2.
serve "{\"agents\": [$(want a 2)]}"
kill_after 1 'health: .*/a/2 must stay' 0.5
is 'killed in the health wait: 1 stopped, 2 runs' "$(alive 1) $(alive 2)" "n y"
is 'the trial was recorded before 1 was stopped' "$(st 'a["trial_version"], a["trial_from"]')" "('2', '1')"
pass
is 'next pass: exit 0' "$rc" 0
grep_log 'it resumes the trial' 'warning a: the trial of 2 was interrupted, and it runs: its health gate again, from the start$'
grep_log 'and commits it' 'info a: now at 2 \(was 1\): its trial, resumed, passed$'
is 'exactly one version runs: the one .version names' "$(alive 1) $(alive 2) $(cat "$A/.version")" "n y 2"
is 'the state: ok, no hold, no trial' "$(st 'a["result"], a["held_version"], a["fails"], "trial_version" in a, a["done"]')" \
    "('ok', '', 0, False, 'commit 2: its trial, cut short, resumed')"
is 'committed by the resumed trial: on probation, from 1' \
    "$(st 'a["probation_version"], a["probation_from"], a["probation_deaths"]')" "('2', '1', 0)"
is 'check: OK' "$(check_rc)" 0

# 2. A release that dies in its trial, the pass killed before its health
# wait could fail it: the resumed gate fails it, and it is held for that.
serve "{\"agents\": [$(want a 3)]}"
kill_after 1 'health: .*/a/3 must stay' 0.3
pass
is 'next pass: 3 fails its resumed gate, held: exit 1' "$rc" 1
is 'state: held, one failure, kept, the gate'"'"'s error' \
    "$(st 'a["result"], a["held_version"], a["fails"], a["kept_failed"], a["error"].startswith("health: ")')" \
    "('held', '3', 1, '3', True)"
is 'one version runs: 2' "$(alive 2) $(alive 3) $(cat "$A/.version")" "y n 2"
is 'check: WARNING' "$(check_rc)" 1
pass
pass
is '3 was started once only' "$(grep -c 'start .*/a/3;' "$W/ops-updater.log")" 1
is 'still held' "$(st 'a["result"], a["held_fails"]')" "('held', 1)"

# 3. Killed while stopping 2, before 4 was started: 4 never ran, and its
# trial is no verdict on it. The next pass starts 2 again, counts
# nothing and tries 4 at once; so after any number of such kills.
serve "{\"agents\": [$(want a 4)]}"
for k in 1 2 3; do
	kill_after 1 'stop .*/a/2;' 0.02
done
is 'killed in the switch: neither runs' "$(alive 2) $(alive 4)" "n n"
is 'the trial is recorded, its start not begun, nothing counted' \
    "$(st 'a["trial_version"], a["trial_starting"], "interrupted_version" in a')" "('4', 0, False)"
pass
is 'next pass: exit 0' "$rc" 0
grep_log 'it rolls back, and says it counts nothing' \
    'warning a: trial of 4 interrupted \(the pass was killed, or the host went down, after [0-9TZ:-]+\), before 4 was started: nothing counted against it; back to 2$'
is 'then switches to 4 in the same pass' "$(alive 2) $(alive 4) $(cat "$A/.version")" "n y 4"
is 'no failure, no hold, no count left' "$(st 'a["result"], a["fails"], a["held_version"], "interrupted_version" in a')" \
    "('ok', 0, '', False)"

# 4. Three trials of 5 cut short in a row once its start had begun (the
# host went down with it each time): held.
serve "{\"agents\": [$(want a 5)]}"
for k in 1 2 3; do
	kill_after 1 'start .*/a/5;' 0.02 5
done
is 'after three kills: two interruptions counted, a third trial on' \
    "$(st 'a["interrupted_version"], a["interrupted"], a["trial_version"], a["trial_starting"]')" "('5', 2, '5', 1)"
pass
is 'next pass: held, exit 1' "$rc" 1
is 'the state says why' "$(st 'a["result"], a["held_version"], a["fails"], "interrupted_version" in a')" "('held', '5', 1, False)"
st 'a["error"]' >"$T/error"
check 'the error: interrupted 3 times in a row' \
    grep -Eqx 'trial of 5 interrupted 3 times in a row \(the pass was killed, or the host went down, each time; the last after [0-9TZ:-]+\)' "$T/error"
is 'one version runs: 4' "$(alive 4) $(alive 5) $(cat "$A/.version")" "y n 4"
is 'check: WARNING' "$(check_rc)" 1
pass
is 'a pass later: held, 4 still runs' "$(st 'a["result"]') $(alive 4) $(alive 5)" "held y n"

# 5. Killed after .version was written, before the state: the trial had
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
