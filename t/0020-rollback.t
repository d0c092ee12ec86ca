#!/bin/sh
# A version that never reaches "started" is rolled back and kept on disk
# for its logs, never started again from there; a fresh one that never
# starts leaves no .version.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1 nostart
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"status_wait": 1'

pass
is 'install 1.0.0: exit 0' "$rc" 0
check '1.0.0 runs' running "$W/falcon-agent/1.0.0"
old=$(cat "$W/falcon-agent/1.0.0/agent.pid")

serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'failed upgrade: exit 1' "$rc" 1
is '.version still names 1.0.0' "$(cat "$W/falcon-agent/.version")" 1.0.0
check '1.0.0 runs again' running "$W/falcon-agent/1.0.0"
check_fails 'with a new process (it was stopped for the switch)' test "$(cat "$W/falcon-agent/1.0.0/agent.pid")" = "$old"
grep_log 'the log says why' 'warning falcon-agent: 1.0.1 did not start; rolling back to 1.0.0'
grep_log 'and what status said' "start .*/falcon-agent/1.0.1: did not start: status is 'stoped', not 'started', after 1 s; control start exited 0 \(no output\)\$"
check '1.0.1 is kept, for its logs' test -x "$W/falcon-agent/1.0.1/control"
grep_log 'and the log says where' "info falcon-agent: 1.0.1 kept for its logs \(never started again from there\): $W/falcon-agent/1.0.1, output in $W/falcon-agent/control-1.0.1.log\$"
check 'with its control-1.0.1.log' test -f "$W/falcon-agent/control-1.0.1.log"

(cd "$W/falcon-agent/1.0.0" && ./control stop)
rm -rf "$W/falcon-agent"
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'fresh install that never starts: exit 1' "$rc" 1
check_fails 'no .version written' test -e "$W/falcon-agent/.version"
pass
is 'a second try fails the same way' "$rc" 1
is 'downloading it again (a failed version is not started from where it failed)' "$(grep -c '^GET /files/falcon-agent-1.0.1.tar.gz ' "$T/requests")" 3
check 'and keeping the new one' test -x "$W/falcon-agent/1.0.1/control"

# A relative work directory (-c cfg.json, run from the work directory, as
# the control script does): the rollback finds what it removes, and the
# error recorded is the start's, not the removal's.
rm -rf "$W/falcon-agent"
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
pass
is 'relative: 1.0.0 installed' "$rc" 0
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
(cd "$W" && "$OPS_UPDATER" -c cfg.json --no-jitter run) >"$T/pass.out" 2>&1
is 'relative workdir, failed upgrade: exit 1' "$?" 1
sanitizer_clean "$T/pass.out" 'relative workdir'
check '1.0.0 runs again' running "$W/falcon-agent/1.0.0"
case $(st 'a["error"]') in "start ./falcon-agent/1.0.1: did not start: status is 'stoped', not 'started'"*) r=0 ;; *) r=1 ;; esac
is 'the error recorded is why it failed' "$r" 0
n=$(grep -c '^GET /files/falcon-agent-1.0.1.tar.gz ' "$T/requests")
(cd "$W" && "$OPS_UPDATER" -c cfg.json --no-jitter run) >"$T/pass.out" 2>&1
is 'relative workdir, tried again: exit 1' "$?" 1
grep_log 'the kept 1.0.1 is moved aside and removed' 'info falcon-agent: removing ./falcon-agent/1.0.1, kept after its failure: it is downloaded again$'
check_fails 'without an error' grep -q 'error falcon-agent: move' "$W/ops-updater.log"
is 'and downloaded again' "$(grep -c '^GET /files/falcon-agent-1.0.1.tar.gz ' "$T/requests")" $((n + 1))
is 'nothing is left aside' "$(leftovers falcon-agent)" ''
done_testing
