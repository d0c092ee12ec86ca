#!/bin/sh
# A failed heartbeat (server down, timeout, HTTP status, HTML, truncated
# JSON, errorMessage) is a failure of its own: what failed, precisely, in
# the state, status, status --json, check (WARNING once or twice in a row,
# CRITICAL from the third) and the metrics; all clear after a good one.
. "$(dirname "$0")/lib.sh"

PY=python3
$PY -c 'import prometheus_client' 2>/dev/null || PY=/usr/bin/python3
cat >"$T/get.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        if s.name == sys.argv[2]:
            print(int(s.value))
PY
m() { $PY "$T/get.py" "$T/node/ops.prom" "$1" 2>&1; }

mkdir -p "$T/node"
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config "\"metrics_file\": \"$T/node/ops.prom\", \"heartbeat_timeout\": 2, \"connect_timeout\": 2"

pass
is 'good pass: exit 0' "$rc" 0
ok_at=$(st 's["heartbeat_ok_at"]')
is 'state: no heartbeat error, none in a row' "$(st 's["heartbeat_error"], s["heartbeat_fails"], s["heartbeat_fail_since"]')" "('', 0, 0)"
check 'state: the time of the success is now' test "$(($(date +%s) - ok_at))" -lt 60
is 'metrics: heartbeat_success 1' "$(m ops_updater_heartbeat_success)" 1
is 'metrics: the time of the last success' "$(m ops_updater_heartbeat_last_success_timestamp_seconds)" "$ok_at"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status"
check 'status: the heartbeat was ok' grep -Eq '^heartbeat: ok at [0-9T:-]+Z, [0-9]+ s ago$' "$T/status"
at=$(python3 -c 'import sys, time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(sys.argv[1]))))' "$ok_at")

# 1: HTTP 500. A WARNING, with what failed.
serve "{\"agents\": [$(want falcon-agent 1.0.0)], \"faults\": {\"heartbeat\": {\"status\": 500, \"body\": \"boom\"}}}"
pass
is 'HTTP 500: exit 1' "$rc" 1
is 'HTTP 500: in the state' "$(st 's["heartbeat_error"], s["heartbeat_fails"], s["heartbeat_ok_at"]')" \
    "('POST $BASE/heartbeat: HTTP 500', 1, $ok_at)"
since=$(st 's["heartbeat_fail_since"]')
check 'the run of failures began now' test "$(($(date +%s) - since))" -lt 60
plugin
is 'one failure: WARNING' "$crc" 1
matches 'one failure: the check line says what failed' "$out" \
    "^OPS-UPDATER WARNING - heartbeat failed 1 pass in a row \\(last success $at\\): POST $BASE/heartbeat: HTTP 500; last pass [0-9]+ s ago \\| .* exit=1 heartbeat_fails=1;0;2;0 heartbeat_parked=0;0;;0\$"
is 'metrics: heartbeat_success 0' "$(m ops_updater_heartbeat_success)" 0
is 'metrics: the last success kept' "$(m ops_updater_heartbeat_last_success_timestamp_seconds)" "$ok_at"
is 'metrics: 1 failure' "$(m ops_updater_heartbeat_failures)" 1
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status"
check 'status: the heartbeat line' grep -qF "heartbeat: failed 1 pass in a row since $(python3 -c 'import sys, time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(sys.argv[1]))))' "$since") (last success $at): POST $BASE/heartbeat: HTTP 500" "$T/status"
"$OPS_UPDATER" -c "$W/cfg.json" --json status >"$T/json"
is 'status --json: the heartbeat error and count' \
    "$(python3 -c 'import json,sys; p = json.load(open(sys.argv[1]))["last_pass"]; print(p["heartbeat_error"], p["heartbeat_fails"], p["heartbeat_ok_at"])' "$T/json")" \
    "POST $BASE/heartbeat: HTTP 500 1 $ok_at"

hbfail() {	# DESC FAULTS WANT-ERROR-ERE: one more failed pass
	serve "{\"agents\": [$(want falcon-agent 1.0.0)], $2}"
	pass
	is "$1: exit 1" "$rc" 1
	matches "$1: the state says what failed" "$(st 's["heartbeat_error"]')" "$3"
}
# 2: HTML.
hbfail 'HTML' '"faults": {"heartbeat": {"status": 200, "body": "<html>maintenance</html>"}}' \
    "^POST $BASE/heartbeat: response is not a JSON object\$"
plugin
is 'two in a row: still a WARNING' "$crc" 1
matches 'two in a row: counted' "$out" "^OPS-UPDATER WARNING - heartbeat failed 2 passes in a row"
# 3: truncated JSON.
hbfail 'truncated JSON' '"faults": {"heartbeat": {"status": 200, "body": "{\"errorMessage\": \"\", \"desiredAgents\": [{\"name\": \"falc"}}' \
    "^POST $BASE/heartbeat: response is not a JSON object\$"
plugin
is 'three in a row: CRITICAL' "$crc" 2
matches 'three in a row: the check line' "$out" \
    "^OPS-UPDATER CRITICAL - heartbeat failed 3 passes in a row \\(last success $at\\): POST $BASE/heartbeat: response is not a JSON object; last pass"
is 'the run still began at the first' "$(st 's["heartbeat_fail_since"]')" "$since"
is 'metrics: 3 failures' "$(m ops_updater_heartbeat_failures)" 3
# 4: errorMessage, hostile and long: escaped, one line, bounded.
long=$(python3 -c 'print("x" * 5000)')
hbfail 'errorMessage' "\"errorMessage\": \"main\\ntenance\\u001b[31m $long\"" \
    "^POST $BASE/heartbeat: server says: main\\\\x0atenance\\\\x1b\\[31m x+\$"
plugin
is 'errorMessage: CRITICAL' "$crc" 2
is 'errorMessage: the check is one line, bounded' "$(wc -l <"$T/check") $(test "$(wc -c <"$T/check")" -lt 700 && echo short)" '1 short'
matches 'errorMessage: said escaped' "$out" 'server says: main\\\\x0atenance\\\\x1b\[31m xxx'
# 5: too slow.
hbfail 'timeout' '"faults": {"heartbeat": {"sleep": 4}}' \
    "^POST $BASE/heartbeat: (Operation timed out|Timeout).*"
# 6: server down.
PORT_SAVED=$PORT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
config "\"metrics_file\": \"$T/node/ops.prom\", \"heartbeat_timeout\": 2, \"connect_timeout\": 2"
pass
is 'server down: exit 1' "$rc" 1
matches 'server down: the state says what failed' "$(st 's["heartbeat_error"]')" \
    "^POST http://127.0.0.1:$PORT/heartbeat: .*(refused|connect)"
plugin
matches 'server down: CRITICAL, 6 in a row, the reason' "$out" \
    "^OPS-UPDATER CRITICAL - heartbeat failed 6 passes in a row \\(last success $at\\): POST http://127.0.0.1:$PORT/heartbeat: .*(refused|connect).*; last pass [0-9]+ s ago \\|"
is 'metrics: 6 failures, success 0' "$(m ops_updater_heartbeat_failures) $(m ops_updater_heartbeat_success)" '6 0'
check 'the agent still runs' running "$W/falcon-agent/1.0.0"

# The server back: all clear.
PORT=$PORT_SAVED
config "\"metrics_file\": \"$T/node/ops.prom\", \"heartbeat_timeout\": 2, \"connect_timeout\": 2"
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
pass
is 'server back: exit 0' "$rc" 0
expr="s['heartbeat_error'], s['heartbeat_fails'], s['heartbeat_fail_since'], s['heartbeat_ok_at'] >= $ok_at"
is 'server back: state clear' "$(st "$expr")" "('', 0, 0, True)"
plugin
is 'server back: OK' "$crc" 0
is 'metrics: heartbeat_success 1, no failures' "$(m ops_updater_heartbeat_success) $(m ops_updater_heartbeat_failures)" '1 0'
done_testing
