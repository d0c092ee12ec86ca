#!/bin/sh
# Only a release's own faults hold it: a digest that does not match, an
# unpack or a start that fails. A cut download, a 5xx from the file
# server or a full disk is a failure (counted, exit 1) but no hold: the
# next pass tries again (after a busy server's backoff), and resumes what
# it has.
. "$(dirname "$0")/lib.sh"

PAYLOAD_KB=512
export PAYLOAD_KB
start_server
config '"retry_failed": 3600'
A=$W/a
mkagent a 1; mkagent a 2; mkagent a 3; mkagent a 4
serve "{\"agents\": [$(want a 1)]}"
pass
is 'setup: 1 installed' "$rc" 0

# A download cut by the network.
serve "{\"agents\": [$(want a 2)], \"faults\": {\"files\": {\"a-2.tar.gz\": {\"truncate\": 100000}}}}"
pass
is 'cut download: exit 1' "$rc" 1
is 'failed, counted, not held' "$(st 'a["result"], a["fails"], a["held_version"]')" "('failed', 1, '')"
check 'the partial is kept' test -s "$A/.ops-updater-partial.a-2.tar.gz"
serve "{\"agents\": [$(want a 2)]}"
pass
is 'next pass, without --retry: tried again and installed' "$rc $(cat "$A/.version")" "0 2"
grep_log 'and it resumed' 'a: resuming .*/a-2.tar.gz at byte 100000'

# A 503 from the file server, on the tarball and on the .md5.
for f in a-3.tar.gz a-3.tar.gz.md5; do
	serve "{\"agents\": [$(want a 3)], \"faults\": {\"files\": {\"$f\": {\"status\": 503}}}}"
	pass
	is "503 on $f: exit 1, not held" "$rc $(st 'a["result"], a["held_version"]')" "1 ('failed', '')"
done
# Two 5xx in a row: the next pass leaves the busy server alone (0, 1, 3,
# ... passes skipped, t/0420), the one after tries and installs.
serve "{\"agents\": [$(want a 3)]}"
pass
is 'the server is back: one pass skipped, still not held' "$rc $(st 'a["result"], a["held_version"]')" "1 ('busy', '')"
pass
is 'the server is back: installed on the next' "$rc $(cat "$A/.version")" "0 3"

# A full disk: the work directory on a small tmpfs.
# Room for the download but not for its unpack: the unpack stops at the
# disk reserve (or the disk is full), and the state still has room.
if mkdir "$T/small" && mount -t tmpfs -o size=700k ops-updater-test "$T/small" 2>/dev/null; then
	mkdir "$T/small/w" && cp "$W/cfg.json" "$T/small/w/" &&
	    sed -i "s|}\$|, \"workdir\": \"$T/small/w\"}|" "$T/small/w/cfg.json"
	"$OPS_UPDATER" -c "$T/small/w/cfg.json" --no-jitter run >/dev/null 2>&1
	is 'disk full: exit 1' $? 1
	is 'disk full: not held' "$(python3 -c 'import json, sys; a = json.load(open(sys.argv[1]))["agents"][0]; print(a["result"], repr(a["held_version"]))' "$T/small/w/ops-updater.state.json")" "failed ''"
	# Stopped at the staging file system's reserve, or out of space.
	check 'and the log says so' grep -Eq 'No space left on device|below its 5% reserve' "$T/small/w/ops-updater.log"
	umount "$T/small"
else
	for n in 1 2 3; do ntest=$((ntest + 1)); echo "ok $ntest # SKIP cannot mount a tmpfs here"; done
fi

# A tarball whose MD5 does not match: the release's fault, once it does
# so twice (the first time, the bytes may have been hurt on the way).
echo "00000000000000000000000000000000  a-4.tar.gz" >"$F/a-4.tar.gz.md5"
serve "{\"agents\": [$(want a 4)]}"
pass
is 'bad MD5: exit 1, not held yet' "$rc $(st 'a["result"], a["held_version"], a["mismatch_version"]')" "1 ('failed', '', '4')"
pass
is 'bad MD5 again: held' "$rc $(st 'a["result"], a["held_version"], "mismatch_version" in a')" "1 ('held', '4', False)"
n=$(grep -c '^GET /files/a-4.tar.gz ' "$T/requests")
pass
is 'next pass: held, nothing fetched' "$rc $(st 'a["result"]') $(grep -c '^GET /files/a-4.tar.gz ' "$T/requests")" "1 held $n"

# A tarball larger than download_max_mb: the release's own size, which
# no later pass changes. Held, so that a fleet does not fetch it again
# every pass: up to the cap each time from a server that sends no length.
PAYLOAD_KB=1536 mkagent a 5
config '"retry_failed": 3600, "download_max_mb": 1'
for how in length nolength; do
	fault=
	[ $how = nolength ] && fault='"nolength": 1'
	serve "{\"agents\": [$(want a 5)], \"faults\": {\"files\": {\"a-5.tar.gz\": {$fault}}}}"
	: >"$W/ops-updater.log"
	pass --retry
	is "larger than download_max_mb ($how): held at once" "$rc $(st 'a["result"], a["held_version"]')" "1 ('held', '5')"
	grep_log "the log names the key ($how)" "error a: GET .*/a-5\.tar\.gz: larger than download_max_mb \(1 MiB\)\$"
	n=$(grep -c '^GET /files/a-5.tar.gz ' "$T/requests")
	pass
	is "next pass ($how): held, nothing fetched" "$rc $(st 'a["result"]') $(grep -c '^GET /files/a-5.tar.gz ' "$T/requests")" "1 held $n"
done
is 'the hold keeps the caps it failed under' "$(st 'a["held_caps"]')" 'download_max_mb 1, unpack_max_mb 4096'
# The operator raises the cap: the hold's cause is gone, at once.
config '"retry_failed": 3600, "download_max_mb": 2'
: >"$W/ops-updater.log"
pass
is 'download_max_mb raised: installed at once' "$rc $(cat "$W/a/.version")" '0 5'
grep_log 'the log says why the hold ended' \
    'info a: the hold of 5 ends: the size caps changed \(were download_max_mb 1, unpack_max_mb 4096\) since it failed'

# The same for unpack_max_mb: a release that unpacks to more than it.
PAYLOAD_KB=1536 mkagent a 6
config '"retry_failed": 3600, "unpack_max_mb": 1'
serve "{\"agents\": [$(want a 6)]}"
pass
is 'larger than unpack_max_mb: held' "$rc $(st 'a["result"], a["held_version"], a["held_caps"]')" \
    "1 ('held', '6', 'download_max_mb 1024, unpack_max_mb 1')"
pass
is 'next pass: held' "$rc $(st 'a["result"]')" '1 held'
# Another change of the configuration leaves it held.
config '"retry_failed": 3600, "unpack_max_mb": 1, "keep_versions": 2'
pass
is 'another key changed: still held' "$rc $(st 'a["result"]')" '1 held'
config '"retry_failed": 3600, "unpack_max_mb": 8'
pass
is 'unpack_max_mb raised: installed at once' "$rc $(cat "$W/a/.version")" '0 6'
done_testing
