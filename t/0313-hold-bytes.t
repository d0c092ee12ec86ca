#!/bin/sh
# A digest-mismatch hold is keyed on the bytes received: it keeps their
# digest. Validators that change (load-balanced mirrors, Apache's inode
# ETags) end the hold only for one download; when it brings the same
# bytes, it is the same release: the hold stands, its backoff doubles, and
# the validators, proven to say nothing, are not asked again. Last-Modified
# alone is no evidence of new bytes.
. "$(dirname "$0")/lib.sh"

A=$W/a
gets() { grep -c "^GET /files/$1 " "$T/requests"; }
heads() { grep -c "^HEAD /files/$1 " "$T/requests"; }
hold() { st 'a["result"], a["held_version"], a["held_fails"], a["retry_after"] - a["failed_at"]'; }
stamp=$(($(date +%s) - 100000))
copied() {	# the same bytes, copied again: a new mtime (ETag and Last-Modified)
	stamp=$((stamp + 10))
	touch -d "@$stamp" "$F/a-2.tar.gz"
}

start_server
config '"retry_failed": 3600'
mkagent a 1
serve "{\"agents\": [$(want a 1)]}"
pass
is 'setup: 1 installed' "$rc" 0

# A tarball whose bytes do not match its .md5, from a server with one
# fixed ETag: held on the second mismatch, as ever.
mkagent a 2
echo "00000000000000000000000000000000  a-2.tar.gz" >"$F/a-2.tar.gz.md5"
serve "{\"agents\": [$(want a 2)], \"faults\": {\"files\": {\"a-2.tar.gz\": {\"etag\": \"\\\"fixed\\\"\"}}}}"
pass
pass
is 'a wrong digest twice: held' "$rc $(hold) $(gets a-2.tar.gz)" "1 ('held', '2', 1, 3600) 2"
is 'the hold keeps the digest of the bytes received' "$(st 'a["held_received"]')" "md5:$(md5sum <"$F/a-2.tar.gz" | cut -c1-32)"

# 1. Last-Modified alone changes: no evidence of new bytes.
copied
: >"$W/ops-updater.log"
pass
is 'Last-Modified alone changed: still held, not downloaded' "$rc $(hold) $(gets a-2.tar.gz)" "1 ('held', '2', 1, 3600) 2"
check_fails 'the hold did not end' grep -q 'the hold of 2 ends' "$W/ops-updater.log"

# 2. The ETag changes too, the bytes do not: downloaded once, the same
# digest: the hold stands and doubles.
serve "{\"agents\": [$(want a 2)]}"
copied
: >"$W/ops-updater.log"
pass
is 'the ETag changed: downloaded once more' "$(gets a-2.tar.gz)" 3
is 'the same bytes: held, the backoff doubled' "$rc $(hold)" "1 ('held', '2', 2, 7200)"
grep_log 'the log says why' "warning a: 2 is the same release as when it was held \\(its bytes again: md5:[0-9a-f]{32}\\), although its tarball's validators changed: held again, 2 in a row; they are no evidence for it now\$"
h=$(heads a-2.tar.gz)
copied
pass
copied
pass
is 'the validators vary on: neither downloaded nor HEADed again' "$rc $(hold) $(gets a-2.tar.gz) $(heads a-2.tar.gz)" \
    "1 ('held', '2', 2, 7200) 3 $h"

# 3. The .md5 fixed: the hold ends, the release installs.
(cd "$F" && md5sum a-2.tar.gz >a-2.tar.gz.md5)
: >"$W/ops-updater.log"
pass
grep_log 'a fixed .md5 still ends it' 'info a: the hold of 2 ends: its .md5 changed since it failed; trying it again$'
is 'installed' "$rc $(cat "$A/.version") $(st 'a["result"], a["held_version"]')" "0 2 ('ok', '')"

# 4. New bytes behind a new ETag end the hold for good: a tarball fixed.
mkagent a 3
cp "$F/a-3.tar.gz" "$T/a-3.good"
(cd "$T" && md5sum a-3.good | sed 's/a-3.good/a-3.tar.gz/') >"$T/a-3.md5"
head -c 100 "$T/a-3.good" >"$F/a-3.tar.gz"
cp "$T/a-3.md5" "$F/a-3.tar.gz.md5"
serve "{\"agents\": [$(want a 3)]}"
pass
pass
is 'a tarball cut short, twice: held' "$rc $(st 'a["result"], a["held_version"]')" "1 ('held', '3')"
cp "$T/a-3.good" "$F/a-3.tar.gz"
pass
is 'the whole tarball published: installed' "$rc $(cat "$A/.version")" '0 3'
done_testing
