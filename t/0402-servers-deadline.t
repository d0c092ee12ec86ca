#!/bin/sh
# Past the pass deadline no further server is tried: its request would
# time out at once, and the server would be blamed (tried last for the
# next 10 minutes) for the pass's time, not its own.
. "$(dirname "$0")/lib.sh"

mkagent a 1
serve "{\"agents\": [$(want a 1)], \"faults\": {\"heartbeat\": {\"sleep\": 20}}}"
start_server
start_other
printf '{"agents": [], "faults": {"heartbeat": {"sleep": 20}}}\n' >"$T/meta2.json"
# Which of the two this host asks first is its own (a hash of its name).
printf '{"server": ["%s", "%s"], "hostname": "h", "pass_timeout": 3, "heartbeat_timeout": 60}\n' \
    "$BASE" "$OTHER" >"$W/cfg.json"
pass
is 'both too slow: exit 1' "$rc" 1
grep_log 'the first one timed out' 'error: POST http://127\.0\.0\.1:[0-9]+/heartbeat: Operation timed out'
grep_log 'the second was not tried, and the log says why' \
    'error: the pass deadline \(pass_timeout\) has passed: http://127\.0\.0\.1:[0-9]+ and the servers after it not tried$'
is 'only the one asked is remembered as failed' "$(st 'len(s["servers"])')" 1
done_testing
