#!/bin/sh
# A broken host does not wait for its slot: rollout_spread protects hosts
# that run well from a new version, but one whose current version is not
# running and cannot be started, or has failed its probation, has nothing
# to protect: it takes the new version at once, and the log says why. A
# healthy host on the same pass still waits.
. "$(dirname "$0")/lib.sh"

asked() { grep -c "^GET /files/$1-1.0.1.tar.gz " "$T/requests"; }

for n in w x y; do
	mkagent $n 1.0.0
	mkagent $n 1.0.1
done
crashing z 1.0.0
mkagent z 1.0.1
serve "{\"agents\": [$(want w 1.0.0), $(want x 1.0.0), $(want y 1.0.0), $(want z 1.0.0)]}"
start_server
config '"health_wait": 1'
pass
is 'setup: all four at 1.0.0' "$rc $(cat "$W/w/.version" "$W/x/.version" "$W/y/.version" "$W/z/.version" | tr '\n' ' ')" \
    '0 1.0.0 1.0.0 1.0.0 1.0.0 '

# x's 1.0.0 is down and cannot start any more; y runs well; z crashes;
# w's status gives no answer, which says nothing: it waits like y.
sed -i 's/^status) .*/status) sleep 300 ;;/' "$W/w/1.0.0/control"
sed -i 's/^start) /start) echo "no config" >\&2; exit 1; /' "$W/x/1.0.0/control"
kill "$(cat "$W/x/1.0.0/agent.pid")"
dead "$W/x/1.0.0" 'x 1.0.0'
dead "$W/z/1.0.0" 'z 1.0.0'
config '"health_wait": 1, "rollout_spread": 604800, "control_timeout": 1'
serve "{\"agents\": [$(want w 1.0.1), $(want x 1.0.1), $(want y 1.0.1), $(want z 1.0.1)]}"
: >"$W/ops-updater.log"
pass
is 'a healthy host'"'"'s slot is days off (no luck of the hash)' \
    "$(sa y 'a["slot_at"] - a["seen_at"] > 3600')" True
is 'y waits for its slot: still 1.0.0, nothing fetched' "$(cat "$W/y/.version") $(sa y 'a["result"]') $(asked y)" \
    '1.0.0 waiting 0'
check 'y 1.0.0 runs' running "$W/y/1.0.0"
grep_log 'y: the log says when' 'info y: 1\.0\.1 waits for its slot at '
is 'x, whose 1.0.0 cannot start, took 1.0.1 at once' "$(cat "$W/x/.version") $(sa x 'a["result"]')" '1.0.1 ok'
check 'x 1.0.1 runs' running "$W/x/1.0.1"
grep_log 'the log says why' \
    'warning x: 1\.0\.1: taken now, not at its slot: the current version 1\.0\.0 is not running \(start failed\)$'
is 'z died once: started again, still waits' "$(cat "$W/z/.version") $(sa z 'a["result"], a["probation_deaths"]')" \
    "1.0.0 ('waiting', 1)"
is 'w, whose status gives no answer, waits too' "$(cat "$W/w/.version") $(asked w)" '1.0.0 0'
check_fails 'nothing said of taking it now' grep -q 'w: .*taken now' "$W/ops-updater.log"
sed -i 's/^status) .*/status) running \&\& echo started || echo stoped ;;/' "$W/w/1.0.0/control"

dead "$W/z/1.0.0" 'z 1.0.0 again'
: >"$W/ops-updater.log"
pass
is 'z failed its probation: took 1.0.1 at once' "$(cat "$W/z/.version") $(sa z 'a["result"]')" '1.0.1 ok'
check 'z 1.0.1 runs' running "$W/z/1.0.1"
grep_log 'the log says why' \
    'warning z: 1\.0\.1: taken now, not at its slot: the current version 1\.0\.0 failed its probation: 1\.0\.0 died 2 times within 15 min of its commit$'
is 'y still waits' "$(cat "$W/y/.version") $(sa y 'a["result"]') $(asked y)" '1.0.0 waiting 0'
is 'the pass: exit 0' "$rc" 0
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check"
is 'check: OK (one waits)' "$?" 0
done_testing
