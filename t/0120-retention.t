#!/bin/sh
# keep_versions: the current version plus the N most recently used others;
# leftovers of a killed pass are swept by the next one.
. "$(dirname "$0")/lib.sh"

for v in 1 2 3 4 5; do mkagent falcon-agent $v; done
mkagent falcon-agent 6 nostart
start_server
config '"keep_versions": 2, "status_wait": 1'
versions() { ls "$W/falcon-agent" | grep -v '^control-.*\.log$' | tr '\n' ' '; }

for v in 1 2 3; do
	serve "{\"agents\": [$(want falcon-agent $v)]}"
	pass
	is "switch to $v: exit 0" "$rc" 0
done
is 'three versions: all kept (current + 2)' "$(versions)" '1 2 3 '
serve "{\"agents\": [$(want falcon-agent 4)]}"
pass
# Off the switch's way: the version it makes one too many stays for the
# next pass, which removes it.
is 'a fourth: the switching pass removes nothing' "$rc $(versions)" '0 1 2 3 4 '
pass
is 'the next pass: the least recently used goes' "$rc $(versions)" '0 2 3 4 '
grep_log 'the removal is logged' 'info falcon-agent: removed old version 1$'

# Back to 2 (installed: no download), then 5: 3 is now the least recently
# used.
serve "{\"agents\": [$(want falcon-agent 2)]}"
pass
is 'back to 2: exit 0' "$rc" 0
serve "{\"agents\": [$(want falcon-agent 5)]}"
pass
is 'switch to 5: 3, now one too many, stays for the next pass' "$(versions)" '2 3 4 5 '
pass
is 'reusing a version makes it recent' "$(versions)" '2 4 5 '

# A version that fails to start: rollback to 5; nothing is pruned, and the
# failed version itself is kept for its logs.
serve "{\"agents\": [$(want falcon-agent 6)]}"
pass
is 'failed switch: exit 1' "$rc" 1
is 'failed switch: current and all others kept, 6 too' "$(versions)" '2 4 5 6 '
is 'failed switch: .version names the one rolled back to' "$(cat "$W/falcon-agent/.version")" 5
check 'and it runs' running "$W/falcon-agent/5"

# Old versions go in the pass after a switch, not in it (off the critical
# path): the one just replaced stays until then.
config '"keep_versions": 0'
serve "{\"agents\": [$(want falcon-agent 4)]}"
pass
is 'keep_versions 0, switch to 4: exit 0' "$rc" 0
is 'keep_versions 0: the switching pass leaves the version it replaced' "$(versions)" '4 5 '
pass
is 'keep_versions 0: the next pass leaves only the current' "$(versions)" '4 '
grep_log 'the next pass logs the removal' 'info falcon-agent: removed old version 5$'
is 'and the state says nothing to do' "$(st 'a["result"]')" nothing
# What is due is read from the disk, not from a record: an old version a
# killed pass left (killed after its switch, before anything pruned) goes
# with the next pass all the same.
cp -a "$W/falcon-agent/4" "$W/falcon-agent/3" && rm -f "$W/falcon-agent/3/agent.pid"
pass
is 'an old version left behind: the next pass removes it' "$rc $(versions)" '0 4 '

# Leftovers of a killed pass.
mkdir -p "$W/falcon-agent/.ops-updater-tmp.9.AbCdEf/sub" "$W/fresh/.ops-updater-tmp.1.XyZ"
: >"$W/falcon-agent/.ops-updater-tmp.falcon-agent-9.tar.gz.QwErTy"
: >"$W/falcon-agent/.ops-updater-tmp..version.12345"
# A canary of our own behind symlinks: one left over, one inside a leftover.
mkdir "$T/canary" && : >"$T/canary/keep"
ln -s "$T/canary" "$W/falcon-agent/.ops-updater-tmp.link"
ln -s "$T/canary" "$W/falcon-agent/.ops-updater-tmp.9.AbCdEf/sub/link"
pass
is 'sweep: exit 0' "$rc" 0
is 'sweep: every leftover is gone' "$(find "$W" -name '.ops-updater-tmp.*')" ''
check 'sweep: a symlink is removed, not followed' test -f "$T/canary/keep"
grep_log 'sweep: logged' 'removed .*/falcon-agent/.ops-updater-tmp.9.AbCdEf, left by an interrupted pass'
done_testing
