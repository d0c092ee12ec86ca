#!/bin/sh
# No flapping: a version that failed is held back while the server keeps
# asking for it; the old version runs untouched. A new tarball prefix
# with other files, another version or run --retry ends the hold; each
# failure doubles it.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1 nostart
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config
pass
is 'setup: 1.0.0 installed' "$rc" 0

serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
config '"status_wait": 1, "retry_failed": 600'
pass
is 'a release that never starts: exit 1' "$rc" 1
is 'held from now on, and the state says so at once' "$(st 'a["result"], a["held_version"], a["held_fails"], a["retry_after"] - a["failed_at"]')" "('held', '1.0.1', 1, 600)"
pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")
starts=$(wc -l <"$W/falcon-agent/1.0.0/starts")
tarball_gets() { grep -c '^GET /files/falcon-agent-1.0.1.tar.gz ' "$T/requests"; }
got=$(tarball_gets)

: >"$W/ops-updater.log"
pass
is 'held: exit 1' "$rc" 1
grep_log 'held: the log says until when and why' \
    "warning falcon-agent: holding 1.0.1: failed at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \(start .*/falcon-agent/1.0.1: did not start: status is 'stoped', not 'started', after 1 s; control start exited 0 \(no output\)\); next try after [0-9-]{10}T[0-9:]{8}Z$"
pass
is 'held again: exit 1' "$rc" 1
is 'the old agent was not restarted: same pid' "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$pid"
is 'and its start count is unchanged' "$(wc -l <"$W/falcon-agent/1.0.0/starts")" "$starts"
check 'it runs' running "$W/falcon-agent/1.0.0"
is 'the tarball was not downloaded again' "$(tarball_gets)" "$got"
is 'its .md5 asked for again on each held pass' "$(grep -c '^GET /files/falcon-agent-1.0.1.tar.gz.md5 200' "$T/requests")" 3
is 'the tarball not even HEADed: its .md5 pins it' "$(grep -c '^HEAD /files/falcon-agent-1.0.1.tar.gz ' "$T/requests")" 0
is '.version unchanged' "$(cat "$W/falcon-agent/.version")" 1.0.0
is 'the state says held, failures not counted again' "$(st 'a["result"], a["fails"], a["held_fails"]')" "('held', 1, 1)"
"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>/dev/null
is 'plan: exit 1' $? 1
check 'plan says holding, and why' grep -Eq "^falcon-agent +holding 1.0.1: failed at .*Z \(start .*status is 'stoped'.*\); next try after .*Z$" "$T/plan"

# --retry: tried at once; failing again doubles the hold.
pass --retry
is 'run --retry: tried again, failed: exit 1' "$rc" 1
grep_log '--retry: logged' 'falcon-agent: --retry: trying held 1.0.1 again'
is 'it did try (the old agent was restarted by the rollback)' "$(wc -l <"$W/falcon-agent/1.0.0/starts")" $((starts + 1))
is 'second failure: the hold doubles' "$(st 'a["result"], a["held_fails"], a["retry_after"] - a["failed_at"], a["fails"]')" "('held', 2, 1200, 2)"
pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")
pass
is 'held after --retry: same pid' "$(st 'a["result"]') $(cat "$W/falcon-agent/1.0.0/agent.pid")" "held $pid"

# Another tarball prefix whose files differ ends the hold: the server has
# a new build.
serve "{\"agents\": [{\"default\": {\"name\": \"falcon-agent\", \"version\": \"1.0.1\", \"tarball\": \"{base}/mirror\", \"cmd\": \"start\"}}]}"
pass
is 'new prefix: tried (and failed: nothing there): exit 1' "$rc" 1
check 'new prefix: downloaded from it' grep -q '^GET /mirror/falcon-agent-1.0.1.tar.gz.md5 404' "$T/requests"
is 'new prefix: a new hold, not doubled' "$(st 'a["result"], a["held_fails"], a["retry_after"] - a["failed_at"], a["held_tarball"].endswith("/mirror")')" "('held', 1, 600, True)"

# When the hold ends by time, the version is tried again; a failure doubles.
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["agents"][0]["retry_after"] = s["agents"][0]["failed_at"] - 1
json.dump(s, open(sys.argv[1], "w"))
PY
n=$(grep -c '^GET /mirror/falcon-agent-1.0.1.tar.gz.md5 ' "$T/requests")
pass
is 'hold over: tried again' "$(grep -c '^GET /mirror/falcon-agent-1.0.1.tar.gz.md5 ' "$T/requests")" $((n + 1))
grep_log 'hold over: logged' 'info falcon-agent: the hold of 1.0.1 is over: trying it again'
is 'hold over, failed again: doubled' "$(st 'a["held_fails"], a["retry_after"] - a["failed_at"]')" "(2, 1200)"

# The server asks for another version: the hold ends.
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
pass
is 'another version: exit 0' "$rc" 0
is 'another version: no hold, no failures' "$(st 'a["result"], a["held_version"], a["fails"], a["error"]')" "('nothing', '', 0, '')"
done_testing
