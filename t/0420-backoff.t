#!/bin/sh
# Backing off when the servers ask: a 429 or 503 with Retry-After (seconds
# or an HTTP date, at most a day) from ops-meta or the file server leaves
# that origin alone until then, also in later passes (the state keeps it),
# each pass saying why; without Retry-After, a tarball server's 5xx makes
# the version skip passes that double per answer, capped by retry_failed,
# and never holds it.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
mkagent dinp-agent 2.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"retry_failed": 3600'
pass
is 'installed' "$rc" 0

posts() { grep -c '^POST /heartbeat ' "$T/requests"; }
gets() { grep -c "^GET /files/$1 " "$T/requests"; }
waits() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(" ".join("%s:%d" % (w["origin"], w["status"]) for w in s["waits"]))' \
	    "$W/ops-updater.state.json"
}

# ops-meta says 503, Retry-After: 120.
serve "{\"agents\": [$(want falcon-agent 1.0.0)], \"faults\": {\"heartbeat\": {\"status\": 503, \"body\": \"busy\", \"retry_after\": \"120\"}}}"
: >"$W/ops-updater.log"
pass
is 'heartbeat 503: exit 1' "$rc" 1
grep_log 'the wait is logged with its origin' "http://127\.0\.0\.1:$PORT answered HTTP 503 with Retry-After: 120; not asked again before"
is 'the state keeps the wait' "$(waits)" "http://127.0.0.1:$PORT:503"
until=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["waits"][0]["until"])' "$W/ops-updater.state.json")
check 'for 120 s' test $((until - $(date +%s))) -gt 100 -a $((until - $(date +%s))) -le 120
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
before=$(posts)
: >"$W/ops-updater.log"
pass
is 'the next pass: exit 1' "$rc" 1
is 'the next pass: ops-meta not asked' "$(posts)" "$before"
grep_log 'the next pass says why' "POST http://127\.0\.0\.1:$PORT/heartbeat: not asked: http://127\.0\.0\.1:$PORT answered HTTP 503 with Retry-After, wait until"
matches 'and the state says it as the heartbeat'"'"'s error' "$(st 's["heartbeat_error"]')" \
    "^POST http://127\.0\.0\.1:$PORT/heartbeat: not asked: http://127\.0\.0\.1:$PORT answered HTTP 503 with Retry-After, wait until"
check 'the agent untouched' running "$W/falcon-agent/1.0.0"
"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>&1
is 'plan does not ask either' "$(posts)" "$before"
# The wait is over (moved into the past in the state): asked again.
python3 - "$W/ops-updater.state.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for w in s["waits"]:
    w["until"] -= 200
json.dump(s, open(sys.argv[1], "w"))
EOF
pass
is 'after the wait: asked, exit 0' "$rc $(posts)" "0 $((before + 1))"
is 'after the wait: forgotten' "$(waits)" ''

# A wait further than a day (a clock set back) is not believed.
python3 - "$W/ops-updater.state.json" "$PORT" <<'EOF'
import json, sys, time
s = json.load(open(sys.argv[1]))
s["waits"] = [{"origin": "http://127.0.0.1:%s" % sys.argv[2], "until": int(time.time()) + 3 * 86400, "status": 503}]
json.dump(s, open(sys.argv[1], "w"))
EOF
before=$(posts)
pass
is 'a wait beyond a day is dropped' "$rc $(posts)" "0 $((before + 1))"

# An HTTP date, and the file server: 429 for the tarball's .md5.
when=$(date -u -d '+90 seconds' '+%a, %d %b %Y %H:%M:%S GMT')
serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want dinp-agent 2.0.0)],
  \"faults\": {\"files\": {\"falcon-agent-1.0.1.tar.gz.sha256\": {\"status\": 429, \"retry_after\": \"$when\"}}}}"
: >"$W/ops-updater.log"
pass
is 'files 429: exit 1' "$rc" 1
grep_log 'files 429: logged with the date' "answered HTTP 429 with Retry-After: $when"
is 'files 429: falcon-agent untouched' "$(cat "$W/falcon-agent/.version")" 1.0.0
is 'the other agent of that origin is not asked in the same pass' "$(grep -c '^GET /files/dinp-agent' "$T/requests")" 0
matches 'and its error in the state says why' \
    "$(st '[x["error"] for x in s["agents"] if x["name"] == "dinp-agent"][0]')" \
    "^GET http://127\.0\.0\.1:$PORT/files/dinp-agent-2\.0\.0\.tar\.gz\.sha256: not asked: http://127\.0\.0\.1:$PORT answered HTTP 429 with Retry-After, wait until"
is 'no hold for it' "$(st 'a["held_version"] or "none"')" none
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
before=$(grep -c '^GET /files/' "$T/requests")
pass
is 'the next pass: no file asked for' "$rc $(grep -c '^GET /files/' "$T/requests")" "1 $before"

# 5xx without Retry-After: passes skipped, doubling, never a hold. (The
# 429 above began a streak of busy answers: a fresh one here.)
python3 - "$W/ops-updater.state.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["waits"] = []
for a in s["agents"]:
    for k in ("busy_version", "busy_fails", "busy_skip", "busy_since"):
        a.pop(k, None)
json.dump(s, open(sys.argv[1], "w"))
EOF
serve "{\"agents\": [$(want falcon-agent 1.0.1)], \"faults\": {\"files\": {\"falcon-agent-1.0.1.tar.gz\": {\"status\": 503}}}}"
tries=
for i in 1 2 3 4 5 6 7 8; do
	before=$(gets falcon-agent-1.0.1.tar.gz)
	pass
	[ "$(gets falcon-agent-1.0.1.tar.gz)" != "$before" ] && tries="$tries $i"
	[ "$rc" = 1 ] || tries="$tries rc$rc"
done
is 'a 503 for the tarball: tried on passes 1 2 4 8 (0, 1, 3 skipped between)' "$tries" ' 1 2 4 8'
grep_log 'a skipped pass says why' 'skipping 1\.0\.1 this pass: its server answered HTTP 5xx or 429 3 times in a row; next try in [0-9]+ pass'
is 'no hold for a busy server' "$(st 'a["held_version"] or "none"')" none
is 'the failures are counted' "$(st 'a["result"] + " " + str(a["fails"] > 5)')" 'failed True'
pass --now
is '--now does not wait' "$(gets falcon-agent-1.0.1.tar.gz)" 5
# Capped by retry_failed: past it, the next pass tries.
python3 - "$W/ops-updater.state.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["agents"][0]["busy_skip"] = 50
s["agents"][0]["busy_since"] -= 3600
json.dump(s, open(sys.argv[1], "w"))
EOF
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'past retry_failed: tried, and now it works' "$rc $(cat "$W/falcon-agent/.version")" '0 1.0.1'
is 'the streak is over' "$(st '(a.get("busy_version") or "none")')" none

# The heartbeat's servers wait 5 minutes at most: one answer (a load
# balancer's maintenance page, a forged 503 on plain http) must not
# silence the host for a day. Status, check and the metrics say until
# when, and which origin.
mkdir -p "$T/prom"
config "\"retry_failed\": 3600, \"metrics_file\": \"$T/prom/ops-updater.prom\""
serve "{\"agents\": [$(want falcon-agent 1.0.1)], \"faults\": {\"heartbeat\": {\"status\": 503, \"body\": \"maintenance\", \"retry_after\": \"86400\"}}}"
: >"$W/ops-updater.log"
pass
is 'heartbeat 503 for a day: exit 1' "$rc" 1
grep_log 'the wait is cut to 5 minutes, saying so' \
    "http://127\.0\.0\.1:$PORT answered HTTP 503 with Retry-After: 86400; not asked again before .* \(the heartbeat's servers wait 5 minutes at most\)\$"
until=$(st '[w["until"] for w in s["waits"] if w["heartbeat"]][0]')
check 'parked for 5 minutes, not a day' test $((until - $(date +%s))) -gt 280 -a $((until - $(date +%s))) -le 300
at=$(date -u -d "@$until" '+%Y-%m-%dT%H:%M:%SZ')
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
matches 'status: parked until T, by which origin' "$(cat "$T/status")" \
    "^heartbeat: parked until $at by http://127\.0\.0\.1:$PORT \(HTTP 503 with Retry-After\)\$"
"$OPS_UPDATER" -c "$W/cfg.json" --json status >"$T/status.json" 2>&1
is 'status --json: heartbeat_parked' \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["heartbeat_parked"])' "$T/status.json")" \
    "[{'origin': 'http://127.0.0.1:$PORT', 'until': $until, 'status': 503}]"
plugin
is 'check: WARNING' "$crc" 1
matches 'check: parked until T, by which origin' "$out" \
    "heartbeat parked until $at by http://127\.0\.0\.1:$PORT \(HTTP 503 with Retry-After\)"
matches 'check perfdata: heartbeat_parked=1' "$out" ' heartbeat_parked=1;0;;0$'
matches 'metrics: parked until T, by origin' "$(cat "$T/prom/ops-updater.prom")" \
    "^ops_updater_heartbeat_parked_until_timestamp_seconds\{origin=\"http://127\.0\.0\.1:$PORT\"\} $until\$"
# run --now asks at once, as it says; the answer ends the wait.
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
before=$(posts)
pass --now
is '--now: ops-meta asked all the same, exit 0' "$rc $(posts)" "0 $((before + 1))"
is '--now: the wait is over' "$(waits)" ''
plugin
matches 'check: nothing parked now' "$out" ' heartbeat_parked=0;0;;0$'
check_fails 'metrics: no parked heartbeat' grep -q heartbeat_parked_until_timestamp_seconds'{' "$T/prom/ops-updater.prom"

# A file server's wait is an hour at most, and --now does not wait for
# it either.
start_other
dinp="{\"default\": {\"name\": \"dinp-agent\", \"version\": \"2.0.0\", \"tarball\": \"$OTHER/files\", \"md5\": \"\", \"cmd\": \"start\"}}"
printf '{"faults": {"files": {"dinp-agent-2.0.0.tar.gz": {"status": 503, "retry_after": "86400"}}}}\n' >"$T/meta2.json"
serve "{\"agents\": [$(want falcon-agent 1.0.1), $dinp]}"
: >"$W/ops-updater.log"
pass
is 'the mirror says 503 for a day: exit 1' "$rc" 1
is 'its wait is the files'"'"' kind' "$(waits)" "$OTHER:503"
until=$(st '[w["until"] for w in s["waits"] if not w["heartbeat"]][0]')
check 'for an hour, not a day' test $((until - $(date +%s))) -gt 3500 -a $((until - $(date +%s))) -le 3600
grep_log 'saying so' "$OTHER answered HTTP 503 with Retry-After: 86400; not asked again before .* \(an hour at most\)\$"
printf '{}\n' >"$T/meta2.json"
before=$(grep -c '^GET /files/dinp-agent-2.0.0.tar.gz ' "$T/requests2")
pass
is 'the next pass does not ask it' "$rc $(grep -c '^GET /files/dinp-agent-2.0.0.tar.gz ' "$T/requests2")" "1 $before"
pass --now
is '--now asks it all the same: installed' "$rc $(cat "$W/dinp-agent/.version")" '0 2.0.0'
is '--now: the wait is over' "$(waits)" ''
done_testing
