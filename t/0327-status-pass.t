#!/bin/sh
# What status and check say of the passes: the last one by its end (the
# age counts from there), one under way (the lock's holder and since
# when), and the pass's own peak memory in its last log line.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkgated falcon-agent 1.0.1 "$T/gate"
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"jitter": 0'
pass
is 'setup: a pass, exit 0' "$rc" 0

# The last pass by its end: it began 100 s ago and took 50 s.
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys, time
s = json.load(open(sys.argv[1]))
s["started"] = int(time.time()) - 100
s["duration_ms"] = 50000
json.dump(s, open(sys.argv[1], "w"))
PY
ended=$(st 's["started"] + s["duration_ms"] // 1000')
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
when=$(date -u -d "@$ended" +%Y-%m-%dT%H:%M:%SZ)
check 'status: the end of the last pass, and how long ago it ended' \
    grep -Eq "^last pass: ended $when, (49|5[0-3]) s ago, took 50.0 s, exit 0$" "$T/status"
check_fails 'no pass in progress' grep -q 'pass in progress' "$T/status"

# A pass under way: status and check name the lock's holder, and since when.
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/bg.out" 2>&1 &
bg=$!
check 'setup: a pass is in the start of 1.0.1' wait_file "$T/in-1.0.1"
since=$(date -u -r "$W/ops-updater.pid" +%Y-%m-%dT%H:%M:%SZ)
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status: the pass in progress, its pid and since when' \
    grep -Eq "^pass in progress: pid $bg since $since \([0-9]+ s\)$" "$T/status"
plugin
check 'check: the same, before the perfdata' \
    sh -c 'printf "%s\n" "$1" | grep -Eq "; pass in progress: pid $2 since $3 \([0-9]+ s\) \| age="' - "$out" "$bg" "$since"
is 'check: a pass in progress is no fault' "$crc" 0
touch "$T/gate"
wait "$bg"
is 'the pass ends: exit 0' "$?" 0
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'its pid is still in the lock file' test "$(cat "$W/ops-updater.pid")" = "$bg"
check_fails 'but no pass is in progress any more' grep -q 'pass in progress' "$T/status"
plugin
check_fails 'nor for check' sh -c 'printf "%s\n" "$1" | grep -q "pass in progress"' - "$out"

# Peak rss: this process's own. Under a parent that used 200 MiB before
# it ran the pass (execve keeps ru_maxrss), the pass says its own few MiB.
python3 -c '
import os, sys
x = bytearray(200 << 20)
for i in range(0, len(x), 4096):
    x[i] = 1
os.execv(sys.argv[1], sys.argv[1:])' "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1
is 'a pass under a 200 MiB parent: exit 0' "$?" 0
mib=$(sed -n 's/.*pass done: .* peak rss \([0-9]*\)\.[0-9] MiB.*/\1/p' "$W/ops-updater.log" | tail -1)
check "its peak rss is its own ($mib MiB), not the parent's 200" test -n "$mib" -a "${mib:-999}" -lt 100 -a "${mib:-0}" -gt 0
done_testing
