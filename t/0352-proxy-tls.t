#!/bin/sh
# An https:// proxy gets the TLS settings the server gets: its certificate
# verified against tls.ca_file (pinned), a client certificate from
# tls.cert_file, and tls.insecure. The proxy is tinyproxy behind a TLS
# terminator (socat) on 127.0.0.1, one that asks for no client
# certificate and one that requires one from the test CA.
. "$(dirname "$0")/lib.sh"

check 'test certificates made' mkcerts
check 'socat is installed (.ci/deps installs it)' command -v socat
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
check 'tinyproxy starts on 127.0.0.1' start_proxy
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# tls_front VERIFY: socat terminating TLS in front of tinyproxy, with the
# server certificate for 127.0.0.1; VERIFY 1 requires a client
# certificate of the test CA. Its port in $TLS_PORT.
tls_front() {
	TLS_PORT=$(free_port)
	(cd "$T" && exec socat "OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert=$T/pki/server.pem,key=$T/pki/server.key,cafile=$T/pki/ca.pem,verify=$1" \
	    "TCP:127.0.0.1:$PROXY_PORT") >/dev/null 2>>"$T/socat.log" &
	i=0
	while [ $i -lt 50 ] && ! python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$TLS_PORT" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}
proxied() {
	grep -c "Request (file descriptor [0-9]*): POST http://127.0.0.1:$PORT/heartbeat " "$T/proxy.log"
}
ca="\"ca_file\": \"$T/pki/ca.pem\""
client="\"cert_file\": \"$T/pki/client.pem\", \"key_file\": \"$T/pki/client.key\""

tls_front 0
PLAIN_TLS=https://127.0.0.1:$TLS_PORT
tls_front 1
MUTUAL_TLS=https://127.0.0.1:$TLS_PORT

# Pinned: the proxy's certificate chains to tls.ca_file.
config "\"proxy\": \"$PLAIN_TLS\", \"tls\": {$ca}"
before=$(proxied)
pass
is 'https proxy, CA pinned: exit 0' "$rc" 0
is 'https proxy: the heartbeat went through it' "$(($(proxied) > before))" 1
check 'https proxy: the agent installed through it' test -x "$W/falcon-agent/1.0.0/control"
# Without the CA: the system store does not know the test CA, so the
# proxy's certificate is refused, not taken on trust.
config "\"proxy\": \"$PLAIN_TLS\""
before=$(proxied)
pass
is 'https proxy, its CA not trusted: exit 1' "$rc" 1
grep_log 'https proxy, its CA not trusted: the certificate refused' 'error: POST .*/heartbeat: .*(SSL certificate problem|certificate verify failed)'
is 'https proxy, its CA not trusted: nothing went through it' "$(proxied)" "$before"
# tls.insecure: not verified, and said.
config "\"proxy\": \"$PLAIN_TLS\", \"tls\": {\"insecure\": true}"
pass
is 'https proxy, tls.insecure: exit 0' "$rc" 0
# A proxy that requires a client certificate gets tls.cert_file.
config "\"proxy\": \"$MUTUAL_TLS\", \"tls\": {$ca, $client}"
before=$(proxied)
pass
is 'https proxy asking for a client certificate, tls.cert_file set: exit 0' "$rc" 0
is 'client certificate: the heartbeat went through' "$(($(proxied) > before))" 1
config "\"proxy\": \"$MUTUAL_TLS\", \"tls\": {$ca}"
before=$(proxied)
pass
is 'https proxy asking for a client certificate, none set: exit 1' "$rc" 1
is 'no client certificate: nothing went through' "$(proxied)" "$before"
done_testing
