#!/bin/sh
# tls.ca_file pins: with it set, only its CAs are trusted, not the system
# store too. A second CA is put in the system store for the test (a hashed
# link in /etc/ssl/certs, removed on exit whatever happens); a server whose
# certificate chains to it is refused with ca_file set, and accepted without.
. "$(dirname "$0")/lib.sh"

CERTS=/etc/ssl/certs
link=
trap '[ -n "$link" ] && rm -f "$link"; cleanup' EXIT

check 'test certificates made' mkcerts
# The second CA and a server certificate for 127.0.0.1 signed by it.
mkdir -p "$T/pki2" && (
	cd "$T/pki2" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca-2 &&
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=server2 &&
	printf 'subjectAltName=IP:127.0.0.1\n' >server.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	    -extfile server.ext -out server.pem
) >"$T/pki2.log" 2>&1
is 'second CA made' $? 0

# Into the system store as OpenSSL looks it up: <subject hash>.<first free N>.
hash=$(openssl x509 -hash -noout -in "$T/pki2/ca.pem")
n=0
while [ -e "$CERTS/$hash.$n" ] || [ -L "$CERTS/$hash.$n" ]; do n=$((n + 1)); done
ln -s "$T/pki2/ca.pem" "$CERTS/$hash.$n" && link=$CERTS/$hash.$n
check 'the second CA is in the system store for now' test -L "$CERTS/$hash.$n"

mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server --cert "$T/pki2/server.pem" --key "$T/pki2/server.key"
SERVER=$BASE

config "\"tls\": {\"ca_file\": \"$T/pki/ca.pem\"}"
pass
is 'a CA of the system store, not in tls.ca_file: exit 1' "$rc" 1
grep_log 'the log says the certificate failed' "POST $BASE/heartbeat: .*(certificate|SSL)"
check_fails 'nothing installed' test -e "$W/falcon-agent"

config
pass
is 'the same server without tls.ca_file: exit 0 (the system store trusts it)' "$rc" 0
check 'installed over HTTPS' running "$W/falcon-agent/1.0.0"

cat "$T/pki/ca.pem" "$T/pki2/ca.pem" >"$T/both.pem"
config "\"tls\": {\"ca_file\": \"$T/both.pem\"}"
pass
is 'the second CA in tls.ca_file: exit 0' "$rc" 0
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
is 'status says the CA is pinned' "$(head -1 "$T/status")" \
    'protection: https, CA pinned (tls.ca_file), no key: releases as trusted as the server (MD5 from the same origin)'

rm -f "$link"
link=
check_fails 'the link is gone again' test -L "$CERTS/$hash.$n"
done_testing
