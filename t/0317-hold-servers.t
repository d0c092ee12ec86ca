#!/bin/sh
# Holds against file servers that are not quite what the evidence
# expects: what can be had of the evidence is compared, and a hold ends
# only when what the server publishes really changed.
. "$(dirname "$0")/lib.sh"

A=$W/a
gets() { grep -c "^GET /files/$1 " "$T/requests"; }
held() { st 'a["result"], a["held_version"]'; }

start_server
config '"retry_failed": 3600'
mkagent a 1
serve "{\"agents\": [$(want a 1)]}"
pass
is 'setup: 1 installed' "$rc" 0

# 1. A file server that refuses HEAD (405): a .md5 fixed still ends the
# hold (it is compared although the tarball's validators cannot be had).
mkagent a 2
echo "00000000000000000000000000000000  a-2.tar.gz" >"$F/a-2.tar.gz.md5"
serve "{\"agents\": [$(want a 2)], \"faults\": {\"files\": {\"a-2.tar.gz\": {\"head_status\": 405}}}}"
pass
pass
is 'wrong .md5 twice: held, with the tarball'"'"'s validators' \
    "$rc $(held) $(st 'a["held_validators"].startswith("etag ")')" "1 ('failed', '2') True"
: >"$W/ops-updater.log"
pass
is 'HEAD refused, nothing else changed: the hold stands' "$rc $(held)" "1 ('held', '2')"
grep_log 'and says it cannot tell' 'warning a: cannot tell whether the files of 2 changed since it failed: the hold stands$'
(cd "$F" && md5sum a-2.tar.gz >a-2.tar.gz.md5)
: >"$W/ops-updater.log"
pass
grep_log 'HEAD refused, .md5 fixed: the hold ends' 'info a: the hold of 2 ends: its .md5 changed since it failed; trying it again$'
is 'installed' "$rc $(cat "$A/.version") $(held)" "0 2 ('ok', '')"
done_testing
