#!/bin/sh
# The last-pass state: written by every run (a failed one too), read back
# for failure counts, shown by status, reported to the server per agent.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config
before=$(date +%s)
pass
is 'good pass: exit 0' "$rc" 0
is 'state: the pass' "$(st 's["format"], s["exit_code"], s["started"] >= '"$before"', s["duration_ms"] >= 0')" '(1, 0, True, True)'
is 'state: the agent' "$(st 'a["name"], a["version"], a["cmd"], a["done"], a["result"], a["error"], a["fails"], a["held_version"]')" \
    "('falcon-agent', '1.0.0', 'start', 'install 1.0.0, replacing nothing', 'ok', '', 0, '')"
check 'state: mode 0644, no temp file left' test "$(stat -c %a "$W/ops-updater.state.json")" = 644 -a -z "$(ls -A "$W" | grep ops-updater-tmp)"
pass
is 'converged: result nothing' "$(st 'a["result"], a["done"]')" "('nothing', 'nothing')"

# plan and status write nothing.
cp "$W/ops-updater.state.json" "$T/state.before"
"$OPS_UPDATER" -c "$W/cfg.json" plan >/dev/null 2>&1
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>&1
check 'plan and status leave the state alone' cmp "$W/ops-updater.state.json" "$T/state.before"

# A pass that finds the lock taken writes no state: the holder will.
flock "$W/ops-updater.pid" "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1
is 'lock taken: exit 75' $? 75
check 'lock taken: the state left alone' cmp "$W/ops-updater.state.json" "$T/state.before"

# A failed download: the error as logged, failures counted.
serve "{\"agents\": [$(want falcon-agent 1.0.2)]}"
pass
is 'failed download: exit 1' "$rc" 1
err="GET http://127.0.0.1:$PORT/files/falcon-agent-1.0.2.tar.gz.md5: HTTP 404"
is 'state: failed, with the error' "$(st 'a["result"], a["error"], a["fails"], a["fail_since"] > 0')" "('failed', '$err', 1, True)"
since=$(st 'a["fail_since"]')
pass
is 'failed again: 2 in a row since the first' "$(st 'a["fails"], a["fail_since"]')" "(2, $since)"
is 'the heartbeat carried the error of the last pass' \
    "$(curl -s "$BASE/status/json/falcon-agent" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("error"))')" "failed: $err"
is '/status/text is as before' "$(reported falcon-agent)" '1.0.0 started'

# status shows the last pass and each agent's result and error.
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status"
is 'status: exit 0' $? 0
check 'status: the last pass' grep -Eq '^last pass: ended [0-9-]{10}T[0-9:]{8}Z, [0-9]+ s ago, took [0-9.]+ s, exit 1$' "$T/status"
check 'status: the agent, its error and failures' grep -Fq "$(printf '%-24s %-8s %s' falcon-agent failed "$err") (2 in a row since " "$T/status"
"$OPS_UPDATER" -c "$W/cfg.json" --json status >"$T/json"
is 'status --json: agents and last_pass' "$(python3 -c 'import json,sys
j = json.load(open(sys.argv[1])); a = j["agents"][0]; p = j["last_pass"]
print(a["name"], a["status"], a["result"], a["error"] == sys.argv[2], p["exit_code"], p["agents"][0]["fails"], p["age_s"] >= 0)' "$T/json" "$err")" \
    'falcon-agent started failed True 1 2 True'

# Fixed: no error in the state, then none in the heartbeat.
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
pass
is 'fixed: exit 0, no error' "$rc $(st 'a["result"], a["error"], a["fails"]')" "0 ('nothing', '', 0)"
pass
is 'the next heartbeat has no error field' \
    "$(curl -s "$BASE/status/json/falcon-agent" | python3 -c 'import json,sys; print("error" in json.load(sys.stdin)[0])')" False

# Server down: the pass fails, and says so in the state; agents carried over.
stop_server
pass
is 'server down: exit 1' "$rc" 1
is 'server down: recorded, agents kept' "$(st 's["exit_code"], a["name"], a["result"]')" "(1, 'falcon-agent', 'nothing')"

# A corrupt state is a warning, never a failed pass.
start_server
config
printf '{"format": 1, "agents": [{' >"$W/ops-updater.state.json"
: >"$W/ops-updater.log"
pass
is 'corrupt state: exit 0' "$rc" 0
grep_log 'corrupt state: a warning' 'warning: state: .*ops-updater.state.json: not a whole JSON object; starting afresh'
is 'corrupt state: replaced by a good one' "$(st 's["exit_code"], a["result"]')" "(0, 'nothing')"

# Never read through a symlink; the write replaces the link, not its target.
echo secret >"$T/target"
rm "$W/ops-updater.state.json" && ln -s "$T/target" "$W/ops-updater.state.json"
: >"$W/ops-updater.log"
pass
is 'symlinked state: exit 0' "$rc" 0
grep_log 'symlinked state: not followed' 'warning: state: .*ops-updater.state.json: Too many levels of symbolic links'
is 'symlinked state: the target untouched' "$(cat "$T/target")" secret
check 'symlinked state: now a plain file' test -f "$W/ops-updater.state.json" -a ! -L "$W/ops-updater.state.json"

# An error with control bytes is escaped by status.
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["agents"][0].update(result="failed", error="evil\x1b[2J\nforged line", fails=1, fail_since=1)
json.dump(s, open(sys.argv[1], "w"))
PY
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status"
check 'status escapes what it prints' grep -Fq 'evil\x1b[2J\x0aforged line' "$T/status"
check_fails 'no raw escape byte' grep -q "$(printf '\033')" "$T/status"
done_testing
