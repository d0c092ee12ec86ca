#!/bin/sh
# Probation after commit: a version that passed its health gate and is then
# found dead by probation_deaths passes within probation_window of its
# commit (not stopped on the server's word) has failed as one that failed
# the gate: rolled back to the version kept before it and held, the cause
# named in the log, the state, status, check and the metrics. One death is
# only counted (a restart, as before); a death after the window or one the
# server asked for is none of probation's; probation_deaths 0 turns it off
# and a crash loop is started again every pass, as before.
. "$(dirname "$0")/lib.sh"

mkdir -m 755 "$T/prom"
metric() { sed -n "s/^ops_updater_$1 //p" "$T/prom/ops.prom"; }
starts() { wc -l <"$1/starts"; }
CFG="\"health_wait\": 1, \"retry_failed\": 3600, \"metrics_file\": \"$T/prom/ops.prom\""

# 1. A release that dies a few seconds after each start.
A=$W/a
mkagent a 1.0.0
crashing a 1.0.1
serve "{\"agents\": [$(want a 1.0.0)]}"
start_server
config "$CFG, \"probation_window\": 600"
pass
is 'setup: 1.0.0 installed' "$rc $(cat "$A/.version")" '0 1.0.0'
serve "{\"agents\": [$(want a 1.0.1)]}"
pass
is '1.0.1 passes its health gate: committed' "$rc $(cat "$A/.version")" '0 1.0.1'
is 'its probation is in the state: the version, from what, no death yet' \
    "$(st 'a["probation_version"], a["probation_from"], a["probation_deaths"], a["probation_at"] > 0')" \
    "('1.0.1', '1.0.0', 0, True)"

dead "$A/1.0.1" '1.0.1'
: >"$W/ops-updater.log"
pass
is 'found dead once: only counted, started again, exit 0' "$rc $(cat "$A/.version")" '0 1.0.1'
check '1.0.1 runs again' running "$A/1.0.1"
grep_log 'the log counts it against its probation' \
    'warning a: 1\.0\.1 died 1 time within 10 min of its commit \(rolled back at 2\): started again$'
is 'the state: one death, one restart, no hold' "$(st 'a["probation_deaths"], a["restarts"], a["held_version"]')" "(1, 1, '')"
is 'the metrics: one death of 1.0.1' "$(metric 'agent_probation_deaths{name="a",version="1.0.1"}')" 1

dead "$A/1.0.1" '1.0.1'
: >"$W/ops-updater.log"
pass
is 'found dead again: the pass fails' "$rc" 1
is 'rolled back: .version names 1.0.0' "$(cat "$A/.version")" 1.0.0
check '1.0.0 runs' running "$A/1.0.0"
check_fails '1.0.1 does not' running "$A/1.0.1"
grep_log 'the log names the cause' \
    'error a: 1\.0\.1 died 2 times within 10 min of its commit: rolling back to 1\.0\.0$'
is 'the state: held with the cause, kept for its logs' \
    "$(st 'a["result"], a["error"], a["held_version"], a["kept_failed"]')" \
    "('held', '1.0.1 died 2 times within 10 min of its commit', '1.0.1', '1.0.1')"
is 'what was done' "$(st 'a["done"]')" 'back to 1.0.0: 1.0.1 died 2 times within 10 min of its commit'
plugin
is 'check: WARNING' "$crc" 1
matches 'check names the cause' "$out" '^OPS-UPDATER WARNING - held: a \(1\.0\.1 died 2 times within 10 min of its commit\)'
is 'the metrics: held, 2 deaths, 1 probation failed' \
    "$(metric 'agent_held{name="a",version="1.0.1"}') $(metric 'agent_probation_deaths{name="a",version="1.0.1"}') $(metric 'agent_probation_failures_total{name="a"}')" \
    '1 2 1'

n=$(starts "$A/1.0.1")
pass
is 'the next pass holds 1.0.1: exit 1' "$rc $(st 'a["result"]')" '1 held'
is '1.0.1 not started again' "$(starts "$A/1.0.1")" "$n"
check '1.0.0 runs on' running "$A/1.0.0"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status: held, with the cause' grep -q \
    '^a  *held  *1\.0\.1: failed at .* (1\.0\.1 died 2 times within 10 min of its commit); next try after ' "$T/status"
plugin
matches 'check: held, with the cause' "$out" '^OPS-UPDATER WARNING - held: a \(1\.0\.1 died 2 times within 10 min of its commit\)'

# 2. One death is only counted; one after the window, or one the server
# asked for (a stop), is no probation's at all.
B=$W/b
mkagent b 1.0.0
mkagent b 1.0.1
serve "{\"agents\": [$(want b 1.0.0)]}"
config "$CFG"
pass
serve "{\"agents\": [$(want b 1.0.1)]}"
pass
is 'setup: b 1.0.1 committed, on probation' "$rc $(cat "$B/.version") $(sa b 'a["probation_version"]')" '0 1.0.1 1.0.1'
# Its status gives no answer: no word that it died, nothing counted.
sed -i 's/^status) .*/status) sleep 300 ;;/' "$B/1.0.1/control"
kill "$(cat "$B/1.0.1/agent.pid")"
dead "$B/1.0.1" 'b 1.0.1'
config "$CFG, \"control_timeout\": 1"
pass
is 'status gives no answer: the pass fails, no death counted' "$rc $(sa b 'a["probation_deaths"]')" '1 0'
sed -i 's/^status) .*/status) running \&\& echo started || echo stoped ;;/' "$B/1.0.1/control"
config "$CFG"
: >"$W/ops-updater.log"
pass
is 'dies once: started again, exit 0' "$rc $(cat "$B/.version")" '0 1.0.1'
grep_log 'counted, with the default window' 'warning b: 1\.0\.1 died 1 time within 15 min of its commit \(rolled back at 2\): started again$'
pass
pass
is 'then runs: still 1.0.1, passes exit 0, one death' "$rc $(cat "$B/.version") $(sa b 'a["probation_deaths"], a["held_version"]')" "0 1.0.1 (1, '')"
check 'it runs' running "$B/1.0.1"
serve "{\"agents\": [$(want b 1.0.1 stop)]}"
pass
serve "{\"agents\": [$(want b 1.0.1)]}"
pass
is 'stopped and started on the server'"'"'s word: no death' "$rc $(sa b 'a["probation_deaths"]')" '0 1'
# The window has passed (the commit moved back past it): a death is a
# plain restart, and the record is gone.
python3 - "$W/ops-updater.state.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
[x for x in s["agents"] if x["name"] == "b"][0]["probation_at"] -= 901
json.dump(s, open(sys.argv[1], "w"))
EOF
kill "$(cat "$B/1.0.1/agent.pid")"
dead "$B/1.0.1" 'b 1.0.1'
: >"$W/ops-updater.log"
pass
is 'after the window: started again, exit 0, still 1.0.1' "$rc $(cat "$B/.version")" '0 1.0.1'
check_fails 'nothing said of probation' grep -q 'of its commit' "$W/ops-updater.log"
grep_log 'a restart, as before' 'warning b: 1\.0\.1 was stoped, started again'
is 'the probation is over: no record' "$(sa b 'a.get("probation_version", "")')" ''

# 3. Probation off (probation_deaths 0): a crash loop of a committed
# release is started again every pass, exit 0, as before.
C=$W/c
mkagent c 1.0.0
crashing c 1.0.1
serve "{\"agents\": [$(want c 1.0.0)]}"
config "$CFG, \"probation_deaths\": 0"
pass
serve "{\"agents\": [$(want c 1.0.1)]}"
pass
is 'setup: c 1.0.1 committed' "$rc $(cat "$C/.version")" '0 1.0.1'
for i in 1 2 3; do
	dead "$C/1.0.1" "c 1.0.1 ($i)"
	pass
	is "off: death $i: started again, exit 0, still 1.0.1" "$rc $(cat "$C/.version") $(sa c 'a["restarts"]')" "0 1.0.1 $i"
done
check_fails 'off: nothing said of probation' grep -q 'of its commit' "$W/ops-updater.log"
is 'off: no hold' "$(sa c 'a["held_version"]')" ''
# 4. Nothing to go back to: the version before it was pruned
# (keep_versions 0), or others could change it (its control is not run).
# The failed version is started again, and the pass fails with the cause.
for n in d e; do
	mkagent $n 1.0.0
	crashing $n 1.0.1
done
serve "{\"agents\": [$(want d 1.0.0), $(want e 1.0.0)]}"
config "$CFG"
pass
# Old versions go in the pass after a switch: d switches with
# keep_versions 0, e switches in the pass that prunes d's.
config "$CFG, \"keep_versions\": 0"
serve "{\"agents\": [$(want d 1.0.1), $(want e 1.0.0)]}"
pass
serve "{\"agents\": [$(want d 1.0.1), $(want e 1.0.1)]}"
pass
is 'setup: d and e at 1.0.1; d'"'"'s 1.0.0 pruned, e'"'"'s kept' \
    "$rc $(cat "$W/d/.version" "$W/e/.version" | tr '\n' ' ')$(ls "$W/d" "$W/e" | grep -c '^1\.0\.0$')" '0 1.0.1 1.0.1 1'
config "$CFG"
n=$(starts "$W/e/1.0.0")
chmod g+w "$W/e/1.0.0"
for death in 1 2; do
	dead "$W/d/1.0.1" "d 1.0.1 ($death)"
	dead "$W/e/1.0.1" "e 1.0.1 ($death)"
	: >"$W/ops-updater.log"
	pass
done
is 'failed, nothing to go back to: the pass fails' "$rc" 1
grep_log 'pruned: the log says so' \
    'error d: 1\.0\.1 died 2 times within 15 min of its commit; no version kept before it to roll back to \(1\.0\.0 is gone\): started again$'
grep_log 'refused: the log says why' \
    "error e: 1\\.0\\.1 died 2 times within 15 min of its commit; no version kept before it to roll back to \\($W/e/1\\.0\\.0: .*writable.*\\): started again\$"
is 'both still at 1.0.1, started again' \
    "$(cat "$W/d/.version" "$W/e/.version" | tr '\n' ' ')$(running "$W/d/1.0.1" && running "$W/e/1.0.1" && echo up)" '1.0.1 1.0.1 up'
is 'the refused 1.0.0 was never started' "$(starts "$W/e/1.0.0")" "$n"
is 'the state: failed with the cause, no hold' "$(sa d 'a["result"], a["error"], a["held_version"]')" \
    "('failed', '1.0.1 died 2 times within 15 min of its commit; no version kept before it to roll back to', '')"
# A host that went down: its agents were taken down with it, not dead on
# their own. The pass knows by the kernel's boot id, which the state keeps;
# a test cannot reboot, so it writes another boot id in the state.
is 'the state keeps the boot id of its pass' "$(st 's["boot_id"]')" \
    "$(cat /proc/sys/kernel/random/boot_id)"
serve "{\"agents\": [$(want d 1.0.1), $(want e 1.0.1), $(want r 1.0.0)]}"
mkagent r 1.0.0
crashing r 1.0.1
pass
serve "{\"agents\": [$(want d 1.0.1), $(want e 1.0.1), $(want r 1.0.1)]}"
pass
is 'setup: r 1.0.1 committed, on probation' "$(cat "$W/r/.version") $(sa r 'a["probation_version"]')" '1.0.1 1.0.1'
for death in 1 2; do
	dead "$W/r/1.0.1" "r 1.0.1 ($death)"
	python3 -c 'import json, sys
p = sys.argv[1]; s = json.load(open(p)); s["boot_id"] = "00000000-0000-0000-0000-00000000000'"$death"'"
open(p, "w").write(json.dumps(s))' "$W/ops-updater.state.json"
	: >"$W/ops-updater.log"
	pass
	grep_log "after a reboot ($death): the log says why no death counts" \
	    'the host went down since the last pass \(a new boot id\): agents found down are started again, no death on probation$'
done
is 'two reboots in the window: no death counted, still at 1.0.1, not held' \
    "$(cat "$W/r/.version") $(sa r 'a["probation_deaths"], a["held_version"]')" "1.0.1 (0, '')"
check 'r 1.0.1 was started again' running "$W/r/1.0.1"
done_testing
