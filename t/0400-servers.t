#!/bin/sh
# More than one ops-meta: "server" may be a list. Each host tries them in
# an order of its own that stays the same pass after pass, spread over a
# fleet; it fails over on anything that is no ops-meta answer (no
# connection, a timeout, any status but 200: a redirect, 401, 403, 404,
# 5xx; a 200 that is a proxy's page), never on ops-meta's errorMessage,
# and credentials go to every server of the list (and nowhere else).
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
# Drop from the state which servers failed lately.
forget() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1])); s["servers"] = []
json.dump(s, open(sys.argv[1], "w"))' "$W/ops-updater.state.json"
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

is 'the state keeps which server answered' "$(st 's["server"]')" "$OTHER"
is 'and which failed lately' "$(st '" ".join(x["url"] for x in s["servers"])')" "$DEAD"
# The next pass asks the live one first: a dead one does not cost every
# pass its timeout while it is down.
: >"$W/ops-updater.log"
pass
is 'the next pass: exit 0' "$rc" 0
check_fails 'the next pass: the dead server is not tried first' grep -q "POST $DEAD" "$W/ops-updater.log"
# Ten minutes later it is first again (its failure moved into the past).
python3 - "$W/ops-updater.state.json" <<'EOF2'
import json, sys
s = json.load(open(sys.argv[1]))
for x in s["servers"]:
    x["failed_at"] -= 601
json.dump(s, open(sys.argv[1], "w"))
EOF2
: >"$W/ops-updater.log"
pass
grep_log 'after 10 minutes the host order holds again' "POST $DEAD/heartbeat: "

# A 5xx is a reason to fail over; a 4xx or errorMessage is an answer.
servers "[\"$BASE\", \"$OTHER\"]" $host
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": 503, \"body\": \"busy\"}}}"
before=$(counts)
pass
is 'first says 503: exit 0' "$rc" 0
is 'first says 503: the second answered' "$(counts)" "${before%% *} $((${before#* } + 1))"
is 'a 503 counts as failed lately' "$(st '" ".join(x["url"] for x in s["servers"])')" "$BASE"
forget
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": 429, \"body\": \"slow down\"}}}"
before=$(counts)
pass
is 'first says 429: the second answered' "$rc $(counts)" "0 ${before%% *} $((${before#* } + 1))"
forget	# so that the first server is asked first again
# A 503 with Retry-After: 30 puts the server last for 30 s, as it asked,
# not for the fixed 10 minutes.
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": 503, \"body\": \"busy\", \"retry_after\": \"30\"}}}"
before=$(counts)
pass
is 'first says 503, Retry-After: 30: the second answered' "$rc $(counts)" "0 ${before%% *} $((${before#* } + 1))"
until=$(st "[x.get('until', 0) for x in s['servers'] if x['url'] == '$BASE'][0]")
check 'it goes last for 30 s' test $((until - $(date +%s))) -gt 20 -a $((until - $(date +%s))) -le 30
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth}"
pass
is 'within its 30 s: the second is asked first' "$rc $(counts)" "0 ${before%% *} $((${before#* } + 2))"
# 31 s later (its failure and its wait moved into the past): first again.
python3 - "$W/ops-updater.state.json" <<'EOF2'
import json, sys
s = json.load(open(sys.argv[1]))
for x in s["servers"] + s["waits"]:
    for k in ("failed_at", "until"):
        if k in x:
            x[k] -= 31
json.dump(s, open(sys.argv[1], "w"))
EOF2
pass
is 'after its Retry-After: asked first again' "$rc $(counts)" "0 $((${before%% *} + 1)) $((${before#* } + 2))"
forget
# Any other answer but ops-meta's is none either: a redirect (HTTP to
# HTTPS, a backend that moved), a stale password, a page not found.
for code in 301 302 400 401 403 404; do
	serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": $code, \"body\": \"no\"}}}"
	before=$(counts)
	: >"$W/ops-updater.log"
	pass
	is "first says $code: exit 0, the second answered" "$rc $(counts)" "0 ${before%% *} $((${before#* } + 1))"
	grep_log "first says $code: logged" "POST $BASE/heartbeat: HTTP $code"
	is "first says $code: it counts as failed lately" "$(st '" ".join(x["url"] for x in s["servers"])')" "$BASE"
	forget	# so that the first server is asked first again
done
forget
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"errorMessage\": \"maintenance\"}"
before=$(counts)
pass
after=$(counts)
is 'errorMessage: exit 1, the second not asked' "$rc ${after#* }" "1 ${before#* }"
# A 200 that is no ops-meta answer (a proxy's maintenance page in front of
# a server that is down) is no word from ops-meta: the next is asked.
forget
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": 200, \"body\": \"<html>maintenance</html>\"}}}"
before=$(counts)
: >"$W/ops-updater.log"
pass
is 'first says 200 with an HTML page: the second answered' "$rc $(counts)" \
    "0 $((${before%% *} + 1)) $((${before#* } + 1))"
grep_log 'the page is logged as no answer' "POST $BASE/heartbeat: response is not a JSON object"

# All down: one failure that names them.
servers "[\"$DEAD\", \"$DEAD/other\"]" $host
: >"$W/ops-updater.log"
pass
is 'all down: exit 1' "$rc" 1
is 'all down: each was tried' "$(grep -c "error: POST $DEAD.*/heartbeat: " "$W/ops-updater.log")" 2
# Each a different answer: the recorded failure names each.
servers "[\"$BASE\", \"$OTHER\"]" $host
serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth, \"faults\": {\"heartbeat\": {\"status\": 404, \"body\": \"no\"}}}"
printf '{"agents": [], "faults": {"heartbeat": {"status": 302, "body": ""}}}\n' >"$T/meta2.json"
pass
is 'a 404 and a 302: exit 1' "$rc" 1
matches 'the state names both answers' "$(st 's["heartbeat_error"]')" \
    "^no server gave an ops-meta answer: POST $BASE/heartbeat: HTTP 404; POST $OTHER/heartbeat: HTTP 302\$"
matches 'so does check' "$("$OPS_UPDATER" -c "$W/cfg.json" check)" "HTTP 404; POST $OTHER/heartbeat: HTTP 302"
printf '{"agents": [%s], %s}\n' "$(want falcon-agent 1.0.0 | sed "s|{base}|$BASE|")" "$auth" >"$T/meta2.json"
forget

# tls.ca_file pins every server of the list: one whose certificate comes
# from another CA is not believed, and the next one answers.
check 'test certificates made' mkcerts
mkdir -p "$T/pki2" && (
	cd "$T/pki2" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=other-ca &&
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=other &&
	printf 'subjectAltName=IP:127.0.0.1\n' >server.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	    -extfile server.ext -out server.pem
) >"$T/pki2.log" 2>&1
is 'a certificate of another CA made' $? 0
tls_server() {	# $1 pki directory, $2 port file; the server's pid in $!
	python3 "$TDIR/ops-meta.py" --config "$T/meta2.json" --files "$F" --port-file "$2" \
	    --log "$T/requests.$3" --cert "$T/$1/server.pem" --key "$T/$1/server.key" &
	i=0
	while [ ! -s "$2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
tls_server pki2 "$T/port.bad" bad
bad_pid=$!
tls_server pki "$T/port.good" good
good_pid=$!
BAD=https://127.0.0.1:$(cat "$T/port.bad")
GOOD=https://127.0.0.1:$(cat "$T/port.good")
printf '{"server": ["%s", "%s"], "hostname": "%s", "jitter": 0, "health_wait": 0, "retry_failed": 0,
  "control_timeout": 5, "status_wait": 5, "tls": {"ca_file": "%s"},
  "auth": {"user": "ops", "password_file": "%s"}}\n' "$BAD" "$GOOD" $host "$T/pki/ca.pem" "$T/password" >"$W/cfg.json"
: >"$W/ops-updater.log"
pass
kill $bad_pid $good_pid 2>/dev/null
is 'a server of another CA first: exit 0' "$rc" 0
grep_log 'its certificate is refused' "POST $BAD/heartbeat: .*(certificate|SSL)"
is 'the pinned one answered, with the credentials' "$(grep '^POST /heartbeat ' "$T/requests.good" | tail -1)" \
    'POST /heartbeat 200 auth=yes'
is 'the other got no request at all' "$(cat "$T/requests.bad" 2>/dev/null | grep -c .)" 0

# The list is checked like one URL: bad entries and duplicates are refused.
for bad in '[]' '["ftp://x"]' "[\"$BASE\", \"$BASE/\"]" '[1]' '{"a": 1}'; do
	servers "$bad" $host
	pass
	is "server $bad: config error (78)" "$rc" 78
done
done_testing
