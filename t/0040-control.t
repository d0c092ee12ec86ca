#!/bin/sh
# Control scripts that misbehave: a status that hangs is cut off at the
# timeout; a start whose daemon keeps stdout open does not hang the pass.
. "$(dirname "$0")/lib.sh"

mkagent hang 1 hangstatus
mkagent chatty 1 stdout
serve "{\"agents\": [$(want chatty 1)]}"
start_server
config '"control_timeout": 2'

# An installed agent whose status never answers, put in place by hand.
mkdir -p "$W/hang" && tar -xzf "$F/hang-1.tar.gz" -C "$W/hang" --one-top-level=1 && echo 1 >"$W/hang/.version"

pass
is 'a pass with a hanging status and a chatty daemon: exit 0' "$rc" 0
check 'the chatty daemon runs' running "$W/chatty/1"
pid=$(cat "$W/chatty/1/agent.pid")
check 'and still holds its control-1.log as stdout' test "$(readlink "/proc/$pid/fd/1")" = "$W/chatty/control-1.log"
grep_log 'the hanging status is logged' 'error hang: .*/hang/1: error: control status timed out after 2 s'
pass
is 'the server was told of the hanging status' "$(curl -s "$BASE/status/json/hang" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"])')" 'error: control status timed out after 2 s'
is 'no process of the hanging status is left' "$(procs_in "$W/hang/1")" ''

# A control that cannot be run (not a valid executable) is reported too.
printf 'garbage' >"$W/hang/1/control"
pass
is 'a control that cannot run: pass still ends' "$rc" 0
pass
is 'its error is reported' "$(reported hang)" '1 error:'
grep_log 'and logged with the reason' 'error hang: .*/hang/1: error: control status cannot run: Exec format error'
done_testing
