#!/bin/sh
# An inode bomb: a small gzip of a million empty tar members. The members
# are counted as the tar stream passes to tar, and the unpack is cut off
# past TARBALL_ENTRIES_MAX (100000) of them, while it streams: tar never
# creates more, and the staging directory goes at once.
. "$(dirname "$0")/lib.sh"

CAP=100000

# $2 empty members "m/NNNNNNN" after a control, in GNU format, headers made
# by hand (tarfile is too slow for a million), compressed as they go. With
# $3 = liar, a symlink header claiming 64 GiB of data (base-256) comes first:
# tar reads no data for a symlink, a parser that believed the size would
# skip every member after it.
bomb() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import sys, tarfile, zlib
path, n, liar = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "liar"
z = zlib.compressobj(6, zlib.DEFLATED, 31)	# gzip; 9 costs 4x the time, for 10% less
out = open(path, "wb")
ctl = b"#!/bin/sh\necho started\n"
i = tarfile.TarInfo("control"); i.mode = 0o755; i.size = len(ctl)
out.write(z.compress(i.tobuf(tarfile.GNU_FORMAT) + ctl + bytes(512 - len(ctl))))
if liar:
    l = bytearray(tarfile.TarInfo("lnk").tobuf(tarfile.GNU_FORMAT))
    l[156] = ord("2"); l[157:160] = b"abc"
    l[124:136] = b"\x80" + (1 << 36).to_bytes(11, "big")
    l[148:156] = b"        "
    l[148:156] = b"%06o\0 " % sum(l)
    out.write(z.compress(bytes(l)))
m = bytearray(tarfile.TarInfo("m/0000000").tobuf(tarfile.GNU_FORMAT))
m[148:156] = b"        "
base = sum(m) - 7 * ord("0")
chunk = []
for k in range(n):
    name = b"%07d" % k
    m[2:9] = name
    m[148:156] = b"%06o\0 " % (base + sum(name))
    chunk.append(bytes(m))
    if len(chunk) == 10000:
        out.write(z.compress(b"".join(chunk))); chunk = []
out.write(z.compress(b"".join(chunk) + bytes(1024)))
out.write(z.flush())
PY
	(cd "$(dirname "$1")" && md5sum "$(basename "$1")" >"$(basename "$1").md5")
}

bomb "$F/inodes-1.tar.gz" 1000000
is 'the bomb is small' "$(($(stat -c %s "$F/inodes-1.tar.gz") < 8 * 1048576))" 1

start_server
config
# Served slowly, so that the download is still running at the cap; the
# default unpack_max_mb lets the 500 MiB tar stream through.
serve "{\"agents\": [$(want inodes 1)], \"faults\": {\"rate\": 300000}}"
# The most entries ever seen in the work directory during the pass.
(
	most=0
	while [ ! -e "$T/pass-done" ]; do
		n=$(find "$W" -xdev 2>/dev/null | wc -l)
		[ "$n" -gt "$most" ] && most=$n && echo "$most" >"$T/most"
		sleep 0.2
	done
) &
poller=$!
pass
touch "$T/pass-done"
wait $poller
is 'a million members: exit 1' "$rc" 1
grep_log 'a million members: cut off at the cap' "error inodes: refusing inodes-1.tar.gz: more than $CAP members"
check_fails 'a million members: nothing installed' test -e "$W/inodes/1"
is 'a million members: no staging directory or temp file left' "$(leftovers inodes)" ''
most=$(cat "$T/most" 2>/dev/null || echo 0)
echo "# at most $most entries in the work directory during the pass"
# Seen at all: the poll did watch the unpack (it takes seconds at this rate).
is 'the unpack was watched while it ran' "$((most > 1000))" 1
# The cap and a few: the work directory, the agent's directory, staging,
# control, m/, the log, the state.
is "never more than $CAP members and a few other entries" "$((most <= CAP + 20))" 1
is 'the work directory is small again' "$(($(find "$W" -xdev | wc -l) < 50))" 1

# A header that lies about its size hides nothing: every block tar could
# take for a header is counted.
bomb "$F/liar-1.tar.gz" 150000 liar
serve "{\"agents\": [$(want liar 1)], \"faults\": {\"rate\": 1000000}}"
pass
is 'a lying size before 150000 members: exit 1' "$rc" 1
grep_log 'a lying size: still cut off at the cap' "error liar: refusing liar-1.tar.gz: more than $CAP members"
is 'a lying size: no staging directory or temp file left' "$(leftovers liar)" ''
done_testing
