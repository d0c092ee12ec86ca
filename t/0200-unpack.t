#!/bin/sh
# The one unpack that runs beside the download: a gzip bomb is cut off at
# unpack_max_mb while it streams; a bad member after 100 MiB of good ones
# is still caught; good bytes under a wrong digest are never installed.
# Each refusal leaves nothing behind: no staging directory, no temp file.
. "$(dirname "$0")/lib.sh"

# A ~2 MiB tarball of a control and $2 MiB of zeros, built without ever
# writing the zeros: one gzip member of 16 MiB of zeros, repeated (gzip -d
# reads concatenated members as one stream).
bomb() {
	python3 - "$1" "$2" <<'PY'
import gzip, io, sys, tarfile
path, mib = sys.argv[1], int(sys.argv[2])
head = io.BytesIO()
ctl = b"#!/bin/sh\necho started\n"
i = tarfile.TarInfo("control"); i.mode = 0o755; i.size = len(ctl)
head.write(i.tobuf(tarfile.GNU_FORMAT) + ctl + bytes(512 - len(ctl)))
z = tarfile.TarInfo("zeros"); z.size = mib << 20
head.write(z.tobuf(tarfile.GNU_FORMAT))
chunk = gzip.compress(bytes(16 << 20), 9)
with open(path, "wb") as f:
    f.write(gzip.compress(head.getvalue(), 9))
    for _ in range(mib // 16):
        f.write(chunk)
    f.write(gzip.compress(bytes(1024), 9))	# the zeros' end, the archive's end
PY
	(cd "$(dirname "$1")" && md5sum "$(basename "$1")" >"$(basename "$1").md5")
}

start_server
config '"unpack_max_mb": 64'
bomb "$F/bomb-1.tar.gz" 8192
is 'the bomb is small' "$(($(stat -c %s "$F/bomb-1.tar.gz") < 12 * 1048576))" 1
# Served slowly, so that the download is still running at the cap (igzip
# reads its input 1 MiB at a time: the cap comes a few MiB in).
serve "{\"agents\": [$(want bomb 1)], \"faults\": {\"rate\": 300000}}"
pass
is 'gzip bomb: exit 1' "$rc" 1
# The server notices the hang-up at its next write.
i=0
while ! grep -q '^CUT ' "$T/requests" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check 'gzip bomb: the download stopped there, not at its end' \
    grep -Eq '^CUT /files/bomb-1.tar.gz after [0-9]+ of [0-9]+ bytes' "$T/requests"
grep_log 'gzip bomb: cut off at the cap' 'error bomb: refusing bomb-1.tar.gz: unpacks to more than 64 MiB'
check_fails 'gzip bomb: nothing installed' test -e "$W/bomb"
is 'gzip bomb: no staging directory or temp file left' "$(leftovers bomb)" ''
is 'gzip bomb: at most a few MiB left in the work directory' "$(($(du -sk "$W" | cut -f1) < 4096))" 1

# A bad member after 100 MiB of good, incompressible ones: the walk sees
# the whole tree, however late the member came.
late() {	# file kind
	python3 - "$1" "$2" <<'PY'
import io, os, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
with tarfile.open(path, "w:gz", compresslevel=1) as t:
    ctl = b"#!/bin/sh\necho started\n"
    i = tarfile.TarInfo("control"); i.mode = 0o755; i.size = len(ctl)
    t.addfile(i, io.BytesIO(ctl))
    for n in range(10):
        i = tarfile.TarInfo("data/%d" % n); i.size = 10 << 20
        t.addfile(i, io.BytesIO(os.urandom(i.size)))
    if kind == "fifo":	# a device: unprivileged tar cannot even make one
        i = tarfile.TarInfo("data/fifo"); i.type = tarfile.FIFOTYPE
        t.addfile(i)
    if kind == "chain":
        for name, to in (("b", "."), ("u1", "b/.."), ("u2", "u1/..")):
            i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = to
            t.addfile(i)
PY
	(cd "$(dirname "$1")" && md5sum "$(basename "$1")" >"$(basename "$1").md5")
}
config '"unpack_max_mb": 200'
late "$F/late-1.tar.gz" fifo
serve "{\"agents\": [$(want late 1)]}"
pass
is 'a FIFO after 100 MiB: exit 1' "$rc" 1
grep_log 'a FIFO after 100 MiB: refused' "error late: refusing late-1.tar.gz: 'data/fifo' is a FIFO"
check_fails 'a FIFO after 100 MiB: nothing installed' test -e "$W/late"
late "$F/late-2.tar.gz" chain
serve "{\"agents\": [$(want late 2)]}"
pass
is 'a link chain after 100 MiB: exit 1' "$rc" 1
grep_log 'a link chain after 100 MiB: refused' "error late: refusing late-2.tar.gz: link 'u1' -> 'b/\.\.' climbs above"
check_fails 'a link chain after 100 MiB: nothing installed' test -e "$W/late"

# Good bytes, a wrong digest: unpacked beside the download, then thrown
# away. An upgrade, so that the agent directory stays and can be searched.
mkagent fine 1
mkagent fine 2
serve "{\"agents\": [$(want fine 1)]}"
pass
is 'fine 1 installed' "$rc" 0
# What is fetched first, then what is done with it.
is 'the log says downloading, then unpacking' \
    "$(grep -Eo 'fine: (downloading http|unpacking fine-1.tar.gz as it arrives)' "$W/ops-updater.log" | awk '{print $2}' | tr '\n' ' ')" \
    'downloading unpacking '
(cd "$F" && md5sum fine-1.tar.gz | sed 's/fine-1/fine-2/' >fine-2.tar.gz.md5)
serve "{\"agents\": [$(want fine 2)]}"
pass
is 'good bytes, wrong .md5: exit 1' "$rc" 1
grep_log 'good bytes, wrong .md5: the mismatch logged' 'fine-2.tar.gz: MD5 mismatch'
check_fails 'good bytes, wrong .md5: not installed' test -e "$W/fine/2"
is 'good bytes, wrong .md5: no staging directory or temp file left' "$(leftovers fine)" ''
is 'good bytes, wrong .md5: the agent directory as it was' "$(ls -A "$W/fine" | grep -v '^control-.*\.log$' | tr '\n' ' ')" '.version 1 '
is 'good bytes, wrong .md5: still at 1' "$(cat "$W/fine/.version")" 1
done_testing
