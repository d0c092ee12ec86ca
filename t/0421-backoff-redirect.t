#!/bin/sh
# A Retry-After parks the origin that answered it, not one that only
# redirected there: ops-meta that sends its files to a busy mirror must
# not have its own heartbeats stopped for as long as the mirror asks.
. "$(dirname "$0")/lib.sh"

mkagent a 1
mkagent a 2
serve "{\"agents\": [$(want a 1)]}"
start_server
start_other
config '"retry_failed": 3600'
pass
is 'setup: 1 installed' "$rc" 0

posts() { grep -c '^POST /heartbeat ' "$T/requests"; }
waits() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(" ".join(w["origin"] for w in s["waits"]))' \
	    "$W/ops-updater.state.json"
}

# ops-meta redirects the tarball to a mirror (another origin), which
# answers 503 with Retry-After: an hour.
printf '{"agents": [], "faults": {"files": {"a-2.tar.gz": {"status": 503, "retry_after": "3600"}}}}\n' >"$T/meta2.json"
serve "{\"agents\": [$(want a 2)], \"faults\": {\"files\": {\"a-2.tar.gz\": {\"redirect\": \"$OTHER/files/a-2.tar.gz\"}}}}"
: >"$W/ops-updater.log"
pass
is 'the mirror is busy: exit 1, 1 still current' "$rc $(cat "$W/a/.version")" '1 1'
is 'the mirror got the request' "$(grep -c '^GET /files/a-2.tar.gz 503' "$T/requests2")" 1
grep_log 'the log names the mirror' "warning a: $OTHER answered HTTP 503 with Retry-After: 3600; not asked again before"
is 'the wait is the mirror'"'"'s, not ops-meta'"'"'s' "$(waits)" "$OTHER"
before=$(posts)
serve "{\"agents\": [$(want a 1)]}"
: >"$W/ops-updater.log"
pass
is 'the next pass: ops-meta is asked, exit 0' "$rc $(posts)" "0 $((before + 1))"
check_fails 'and not refused' grep -q 'not asked' "$W/ops-updater.log"
done_testing
