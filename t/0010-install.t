#!/bin/sh
# A fresh install, a converged pass, an upgrade, a crash, a stop.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config

pass
is 'fresh install: exit 0' "$rc" 0
is '.version names 1.0.0' "$(cat "$W/falcon-agent/.version")" 1.0.0
check 'control is in place' test -x "$W/falcon-agent/1.0.0/control"
check 'agent runs' running "$W/falcon-agent/1.0.0"
check 'tarball kept beside it' test -f "$W/falcon-agent/1.0.0/falcon-agent-1.0.0.tar.gz"
check '.md5 kept beside it' cmp "$F/falcon-agent-1.0.0.tar.gz.md5" "$W/falcon-agent/1.0.0/falcon-agent-1.0.0.tar.gz.md5"
is 'no temp files left' "$(leftovers falcon-agent)" ''
is 'tarball, .md5 and (unpublished) .sha256 asked for once' "$(downloads)" 3
grep_log 'log says what happened' 'info falcon-agent: now at 1.0.0 \(was not installed\)'
grep_log 'log lines carry an ISO-8601 time and a pid' '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \[[0-9]+\] info: pass done: exit 0 in [0-9.]+ s; own cpu [0-9.]+ ms, peak rss [0-9.]+ MiB, read [0-9]+ KiB with children$'

pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")
pass
is 'converged pass: exit 0' "$rc" 0
is 'converged pass downloads nothing' "$(downloads)" 3
is 'converged pass leaves the agent alone' "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$pid"
is 'the server was told it runs' "$(reported falcon-agent)" '1.0.0 started'

kill "$pid"
pass
is 'crashed agent: exit 0' "$rc" 0
check 'crashed agent restarted' running "$W/falcon-agent/1.0.0"
check_fails 'with a new process' test "$(cat "$W/falcon-agent/1.0.0/agent.pid")" = "$pid"

serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'upgrade: exit 0' "$rc" 0
is '.version names 1.0.1' "$(cat "$W/falcon-agent/.version")" 1.0.1
check_fails 'old version stopped' running "$W/falcon-agent/1.0.0"
check 'new version runs' running "$W/falcon-agent/1.0.1"
check 'old version kept on disk' test -x "$W/falcon-agent/1.0.0/control"
pass
is 'the server was told of the upgrade' "$(reported falcon-agent)" '1.0.1 started'

serve "{\"agents\": [$(want falcon-agent 1.0.1 stop)]}"
pass
is 'stop: exit 0' "$rc" 0
check_fails 'stopped' running "$W/falcon-agent/1.0.1"
is '.version unchanged by stop' "$(cat "$W/falcon-agent/.version")" 1.0.1
pass
is 'the server was told it is stopped' "$(reported falcon-agent)" '1.0.1 stoped'
done_testing
