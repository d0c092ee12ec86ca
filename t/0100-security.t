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

# A redirect never downgrades https to http: the plain-http origin (a
# second fake server with the same files) is never asked.
start_other
serve "{\"agents\": [$(want falcon-agent 1.0.1)], \"faults\": {\"files\": {\"falcon-agent-1.0.1.tar.gz\": {\"redirect\": \"$OTHER/files/falcon-agent-1.0.1.tar.gz\"}}}}"
pass
is 'https redirected to http: exit 1' "$rc" 1
grep_log 'refused, with libcurl'"'"'s reason' "GET $BASE/files/falcon-agent-1.0.1.tar.gz: .*(Protocol \"?http\"? .*(disabled|not supported)|not allowed)"
is 'the http origin was never asked' "$(cat "$T/requests2" 2>/dev/null)" ''
is 'https redirected to http: 1.0.0 still current' "$(cat "$W/falcon-agent/.version")" 1.0.0
check_fails 'https redirected to http: 1.0.1 not installed' test -e "$W/falcon-agent/1.0.1"
stop_other
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"

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
grep_log 'the log says what was verified' 'verified falcon-agent-1.0.2.tar.gz: [0-9]+ bytes, MD5, SHA-256; unpacked [0-9]+ with (igzip|gzip)$'
mkagent falcon-agent 1.0.3
printf '%064d  falcon-agent-1.0.3.tar.gz\n' 0 >"$F/falcon-agent-1.0.3.tar.gz.sha256"
serve "{\"agents\": [$(want falcon-agent 1.0.3)], \"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}}"
pass
is 'a wrong .sha256 (md5 right): exit 1' "$rc" 1
grep_log 'SHA-256 mismatch logged' 'SHA-256 mismatch: expected 0{64}, got [0-9a-f]{64}'
check_fails 'nothing installed' test -e "$W/falcon-agent/1.0.3"

# Ed25519 signatures, in the manner of signify: the .sig signs the exact
# bytes of the .sha256, whose one line names the release.
openssl genpkey -algorithm ed25519 -out "$T/sign.key" 2>/dev/null
openssl pkey -in "$T/sign.key" -pubout -out "$T/sign.pub" 2>/dev/null
sign() {	# the release file name: its .sha256 made and signed
	(cd "$F" && sha256sum "$1" >"$1.sha256") &&
	    openssl pkeyutl -sign -rawin -inkey "$T/sign.key" -in "$F/$1.sha256" -out "$F/$1.sig"
}
# Publish file $1's tarball, .md5, .sha256 and .sig under the name $2.
relabel() {
	for ext in '' .md5 .sha256 .sig; do cp "$F/$1$ext" "$F/$2$ext"; done
	sed -i "s/$1/$2/" "$F/$2.md5"	# the .md5 is not signed: only the .sha256 names the release
}
signed_config() {
	config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}, \"verify\": {\"public_key\": \"$T/sign.pub\"}"
}
want_signed() {
	serve "{\"agents\": [$(want "$1" "$2")], \"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}}"
}
mkagent falcon-agent 1.0.4
signed_config
want_signed falcon-agent 1.0.4
pass
is 'unsigned tarball with a public key set: exit 1' "$rc" 1
grep_log 'unsigned: refused' 'refusing falcon-agent-1.0.4.tar.gz: verify.public_key is set and .*\.sig cannot be had'
sign falcon-agent-1.0.4.tar.gz
rm "$F/falcon-agent-1.0.4.tar.gz.sha256"
pass
is 'a .sig without its .sha256: exit 1' "$rc" 1
grep_log 'no .sha256: refused' 'refusing falcon-agent-1.0.4.tar.gz: verify.public_key is set and .*\.sha256 or .* cannot be had'
sign falcon-agent-1.0.3.tar.gz && cp "$F/falcon-agent-1.0.3.tar.gz.sig" "$F/falcon-agent-1.0.4.tar.gz.sig"
(cd "$F" && sha256sum falcon-agent-1.0.4.tar.gz >falcon-agent-1.0.4.tar.gz.sha256)
pass
is 'a signature of other bytes: exit 1' "$rc" 1
grep_log 'bad signature: refused' 'refusing falcon-agent-1.0.4.tar.gz: bad signature'
is 'bad signature: no temp files left' "$(leftovers falcon-agent)" ''
check_fails 'bad signature: nothing installed' test -e "$W/falcon-agent/1.0.4"
sign falcon-agent-1.0.4.tar.gz
pass
is 'a good signature: exit 0' "$rc" 0
check 'signed version runs' running "$W/falcon-agent/1.0.4"
check 'the .sig is kept beside the version' cmp "$F/falcon-agent-1.0.4.tar.gz.sig" "$W/falcon-agent/1.0.4/falcon-agent-1.0.4.tar.gz.sig"
check 'the signed .sha256 too' cmp "$F/falcon-agent-1.0.4.tar.gz.sha256" "$W/falcon-agent/1.0.4/falcon-agent-1.0.4.tar.gz.sha256"
grep_log 'with a key too, unpacked as it arrives, unprivileged' 'unpacking falcon-agent-1.0.4.tar.gz as it arrives, as uid [0-9]+, '
# With a key, the signed SHA-256 is the check: no MD5 computed, no .md5 fetched.
grep_log 'the log says what was verified' 'verified falcon-agent-1.0.4.tar.gz: [0-9]+ bytes, SHA-256, Ed25519 signature; unpacked [0-9]+ with (igzip|gzip)$'
check_fails 'with a key, no .md5 is fetched' grep -q '^GET /files/falcon-agent-1.0.4.tar.gz.md5 ' "$T/requests"
check_fails 'with a key, no .md5 is kept' test -e "$W/falcon-agent/1.0.4/falcon-agent-1.0.4.tar.gz.md5"

# A signed release served as another agent, or as another version of the
# same one: the signature holds, the name it signs does not.
relabel falcon-agent-1.0.4.tar.gz dinp-agent-9.9.9.tar.gz
want_signed dinp-agent 9.9.9
pass
is 'a signed release relabelled as another agent: exit 1' "$rc" 1
grep_log 'another agent: refused' 'refusing dinp-agent-9.9.9.tar.gz: its signed .sha256 is not one line naming dinp-agent-9.9.9.tar.gz'
check_fails 'another agent: nothing installed' test -e "$W/dinp-agent"
mkagent falcon-agent 0.9
relabel falcon-agent-1.0.4.tar.gz falcon-agent-0.9.tar.gz
want_signed falcon-agent 0.9
pass
is 'a signed release relabelled as another version: exit 1' "$rc" 1
grep_log 'another version: refused' 'refusing falcon-agent-0.9.tar.gz: its signed .sha256 is not one line naming falcon-agent-0.9.tar.gz'
check_fails 'another version: nothing installed' test -e "$W/falcon-agent/0.9"
is 'another version: the signed one still current' "$(cat "$W/falcon-agent/.version")" 1.0.4

# The signed name is {name}-{version}.tar.gz: falcon-agent at version
# exporter-1.2 and falcon-agent-exporter at 1.2 would share it, and the
# genuinely signed release of one would run as the other. With a key, a
# version with a '-' is refused before anything is fetched.
mkagent falcon-agent-exporter 1.2
sign falcon-agent-exporter-1.2.tar.gz
want_signed falcon-agent exporter-1.2
: >"$T/requests"
pass
is 'a signed release of another agent, split at another dash: exit 1' "$rc" 1
grep_log 'refused, naming the entry' "desiredAgents entry 1 skipped: falcon-agent version 'exporter-1.2' has a '-': with verify.public_key set"
is 'nothing fetched for it' "$(downloads)" 0
is 'the dashed version: the signed one still current' "$(cat "$W/falcon-agent/.version")" 1.0.4
check 'and still runs' running "$W/falcon-agent/1.0.4"
check_fails 'the dashed version: nothing installed' test -e "$W/falcon-agent/exporter-1.2"
"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>&1
check 'the plan says refuse too' grep -q "refuse: falcon-agent version 'exporter-1.2' has a '-'" "$T/plan"
# The way to publish a release candidate in key mode.
mkagent falcon-agent 1.0.4_rc1
sign falcon-agent-1.0.4_rc1.tar.gz
want_signed falcon-agent 1.0.4_rc1
pass
is 'a signed 1.0.4_rc1: exit 0' "$rc" 0
check 'it runs' running "$W/falcon-agent/1.0.4_rc1"
want_signed falcon-agent 1.0.4
pass
is 'back to the signed 1.0.4: exit 0' "$rc" 0

# Bytes swapped under a correctly signed .sha256 (and a matching .md5):
# hostile bytes that gzip and tar see only in the sandbox, and whose tree
# is never adopted, since the SHA-256 does not match.
mkagent falcon-agent 1.0.5
sign falcon-agent-1.0.5.tar.gz
ESC=escaped-$$-$(date +%s%N)
mkdir -p "$T/src/tampered" && cp "$T/src/falcon-agent-1.0.5/control" "$T/src/tampered/"
ln -s / "$T/src/tampered/root"
tar -czf "$F/falcon-agent-1.0.5.tar.gz" -C "$T/src/tampered" . -P --transform "s|^\./root|../../$ESC|"
(cd "$F" && md5sum falcon-agent-1.0.5.tar.gz >falcon-agent-1.0.5.tar.gz.md5)
want_signed falcon-agent 1.0.5
pass
is 'a tampered tarball under a good signature: exit 1' "$rc" 1
grep_log 'tampered: SHA-256 mismatch' 'falcon-agent-1.0.5.tar.gz: SHA-256 mismatch'
grep_log 'tampered: gzip and tar saw it unprivileged only' 'unpacking falcon-agent-1.0.5.tar.gz as it arrives, as uid [0-9]+, file systems read-only but staging'
check_fails 'tampered: not adopted' grep -q 'installed .*falcon-agent/1.0.5' "$W/ops-updater.log"
check_fails 'tampered: nothing installed' test -e "$W/falcon-agent/1.0.5"
is 'tampered: no staging directory or temp file left' "$(leftovers falcon-agent)" ''
check_fails 'tampered: nothing unpacked above the agent directory' test -e "$W/$ESC"
# A version already on disk is started only on its own kept signature: a
# fleet ran unsigned releases, then the key was set; keep_versions kept an
# unsigned one, and a hostile server asks for it.
mkagent kite-agent 0.9
config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}"
want_signed kite-agent 0.9
pass
is 'unsigned kite-agent 0.9 without a key: exit 0' "$rc" 0
mkagent kite-agent 1.0
sign kite-agent-1.0.tar.gz
signed_config
want_signed kite-agent 1.0
pass
is 'then a key, and a signed 1.0: exit 0' "$rc" 0
check 'signed 1.0 runs' running "$W/kite-agent/1.0"
check 'unsigned 0.9 still on disk' test -x "$W/kite-agent/0.9/control"
want_signed kite-agent 0.9
: >"$T/requests"
pass
is 'the installed unsigned 0.9 asked for: exit 1' "$rc" 1
grep_log 'refused: no valid signature' 'installed 0.9 has no valid signature for the configured key; remove it or publish a new version'
is 'refused without a download' "$(downloads)" 0
is 'refused unsigned 0.9: .version stays 1.0' "$(cat "$W/kite-agent/.version")" 1.0
check 'signed 1.0 keeps running' running "$W/kite-agent/1.0"
check_fails 'unsigned 0.9 does not run' running "$W/kite-agent/0.9"
is 'unsigned 0.9 started once only, before the key' "$(wc -l <"$W/kite-agent/0.9/starts")" 1
# A signed installed version is still reused, with no download.
mkagent kite-agent 1.1
sign kite-agent-1.1.tar.gz
want_signed kite-agent 1.1
pass
is 'signed 1.1: exit 0' "$rc" 0
want_signed kite-agent 1.0
: >"$T/requests"
pass
is 'back to the installed signed 1.0: exit 0' "$rc" 0
is 'reused without a download' "$(downloads)" 0
check 'signed 1.0 runs again' running "$W/kite-agent/1.0"
grep_log 'its kept signature verified' 'installed 1.0: its kept kite-agent-1.0.tar.gz verified'
# Kept bytes changed since the signed install: refused too.
printf x >>"$W/kite-agent/1.1/kite-agent-1.1.tar.gz"
want_signed kite-agent 1.1
pass
is 'an installed 1.1 whose kept tarball changed: exit 1' "$rc" 1
grep_log 'changed kept tarball: SHA-256 mismatch' 'kite-agent-1.1.tar.gz: SHA-256 mismatch'
grep_log 'changed kept tarball: refused' 'installed 1.1 has no valid signature for the configured key'
is 'changed 1.1 refused: .version stays 1.0' "$(cat "$W/kite-agent/.version")" 1.0
# Another release's signed pair put beside an installed version: the
# signature holds, the name it signs does not.
for ext in '' .sha256 .sig; do cp "$W/kite-agent/1.0/kite-agent-1.0.tar.gz$ext" "$W/kite-agent/0.9/kite-agent-0.9.tar.gz$ext"; done
want_signed kite-agent 0.9
pass
is 'an installed 0.9 with the signed pair of 1.0: exit 1' "$rc" 1
grep_log 'another release'"'"'s pair: refused by name' 'its signed kite-agent-0.9.tar.gz.sha256 is not one line naming kite-agent-0.9.tar.gz'
is 'another release'"'"'s pair: .version stays 1.0' "$(cat "$W/kite-agent/.version")" 1.0
# A right .sha256 of the kept bytes under a .sig of another key.
(cd "$W/kite-agent/0.9" && cp "$F/kite-agent-0.9.tar.gz" . && sha256sum kite-agent-0.9.tar.gz >kite-agent-0.9.tar.gz.sha256)
openssl genpkey -algorithm ed25519 -out "$T/other.key" 2>/dev/null
openssl pkeyutl -sign -rawin -inkey "$T/other.key" -in "$W/kite-agent/0.9/kite-agent-0.9.tar.gz.sha256" \
    -out "$W/kite-agent/0.9/kite-agent-0.9.tar.gz.sig"
pass
is 'an installed 0.9 signed with another key: exit 1' "$rc" 1
grep_log 'another key: bad signature' 'refusing kite-agent-0.9.tar.gz: bad signature'
is 'another key: .version stays 1.0' "$(cat "$W/kite-agent/.version")" 1.0
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rsa.key" -out /dev/null -subj /CN=x -days 1 2>/dev/null
openssl pkey -in "$T/rsa.key" -pubout -out "$T/rsa.pub" 2>/dev/null
config "\"verify\": {\"public_key\": \"$T/rsa.pub\"}"
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
is 'an RSA key where Ed25519 is wanted: exit 78' $? 78
check 'and the error says so' grep -q 'verify.public_key: .*: not an Ed25519 key' "$T/err"
done_testing
