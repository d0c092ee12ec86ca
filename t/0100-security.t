#!/bin/sh
# Trust nothing: TLS verified by default, a private CA, insecure only when
# asked (and warned about), client certificates, Basic auth with a password
# that never leaks, SHA-256 and Ed25519 signatures, a clean environment for
# children.
. "$(dirname "$0")/lib.sh"

check 'test certificates made' mkcerts
mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server --cert "$T/pki/server.pem" --key "$T/pki/server.key"
SERVER=$BASE

config
pass
is 'self-signed server, no CA given: exit 1' "$rc" 1
grep_log 'the log says the certificate failed' "POST $BASE/heartbeat: .*(certificate|SSL)"
check_fails 'nothing installed' test -e "$W/falcon-agent"

config "\"tls\": {\"ca_file\": \"$T/pki/ca.pem\"}"
pass
is 'tls.ca_file: exit 0' "$rc" 0
check 'tls.ca_file: installed over HTTPS' running "$W/falcon-agent/1.0.0"
check_fails 'no insecure warning when verifying' grep -q 'NOT verified' "$W/ops-updater.log"

printf '{"server": "%s", "tls": {"insecure": true}, "control_timeout": 5}\n' "$BASE" >"$W/cfg.json"
pass
is 'tls.insecure: exit 0' "$rc" 0
grep_log 'tls.insecure: a warning in the pass' 'warning: tls.insecure is set: server certificates are NOT verified'

stop_server
start_server --cert "$T/pki/server.pem" --key "$T/pki/server.key" --client-ca "$T/pki/ca.pem"
SERVER=$BASE
config "\"tls\": {\"ca_file\": \"$T/pki/ca.pem\"}"
pass
is 'server wants a client certificate, none given: exit 1' "$rc" 1
config "\"tls\": {\"ca_file\": \"$T/pki/ca.pem\", \"cert_file\": \"$T/pki/client.pem\", \"key_file\": \"$T/pki/client.key\"}"
pass
is 'tls.cert_file and tls.key_file: exit 0' "$rc" 0
printf '{"server": "%s", "tls": {"cert_file": "x.pem"}}\n' "$BASE" >"$W/cfg.json"
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
is 'a certificate without its key: exit 78' $? 78
stop_server

# HTTP Basic auth on every route.
SECRET=s3cr3t-$$-pw
serve "{\"agents\": [$(want falcon-agent 1.0.1)], \"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}}"
start_server
SERVER=
config
pass
is 'no credentials: exit 1' "$rc" 1
grep_log 'no credentials: HTTP 401' "POST $BASE/heartbeat: HTTP 401"
printf '%s\n' "$SECRET" >"$T/password"
chmod 644 "$T/password"
config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}"
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
is 'a world-readable password file: exit 78' $? 78
check 'and the error says why' grep -q 'auth.password_file: .* is readable by others' "$T/err"
chmod 600 "$T/password"
pass -v
is 'auth.user and auth.password_file: exit 0' "$rc" 0
check 'upgraded through auth' running "$W/falcon-agent/1.0.1"
grep_log '-v logged the bodies' 'debug: POST .*/heartbeat: \{"hostname"'
check_fails 'the password is in no log line, even with -v' grep -rq "$SECRET" "$W/ops-updater.log" "$T/pass.out"
check_fails 'nor in the environment of control scripts' grep -q "$SECRET" "$W/falcon-agent/1.0.1/start.env"
pid=$(cat "$W/falcon-agent/1.0.1/agent.pid")
check_fails 'nor in the environment of the agents they start' grep -q "$SECRET" "/proc/$pid/environ"
is 'children get PATH, HOME and LANG only' "$(cut -d= -f1 "$W/falcon-agent/1.0.1/start.env" | grep -v '^PWD$' | sort | tr '\n' ' ')" 'HOME LANG PATH '
# The daemon inherits what control got from us (the shell's own are
# close-on-exec): stdin /dev/null, and no lock, socket or pipe of ours.
is 'the agent has only descriptors 0, 1 and 2' "$(ls "/proc/$pid/fd" | sort | tr '\n' ' ')" '0 1 2 '
is 'its stdin is /dev/null' "$(readlink "/proc/$pid/fd/0")" /dev/null

# SHA-256 beside the .md5: checked when published.
mkagent falcon-agent 1.0.2
(cd "$F" && sha256sum falcon-agent-1.0.2.tar.gz >falcon-agent-1.0.2.tar.gz.sha256)
serve "{\"agents\": [$(want falcon-agent 1.0.2)], \"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}}"
pass
is 'a good .sha256: exit 0' "$rc" 0
check 'the .sha256 is kept beside the version' cmp "$F/falcon-agent-1.0.2.tar.gz.sha256" "$W/falcon-agent/1.0.2/falcon-agent-1.0.2.tar.gz.sha256"
grep_log 'the log says what was verified' 'verified falcon-agent-1.0.2.tar.gz: [0-9]+ bytes, MD5, SHA-256, members$'
mkagent falcon-agent 1.0.3
printf '%064d  falcon-agent-1.0.3.tar.gz\n' 0 >"$F/falcon-agent-1.0.3.tar.gz.sha256"
serve "{\"agents\": [$(want falcon-agent 1.0.3)], \"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}}"
pass
is 'a wrong .sha256 (md5 right): exit 1' "$rc" 1
grep_log 'SHA-256 mismatch logged' 'SHA-256 mismatch: expected 0{64}, got [0-9a-f]{64}'
check_fails 'nothing installed' test -e "$W/falcon-agent/1.0.3"

# Ed25519 signatures.
openssl genpkey -algorithm ed25519 -out "$T/sign.key" 2>/dev/null
openssl pkey -in "$T/sign.key" -pubout -out "$T/sign.pub" 2>/dev/null
sign() { openssl pkeyutl -sign -inkey "$T/sign.key" -rawin -in "$F/$1" -out "$F/$1.sig"; }
mkagent falcon-agent 1.0.4
config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}, \"verify\": {\"public_key\": \"$T/sign.pub\"}"
serve "{\"agents\": [$(want falcon-agent 1.0.4)], \"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}}"
pass
is 'unsigned tarball with a public key set: exit 1' "$rc" 1
grep_log 'unsigned: refused' 'refusing falcon-agent-1.0.4.tar.gz: verify.public_key is set and .*\.sig cannot be had'
sign falcon-agent-1.0.3.tar.gz && mv "$F/falcon-agent-1.0.3.tar.gz.sig" "$F/falcon-agent-1.0.4.tar.gz.sig"
pass
is 'a signature of other bytes: exit 1' "$rc" 1
grep_log 'bad signature: refused' 'refusing .*falcon-agent-1.0.4.tar.gz.*: bad signature'
is 'bad signature: no temp files left' "$(leftovers falcon-agent)" ''
check_fails 'bad signature: nothing installed' test -e "$W/falcon-agent/1.0.4"
sign falcon-agent-1.0.4.tar.gz
pass
is 'a good signature: exit 0' "$rc" 0
check 'signed version runs' running "$W/falcon-agent/1.0.4"
check 'the .sig is kept beside the version' cmp "$F/falcon-agent-1.0.4.tar.gz.sig" "$W/falcon-agent/1.0.4/falcon-agent-1.0.4.tar.gz.sig"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rsa.key" -out /dev/null -subj /CN=x -days 1 2>/dev/null
openssl pkey -in "$T/rsa.key" -pubout -out "$T/rsa.pub" 2>/dev/null
config "\"verify\": {\"public_key\": \"$T/rsa.pub\"}"
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
is 'an RSA key where Ed25519 is wanted: exit 78' $? 78
check 'and the error says so' grep -q 'verify.public_key: .*: not an Ed25519 key' "$T/err"
done_testing
