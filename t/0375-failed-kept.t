#!/bin/sh
# Keep the evidence: a version that unpacked and verified but failed to
# start or failed its health gate stays on disk with its control log
# (never named by .version; status names it; pruned by keep_versions like
# any old version). It is never started again from there: tried again,
# it is downloaded again (the bytes may have been republished), its old
# directory moved aside first. A version refused while downloading,
# verifying or unpacking is still removed at once.
. "$(dirname "$0")/lib.sh"

A=$W/a
mkagent a 1
mkagent a 2 crash
serve "{\"agents\": [$(want a 1)]}"
start_server
config '"health_wait": 4, "keep_versions": 1'
pass
is 'setup: 1 installed' "$rc" 0

serve "{\"agents\": [$(want a 2)]}"
pass
is '2 fails its health gate: exit 1' "$rc" 1
check '2 is kept' test -x "$A/2/control"
check 'with what it did' test -s "$A/2/starts"
check 'and its control log' test -f "$A/control-2.log"
is '.version still names 1' "$(cat "$A/.version")" 1
check_fails '2 does not run' running "$A/2"
is 'the state says which version is kept' "$(st 'a["kept_failed"]')" 2
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status names its directory and its log' \
    grep -qF "2 failed; kept for its logs: $A/2 (output in $A/control-2.log)" "$T/status"

# Republished, fixed, under the same version: downloaded again, not
# started from the kept directory.
mkagent a 2
gets=$(grep -c '^GET /files/a-2.tar.gz ' "$T/requests")
"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>/dev/null
check 'plan says it is downloaded again' grep -Eq '^a +download\+install again 2, replacing 1$' "$T/plan"
pass
is 'tried again: exit 0' "$rc" 0
grep_log 'the kept directory is moved aside and removed first' "info a: removing $A/2, kept after its failure: it is downloaded again\$"
is 'downloaded again' "$(grep -c '^GET /files/a-2.tar.gz ' "$T/requests")" $((gets + 1))
is 'a fresh directory: one start in it' "$(wc -l <"$A/2/starts")" 1
is 'now at 2' "$(cat "$A/.version") $(running "$A/2" && echo up)" '2 up'
is 'nothing kept as failed any more' "$(st '"kept_failed" in a')" False
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check_fails 'and status no longer says so' grep -q 'kept for its logs' "$T/status"

# Refused while verifying: removed at once, nothing kept.
mkagent a 3
echo "00000000000000000000000000000000  a-3.tar.gz" >"$F/a-3.tar.gz.md5"
serve "{\"agents\": [$(want a 3)]}"
pass
is 'a digest mismatch: exit 1' "$rc" 1
check_fails 'nothing of 3 is on disk' test -e "$A/3"
is 'nothing left aside' "$(leftovers a)" ''
is 'nothing kept' "$(st '"kept_failed" in a')" False

# Only the last failed version is kept; a newer failure replaces it.
mkagent a 4 crash
mkagent a 5 nostart
serve "{\"agents\": [$(want a 4)]}"
pass
is '4 fails: kept' "$rc $(st 'a["kept_failed"]')" '1 4'
serve "{\"agents\": [$(want a 5)]}"
config '"health_wait": 4, "keep_versions": 1, "status_wait": 1'
pass
is '5 fails: kept instead' "$rc $(st 'a["kept_failed"]')" '1 5'
grep_log '4 goes' "info a: removing $A/4, kept after its failure: a later version failed since\$"
check_fails '4 is gone' test -e "$A/4"
check_fails 'with its log' test -e "$A/control-4.log"
check '5 is there' test -x "$A/5/control"

# keep_versions prunes it later like any old version.
mkagent a 6
mkagent a 7
serve "{\"agents\": [$(want a 6)]}"
pass
is 'switch to 6: exit 0' "$rc" 0
serve "{\"agents\": [$(want a 7)]}"
pass
is 'switch to 7: exit 0' "$rc" 0
pass	# old versions go in the pass after a switch
is 'keep_versions 1: only 7 and 6 are left' "$(cd "$A" && ls -d [0-9]* | tr '\n' ' ')" '6 7 '
is 'and only their logs' "$(cd "$A" && ls control-*.log | tr '\n' ' ')" 'control-6.log control-7.log '

# A later version that succeeds ends what status says of a failed one:
# its directory stays (keep_versions), and it is still never started
# from there.
mkagent a 8 nostart
mkagent a 9
config '"health_wait": 4, "keep_versions": 5, "status_wait": 1'
serve "{\"agents\": [$(want a 8)]}"
pass
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check '8 fails: status says it is kept' grep -qF "8 failed; kept for its logs: $A/8" "$T/status"
serve "{\"agents\": [$(want a 9)]}"
pass
is '9 succeeds: exit 0, 8 still on disk' "$rc $(cat "$A/.version") $(test -x "$A/8/control" && echo kept)" '0 9 kept'
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check_fails 'status no longer says 8 failed' grep -q '8 failed; kept' "$T/status"
pass
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check_fails 'nor after a pass with nothing to do' grep -q '8 failed; kept' "$T/status"
serve "{\"agents\": [$(want a 8)]}"
"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>/dev/null
check 'asked again, 8 is still downloaded again, not started from disk' grep -Eq '^a +download\+install again 8, replacing 9$' "$T/plan"

# While its hold stands it stays: with keep_versions 0, the pass that finds
# the agent as asked again (the server back at 9) keeps 10, failed and held,
# and ends the hold; the next pass prunes it like any old version.
mkagent a 10 nostart
config '"keep_versions": 0, "status_wait": 1, "retry_failed": 3600'
serve "{\"agents\": [$(want a 10)]}"
pass
is '10 fails: held and kept' "$rc $(st 'a["held_version"] + " " + a["kept_failed"]')" '1 10 10'
serve "{\"agents\": [$(want a 9)]}"
pass
is 'back at 9: the others go, 10 (held) stays' "$rc $(cd "$A" && ls -d [0-9]* | tr '\n' ' ')" '0 10 9 '
pass
is 'the hold over, the next pass prunes 10' "$rc $(cd "$A" && ls -d [0-9]* | tr '\n' ' ')" '0 9 '
done_testing
