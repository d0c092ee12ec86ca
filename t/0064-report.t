#!/bin/sh
# What ops-meta's status pages learn from a pass: every agent, and after a
# pass that changed something the new state at once, in a second heartbeat
# of the same pass (bounded by heartbeat_timeout; its failure logged, not
# fatal). realAgents lists the agents only, as the Go updater sends them;
# the updater itself (name ops-updater, its version) only with
# heartbeat_self, and always in the User-Agent.
. "$(dirname "$0")/lib.sh"

SELF="[\"ops-updater\", \"$VERSION\", \"started\"]"
beats() { grep -c '^POST /heartbeat ' "$T/requests"; }
reports() { grep '^REPORT ' "$T/requests" | tail -n "$1" | cut -d' ' -f3- | tr '\n' '|'; }

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"heartbeat_timeout": 2'

pass
is 'install: exit 0' "$rc" 0
is 'install: two heartbeats' "$(beats)" 2
is 'the first before, the second after the install, the agents only' "$(reports 2)" \
    '[]|[["falcon-agent", "1.0.0", "started"]]|'
is 'the server shows the new version at once' "$(reported falcon-agent)" '1.0.0 started'
is 'no entry for the updater by default' "$(reported ops-updater)" ''
is 'its version goes in the User-Agent of each heartbeat' "$(grep '^UA ' "$T/requests" | sort -u)" \
    "UA ops-updater/$VERSION"

config '"heartbeat_timeout": 2, "heartbeat_self": true'
pass
is 'heartbeat_self: the updater as the last entry' "$(reports 1)" \
    "[[\"falcon-agent\", \"1.0.0\", \"started\"], $SELF]|"
is 'and the server shows its version' "$(reported ops-updater)" "$VERSION started"

is 'nothing to do: exit 0' "$rc" 0
is 'nothing changed: one heartbeat' "$(beats)" 3

serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'upgrade: exit 0' "$rc" 0
is 'upgrade: two heartbeats' "$(beats)" 5
is 'the server shows 1.0.1 after the pass that installed it' "$(reported falcon-agent)" '1.0.1 started'

# A switch that fails: the error goes with the second heartbeat.
serve "{\"agents\": [$(want falcon-agent 1.0.9)]}"
pass
is 'a missing release: exit 1' "$rc" 1
is 'failed switch: two heartbeats' "$(beats)" 7
is 'the server has the error of this pass' \
    "$(curl -s "$BASE/status/json/falcon-agent" | python3 -c 'import json,sys; r = json.load(sys.stdin)[0]; print(r["version"], r.get("error", ""))')" \
    "1.0.1 failed: GET $BASE/files/falcon-agent-1.0.9.tar.gz.md5: HTTP 404"

# The second heartbeat fails: logged, not fatal, and not a failed heartbeat.
: >"$W/ops-updater.log"
serve "{\"agents\": [$(want falcon-agent 1.0.0)], \"faults\": {\"heartbeat\": {\"from\": $(($(beats) + 2)), \"status\": 503, \"body\": \"busy\"}}}"
pass
is 'second heartbeat refused: the pass still exits 0' "$rc" 0
is 'switched all the same' "$(cat "$W/falcon-agent/.version")" 1.0.0
grep_log 'its failure is logged' "error: POST $BASE/heartbeat: HTTP 503"
grep_log 'and what it means' "warning: the server was not told of this pass's changes: the next pass tells it"
is 'the state has no failed heartbeat' "$(st 's["heartbeat_fails"], s["heartbeat_error"]')" "(0, '')"

# Too slow: cut at heartbeat_timeout, the pass goes on.
: >"$W/ops-updater.log"
serve "{\"agents\": [$(want falcon-agent 1.0.1)], \"faults\": {\"heartbeat\": {\"from\": $(($(beats) + 2)), \"sleep\": 5}}}"
pass
is 'second heartbeat too slow: exit 0' "$rc" 0
grep_log 'cut at heartbeat_timeout' "error: POST $BASE/heartbeat: (Operation timed out after 2[0-9]{3} milliseconds|Timeout)"
is 'switched all the same' "$(cat "$W/falcon-agent/.version")" 1.0.1

# A first install that fails leaves nothing to report the agent by (no
# .version): with heartbeat_self, its error goes with the updater's own
# entry, from the next heartbeat on, until a pass does it well.
self_error() {
	curl -s "$BASE/status/json/ops-updater" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("error", "none"))'
}
serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want newbie 1.0.0)]}"
pass
is 'a new agent whose release is missing: exit 1' "$rc" 1
check_fails 'nothing of it on disk' test -e "$W/newbie"
pass
is 'the next heartbeat tells the server why, on the updater'"'"'s entry' "$(self_error)" \
    "newbie: failed: GET $BASE/files/newbie-1.0.0.tar.gz.md5: HTTP 404"
mkagent newbie 1.0.0
pass
is 'published: installed' "$rc $(cat "$W/newbie/.version")" '0 1.0.0'
is 'the second heartbeat of that pass clears it' "$(self_error)" none
done_testing
