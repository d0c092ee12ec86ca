#!/bin/sh
# A file server that answers 429 (too many requests) without Retry-After
# is backed off like one that answers 5xx: the version skips passes that
# double per answer in a row, and is not held. Else the whole fleet asks
# again on the next cron round, the very load the server refused.
. "$(dirname "$0")/lib.sh"

mkagent a 1
mkagent a 2
serve "{\"agents\": [$(want a 1)]}"
start_server
config '"retry_failed": 3600'
pass
is 'setup: 1 installed' "$rc" 0

gets() { grep -c "^GET /files/$1 " "$T/requests"; }
serve "{\"agents\": [$(want a 2)], \"faults\": {\"files\": {\"a-2.tar.gz\": {\"status\": 429}}}}"
tries=
for i in 1 2 3 4 5; do
	before=$(gets a-2.tar.gz)
	pass
	[ "$(gets a-2.tar.gz)" != "$before" ] && tries="$tries $i"
	[ "$rc" = 1 ] || tries="$tries rc$rc"
done
is 'a 429 for the tarball: tried on passes 1 2 4 (0, 1 skipped between)' "$tries" ' 1 2 4'
grep_log 'a skipped pass says why' 'skipping 2 this pass: its server answered HTTP 5xx or 429 2 times in a row; next try in 1 pass'
is 'no hold, 1 still current' "$(st 'a["held_version"] or "none"') $(cat "$W/a/.version")" 'none 1'
serve "{\"agents\": [$(want a 2)]}"
pass --now
is 'the server answers again: installed' "$rc $(cat "$W/a/.version")" '0 2'

# The list of waits is bounded, and no wait still running leaves it to
# make room: a server that lists agents whose tarball URLs name many
# origins answering 429 cannot push a busy mirror's wait out (the fleet
# would hammer the mirror). The newcomers past the bound are left alone
# for the pass, and the log says the list is full.
start_other
for f in m-1.tar.gz m-1.tar.gz.md5 m-1.tar.gz.sha256 m-1.tar.gz.sig; do
	printf '"%s": {"status": 429, "retry_after": "600"}\n' "$f"
done | paste -sd, | sed 's/^/{"faults": {"files": {/; s/$/}}}/' >"$T/meta2.json"
(cd "$T" && exec python3 - "$T/ports429" <<'EOF') &
import os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        self.send_response(429)
        self.send_header("Retry-After", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_HEAD = do_GET
servers = [ThreadingHTTPServer(("127.0.0.1", 0), H) for _ in range(40)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(" ".join(str(s.server_address[1]) for s in servers) + "\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Event().wait()
EOF
i=0
while [ ! -s "$T/ports429" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
agents="{\"default\": {\"name\": \"m\", \"version\": \"1\", \"tarball\": \"$OTHER/files\", \"md5\": \"\", \"cmd\": \"start\"}}"
n=0
for port in $(cat "$T/ports429"); do
	agents="$agents, {\"default\": {\"name\": \"h$n\", \"version\": \"1\", \"tarball\": \"http://127.0.0.1:$port/files\", \"md5\": \"\", \"cmd\": \"start\"}}"
	n=$((n + 1))
done
serve "{\"agents\": [$(want a 2), $agents]}"
: >"$W/ops-updater.log"
pass
is 'the mirror and 40 origins say 429: exit 1' "$rc" 1
waits() { python3 -c 'import json,sys; print(" ".join(w["origin"] for w in json.load(open(sys.argv[1]))["waits"]))' "$W/ops-updater.state.json"; }
matches 'the mirror'"'"'s wait is kept' "$(waits | tr ' ' '\n')" "^$OTHER\$"
is 'the list holds 32 origins besides the servers'"'"'' "$(waits | wc -w)" 32
grep_log 'the log says the list is full' \
    'the list of waits is full \(32 origins besides the servers'"'"', each still waiting\): http://127\.0\.0\.1:[0-9]+ is left alone for this pass only$'
before=$(grep -c '^GET /files/m-1' "$T/requests2")
pass
is 'the next pass leaves the mirror alone' "$rc $(grep -c '^GET /files/m-1' "$T/requests2")" "1 $before"
done_testing
