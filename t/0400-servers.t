#!/bin/sh
# More than one ops-meta: "server" may be a list. Each host tries them in
# an order of its own that stays the same pass after pass, spread over a
# fleet; it fails over on no connection, a timeout or a 5xx, never on an
# answer (a 4xx, errorMessage), and credentials go to every server of the
# list (and nowhere else).
. "$(dirname "$0")/lib.sh"

SECRET=pw-$$-servers
printf '%s\n' "$SECRET" >"$T/password" && chmod 600 "$T/password"
mkagent falcon-agent 1.0.0
auth="\"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}"
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth}"
start_server
start_other
printf '{"agents": [%s], %s}\n' "$(want falcon-agent 1.0.0 | sed "s|{base}|$BASE|")" "$auth" >"$T/meta2.json"
DEAD=http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# cfg.json with server list $1 (JSON) and hostname $2.
servers() {
	printf '{"server": %s, "hostname": "%s", "jitter": 0, "health_wait": 0, "retry_failed": 0,
	  "control_timeout": 5, "status_wait": 5, "auth": {"user": "ops", "password_file": "%s"}}\n' \
	    "$1" "$2" "$T/password" >"$W/cfg.json"
}
# Heartbeats each server got so far, as "first second".
counts() {
	echo "$(cat "$T/requests" 2>/dev/null | grep -c '^POST /heartbeat 200') $(cat "$T/requests2" 2>/dev/null | grep -c '^POST /heartbeat 200')"
}

# Which server does each of 12 hosts ask first? Both up: the first asked answers.
firsts=
i=0
while [ $i -lt 12 ]; do
	servers "[\"$BASE\", \"$OTHER\"]" host-$i
	before=$(counts)
	pass
	after=$(counts)
	pass
	again=$(counts)
	if [ "${before%% *}" != "${after%% *}" ]; then first=a; else first=b; fi
	if [ "${after%% *}" != "${again%% *}" ]; then second=a; else second=b; fi
	[ "$rc" = 0 ] || first=failed
	[ "$first" = "$second" ] || first=unstable
	firsts="$firsts $first"
	eval "first_$i=$first"
	i=$((i + 1))
done
case $firsts in *failed*|*unstable*) ok=1 ;; *" a"*" b"*|*" b"*" a"*) ok=0 ;; *) ok=1 ;; esac
report $ok "each host asks the same server first on every pass, and the fleet spreads over both ($firsts)"

# A host that asks the dead server first fails over to the live one.
i=0
while [ $i -lt 12 ]; do
	eval "f=\$first_$i"
	[ "$f" = a ] && break
	i=$((i + 1))
done
host=host-$i
servers "[\"$DEAD\", \"$OTHER\"]" $host
: >"$W/ops-updater.log"
before=$(counts)
pass
is 'dead first: exit 0' "$rc" 0
grep_log 'dead first: the refusal is logged with its URL' "error: POST $DEAD/heartbeat: .*(refused|connect)"
grep_log 'dead first: the next server is tried' "info: trying the next server, $OTHER"
is 'dead first: the second server answered' "$(counts)" "${before%% *} $((${before#* } + 1))"
is 'the credentials went to the second server too' "$(grep '^POST /heartbeat ' "$T/requests2" | tail -1)" \
    'POST /heartbeat 200 auth=yes'

# A 5xx is a reason to fail over; a 4xx or errorMessage is an answer.
servers "[\"$BASE\", \"$OTHER\"]" $host
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": 503, \"body\": \"busy\"}}}"
before=$(counts)
pass
is 'first says 503: exit 0' "$rc" 0
is 'first says 503: the second answered' "$(counts)" "${before%% *} $((${before#* } + 1))"
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": 400, \"body\": \"bad\"}}}"
before=$(counts)
: >"$W/ops-updater.log"
pass
is 'first says 400: exit 1' "$rc" 1
is 'first says 400: the second is not asked' "$(counts)" "$before"
grep_log 'first says 400: logged' "POST $BASE/heartbeat: HTTP 400"
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"errorMessage\": \"maintenance\"}"
before=$(counts)
pass
after=$(counts)
is 'errorMessage: exit 1, the second not asked' "$rc ${after#* }" "1 ${before#* }"

# All down: one failure that names them.
servers "[\"$DEAD\", \"$DEAD/other\"]" $host
: >"$W/ops-updater.log"
pass
is 'all down: exit 1' "$rc" 1
is 'all down: each was tried' "$(grep -c "POST $DEAD.*/heartbeat: " "$W/ops-updater.log")" 2

# The list is checked like one URL: bad entries and duplicates are refused.
for bad in '[]' '["ftp://x"]' "[\"$BASE\", \"$BASE/\"]" '[1]' '{"a": 1}'; do
	servers "$bad" $host
	pass
	is "server $bad: config error (78)" "$rc" 78
done
done_testing
