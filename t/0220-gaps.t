#!/bin/sh
# Safety checks that no other test reached, each shown here to hold:
# - rm_rf stops at a bind mount of the same file system (same st_dev: only
#   the mount id tells it);
# - every rename that makes a file or a version visible follows the fsync
#   of what it renames (a kill -9 keeps the page cache, so only a trace of
#   the syscalls shows the order);
# - ops-updater.pid is never followed through a symlink;
# - the download cap holds when the server sends no Content-Length
#   (libcurl checks its own only against an advertised length).
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
start_server
config '"keep_versions": 0'
A=$W/falcon-agent
# A switch, then the next pass, which removes the version it replaced:
# $rc is the first that failed.
to() {
	serve "{\"agents\": [$(want falcon-agent "$1")]}"
	pass
	swrc=$rc
	pass
	[ "$swrc" = 0 ] || rc=$swrc
}

# A bind mount of a directory of the same file system inside an old
# version: pruning the version must not remove what lies behind it.
to 1.0.0
is 'setup: 1.0.0 installed' "$rc" 0
mkdir -p "$T/behind" "$A/1.0.0/data" && echo precious >"$T/behind/file"
trap 'umount -l "$A/1.0.0/data" 2>/dev/null; find "$W" -path "*/data" -type d -exec umount -l {} \; 2>/dev/null; cleanup' EXIT
if mount --bind "$T/behind" "$A/1.0.0/data"; then
	is 'the bind mount shares the file system (st_dev)' "$(stat -c %d "$A/1.0.0/data")" "$(stat -c %d "$A/1.0.0")"
	to 1.0.1
	grep_log 'bind mount: not entered' 'is a mount point: not removed'
	is 'bind mount: the file behind it is still there' "$(cat "$T/behind/file" 2>/dev/null)" precious
	m=$(find "$A" -path '*/data' -type d | head -1)
	umount "$m"
	pass
	is 'unmounted: the next pass sweeps it' "$(leftovers falcon-agent)" ''
else
	ntest=$((ntest + 1)); echo "ok $ntest # SKIP cannot bind-mount here"
fi

# The order of fsync and rename, from a syscall trace of an upgrade.
mkagent falcon-agent 1.0.2
serve "{\"agents\": [$(want falcon-agent 1.0.2)]}"
# -b execve: children are let go at their exec (the agent outlives the pass).
# LeakSanitizer cannot stop a traced process: no leak check in this run.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -b execve -qq -y -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$T/trace" \
    "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1
is 'traced upgrade: exit 0' "$?" 0
# Every rename of a temp name (.ops-updater-tmp.*) to a lasting one: a
# file's own fsync comes first; for the version directory, the fsync of
# the directory and of every file it ended up holding.
python3 - "$T/trace" "$A/1.0.2" "$F/falcon-agent-1.0.2.tar.gz" >"$T/order" 2>&1 <<'PY'
import os, re, sys, tarfile
trace, final, tgz = sys.argv[1], sys.argv[2], sys.argv[3]
# What the version directory held when renamed: the tarball's files, the
# tarball and its .md5 (not what the agent wrote since it started).
files = [os.path.normpath(m.name) for m in tarfile.open(tgz) if m.isreg()]
files += [os.path.basename(tgz), os.path.basename(tgz) + ".md5"]
synced, checked, bad = set(), 0, []
fd = r'-?\d+<([^>]*)>'
for line in open(trace):
    m = re.search(r'f(?:data)?sync\(' + fd + r'\) = 0', line)
    if m:
        synced.add(m.group(1)); continue
    m = re.search(r'rename\("([^"]*)", "([^"]*)"\) = 0', line)
    if m:
        src, dst = m.groups()
    else:
        m = re.search(r'renameat2?\(' + fd + r', "([^"]*)", ' + fd + r', "([^"]*)"', line)
        if not m or not line.rstrip().endswith("= 0"):
            continue
        src, dst = os.path.join(m.group(1), m.group(2)), os.path.join(m.group(3), m.group(4))
    if "/.ops-updater-tmp." not in src or "/.ops-updater-tmp." in dst:
        continue	# not a temp name made visible (a move aside, a rotation)
    checked += 1
    if dst == final:
        want = [src] + [os.path.join(src, f) for f in files]
    else:
        want = [src]
    missing = [w for w in want if w not in synced]
    if missing:
        bad.append("%s -> %s before the fsync of %s" % (src, dst, ", ".join(missing[:3])))
print("checked %d renames" % checked)
for b in bad:
    print("BAD " + b)
PY
sed 's/^/# /' "$T/order"
is 'renames of temp names were traced (.version, state, the version)' "$(($(sed -n 's/^checked \([0-9]*\).*/\1/p' "$T/order") >= 3))" 1
check_fails 'each of them after the fsync of what it renames' grep -q '^BAD' "$T/order"
check 'the version directory was among them' grep -q "^checked" "$T/order"
grep -q "rename(\"[^\"]*/\.ops-updater-tmp\.[^\"]*/tree\", \"$A/1.0.2\") = 0" "$T/trace"
is 'the trace holds the rename of the staged tree to 1.0.2' "$?" 0

# ops-updater.pid as a symlink: never followed (root would truncate the
# target and write its pid there).
echo precious >"$T/victim"
rm -f "$W/ops-updater.pid"
ln -s "$T/victim" "$W/ops-updater.pid"
pass
is 'pid file a symlink: the pass refuses to run' "$rc" 1
grep_log 'pid file a symlink: said so' "open lock file $W/ops-updater.pid: Too many levels of symbolic links"
is 'pid file a symlink: its target untouched' "$(cat "$T/victim")" precious
rm -f "$W/ops-updater.pid"

# No Content-Length: the cap is ours to keep, byte by byte.
head -c $((3 << 20)) /dev/urandom >"$T/src/falcon-agent-1.0.1/payload"
tar -czf "$F/falcon-agent-1.0.3.tar.gz" -C "$T/src/falcon-agent-1.0.1" . &&
    (cd "$F" && md5sum falcon-agent-1.0.3.tar.gz >falcon-agent-1.0.3.tar.gz.md5)
config '"keep_versions": 0, "download_max_mb": 1'
serve "{\"agents\": [$(want falcon-agent 1.0.3)], \"faults\": {\"rate\": 1000000, \"files\": {\"falcon-agent-1.0.3.tar.gz\": {\"nolength\": 1}}}}"
pass
is 'no Content-Length, 3 MiB, a 1 MiB cap: exit 1' "$rc" 1
grep_log 'no Content-Length: refused at the cap' 'falcon-agent-1.0.3.tar.gz: larger than download_max_mb \(1 MiB\)'
i=0
while ! grep -q '^CUT /files/falcon-agent-1.0.3.tar.gz' "$T/requests" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check 'no Content-Length: the download was cut, not read to its end' \
    grep -Eq '^CUT /files/falcon-agent-1.0.3.tar.gz after [0-9]+ of [0-9]+ bytes' "$T/requests"
check_fails 'no Content-Length: nothing installed' test -e "$A/1.0.3"
is 'no Content-Length: no partial kept (a local refusal)' "$(ls -A "$A" | grep -c partial)" 0
done_testing
