#!/bin/sh
# Big releases over slow links: a download cut by the server, a stall or a
# kill -9 is kept and the next pass asks only for the rest (Range with
# If-Range); a changed file, a server that ignores ranges, a 416, a bad or
# old partial all fall back to a full download; a download that fails its
# checks is never resumed; download_rate_kbps caps the rate. First against
# the fake ops-meta's file server, then against a real nginx.
. "$(dirname "$0")/lib.sh"

A=$W/big
P=$A/.ops-updater-partial
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
intact() { (cd "$A/$1" && md5sum -c --quiet MANIFEST) >/dev/null 2>&1; }
# The status of the last request for /files/$1 that the fake server saw.
answered() { grep "^GET /files/$1 " "$T/requests" | tail -1 | cut -d' ' -f3; }
partials() { ls -a "$A" 2>/dev/null | grep -c '^\.ops-updater-partial\.'; }
files_fault() {	# FILE FAULT-JSON: want big at FILE's version, with a file fault
	serve "{\"agents\": [$(want big "$1")], \"faults\": {\"files\": {\"big-$1.tar.gz\": $2}}}"
}
# Publish big VERSION and cut its download after N bytes.
cut_at() {
	mkagent big "$1"
	files_fault "$1" "{\"truncate\": $2}"
	pass
}

PAYLOAD_KB=4096
export PAYLOAD_KB
start_server
config '"download_stall": 1'

# 1. A body cut by the server: kept, and the next pass fetches the rest.
cut_at 1 1500000
is 'cut: exit 1' "$rc" 1
is 'cut: the bytes so far are kept' "$(size "$P.big-1.tar.gz")" 1500000
check 'cut: the meta names the URL' grep -qx "url $BASE/files/big-1.tar.gz" "$P.big-1.tar.gz.meta"
check 'cut: the meta has the validator' grep -q '^validator "' "$P.big-1.tar.gz.meta"
is 'cut: data and meta are 0600' "$(stat -c %a "$P.big-1.tar.gz" "$P.big-1.tar.gz.meta" | tr '\n' ' ')" '600 600 '
grep_log 'cut: logged as kept' "kept 1500000 bytes of the cut download in $P.big-1.tar.gz"
files_fault 1 '{"status": 503}'
pass
is 'then a 503: exit 1' "$rc" 1
is 'then a 503: the bytes are still kept' "$(size "$P.big-1.tar.gz")" 1500000
files_fault 1 '{}'
: >"$W/ops-updater.log"
pass
is 'resumed: exit 0' "$rc" 0
is 'resumed: the server answered 206' "$(answered big-1.tar.gz)" 206
grep_log 'resumed: logged' "resuming $BASE/files/big-1.tar.gz at byte 1500000"
check 'resumed: the unpacked tree is intact' intact 1
check 'resumed: the kept tarball is the published one' cmp "$A/1/big-1.tar.gz" "$F/big-1.tar.gz"
is 'resumed: no partial left' "$(partials)" 0
is 'resumed: the kept tarball is 0644 again' "$(stat -c %a "$A/1/big-1.tar.gz")" 644

# 2. A stall, then a server that ignores ranges: the whole file, from 0.
mkagent big 2
files_fault 2 '{"stall": 5}'
pass
is 'stall: exit 1' "$rc" 1
check 'stall: half the file is kept' test "$(size "$P.big-2.tar.gz")" -gt 0
files_fault 2 '{"norange": 1}'
: >"$W/ops-updater.log"
pass
is 'range ignored: exit 0' "$rc" 0
is 'range ignored: HTTP 200' "$(answered big-2.tar.gz)" 200
grep_log 'range ignored: the kept bytes dropped' 'big-2.tar.gz: the server sent the whole file again'
check 'range ignored: intact' intact 2
check 'range ignored: the tarball is the published one' cmp "$A/2/big-2.tar.gz" "$F/big-2.tar.gz"

# 3. Republished under the same name (If-Range fails): the new bytes, whole,
# and nothing of the old ones beyond their end.
cut_at 3 2000000
is 'republished: first cut' "$rc" 1
sleep 0.01
PAYLOAD_KB=1024 mkagent big 3	# other bytes, fewer than were kept
files_fault 3 '{}'
: >"$W/ops-updater.log"
pass
is 'republished: exit 0' "$rc" 0
is 'republished: HTTP 200 to the If-Range' "$(answered big-3.tar.gz)" 200
grep_log 'republished: the old bytes dropped' 'big-3.tar.gz: the server sent the whole file again'
check 'republished: the new release, intact' intact 3
check 'republished: the tarball is the new one' cmp "$A/3/big-3.tar.gz" "$F/big-3.tar.gz"

# 4. Everything already kept (416): asked again without a range.
mkagent big 4
cp "$F/big-4.tar.gz" "$P.big-4.tar.gz"
etag=$(curl -s -D - -o /dev/null "$BASE/files/big-4.tar.gz" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
printf 'url %s\nvalidator %s\n' "$BASE/files/big-4.tar.gz" "$etag" >"$P.big-4.tar.gz.meta"
files_fault 4 '{}'
: >"$W/ops-updater.log"
pass
is '416: exit 0' "$rc" 0
is '416, then the whole file' "$(grep '^GET /files/big-4.tar.gz ' "$T/requests" | tail -2 | cut -d' ' -f3 | tr '\n' ' ')" '416 200 '
grep_log '416: logged' "HTTP 416 to a resume at byte $(size "$F/big-4.tar.gz"): starting again from byte 0"
check '416: intact' intact 4

# 5. A download that fails its checks is never resumed.
cut_at 5 1000000
printf 'ffffffffffffffffffffffffffffffff  big-5.tar.gz\n' >"$F/big-5.tar.gz.md5"
files_fault 5 '{}'
: >"$W/ops-updater.log"
pass
is 'bad md5 after a resume: exit 1' "$rc" 1
grep_log 'bad md5 after a resume: the kept bytes dropped' \
    'warning big: big-5.tar.gz failed its checks after a resume: dropping the kept bytes, downloading it again from byte 0$'
is 'bad md5 after a resume: downloaded again from byte 0 in the same pass' \
    "$(grep '^GET /files/big-5.tar.gz ' "$T/requests" | tail -2 | cut -d' ' -f3 | tr '\n' ' ')" '206 200 '
is 'bad md5: the partial is removed' "$(partials)" 0
(cd "$F" && md5sum big-5.tar.gz >big-5.tar.gz.md5)
pass
is 'bad md5 fixed: exit 0' "$rc" 0
is 'bad md5 fixed: downloaded whole' "$(answered big-5.tar.gz)" 200
check 'bad md5 fixed: intact' intact 5

# 6. A garbled meta (a validator that would smuggle a header): dropped.
cut_at 6 1000000
printf 'url %s\nvalidator "x"\rX-Smuggled: 1\n' "$BASE/files/big-6.tar.gz" >"$P.big-6.tar.gz.meta"
files_fault 6 '{}'
: >"$W/ops-updater.log"
pass
is 'garbled meta: exit 0' "$rc" 0
grep_log 'garbled meta: dropped' 'dropping 1000000 bytes kept of big-6.tar.gz: its meta is garbled'
is 'garbled meta: downloaded whole' "$(answered big-6.tar.gz)" 200

# 7. partial_max_age: an old partial is removed, not resumed.
cut_at 7 1000000
touch -d '2 days ago' "$P.big-7.tar.gz" "$P.big-7.tar.gz.meta"
files_fault 7 '{}'
: >"$W/ops-updater.log"
pass
is 'old partial: exit 0' "$rc" 0
grep_log 'old partial: removed' "removed $P.big-7.tar.gz: older than partial_max_age"
is 'old partial: downloaded whole' "$(answered big-7.tar.gz)" 200
cut_at 8 1000000
touch -d '2 days ago' "$P.big-8.tar.gz" "$P.big-8.tar.gz.meta"
serve "{\"agents\": []}"
pass
is 'old partial, nothing wanted: swept all the same' "$(partials)" 0

# 8. The desired version changes: partials of other versions go.
cut_at 9 1000000
is 'version change: a partial of 9' "$(partials)" 2
serve "{\"agents\": [$(want big 7)]}"	# back to the installed one
pass
is 'back to the installed version: exit 0' "$rc" 0
is 'back to the installed version: the partial of 9 removed' "$(partials)" 0
cut_at 10 1000000
mkagent big 11
serve "{\"agents\": [$(want big 11)]}"
: >"$W/ops-updater.log"
pass
is 'on to 11: exit 0' "$rc" 0
grep_log 'on to 11: the partial of 10 removed' "removed $P.big-10.tar.gz: another version is wanted now"
is 'on to 11: no partial left' "$(partials)" 0

# 9. partial_max_age 0: nothing is kept.
config '"download_stall": 1, "partial_max_age": 0'
cut_at 12 1000000
is 'partial_max_age 0: exit 1' "$rc" 1
is 'partial_max_age 0: nothing kept' "$(partials)" 0

# 10. download_rate_kbps: 8 MiB at 2048 KiB/s takes 4 s (a lower bound only).
config '"download_rate_kbps": 2048'
PAYLOAD_KB=8192 mkagent big 13
serve "{\"agents\": [$(want big 13)]}"
t0=$(date +%s%N)
pass
ms=$((($(date +%s%N) - t0) / 1000000))
is 'rate cap: exit 0' "$rc" 0
check "rate cap: 8 MiB took at least 3.5 s ($ms ms)" test "$ms" -ge 3500

# 11. A 206 from another byte than asked for: never spliced; all again.
cut_at 14 1000000
files_fault 14 '{"range_from": 500000}'
: >"$W/ops-updater.log"
pass
is 'range elsewhere: exit 0' "$rc" 0
grep_log 'range elsewhere: asked again' 'HTTP 206 to a resume at byte 1000000: starting again from byte 0'
check 'range elsewhere: intact' intact 14

# 12. Bytes kept from another URL: dropped.
cut_at 15 1000000
sed -i "s|^url .*|url $BASE/files/other.tar.gz|" "$P.big-15.tar.gz.meta"
files_fault 15 '{}'
: >"$W/ops-updater.log"
pass
is 'another URL: exit 0' "$rc" 0
grep_log 'another URL: dropped' 'dropping 1000000 bytes kept of big-15.tar.gz: they came from another URL'
is 'another URL: downloaded whole' "$(answered big-15.tar.gz)" 200

# 13. Resumed only on a validator that proves the bytes are the same: a
# strong ETag; the date only when no ETag came at all and the file was a
# second older than the answer (a file rewritten within the second of its
# date keeps the date).
mkagent big 16
touch -d '1 hour ago' "$F/big-16.tar.gz"	# its date would do, if no ETag came
files_fault 16 '{"truncate": 1000000, "etag": "\"a\u007f\""}'
pass
is 'hostile ETag: cut, nothing kept (nor the date)' "$rc $(partials)" '1 0'
files_fault 16 '{"truncate": 1000000, "etag": "W/\"weak\""}'
pass
is 'weak ETag: cut, nothing kept (nor the date)' "$rc $(partials)" '1 0'
touch -d '@'$(($(date +%s) + 30)) "$F/big-16.tar.gz"
files_fault 16 '{"truncate": 1000000, "noetag": 1}'
pass
is 'no ETag, a date not a second older than the answer: nothing kept' "$rc $(partials)" '1 0'
touch -d '1 hour ago' "$F/big-16.tar.gz"
pass
check 'no ETag, an old file: its date kept' grep -Eq '^validator [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' "$P.big-16.tar.gz.meta"
files_fault 16 '{"noetag": 1}'
pass
is 'resumed with a date: exit 0' "$rc" 0
is 'resumed with a date: 206' "$(answered big-16.tar.gz)" 206
check 'resumed with a date: intact' intact 16

# A server that keeps a strong ETag over new bytes: the resumed download
# fails its checks, and in the same pass the whole file comes again and
# installs; nothing is counted against the release.
cut_at 19 1000000
check 'lying ETag: a partial kept' test -s "$P.big-19.tar.gz.meta"
mkagent big 19	# other bytes under the same name
files_fault 19 '{"etag": "\"a-fixed-etag\""}'
sed -i "s|^validator .*|validator \"a-fixed-etag\"|" "$P.big-19.tar.gz.meta"
: >"$W/ops-updater.log"
pass
is 'lying ETag: exit 0' "$rc" 0
is 'lying ETag: resumed, then all of it from byte 0' \
    "$(grep '^GET /files/big-19.tar.gz ' "$T/requests" | tail -2 | cut -d' ' -f3 | tr '\n' ' ')" '206 200 '
grep_log 'lying ETag: logged' 'big-19.tar.gz failed its checks after a resume: dropping the kept bytes'
check 'lying ETag: the new release, intact' intact 19
check 'lying ETag: the tarball is the published one' cmp "$A/19/big-19.tar.gz" "$F/big-19.tar.gz"
is 'lying ETag: no failure recorded' "$(st 'a["fails"], a["result"]')" "(0, 'ok')"

# 14. The partial's name taken by a symlink or a hard link: never written
# through, never truncated through.
echo precious >"$T/victim"
for v in 17 18; do
	mkagent big $v
	if [ $v = 17 ]; then ln -s "$T/victim" "$P.big-$v.tar.gz"; else ln "$T/victim" "$P.big-$v.tar.gz"; fi
	serve "{\"agents\": [$(want big $v)]}"
	pass
	is "$( [ $v = 17 ] && echo symlink || echo hard link) as the partial: exit 0" "$rc" 0
	is "$( [ $v = 17 ] && echo symlink || echo hard link) as the partial: the target untouched" "$(cat "$T/victim")" precious
	check "$( [ $v = 17 ] && echo symlink || echo hard link) as the partial: intact" intact $v
done

# 15. A real server: nginx, rate-limited so a 32 MiB download takes 4 s.
NG=$T/nginx
mkdir -p "$NG"
ngpid=
trap '[ -n "$ngpid" ] && kill "$ngpid" 2>/dev/null; cleanup' EXIT
ngport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$NG/nginx.conf" <<EOF
daemon off;
master_process off;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 64; }
http {
	log_format resume '\$status \$body_bytes_sent "\$http_range" "\$http_if_range" \$uri';
	access_log $NG/access.log resume;
	client_body_temp_path $NG/body;
	proxy_temp_path $NG/proxy;
	fastcgi_temp_path $NG/fastcgi;
	uwsgi_temp_path $NG/uwsgi;
	scgi_temp_path $NG/scgi;
	server {
		listen 127.0.0.1:$ngport;
		root $F;
		limit_rate 8m;
	}
}
EOF
(cd "$NG" && exec nginx -e "$NG/error.log" -p "$NG" -c "$NG/nginx.conf") &
ngpid=$!
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$ngport/" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check 'nginx: up' curl -sf -o /dev/null "http://127.0.0.1:$ngport/big-1.tar.gz.md5"
config
nginx_want() {
	serve "{\"agents\": [{\"default\": {\"name\": \"big\", \"version\": \"$1\", \"tarball\": \"http://127.0.0.1:$ngport/\", \"md5\": \"\", \"cmd\": \"start\"}}]}"
}
# Start a pass for big $1 and kill -9 it once half the tarball is in.
kill_at_half() {
	half=$(($(size "$F/big-$1.tar.gz") / 2))
	"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ "$(size "$P.big-$1.tar.gz")" -lt $half ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i + 1)); done
	kill -9 $pid
	wait $pid 2>/dev/null
}
# Field $2 of nginx's last log line for big-$1.tar.gz: status, bytes, range, if-range.
ng_last() {
	grep " /big-$1.tar.gz\$" "$NG/access.log" | tail -1 |
	    awk -v f="$2" -F'"' '{ split($1, a, " "); v[1] = a[1]; v[2] = a[2]; v[3] = $2; v[4] = $4; print v[f] }'
}

PAYLOAD_KB=32768 mkagent big 20
full=$(size "$F/big-20.tar.gz")
nginx_want 20
kill_at_half 20
kept=$(size "$P.big-20.tar.gz")
check "nginx, kill -9: about half kept ($kept of $full bytes)" test "$kept" -gt 0 -a "$kept" -lt "$full"
check 'nginx, kill -9: with its meta' test -s "$P.big-20.tar.gz.meta"
pass
is 'nginx, resumed: exit 0' "$rc" 0
is 'nginx, resumed: 206' "$(ng_last 20 1)" 206
is 'nginx, resumed: Range from what was kept' "$(ng_last 20 3)" "bytes=$kept-"
check 'nginx, resumed: with If-Range' test -n "$(ng_last 20 4)"
sent=$(ng_last 20 2)
is 'nginx, resumed: only the rest was sent' "$sent" $((full - kept))
check "nginx, resumed: under 60% of the file sent ($sent of $full)" test $((sent * 100)) -lt $((full * 60))
check 'nginx, resumed: intact' intact 20
is 'nginx, resumed: .version' "$(cat "$A/.version")" 20
check 'nginx, resumed: running' running "$A/20"

# The file changes under the same name (new bytes, new ETag): all of it.
PAYLOAD_KB=32768 mkagent big 21
nginx_want 21
kill_at_half 21
check 'nginx, changed: a partial kept' test "$(size "$P.big-21.tar.gz")" -gt 0
PAYLOAD_KB=32768 mkagent big 21
pass
is 'nginx, changed: exit 0' "$rc" 0
is 'nginx, changed: 200 to the If-Range' "$(ng_last 21 1)" 200
check 'nginx, changed: a Range was asked' test -n "$(ng_last 21 3)"
is 'nginx, changed: the whole file sent' "$(ng_last 21 2)" "$(size "$F/big-21.tar.gz")"
check 'nginx, changed: intact' intact 21
check 'nginx, changed: the new release' cmp "$A/21/big-21.tar.gz" "$F/big-21.tar.gz"
check 'nginx, changed: running' running "$A/21"
kill "$ngpid" 2>/dev/null
wait "$ngpid" 2>/dev/null
ngpid=
done_testing
