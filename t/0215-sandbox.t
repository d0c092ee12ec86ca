#!/bin/sh
# gzip and tar never run as root on unverified bytes: during a slow
# download they run as an id of the pass's own (the package's user
# _ops-updater where it exists and is free, else one of 60578-61183), with no
# groups, no new privileges, a file size limit, in a mount namespace where
# all but staging is read-only and network and IPC namespaces of their
# own, under a seccomp deny list, in a staging tree that only root can
# reach by path. The tree is then adopted: root's, no setuid bit, no group or
# other write. A pass killed mid-unpack leaves a tree of that id, which the
# next pass removes without following what was planted in it.
. "$(dirname "$0")/lib.sh"

# Is $1 an id the sandbox may take? (The package's user exists on this
# machine while make test-deb runs.)
sandbox_id() {
	[ "${1:-0}" -ge 60578 ] && [ "${1:-0}" -le 61183 ] || [ "${1:-}" = "$(id -u _ops-updater 2>/dev/null)" ]
}

# control, a setuid file, a world-writable file and directory, and a
# payload big enough to keep the download going for seconds.
python3 - "$F/sb-1.tar.gz" <<'PY' || exit 1
import io, os, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", compresslevel=1) as t:
    def add(name, data=b"", mode=0o644, kind=tarfile.REGTYPE):
        i = tarfile.TarInfo(name); i.mode = mode; i.type = kind; i.size = len(data)
        t.addfile(i, io.BytesIO(data))
    ctl = b"#!/bin/sh\ncase $1 in status) echo started;; esac\n"
    add("control", ctl, 0o755)
    add("suid", b"#!/bin/sh\n", 0o4755)
    add("sgid", b"#!/bin/sh\n", 0o2775)
    add("open", b"x", 0o666)
    add("pub", mode=0o1777, kind=tarfile.DIRTYPE)
    add("pub/f", b"y", 0o777)
    add("payload", os.urandom(3 << 20))
PY
(cd "$F" && md5sum sb-1.tar.gz >sb-1.tar.gz.md5)
start_server
config '"unpack_max_mb": 64'
serve "{\"agents\": [$(want sb 1)], \"faults\": {\"rate\": 1000000}}"

# The pass in the background; its gzip and tar are its children.
"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1 &
pass_pid=$!
# Field $2 of a /proc status line of pid $1.
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null; }
i=0 gz= tr=
while [ $i -lt 100 ] && { [ -z "$gz" ] || [ -z "$tr" ]; }; do
	for c in $(cat "/proc/$pass_pid/task/$pass_pid/children" 2>/dev/null); do
		case $(cat "/proc/$c/comm" 2>/dev/null) in
		igzip|gzip) gz=$c gzname=$(cat "/proc/$c/comm") ;;
		tar) tr=$c ;;
		esac
	done
	sleep 0.1
	i=$((i + 1))
done
check 'igzip (or gzip) runs as a child of the pass' test -n "$gz"
check 'tar runs as a child of the pass' test -n "$tr"
# Every id of each (real, effective, saved, file system) is the sandbox's.
ids() { field "$1" Uid; field "$1" Gid; }
uid=$(field "$tr" Uid | awk '{print $1}')
check "tar: the package's user or an id from 60578-61183 ($uid)" sandbox_id "$uid"
# Its gid: the same number from the range; the group of the package's
# user, which has a number of its own.
gid=$uid
[ "$uid" = "$(id -u _ops-updater 2>/dev/null)" ] && gid=$(id -g _ops-updater)
is 'tar: all its uids and gids are that id' "$(ids "$tr" | tr -s '\t\n' '  ')" "$uid $uid $uid $uid $gid $gid $gid $gid "
is 'igzip: the same id' "$(ids "$gz" | tr -s '\t\n' '  ')" "$uid $uid $uid $uid $gid $gid $gid $gid "
is 'tar: no supplementary groups' "$(field "$tr" Groups)" ''
is 'tar: no new privileges' "$(field "$tr" NoNewPrivs)" 1
is 'tar: a seccomp filter' "$(field "$tr" Seccomp)" 2
is 'igzip: a seccomp filter' "$(field "$gz" Seccomp)" 2
is 'tar: no capabilities' "$(field "$tr" CapEff)" 0000000000000000
is 'tar: files capped at unpack_max_mb' \
    "$(awk '/^Max file size/ {print $4}' "/proc/$tr/limits")" $((64 << 20))
is 'tar: no process of its own to fork' "$(awk '/^Max processes/ {print $3}' "/proc/$tr/limits")" 2
is 'tar: no core dumps' "$(awk '/^Max core file size/ {print $5}' "/proc/$tr/limits")" 0
# Its working directory is the staging tree, inside a private root-owned one.
cwd=$(readlink "/proc/$tr/cwd")
case $cwd in "$W"/sb/.ops-updater-tmp.*/tree) ok=0 ;; *) ok=1 ;; esac
report $ok 'tar works in the staging tree'
is 'the tree is the sandbox'"'"'s' "$(stat -c %u "$cwd")" "$uid"
is 'the staging directory around it is root'"'"'s and private' "$(stat -c '%u %a' "${cwd%/tree}")" '0 700'
# Its own mount namespace: / read-only there, staging writable.
check_fails 'tar has a mount namespace of its own' test "$(readlink "/proc/$tr/ns/mnt")" = "$(readlink /proc/self/ns/mnt)"
# Network and IPC namespaces of its own: no network, no abstract socket
# or SysV IPC object of the host's.
check_fails 'tar has a network namespace of its own' test "$(readlink "/proc/$tr/ns/net")" = "$(readlink /proc/self/ns/net)"
check_fails 'tar has an IPC namespace of its own' test "$(readlink "/proc/$tr/ns/ipc")" = "$(readlink /proc/self/ns/ipc)"
is 'tar: / is read-only' "$(awk '$5 == "/" {print $6}' "/proc/$tr/mountinfo" | cut -d, -f1 | sort -u | tr '\n' ' ')" 'ro '
is 'tar: the staging tree is writable' "$(awk -v d="$cwd" '$5 == d {print $6}' "/proc/$tr/mountinfo" | cut -d, -f1)" rw
# No gzip or tar of this pass as root, at any moment we looked.
wait $pass_pid
rc=$?
is 'the pass installed it' "$rc" 0
grep_log 'the log says who unpacked' "info sb: unpacking sb-1.tar.gz as it arrives, as uid $uid( \\(_ops-updater\\))?, file systems read-only but staging, no network, IPC of its own, seccomp deny list$"
# igzip when installed (.ci/deps installs isal), else gzip; the log says which.
is 'it was igzip' "${gzname:-}" igzip
grep_log 'the log says igzip decompressed it' 'info sb: verified sb-1.tar.gz: [0-9]+ bytes, MD5; unpacked [0-9]+ with igzip$'

# Adopted: root's, no setuid or setgid, no group or other write.
is 'installed tree: every entry root'"'"'s' "$(find "$W/sb/1" ! -user root -o ! -group root | wc -l)" 0
is 'installed tree: no setuid, setgid or sticky bit' "$(find "$W/sb/1" -perm /7000 | wc -l)" 0
is 'installed tree: nothing group or other writable' "$(find "$W/sb/1" ! -type l -perm /022 | wc -l)" 0
is 'installed tree: the tree itself 0755' "$(stat -c %a "$W/sb/1")" 755
is 'installed tree: modes kept otherwise' "$(stat -c %a "$W/sb/1/control" "$W/sb/1/suid" "$W/sb/1/open" "$W/sb/1/pub" | tr '\n' ' ')" '755 755 644 755 '
check 'installed tree: the payload is there' test -s "$W/sb/1/payload"
is 'no staging left' "$(leftovers sb)" ''

# Without igzip on the children's PATH (the path key), gzip: /usr/bin
# without it (and /bin is /usr/bin), where the sandbox can reach it.
chmod 711 "$T" && mkdir -m 755 "$T/usrbin" && ln -s /usr/bin/* "$T/usrbin/" && rm "$T/usrbin/igzip"
rm -rf "$W/sb/1"
config "\"unpack_max_mb\": 64, \"path\": \"$T/usrbin:/usr/sbin:/sbin\""
pass
config '"unpack_max_mb": 64'
is 'no igzip: installed all the same' "$rc" 0
grep_log 'no igzip: gzip decompressed it' 'info sb: verified sb-1.tar.gz: [0-9]+ bytes, MD5; unpacked [0-9]+ with gzip$'

# A pass killed mid-unpack leaves the sandbox's tree; the next one removes
# it, and what a hostile tree put there is not followed.
cp "$F/sb-1.tar.gz" "$F/sb-2.tar.gz" && (cd "$F" && md5sum sb-2.tar.gz >sb-2.tar.gz.md5)
serve "{\"agents\": [$(want sb 2)], \"faults\": {\"rate\": 500000}}"
"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1 &
pass_pid=$!
i=0
while [ $i -lt 100 ] && ! [ -e "$W"/sb/.ops-updater-tmp.2.*/tree/payload ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $pass_pid
wait $pass_pid 2>/dev/null
tree=$(echo "$W"/sb/.ops-updater-tmp.2.*/tree)
check 'killed: the sandbox'"'"'s tree is left' test -d "$tree"
# The id of that pass (others may hold the first one meanwhile).
uid=$(stat -c %u "$tree")
check 'killed: owned by a sandbox id' sandbox_id "$uid"
echo precious >"$T/outside"
ln -s "$T" "$tree/link"
mkdir -p "$tree/deep" && ln -s "$T/outside" "$tree/deep/file"
chown -h "$uid:$uid" "$tree/link" "$tree/deep" "$tree/deep/file"
i=0
while [ $i -lt 50 ] && [ -n "$(for p in /proc/[0-9]*; do [ "$(stat -c %u "$p" 2>/dev/null)" = "$uid" ] && echo "$p"; done)" ]; do
	sleep 0.1; i=$((i + 1))
done
serve "{\"agents\": [$(want sb 1)]}"
pass
is 'next pass: exit 0' "$rc" 0
grep_log 'next pass: the tree removed' "info: removed $W/sb/\\.ops-updater-tmp\\.2\\.[^/]*, left by an interrupted pass"
is 'next pass: no staging left' "$(leftovers sb)" ''
is 'next pass: what the links pointed to is intact' "$(cat "$T/outside")" precious
done_testing
