#!/bin/sh
# check's line has one '|': the one that starts the perfdata. A '|' in an
# outside string it quotes (the server's errorMessage) is escaped, so a
# server can neither cut the status text nor forge perfdata.
. "$(dirname "$0")/lib.sh"

mkagent a 1
serve "{\"agents\": [$(want a 1)]}"
start_server
config
pass
is 'setup: installed' "$rc" 0
serve "{\"agents\": [$(want a 1)], \"errorMessage\": \"maintenance | failed=0;;;0 held=0;;;0\"}"
pass
is 'errorMessage: exit 1' "$rc" 1
plugin
is 'check: WARNING, one line' "$crc $(wc -l <"$T/check")" '1 1'
is 'one | only' "$(printf '%s' "$out" | tr -cd '|' | wc -c)" 1
matches 'the server'"'"'s | escaped' "$out" 'server says: maintenance \\x7c failed=0;;;0 held=0;;;0; changing nothing this pass; last pass [0-9]+ s ago \| age='
done_testing
