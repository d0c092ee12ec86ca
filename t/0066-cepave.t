#!/bin/sh
# The Cepave ops-meta head (http/heartbeat.go) rewrites the second desired
# agent's cmd to "stop" unless realAgents has exactly one entry. So what
# it asks for depends on how many entries we send: exactly one per agent
# directory, as the Go updater sends them, gets the Go updater's answers.
# An extra entry for the updater itself (heartbeat_self) changes them.
. "$(dirname "$0")/lib.sh"

mkagent a 1.0.0
mkagent b 1.0.0
serve "{\"cepave\": true, \"agents\": [$(want a 1.0.0), $(want b 1.0.0)]}"
start_server
config '"jitter": 0'
sent() { grep '^REPORT ' "$T/requests" | sed -n "${1}p" | cut -d' ' -f3-; }

pass
is 'a fresh host: exit 0' "$rc" 0
is 'it reported no agent (as the Go updater)' "$(sent 1)" '[]'
is 'the first agent installed' "$(cat "$W/a/.version" 2>/dev/null)" 1.0.0
check_fails 'the second was asked to stop, as the Go updater is: not installed' test -e "$W/b"

pass
is 'a one-agent host: exit 0' "$rc" 0
is 'it reported exactly its one agent' "$(sent 3)" '[["a", "1.0.0", "started"]]'
is 'so the server asks it to start the second agent, and it does' \
    "$(cat "$W/b/.version" 2>/dev/null) $(running "$W/b/1.0.0" && echo running)" '1.0.0 running'

pass
is 'two agents reported' "$(sent 5)" '[["a", "1.0.0", "started"], ["b", "1.0.0", "started"]]'
check_fails 'the server asks the second to stop again (its rule, as for the Go updater)' running "$W/b/1.0.0"
is 'and the pass tells it so' "$(sent 6)" '[["a", "1.0.0", "started"], ["b", "1.0.0", "stoped"]]'

# With the updater's own entry, a one-agent host sends two entries, and
# the server stops the second agent where the Go updater's host starts it.
"$W/b/1.0.0/control" stop >/dev/null 2>&1
rm -rf "$W/b"
config '"jitter": 0, "heartbeat_self": true'
pass
is 'heartbeat_self on a one-agent host: two entries sent' \
    "$(grep '^REPORT ' "$T/requests" | tail -1 | cut -d' ' -f3-)" \
    "[[\"a\", \"1.0.0\", \"started\"], [\"ops-updater\", \"$VERSION\", \"started\"]]"
check_fails 'and the second agent is not started: why heartbeat_self is off by default' test -e "$W/b"
done_testing
