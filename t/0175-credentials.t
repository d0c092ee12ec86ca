#!/bin/sh
# HTTP Basic credentials go to the server's origin (scheme, host, port) only:
# not to a tarball host the server names, not after a redirect to another
# origin, whatever the scheme. A second fake server on another port is
# the other origin; both log whether a request carried an Authorization.
. "$(dirname "$0")/lib.sh"

SECRET=pw-$$-origin
printf '%s\n' "$SECRET" >"$T/password" && chmod 600 "$T/password"
for v in 1.0.0 1.0.1 1.0.2 1.0.3; do mkagent falcon-agent $v; done
auth="\"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}"

# The other origin: its own config (no auth), port file and request log.
start_other

# An entry whose tarball prefix is $2.
want_from() {
	printf '{"default": {"name": "falcon-agent", "version": "%s", "tarball": "%s", "md5": "", "cmd": "start"}}' "$1" "$2"
}
# The request lines of log $1 for file $2.
asked() {
	grep "^GET /files/$2 " "$1" | tr '\n' ';'
}

serve "{\"agents\": [$(want falcon-agent 1.0.0)], $auth}"
start_server
config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}"
pass
is 'same origin: exit 0' "$rc" 0
is 'the heartbeat carried the credentials' "$(grep '^POST /heartbeat ' "$T/requests" | tail -1)" 'POST /heartbeat 200 auth=yes'
is 'so did the tarball from the same origin' "$(asked "$T/requests" falcon-agent-1.0.0.tar.gz)" \
    'GET /files/falcon-agent-1.0.0.tar.gz 200 auth=yes;'
is 'and its .md5' "$(asked "$T/requests" falcon-agent-1.0.0.tar.gz.md5)" \
    'GET /files/falcon-agent-1.0.0.tar.gz.md5 200 auth=yes;'

serve "{\"agents\": [$(want_from 1.0.1 "$OTHER/files")], $auth}"
pass
is 'tarball on another origin: exit 0' "$rc" 0
check 'installed from there' running "$W/falcon-agent/1.0.1"
is 'the tarball was asked for without credentials' "$(asked "$T/requests2" falcon-agent-1.0.1.tar.gz)" \
    'GET /files/falcon-agent-1.0.1.tar.gz 200 auth=no;'
is 'and its .md5' "$(asked "$T/requests2" falcon-agent-1.0.1.tar.gz.md5)" \
    'GET /files/falcon-agent-1.0.1.tar.gz.md5 200 auth=no;'

serve "{\"agents\": [$(want falcon-agent 1.0.2)], $auth,
  \"faults\": {\"files\": {\"falcon-agent-1.0.2.tar.gz\": {\"redirect\": \"$OTHER/files/falcon-agent-1.0.2.tar.gz\"}}}}"
pass
is 'redirect to another origin: exit 0' "$rc" 0
check 'installed through the redirect' running "$W/falcon-agent/1.0.2"
is 'the server origin got the credentials and redirected' "$(asked "$T/requests" falcon-agent-1.0.2.tar.gz)" \
    'GET /files/falcon-agent-1.0.2.tar.gz 302 auth=yes;'
is 'the other origin did not get them after the redirect' "$(asked "$T/requests2" falcon-agent-1.0.2.tar.gz)" \
    'GET /files/falcon-agent-1.0.2.tar.gz 200 auth=no;'
is 'no request to the other origin ever carried them' "$(grep -c 'auth=yes' "$T/requests2")" 0

# The other origin wants credentials of its own: a 401 that says why.
printf '{"agents": [], %s}\n' "$auth" >"$T/meta2.json"
serve "{\"agents\": [$(want_from 1.0.3 "$OTHER/files")], $auth}"
: >"$W/ops-updater.log"
pass
is 'another origin that wants auth: exit 1' "$rc" 1
grep_log 'the 401 says credentials stay with the server' \
    "GET $OTHER/files/falcon-agent-1.0.3.tar.gz.(md5|sha256): HTTP 401 \\(auth is sent to the server's origin only\\)"
check_fails 'the password is in no log line' grep -q "$SECRET" "$W/ops-updater.log" "$T/pass.out"
done_testing
