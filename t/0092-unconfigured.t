#!/bin/sh
# "server": "" is a host not configured yet (the package's cfg.json until an
# operator sets it), or one paused: a pass does nothing at all, with one
# log line and nothing for cron to mail; plan, status and check say so. A
# missing or malformed server stays a config error.
. "$(dirname "$0")/lib.sh"

u=$OPS_UPDATER
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config
pass
is 'configured: the pass installs the agent' "$rc" 0
check 'and it runs' running "$W/falcon-agent/1.0.0"
state_before=$(cat "$W/ops-updater.state.json")
pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")

# The server is emptied: the host is paused. The jitter would sleep up to
# an hour; the pass must not even get that far (no lock taken).
printf '{"server": "", "hostname": "test-host-1", "jitter": 3600}\n' >"$W/cfg.json"
rm -f "$W/ops-updater.pid"
lines=$(wc -l <"$W/ops-updater.log")
kill "$pid"	# an agent that died: a real pass would start it again
timeout 120 "$u" -c "$W/cfg.json" run >"$T/o" 2>"$T/e"
is 'not configured: run exits 0' $? 0
is 'nothing on stdout (cron mails nothing)' "$(cat "$T/o")" ''
is 'nothing on stderr' "$(cat "$T/e")" ''
is 'one log line' "$(($(wc -l <"$W/ops-updater.log") - lines))" 1
is 'which says why and where' "$(tail -1 "$W/ops-updater.log" | sed 's/^[^ ]* \[[0-9]*\] //')" \
    "warning: not configured: server is empty in $W/cfg.json; nothing is done until it names ops-meta"
check_fails 'no lock was taken' test -e "$W/ops-updater.pid"
is 'the state is untouched' "$(cat "$W/ops-updater.state.json")" "$state_before"
check_fails 'the dead agent was left alone' running "$W/falcon-agent/1.0.0"
is 'and not started again' "$(wc -l <"$W/falcon-agent/1.0.0/starts")" 1
n=$(grep -c '^POST /heartbeat' "$T/requests")
is 'no heartbeat was sent (two, from the configured pass and its report)' "$n" 2

"$u" -c "$W/cfg.json" plan >"$T/o" 2>"$T/e"
is 'plan: exit 0 (nothing would change)' $? 0
is 'plan: nothing on stdout' "$(cat "$T/o")" ''
check 'plan: says why on stderr' grep -q "warning: not configured: server is empty in $W/cfg.json" "$T/e"
is 'plan: the log is untouched' "$(($(wc -l <"$W/ops-updater.log") - lines))" 1

"$u" -c "$W/cfg.json" status >"$T/o" 2>"$T/e"
is 'status: exit 0' $? 0
is 'status: the protection line says not configured' "$(head -1 "$T/o")" \
    'protection: none: not configured (server is empty), passes do nothing'
check 'status: the agents are still listed' grep -q '^falcon-agent  *1.0.0  *stoped$' "$T/o"
"$u" -c "$W/cfg.json" --json status >"$T/o"
check 'status --json: the same protection' grep -q '"protection":[[:space:]]*"none: not configured (server is empty), passes do nothing"' "$T/o"

"$u" -c "$W/cfg.json" check >"$T/o" 2>"$T/e"
is 'check: UNKNOWN (exit 3)' $? 3
is 'check: one line that says why' "$(cat "$T/o")" \
    "OPS-UPDATER UNKNOWN - not configured: server is empty in $W/cfg.json; passes do nothing"

# Set again, the next pass runs for real.
config
pass
is 'configured again: the pass runs' "$rc" 0
check 'and restarts the agent' running "$W/falcon-agent/1.0.0"

# Only "" means not configured: a missing or malformed server is an error.
for c in '{"workdir": "."}' '{"server": " "}' '{"server": "ftp://meta"}' '{"server": null}'; do
	printf '%s\n' "$c" >"$W/cfg.json"
	"$u" -c "$W/cfg.json" run >"$T/o" 2>"$T/e"
	is "config error, exit 78: $c" $? 78
	check "and says so on stderr: $c" grep -Eq "^ops-updater: $W/cfg.json: (line 1, column 2: )?server: " "$T/e"
done
done_testing
