#!/bin/sh
# A URL prefix is compared, stored and sent as printable ASCII only: one
# with any other byte (raw UTF-8, a control byte) is refused with the
# byte named, before anything is fetched, so a hold, a trial or a partial
# can never miss its release because one copy is escaped and the other
# raw (such a release used to flap every pass). So is one over 1024 bytes.
. "$(dirname "$0")/lib.sh"

A=$W/a
start_server
config '"retry_failed": 3600'
mkagent a 1; mkagent a 2
serve "{\"agents\": [$(want a 1)]}"
pass
is 'setup: 1 installed' "$rc" 0

entry() {	# TARBALL MD5: want a 2 from these prefixes
	serve "{\"agents\": [{\"default\": {\"name\": \"a\", \"version\": \"2\", \"tarball\": \"$1\", \"md5\": \"$2\", \"cmd\": \"start\"}}]}"
}
n0=$(downloads)
entry '{base}/fil\u00ffes' ''
: >"$W/ops-updater.log"
pass
is 'non-ASCII tarball prefix: exit 1' "$rc" 1
grep_log 'refused, the byte named' \
    "error: desiredAgents entry 1 skipped: tarball 'http://127.0.0.1:$PORT/fil\\\\xc3\\\\xbfes' holds byte 0xc3, not printable ASCII \\(percent-encode it\\)$"
is 'nothing was fetched for it' "$(downloads)" "$n0"
is 'the state: refused, not held' "$(st 'a["result"], a["held_version"]')" "('refused', '')"
is 'the error in the state is escaped as in the log' "$(st 'a["error"]')" \
    "tarball 'http://127.0.0.1:$PORT/fil\\xc3\\xbfes' holds byte 0xc3, not printable ASCII (percent-encode it)"
is '1 still runs, .version unchanged' "$(cat "$A/.version") $(running "$A/1" && echo y)" '1 y'

entry '{base}/files' '{base}/sums\u0001'
pass
is 'a control byte in the md5 prefix: exit 1' "$rc" 1
is 'refused too' "$(st 'a["result"], a["error"]')" \
    "('refused', \"md5 'http://127.0.0.1:$PORT/sums\\\\x01' holds byte 0x01, not printable ASCII (percent-encode it)\")"
is 'nothing fetched' "$(downloads)" "$n0"

long=$(python3 -c 'print("x" * 1100)')
entry "{base}/$long" ''
pass
is 'a 1100-byte prefix: exit 1' "$rc" 1
is 'refused: too long' "$(st 'a["result"], a["error"]')" "('refused', 'tarball is longer than 1024 bytes')"

# The same release from a clean prefix installs.
entry '{base}/files' ''
pass
is 'a printable prefix: installed' "$rc $(cat "$A/.version")" '0 2'
done_testing
