#!/bin/sh
# A process the unpack itself leaves behind (a tar that a hostile tarball
# took over forks one that outlives it) runs as the sandbox's id, but no
# process event says it became that id: it is the children's, not the
# host's. It is ended after the unpack with every process of the id, as
# any leftover is, and not taken for a process of the host's that the
# pass must leave running (and blame the host for).
. "$(dirname "$0")/lib.sh"

unpacked_as() { sed -n 's/.* unpacking .* as uid \([0-9]*\).*/\1/p' "$1/ops-updater.log" | tail -1; }
chmod 711 "$T" && mkdir -m 755 "$T/leaky"
# tar as an exploited one would act: it unpacks the whole stream, waits
# for gzip to end (the sandbox lets the id run two processes), then forks
# a child into a session of its own that outlives it.
cat >"$T/leaky/tar" <<'PY'
#!/usr/bin/python3
import os, sys, tarfile, time
kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as t:
    for m in t:
        t.extract(m, ".", **kw)
sys.stdin.buffer.read()
for _ in range(100):
    try:
        pid = os.fork()
        break
    except BlockingIOError:
        time.sleep(0.05)
else:
    sys.exit(0)
if pid == 0:
    os.setsid()
    fd = os.open("/dev/null", os.O_RDWR)
    for i in (0, 1, 2):
        os.dup2(fd, i)
    os.execv("/bin/sleep", ["sleep", "120"])
PY
ln -s /usr/bin/gzip "$T/leaky/gzip"
chmod 755 "$T/leaky/tar"

mkagent l 1
serve "{\"agents\": [$(want l 1)]}"
start_server
config "\"path\": \"$T/leaky:/usr/bin:/bin\""
pass
pu=$(unpacked_as "$W")
check 'the unpack ran as an id of its own' test -n "$pu" -a "$pu" != 0
is 'installed: exit 0' "$rc $(cat "$W/l/.version" 2>/dev/null)" '0 1'
check_fails 'not blamed on the host' grep -q 'a process outside this pass' "$W/ops-updater.log"
# Alive, that is: an init that does not reap leaves a zombie behind.
sleep 0.5
is 'no process of the id is left' "$(ps -o stat= -u "$pu" | grep -vc '^Z')" 0
grep -E "error|warning" "$W/ops-updater.log" >&2
ps -o pid= -u "$pu" | xargs -r kill -KILL 2>/dev/null

done_testing
