#!/bin/sh
# pass_timeout bounds a whole pass: every wait is cut at one deadline, no
# agent is taken past it, and the pass stops as a kill -9 would leave it
# (a cut download kept, a trial left recorded), logs why, writes its state
# and exits 1. A clock set back never makes a hold last longer than its
# backoff, nor check take an old pass for a fresh one.
. "$(dirname "$0")/lib.sh"

A=$W/a
timed_pass() {	# pass, its wall time in $secs
	t0=$(date +%s)
	pass "$@"
	secs=$(($(date +%s) - t0))
}
PAYLOAD_KB=1024
export PAYLOAD_KB
start_server
mkagent a 1; mkagent a 2; mkagent a 3
serve "{\"agents\": [$(want a 1)]}"
config
pass
is 'setup: 1 installed' "$rc" 0

# 1. A file server that hangs: the pass ends at the deadline, not after
# download_timeout or download_stall, and the download resumes next time.
config '"pass_timeout": 4, "download_timeout": 600, "download_stall": 600'
serve "{\"agents\": [$(want a 2)], \"faults\": {\"files\": {\"a-2.tar.gz\": {\"stall\": 120}}}}"
: >"$W/ops-updater.log"
timed_pass
is 'hung file server: exit 1' "$rc" 1
check "hung file server: the pass ended near its deadline (${secs} s, not 600)" test "$secs" -lt 60
grep_log 'the log says why' 'error: the pass ran into pass_timeout \(4 s\): stopped where it was, as a kill would leave it'
is 'the state is written: exit 1, this pass' "$(st 's["exit_code"], s["started"] >= '"$(($(date +%s) - 120))")" '(1, True)'
is 'not the release'"'"'s fault: cut, no hold' "$(st 'a["result"], a["held_version"]')" "('cut', '')"
is 'the pass and the agent it cut name the deadline, not the transfer' "$(st 's["cut"], a["error"], a["fails"]')" \
    "('cut by pass_timeout (4 s)', 'cut by pass_timeout (4 s)', 0)"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status names it for the pass' grep -Eq '^last pass: .*, exit 1, cut by pass_timeout \(4 s\)$' "$T/status"
check 'and for the agent' grep -Eq '^a +cut +cut by pass_timeout \(4 s\)$' "$T/status"
plugin
is 'check: WARNING, the agent named with the deadline' "$crc $(printf '%s' "$out" | grep -Eo 'WARNING - cut: a \(cut by pass_timeout \(4 s\)\); last pass')" \
    '1 WARNING - cut: a (cut by pass_timeout (4 s)); last pass'
check 'the bytes so far are kept' test -s "$A/.ops-updater-partial.a-2.tar.gz.meta"
is 'nothing half installed' "$(leftovers a) $(cat "$A/.version")" ' 1'
serve "{\"agents\": [$(want a 2)]}"
: >"$W/ops-updater.log"
pass
is 'next pass: installed' "$rc $(cat "$A/.version")" '0 2'
is 'a pass not cut says so' "$(st 's["cut"], a["result"], a["error"]')" "('', 'ok', '')"
grep_log 'and it resumed' 'info a: resuming .*/a-2.tar.gz at byte [1-9]'

# 1b. A control script that hangs (control_timeout 60): killed at the
# deadline.
sed -i 's/^status) .*/status) sleep 300 ;;/' "$A/2/control"
config '"pass_timeout": 3, "control_timeout": 60'
: >"$W/ops-updater.log"
timed_pass
is 'a hung control status: exit 1' "$rc" 1
check "it ended near its deadline (${secs} s, not 60)" test "$secs" -lt 30
grep_log 'the scan says why' 'error a: .*/a/2: error: control status stopped at the pass deadline \(pass_timeout\)$'
plugin
is 'check names the deadline that cut the pass and its heartbeat' \
    "$crc $(printf '%s' "$out" | grep -Eo 'in a row \(last success [^)]*\): cut by pass_timeout \(3 s\); pass cut by pass_timeout \(3 s\); last pass' | sed 's/(last success [^)]*)/(...)/')" \
    '1 in a row (...): cut by pass_timeout (3 s); pass cut by pass_timeout (3 s); last pass'
sed -i 's/^status) .*/status) running \&\& echo started || echo stoped ;;/' "$A/2/control"

# 2. The deadline in a trial's health wait: the trial is left recorded as
# a kill would leave it, and the next agent is not taken.
config '"pass_timeout": 5, "health_wait": 60, "retry_failed": 0'
serve "{\"agents\": [$(want b 1)]}"
pass
is 'setup: b has a failure and nothing on disk' "$rc $(st '[(x["name"], x["fails"]) for x in s["agents"] if x["name"] == "b"]')" "1 [('b', 1)]"
serve "{\"agents\": [$(want a 3), $(want b 1)]}"
: >"$W/ops-updater.log"
timed_pass
is 'deadline in the health wait: exit 1' "$rc" 1
check "it ended near its deadline (${secs} s, not 60)" test "$secs" -lt 40
grep_log 'the health wait was cut' 'error a: health: .*/a/3: the pass deadline \(pass_timeout\) came [0-9.]+ s into its health wait'
grep_log 'the trial is left' 'error a: the pass deadline \(pass_timeout\) came during the trial of 3: left as it is for the next pass'
grep_log 'b was not taken' 'error: the pass deadline \(pass_timeout\) has passed: 1 agent not reached, left for the next pass'
is 'the trial is recorded for the next pass' "$(st 'a["trial_version"], a["trial_from"]')" "('3', '2')"
is 'as a kill leaves it: .version unchanged, 3 runs, 2 stopped' \
    "$(cat "$A/.version") $(running "$A/3" && echo y || echo n) $(running "$A/2" && echo y || echo n)" '2 y n'
is 'b keeps its entry' "$(st '[(x["name"], x["fails"]) for x in s["agents"] if x["name"] == "b"]')" "[('b', 1)]"
is 'the trial cut: a cut, the pass cut' "$(st 'a["result"], a["error"], s["cut"]')" \
    "('cut', 'cut by pass_timeout (5 s)', 'cut by pass_timeout (5 s)')"
config '"health_wait": 1'
serve "{\"agents\": [$(want a 3)]}"
pass
is 'the next pass ends the trial: one version runs, the one .version names' \
    "$(v=$(cat "$A/.version"); for d in 2 3; do running "$A/$d" && printf '%s ' "$d"; done; echo "= $v")" \
    "$(cat "$A/.version") = $(cat "$A/.version")"
is 'no trial left' "$(st '"trial_version" in a')" False

# 2b. The deadline in a trial, pass after pass, is no verdict on the new
# version: not when the old one is slower to stop than what the pass has
# left (the new one never started), nor when the new one is slower to
# start. It is tried again each pass, never counted, never held.
# cut4 VERSION WHAT ERE: four passes with pass_timeout 2 asked for
# VERSION, each cut in WHAT; each next pass logs ERE.
cut4() {
	config '"pass_timeout": 2, "retry_failed": 3600'
	serve "{\"agents\": [$(want a "$1")]}"
	: >"$W/ops-updater.log"
	for k in 1 2 3 4; do pass; printf '%s ' "$rc"; done >"$T/rcs"
	is "$2 cut at the deadline, 4 passes in a row: each exits 1" "$(cat "$T/rcs")" '1 1 1 1 '
	grep_log 'each next pass says it counts nothing' "$3"
	is "$1 is not held, nothing counted" "$(st 'a["held_version"], "interrupted_version" in a, a["trial_version"]')" "('', False, '$1')"
	config '"retry_failed": 3600'
}
mkagent a 5
mkgated a 6 "$T/go-6"
pass
is 'setup: at 3' "$rc $(cat "$A/.version")" '0 3'
sed -i 's/^stop) /stop) sleep 4; /' "$A/3/control"
cut4 5 'the stop of 3' \
    'warning a: trial of 5 cut by the pass deadline \(pass_timeout\), after [0-9TZ:-]+, before 5 was started: nothing counted against it; back to 3$'
sed -i 's/^stop) sleep 4; /stop) /' "$A/3/control"
pass
is 'a pass with time enough: at 5' "$rc $(cat "$A/.version") $(running "$A/5" && echo up)" '0 5 up'
# 6's start waits for $T/go-6, longer than the pass has: cut by the
# deadline after its start began.
cut4 6 'the start of 6' \
    'warning a: trial of 6 cut by the pass deadline \(pass_timeout\), after [0-9TZ:-]+: no verdict on it; back to 5$'
touch "$T/go-6"
pass
is 'a pass with time enough: at 6' "$rc $(cat "$A/.version") $(running "$A/6" && echo up) $(running "$A/5" || echo down)" '0 6 up down'

# 2c. The deadline in a rollback, or in a resumed trial, leaves the trial
# as a kill would, for the next pass to finish: never the old version
# started beside a new one that would not stop, never a failure counted
# for a gate the deadline cut.
mkagent a 7
sed -i 's/^start) \(.*\) ;;$/start) \1; exit 1 ;;/; s/^stop) /stop) sleep 30; /' "$T/src/a-7/control"
publish a 7
serve "{\"agents\": [$(want a 7)]}"
config '"pass_timeout": 3, "control_timeout": 60, "retry_failed": 3600'
: >"$W/ops-updater.log"
pass
is '7 fails its start, its stop hangs past the deadline: exit 1' "$rc" 1
is 'the failed trial is left for the next pass, 7 held' "$(st 'a["trial_version"], a["trial_failed"], a["held_version"]')" "('7', 1, '7')"
sed -i 's/^stop) sleep 30; /stop) /' "$A/7/control"
config '"retry_failed": 3600'
: >"$W/ops-updater.log"
pass
grep_log 'the next pass finishes the rollback' 'warning a: the rollback from failed 7 was interrupted; back to 6$'
is 'then 6 runs, alone; no restart counted' "$(for v in 6 7; do running "$A/$v" && printf '%s ' $v; done)$(st 'a["restarts"]')" '6 0'
is 'and 7 is held, once' "$(st 'a["held_version"], a["held_fails"], "trial_version" in a')" "('7', 1, False)"

mkagent a 8
serve "{\"agents\": [$(want a 8)]}"
config '"pass_timeout": 4, "health_wait": 60'
pass
is 'setup: the deadline in the health gate of 8 leaves its trial' "$(st 'a["trial_version"]') $(running "$A/8" && echo up)" '8 up'
config '"pass_timeout": 2, "health_wait": 60'
: >"$W/ops-updater.log"
fails=$(st 'a["fails"]')
pass
grep_log 'the resumed gate, cut too, is left as it is' 'error a: the pass deadline \(pass_timeout\) came during the resumed trial of 8: left as it is for the next pass$'
is 'nothing counted, no hold; 8 still on trial, and up; 6 down' \
    "$(st 'a["fails"], a["held_version"], a["trial_version"]') $(running "$A/8" && echo up) $(running "$A/6" || echo down)" \
    "($fails, '', '8') up down"
config '"health_wait": 1'
: >"$W/ops-updater.log"
pass
grep_log 'the next pass resumes it, and commits it' 'info a: now at 8 \(was 6\): its trial, resumed, passed$'
is 'at 8, alone' "$rc $(cat "$A/.version") $(for v in 6 7 8; do running "$A/$v" && printf '%s ' $v; done)" '0 8 8 '

# 3. The jitter never takes more than half of the pass.
config '"pass_timeout": 4, "jitter": 3600'
: >"$W/ops-updater.log"
t0=$(date +%s)
"$OPS_UPDATER" -c "$W/cfg.json" run >"$T/pass.out" 2>&1
secs=$(($(date +%s) - t0))
check "jitter 3600 with pass_timeout 4: the pass took ${secs} s" test "$secs" -lt 30
check_fails 'and did not run into the deadline' grep -q 'ran into pass_timeout' "$W/ops-updater.log"

# 4. A clock set back: a hold recorded in the future lasts no longer than
# its backoff from now; check does not take a pass in the future as fresh.
config '"retry_failed": 600'
mkagent a 4 nostart
serve "{\"agents\": [$(want a 4)]}"
config '"retry_failed": 600, "status_wait": 1'
pass
is 'setup: 4 held' "$(st 'a["held_version"], a["retry_after"] - a["failed_at"]')" "('4', 600)"
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys, time
s = json.load(open(sys.argv[1]))
a = s["agents"][0]
a["failed_at"] = int(time.time()) + 10 * 86400
a["retry_after"] = a["failed_at"] + 600
json.dump(s, open(sys.argv[1], "w"))
PY
now=$(date +%s)
: >"$W/ops-updater.log"
pass
is 'a hold from the future: still held' "$rc $(st 'a["result"]')" '1 held'
is 'but never more than its backoff from now' "$(st 'a["retry_after"] <= '"$((now + 600 + 60))"', a["failed_at"] <= '"$((now + 60))")" '(True, True)'
grep_log 'the log says when, within the backoff' "holding 4: failed at .*; next try after $(date -u -d "@$(st 'a["retry_after"]')" +%Y-%m-%dT%H:%M:%SZ)\$"
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys, time
s = json.load(open(sys.argv[1]))
s["started"] = int(time.time()) + 3600
json.dump(s, open(sys.argv[1], "w"))
PY
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
is 'a last pass in the future: check CRITICAL' "$?" 2
check 'and says why' grep -Eq '^OPS-UPDATER CRITICAL - the last pass is recorded (359[0-9]|3600) s in the future: the clock was set back' "$T/check"
done_testing
