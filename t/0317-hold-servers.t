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
    "$rc $(held) $(st 'a["held_validators"].startswith("etag ")')" "1 ('held', '2') True"
: >"$W/ops-updater.log"
pass
is 'HEAD refused, nothing else changed: the hold stands' "$rc $(held)" "1 ('held', '2')"
grep_log 'and says it cannot tell' 'warning a: cannot tell whether the files of 2 changed since it failed: the hold stands$'
(cd "$F" && md5sum a-2.tar.gz >a-2.tar.gz.md5)
: >"$W/ops-updater.log"
pass
grep_log 'HEAD refused, .md5 fixed: the hold ends' 'info a: the hold of 2 ends: its .md5 changed since it failed; trying it again$'
is 'installed' "$rc $(cat "$A/.version") $(held)" "0 2 ('ok', '')"
# 1b. A HEAD that leaves out Content-Length (a proxy that drops it): the
# length is not compared, the rest is the same, the hold stands: the
# tarball is not downloaded on every pass.
mkagent a 2b
echo "00000000000000000000000000000000  a-2b.tar.gz" >"$F/a-2b.tar.gz.md5"
serve "{\"agents\": [$(want a 2b)], \"faults\": {\"files\": {\"a-2b.tar.gz\": {\"head_nolength\": 1}}}}"
pass
pass
is 'wrong .md5 twice: held, the length among the validators' \
    "$rc $(held) $(st 'a["held_validators"].endswith("; length %d" % '"$(stat -c %s "$F/a-2b.tar.gz")"')')" \
    "1 ('held', '2b') True"
pass
pass
is 'HEAD without a length: still held, not downloaded again' "$rc $(held) $(gets a-2b.tar.gz)" "1 ('held', '2b') 2"
(cd "$F" && md5sum a-2b.tar.gz >a-2b.tar.gz.md5)
pass
is '.md5 fixed: installed' "$rc $(cat "$A/.version")" '0 2b'

# 2. A failed start served from two mirrors in turn (two ops-meta, each
# naming its own file server, a host failing over between them): the
# same check files from the other mirror are the same release, so the
# hold stands there too; the release is not downloaded and tried (the
# agent stopped and started) on every pass.
start_other
config '"retry_failed": 3600, "status_wait": 1'
mkagent a 3 nostart
from() { printf '{"default": {"name": "a", "version": "3", "tarball": "%s/files", "md5": "", "cmd": "start"}}' "$1"; }
all_gets() { cat "$T/requests" "$T/requests2" 2>/dev/null | grep -c "^GET /files/$1 "; }
serve "{\"agents\": [$(from "$BASE")]}"
pass
is 'a start that fails: held' "$rc $(held) $(all_gets a-3.tar.gz)" "1 ('held', '3') 1"
cur=$(cat "$A/.version")
starts=$(wc -l <"$A/$cur/starts")
serve "{\"agents\": [$(from "$OTHER")]}"
pass
is 'the other mirror, the same .md5: held' "$rc $(held) $(all_gets a-3.tar.gz)" "1 ('held', '3') 1"
serve "{\"agents\": [$(from "$BASE")]}"
pass
serve "{\"agents\": [$(from "$OTHER")]}"
pass
is 'back and forth: still held, downloaded once' "$rc $(held) $(all_gets a-3.tar.gz)" "1 ('held', '3') 1"
is 'the running version was never stopped and started again' "$(wc -l <"$A/$cur/starts")" "$starts"
check 'and runs' running "$A/$cur"
# The release fixed under that version: a .md5 that differs, from
# whichever mirror, ends the hold.
mkagent a 3
: >"$W/ops-updater.log"
pass
grep_log 'another .md5 there: the hold ends' 'info a: the hold of 3 ends: its .md5 changed since it failed; trying it again$'
is 'and the release is installed' "$rc $(cat "$A/.version")" '0 3'
done_testing
