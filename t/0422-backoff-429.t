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
done_testing
