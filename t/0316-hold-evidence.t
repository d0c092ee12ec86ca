#!/bin/sh
# A hold lasts only while its evidence stands: what the server published
# for the version when it failed (digests of its .md5, .sha256 and .sig,
# its tarball's ETag, Last-Modified and length). While held, each pass asks
# for the small files again and HEADs the tarball, never downloading it;
# when anything differs the hold ends at once and the version is tried.
# A digest or signature mismatch is tried once more before it holds (bytes
# hurt on the way, a publish caught half done); a failed start holds at once.
. "$(dirname "$0")/lib.sh"

A=$W/a
gets() { grep -c "^GET /files/$1 " "$T/requests"; }
heads() { grep -c "^HEAD /files/$1 " "$T/requests"; }
held() { st 'a["result"], a["held_version"]'; }

start_server
config '"retry_failed": 3600'
mkagent a 1
serve "{\"agents\": [$(want a 1)]}"
pass
is 'setup: 1 installed' "$rc" 0

# 1. A wrong .md5, fixed on the server.
mkagent a 2
echo "00000000000000000000000000000000  a-2.tar.gz" >"$F/a-2.tar.gz.md5"
serve "{\"agents\": [$(want a 2)]}"
: >"$W/ops-updater.log"
pass
is 'wrong .md5: failed, not held yet' "$rc $(held)" "1 ('failed', '')"
grep_log 'wrong .md5: to be tried once more' 'warning a: 2 failed its checks: it is tried once more on the next pass, and held if it fails so again$'
pass
is 'wrong .md5 again: held' "$rc $(held) $(gets a-2.tar.gz)" "1 ('held', '2') 2"
is 'the evidence: the .md5, the .sha256 not published, the validators' \
    "$(st 'a["held_md5"].startswith("sha256:"), a["held_sha256"], a["held_sig"], a["held_validators"].startswith("etag \"")')" \
    "(True, 'absent', '', True)"
is 'the validators name the length' "$(st 'a["held_validators"].endswith("; length '"$(stat -c %s "$F/a-2.tar.gz")"'")')" True
n=$(grep -c '^GET /files/a-2.tar.gz.md5 ' "$T/requests")
pass
pass
is 'held: the tarball is never downloaded again' "$rc $(held) $(gets a-2.tar.gz)" "1 ('held', '2') 2"
is 'held: the .md5 is asked each pass' "$(grep -c '^GET /files/a-2.tar.gz.md5 ' "$T/requests")" $((n + 2))
is 'held: the tarball only HEADed' "$(heads a-2.tar.gz)" 2
(cd "$F" && md5sum a-2.tar.gz >a-2.tar.gz.md5)
: >"$W/ops-updater.log"
pass
grep_log '.md5 fixed: the hold ends at once' 'info a: the hold of 2 ends: its .md5 changed since it failed; trying it again$'
is '.md5 fixed: installed' "$rc $(cat "$A/.version") $(st 'a["result"], a["held_version"], a["fails"]')" "0 2 ('ok', '', 0)"

# 2. Published in two steps, tarball then .md5: a pass in between holds
# the release for its missing .md5; the .md5 ends the hold.
mkagent a 3
rm "$F/a-3.tar.gz.md5"
serve "{\"agents\": [$(want a 3)]}"
pass
is 'no .md5 yet: held at once' "$rc $(held) $(st 'a["held_md5"]')" "1 ('held', '3') absent"
pass
is 'still no .md5: held' "$rc $(held)" "1 ('held', '3')"
(cd "$F" && md5sum a-3.tar.gz >a-3.tar.gz.md5)
: >"$W/ops-updater.log"
pass
grep_log 'the .md5 is there: the hold ends' 'info a: the hold of 3 ends: its .md5 is published now since it failed; trying it again$'
is 'installed' "$rc $(cat "$A/.version")" '0 3'

# The .md5 first, the tarball copied in part: a mismatch, tried once more.
mkagent a 4
cp "$F/a-4.tar.gz" "$T/a-4.whole"
head -c $(($(stat -c %s "$T/a-4.whole") / 2)) "$T/a-4.whole" >"$F/a-4.tar.gz"
serve "{\"agents\": [$(want a 4)]}"
pass
is 'tarball half copied: failed, not held' "$rc $(held)" "1 ('failed', '')"
cp "$T/a-4.whole" "$F/a-4.tar.gz"
pass
is 'copied whole: installed on the next pass' "$rc $(cat "$A/.version")" '0 4'

# 3. A failed start holds at once. Its bytes matched the .md5, which so
# pins the release: the same bytes copied again (new validators, as
# another backend of the file server has them) leave the hold as it is,
# not even HEADed; a release fixed (a new .md5) ends it.
mkagent a 5 nostart
config '"retry_failed": 3600, "status_wait": 1'
serve "{\"agents\": [$(want a 5)]}"
pass
is 'a start that fails: held at once' "$rc $(held) $(st 'a["held_fails"]')" "1 ('held', '5') 1"
is 'its evidence: the check files, not the tarball' "$(st 'a["held_md5"].startswith("sha256:"), a["held_validators"]')" "(True, '')"
pass
is 'held' "$rc $(held)" "1 ('held', '5')"
sleep 1.1
touch "$F/a-5.tar.gz"	# the same bytes, copied again: new validators
pass
is 'the tarball copied again: still held, not downloaded again' "$rc $(held) $(gets a-5.tar.gz)" "1 ('held', '5') 1"
is 'nor HEADed' "$(heads a-5.tar.gz)" 0
mkagent a 5	# fixed, same version
: >"$W/ops-updater.log"
pass
grep_log 'fixed: the hold ends' 'info a: the hold of 5 ends: its .md5 changed since it failed'
is 'fixed: installed from the new download' "$rc $(cat "$A/.version") $(gets a-5.tar.gz)" '0 5 2'
check 'and it runs' running "$A/5"

# 4. The server cannot say (503): the hold stands.
mkagent a 6 nostart
serve "{\"agents\": [$(want a 6)]}"
pass
is 'setup: 6 held' "$(held)" "('held', '6')"
serve "{\"agents\": [$(want a 6)], \"faults\": {\"files\": {\"a-6.tar.gz.md5\": {\"status\": 503}}}}"
: >"$W/ops-updater.log"
pass
is '503 on the .md5 while held: still held' "$rc $(held) $(gets a-6.tar.gz)" "1 ('held', '6') 1"
grep_log 'said so' 'warning a: cannot tell whether the files of 6 changed since it failed: the hold stands$'

# 4b. A held version kept on disk (as a failed one kept for its logs):
# when its files change, it is downloaded again, not started from disk.
serve "{\"agents\": [$(want a 5)]}"
pass
is 'setup: back on 5' "$rc $(cat "$A/.version")" '0 5'
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys, time
s = json.load(open(sys.argv[1]))
s["agents"][0].update(held_version="4", held_tarball=s["agents"][0]["held_tarball"] or "",
    failed_at=int(time.time()), retry_after=int(time.time()) + 3600, held_fails=1,
    held_md5="sha256:" + "0" * 64, held_sha256="absent", held_sig="", held_validators="")
json.dump(s, open(sys.argv[1], "w"))
PY
sed -i "s|\"held_tarball\": \"\"|\"held_tarball\": \"$BASE/files\"|" "$W/ops-updater.state.json"
check 'setup: 4 is on disk' test -x "$A/4/control"
n=$(gets a-4.tar.gz)
serve "{\"agents\": [$(want a 4)]}"
: >"$W/ops-updater.log"
pass
grep_log 'its .md5 is not the one it failed with: the hold ends' 'info a: the hold of 4 ends: its .md5 changed since it failed'
is 'downloaded again, not started from disk' "$rc $(cat "$A/.version") $(gets a-4.tar.gz)" "0 4 $((n + 1))"

# 5. With verify.public_key: a release published unsigned, then signed.
openssl genpkey -algorithm ed25519 -out "$T/sign.key" 2>/dev/null
openssl pkey -in "$T/sign.key" -pubout -out "$T/sign.pub" 2>/dev/null
config "\"retry_failed\": 3600, \"verify\": {\"public_key\": \"$T/sign.pub\"}"
mkagent a 7
serve "{\"agents\": [$(want a 7)]}"
pass
is 'unsigned: held at once' "$rc $(held) $(st 'a["held_sha256"]')" "1 ('held', '7') absent"
pass
is 'still unsigned: held, nothing downloaded' "$rc $(held) $(gets a-7.tar.gz)" "1 ('held', '7') 0"
(cd "$F" && sha256sum a-7.tar.gz >a-7.tar.gz.sha256) &&
    openssl pkeyutl -sign -rawin -inkey "$T/sign.key" -in "$F/a-7.tar.gz.sha256" -out "$F/a-7.tar.gz.sig"
: >"$W/ops-updater.log"
pass
grep_log 'signed: the hold ends' 'info a: the hold of 7 ends: its .sha256 is published now since it failed; trying it again$'
is 'signed: installed' "$rc $(cat "$A/.version")" '0 7'
done_testing
