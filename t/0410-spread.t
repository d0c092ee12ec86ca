#!/bin/sh
# rollout_spread: a host downloads and starts a new version only at its own
# slot, a stable offset within the spread after the first pass that saw the
# version desired; until then it leaves the agent alone and exits 0, and
# plan, status, status --json, check and the metrics say when. A version
# no longer desired before the slot is never fetched; --now does not wait;
# a switch back to a version on disk is not spread.
. "$(dirname "$0")/lib.sh"

for v in 1.0.0 1.0.1 1.0.2; do mkagent falcon-agent $v; done
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"rollout_spread": 0'
pass
is 'no spread: installed at once' "$rc $(cat "$W/falcon-agent/.version")" '0 1.0.0'

asked() {	# GETs of the 1.0.x tarball so far
	grep -c "^GET /files/falcon-agent-$1.tar.gz " "$T/requests"
}
config "\"rollout_spread\": 3600, \"metrics_file\": \"$W/metrics.prom\""
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
: >"$W/ops-updater.log"
pass
is 'before its slot: exit 0' "$rc" 0
is 'before its slot: still 1.0.0' "$(cat "$W/falcon-agent/.version")" 1.0.0
check 'before its slot: 1.0.0 still runs' running "$W/falcon-agent/1.0.0"
is 'before its slot: nothing fetched' "$(asked 1.0.1)" 0
grep_log 'before its slot: the log says when' 'info falcon-agent: 1\.0\.1 waits for its slot at [0-9T:-]+Z \(rollout_spread\)'
is 'the state: waiting' "$(st 'a["result"] + " " + a["seen_version"]')" 'waiting 1.0.1'
seen=$(st 'a["seen_at"]')
slot=$(st 'a["slot_at"]')
check 'the slot lies within the spread after the first sighting' test "$slot" -gt "$seen" -a "$slot" -lt $((seen + 3600))
grep_log 'seen: counted from this pass' "waits for its slot at $(date -u -d @"$slot" +%Y-%m-%dT%H:%M:%SZ)"
pass
is 'a later pass keeps the first sighting' "$(st '"%d %d" % (a["seen_at"], a["slot_at"])')" "$seen $slot"
"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>&1
is 'plan: exit 0, nothing due' $? 0
check 'plan says when' grep -q "falcon-agent .*1\.0\.1 waits for its slot at $(date -u -d @"$slot" +%Y-%m-%dT%H:%M:%SZ)" "$T/plan"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status says when' grep -q "^falcon-agent .*waiting .*1\.0\.1 waits for its slot at" "$T/status"
"$OPS_UPDATER" -c "$W/cfg.json" status --json >"$T/status.json"
is 'status --json has the slot' "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["last_pass"]["agents"][0]; print(a["result"], a["slot_at"], a["done"])' "$T/status.json")" \
    "waiting $slot 1.0.1 waits for its slot at $(date -u -d @"$slot" +%Y-%m-%dT%H:%M:%SZ) (rollout_spread)"
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check"
is 'check: OK while waiting' $? 0
check 'check says one waits' grep -q '^OPS-UPDATER OK - 1 agent as asked (1 waiting for its slot)' "$T/check"
check 'the metrics have the slot' grep -qx "ops_updater_agent_slot_timestamp_seconds{name=\"falcon-agent\",version=\"1.0.1\"} $slot" "$W/metrics.prom"

# Not desired any more before its slot: never fetched.
serve "{\"agents\": [$(want falcon-agent 1.0.2)]}"
pass
is 'another version before the slot: exit 0' "$rc" 0
is 'it counts from its own first sighting' "$(st 'a["seen_version"]')" 1.0.2
check 'its own slot' test "$(st 'a["seen_at"]')" -ge "$seen"
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is '1.0.1 again: a new first sighting' "$(st 'a["seen_version"] + " " + str(a["seen_at"] >= '"$seen"')')" '1.0.1 True'
is '1.0.1 was never fetched' "$(asked 1.0.1) $(asked 1.0.2)" '0 0'

# The slot has come (the first sighting moved back by the spread).
python3 - "$W/ops-updater.state.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["agents"][0]["seen_at"] -= 3600
json.dump(s, open(sys.argv[1], "w"))
EOF
pass
is 'at its slot: switched' "$rc $(cat "$W/falcon-agent/.version")" '0 1.0.1'
is 'at its slot: fetched once' "$(asked 1.0.1)" 1
is 'the state: ok' "$(st 'a["result"]')" ok
check 'the metrics: no slot once switched' sh -c "! grep -q agent_slot_timestamp_seconds{ '$W/metrics.prom'"

# Back to 1.0.0, on disk: a rollback is not spread.
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
pass
is 'back to a version on disk: at once' "$rc $(cat "$W/falcon-agent/.version")" '0 1.0.0'

# --now does not wait.
serve "{\"agents\": [$(want falcon-agent 1.0.2)]}"
pass
is 'a new version: waits' "$(cat "$W/falcon-agent/.version") $(st 'a["result"]')" '1.0.0 waiting'
"$OPS_UPDATER" -c "$W/cfg.json" --now plan >"$T/plan" 2>&1
is 'plan --now: changes due (2)' $? 2
pass --now
is 'run --now: switched at once' "$rc $(cat "$W/falcon-agent/.version")" '0 1.0.2'

# An agent new to a running fleet is spread like a new version: its hosts
# have answered heartbeats before.
mkagent fresh-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.2), $(want fresh-agent 1.0.0)]}"
pass
is 'a new agent on a running host: waits' "$rc $(st '[x for x in s["agents"] if x["name"] == "fresh-agent"][0]["result"]')" '0 waiting'
check_fails 'a new agent on a running host: not installed yet' test -e "$W/fresh-agent"
# A fresh host (no heartbeat of its own answered before) installs what it
# lacks at once: it is no part of a release's wave.
rm "$W/ops-updater.state.json"
pass
is 'a fresh host: installed at once' "$rc $(cat "$W/fresh-agent/.version")" '0 1.0.0'
check 'a fresh host: it runs' running "$W/fresh-agent/1.0.0"
is 'a fresh host: the state says so' "$(st '[x for x in s["agents"] if x["name"] == "fresh-agent"][0]["result"]')" ok
done_testing
