#!/bin/sh
# Restarts are visible: an agent found not running and started again is a
# warning, counted in the state (in a row and in all) and the metrics
# (ops_updater_agent_restarts_total), and check warns while the last pass
# had to start it. One the server had stopped is started on its word.
. "$(dirname "$0")/lib.sh"

A=$W/a
mkdir -m 755 "$T/prom"
mkagent a 1
serve "{\"agents\": [$(want a 1)]}"
start_server
# Probation off: a crash loop so soon after the install would fail it
# (t/0306-probation.t); here restarts are counted and nothing more.
config "\"metrics_file\": \"$T/prom/ops.prom\", \"probation_deaths\": 0"
chk() { "$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1; echo $?; }
restarts_metric() { sed -n 's/^ops_updater_agent_restarts_total{name="a"} //p' "$T/prom/ops.prom"; }

pass
is 'setup: installed' "$rc" 0
is 'no restart counted' "$(st 'a["restarts"], a["restarts_total"]') $(restarts_metric)" '(0, 0) 0'
check 'the metric is a counter' grep -qx '# TYPE ops_updater_agent_restarts_total counter' "$T/prom/ops.prom"

# It crashes; the next pass starts it again.
kill "$(cat "$A/1/agent.pid")"
sleep 0.2
pass
is 'a crashed agent started again: exit 0' "$rc" 0
check 'it runs' running "$A/1"
grep_log 'a warning says so' 'warning a: 1 was stoped, started again \(1 in a row, 1 in all\)$'
is 'counted in the state' "$(st 'a["result"], a["restarts"], a["restarts_total"]')" "('ok', 1, 1)"
is 'what was done says so' "$(st 'a["done"]')" 'start 1: it was not running (restarted 1 in a row, 1 in all)'
is 'the metric counts it' "$(restarts_metric)" 1
is 'check: WARNING' "$(chk)" 1
check 'check says which, and how often' grep -q '^OPS-UPDATER WARNING - restarted: a (1 in a row); last pass' "$T/check"

# A crash loop: again and again.
kill "$(cat "$A/1/agent.pid")"
sleep 0.2
pass
is 'again: 2 in a row' "$(st 'a["restarts"], a["restarts_total"]') $(restarts_metric) $rc" '(2, 2) 2 0'
is 'check: WARNING' "$(chk)" 1
check 'check: 2 in a row' grep -q '^OPS-UPDATER WARNING - restarted: a (2 in a row); last pass' "$T/check"

# A pass that finds it running: the row ends, the total stays.
pass
is 'found running: 0 in a row, 2 in all' "$(st 'a["restarts"], a["restarts_total"]') $(restarts_metric)" '(0, 2) 2'
is 'check: OK' "$(chk)" 0

# Stopped and started again on the server's word: no restart.
serve "{\"agents\": [$(want a 1 stop)]}"
pass
is 'stopped as asked' "$rc $(running "$A/1" && echo up)" '0 '
serve "{\"agents\": [$(want a 1)]}"
pass
is 'started as asked: exit 0' "$rc" 0
grep_log 'info, not a warning' 'info a: 1 started again, as the server asks \(it had asked for a stop\)$'
is 'not counted' "$(st 'a["restarts"], a["restarts_total"]') $(restarts_metric)" '(0, 2) 2'
is 'check: OK' "$(chk)" 0

# A status that gives no answer (its user can make it hang) is no word
# that the agent is down: its start is not run (a start that does not
# look first would start it again every pass), nothing is counted as a
# restart, and the pass fails saying why.
sed -i 's/^status) .*/status) sleep 300 ;;/; s/^start) /start) echo run >>runs; /' "$A/1/control"
config "\"metrics_file\": \"$T/prom/ops.prom\", \"probation_deaths\": 0, \"control_timeout\": 1"
pass
pass
is 'status hangs: exit 1' "$rc" 1
check_fails 'its start was not run' test -e "$A/1/runs"
grep_log 'the log says why' "error a: start $A/1: control start not run: status gives no answer \('error: control status timed out after 1 s'\); the agent may run already\$"
is 'no restart counted; failed with that reason' \
    "$(st 'a["restarts"], a["restarts_total"], a["result"], a["error"].startswith("start ")')" "(0, 2, 'failed', True)"
check 'the agent runs on' running "$A/1"
done_testing
