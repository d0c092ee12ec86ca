#!/bin/sh
# One pass at a time: a second pass exits 75 at once, naming the holder;
# a daemon started by a pass never inherits the lock.
. "$(dirname "$0")/lib.sh"

mkagent slow 1 hangstatus
start_server
config '"control_timeout": 20'
mkdir -p "$W/slow" && tar -xzf "$F/slow-1.tar.gz" -C "$W/slow" --one-top-level=1 && echo 1 >"$W/slow/.version"

# The first pass hangs in control status (up to 20 s) holding the lock.
"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1 &
first=$!
i=0
while ! grep -q . "$W/ops-updater.pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pass
is 'second pass: exit 75' "$rc" 75
check 'while the first pass is still running' kill -0 $first
grep_log 'the log names the holder, at info' "\\] info: another pass \\(pid $first\\) holds .*/ops-updater.pid; exiting"
second=$(sed -n "s/.*\\[\\([0-9]*\\)\\] info: another pass .*/\\1/p" "$W/ops-updater.log" | head -1)
is 'a lock conflict is normal: no error line from the second pass' \
    "$(grep -c "\\[$second\\] error" "$W/ops-updater.log") ${second:+found}" '0 found'
{ kill $first; wait $first; } 2>/dev/null

# A pass that starts a daemon: the next pass must still get the lock.
rm -rf "$W/slow"
mkagent daemon 1
serve "{\"agents\": [$(want daemon 1)]}"
pass
is 'a pass that starts a daemon: exit 0' "$rc" 0
check 'the daemon runs' running "$W/daemon/1"
pass
is 'the next pass gets the lock' "$rc" 0
done_testing
