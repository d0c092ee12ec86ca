#!/bin/sh
# The sandbox's checks that only a subverted tar, a host with shared
# mounts or a crowded id range would show: the staging mounts stay the
# children's own, an id that a process has or another pass holds is never
# taken, tar's own exit status decides even when the whole stream
# arrived, and the adoption of the tree refuses a tree deeper than the cap
# and clears group and other write bits that tar should not have set.
. "$(dirname "$0")/lib.sh"

chmod 711 "$T"		# the sandbox reaches the fake tar below
start_server
mkagent a 1
serve "{\"agents\": [$(want a 1)]}"
config

# The staging mounts made private: in a mount namespace whose mounts are
# shared (as / is on a systemd host), the children's bind of staging must
# not propagate back. A fresh peer group (private, then shared), so that
# nothing reaches this host's own mounts whatever happens.
unshare --mount --propagation private sh -c 'mount --make-rshared / &&
	"$1" -c "$2" --no-jitter run >"$3" 2>&1; echo $? >"$4"; cat /proc/self/mountinfo >"$5"' \
    sh "$OPS_UPDATER" "$W/cfg.json" "$T/pass.out" "$T/rc" "$T/mounts"
is 'shared mounts: installed' "$(cat "$T/rc")" 0
check 'shared mounts: the children had a namespace of their own' \
    grep -q 'file systems read-only but staging' "$W/ops-updater.log"
is 'shared mounts: no mount of staging left behind' "$(awk -v w="$W" 'index($5, w) == 1' "$T/mounts")" ''

# pick_id. Pass A holds its id (U) while its control start waits on a
# gate, none of its processes running as U; pass B, of another work
# directory, must not take U: its lock is held.
mkgated g 1 "$T/go"
mkagent g 2
mkagent g 3
serve "{\"agents\": [{\"default\": {\"name\": \"g\", \"version\": \"1\", \"tarball\": \"{base}/files\", \"md5\": \"\", \"cmd\": \"start\"}, \"others\": [{\"prefix\": \"b-\", \"version\": \"2\"}]}]}"
W1=$W
W2=$T/w2
mkdir -p "$W2"
W=$W2 HOSTNAME_CFG=b-host config
"$OPS_UPDATER" -c "$W1/cfg.json" --no-jitter run >"$T/a.out" 2>&1 &
a_pid=$!
check 'pass A is in its control start' wait_file "$T/in-1"
# The id a pass's log says it unpacked as.
unpacked_as() { sed -n 's/.* unpacking .* as uid \([0-9]*\).*/\1/p' "$1/ops-updater.log" | tail -1; }
U=$(unpacked_as "$W1")
check 'pass A unpacked as an id of its own' test -n "$U"
check_fails 'pass A: no process runs as that id now' sh -c "ps -e -o uid= | grep -qx ' *$U'"
"$OPS_UPDATER" -c "$W2/cfg.json" --no-jitter run >"$T/b.out" 2>&1
is 'pass B, beside A: installed' "$?" 0
U2=$(unpacked_as "$W2")
check 'pass B unpacked as some id' test -n "$U2"
check_fails "pass B did not take A's id ($U), whose lock A holds" test "$U2" = "$U"
touch "$T/go"
wait $a_pid
is 'pass A: installed' "$?" 0
# A's id is free again, but a process runs as it: pass C must skip it.
setpriv --reuid="$U" --regid="$U" --clear-groups sleep 120 &
sleeper=$!
i=0
while [ $i -lt 50 ] && [ "$(stat -c %u "/proc/$sleeper" 2>/dev/null)" != "$U" ]; do sleep 0.1; i=$((i + 1)); done
serve "{\"agents\": [{\"default\": {\"name\": \"g\", \"version\": \"1\", \"tarball\": \"{base}/files\", \"md5\": \"\", \"cmd\": \"start\"}, \"others\": [{\"prefix\": \"b-\", \"version\": \"3\"}]}]}"
"$OPS_UPDATER" -c "$W2/cfg.json" --no-jitter run >"$T/c.out" 2>&1
is 'pass C: installed' "$?" 0
U3=$(unpacked_as "$W2")
check_fails "pass C did not take $U, which a running process has" test "$U3" = "$U"
check 'and that process was left alone' kill -0 "$sleeper"
kill "$sleeper"

# Where systemd keeps the locks of its dynamic users' ids, an id locked
# there is skipped too, and the one taken is locked there, as systemd
# does. (The package's user, if make test-deb made it meanwhile, held by
# us: a range id it is.)
SD=/run/systemd/dynamic-uid
sd_made=
[ -d "$SD" ] || { mkdir -p "$SD" && sd_made=1; }
[ -n "$sd_made" ] && trap 'rm -rf "$SD"; cleanup' EXIT
held=
if id -u _ops-updater >/dev/null 2>&1; then
	(cd "$T" && exec flock -n "/run/ops-updater/$(id -u _ops-updater)" sleep 120) &
	held=$!
fi
mkagent g 4
mkagent g 5
serve "{\"agents\": [{\"default\": {\"name\": \"g\", \"version\": \"1\", \"tarball\": \"{base}/files\", \"md5\": \"\", \"cmd\": \"start\"}, \"others\": [{\"prefix\": \"b-\", \"version\": \"4\"}]}]}"
"$OPS_UPDATER" -c "$W2/cfg.json" --no-jitter run >"$T/c.out" 2>&1
is 'systemd locks: installed' "$?" 0
U4=$(unpacked_as "$W2")
is "systemd locks: the id taken ($U4) was locked in $SD, in systemd's way" "$(cat "$SD/$U4" 2>&1)" ops-updater
(cd "$T" && exec flock -n "$SD/$U4" sleep 120) &
sdlock=$!
serve "{\"agents\": [{\"default\": {\"name\": \"g\", \"version\": \"1\", \"tarball\": \"{base}/files\", \"md5\": \"\", \"cmd\": \"start\"}, \"others\": [{\"prefix\": \"b-\", \"version\": \"5\"}]}]}"
sleep 0.2
"$OPS_UPDATER" -c "$W2/cfg.json" --no-jitter run >"$T/c.out" 2>&1
is 'systemd locks: installed again' "$?" 0
U5=$(unpacked_as "$W2")
check_fails "systemd locks: $U4, which systemd's lock holds, not taken" test "$U5" = "$U4"
kill $sdlock ${held:-}
[ -n "$sd_made" ] || rm -f "$SD/$U4" "$SD/$U5"
W=$W1

# A fake tar for the sandbox (one process: the id may have two, gzip's and
# its own), as an exploited one would act: first it tries what each line
# of $T/faketar.do names and writes how that went to ./probe, then it
# unpacks the whole stream with the archive's modes (the umask ignored),
# reads it to its end, and may then die by a signal.
mkdir -m 755 "$T/faketar"
cat >"$T/faketar/tar" <<PY
#!/usr/bin/python3
import ctypes, errno, os, signal, socket, sys, tarfile
libc = ctypes.CDLL(None, use_errno=True)
said = []
def result(name, ok, err=None):
    err = err if err is not None else ctypes.get_errno()
    said.append(name + " " + ("ok" if ok else errno.errorcode.get(err, str(err))))
def connect(name, family, addr):
    try:
        with socket.socket(family, socket.SOCK_STREAM) as c:
            c.settimeout(2)
            c.connect(addr)
        result(name, True)
    except OSError as e:
        result(name, False, e.errno)
do = [l.split() for l in open("$T/faketar.do")]
for a in do:
    if a[0] == "tcp":		# a listener of the host's on 127.0.0.1
        connect("tcp", socket.AF_INET, ("127.0.0.1", int(a[1])))
    elif a[0] == "unix":	# an abstract socket of the host's
        connect("unix", socket.AF_UNIX, "\\0" + a[1])
    elif a[0] == "msgs":	# the SysV message queues it can see
        said.append("msgs " + " ".join(l.split()[1] for l in open("/proc/sysvipc/msg").readlines()[1:]))
    elif a[0] == "msgget":	# a queue of its own (IPC_PRIVATE, IPC_CREAT | 0600)
        result("msgget", libc.msgget(0, 0o1600) >= 0)
    elif a[0] == "ptrace":	# attach to gzip, of the same id, and let it go
        def mine(p):	# a process of our id, not us (one may end meanwhile)
            try:
                return int(p) != os.getpid() and os.stat("/proc/" + p).st_uid == os.getuid()
            except OSError:
                return False
        gz = [int(p) for p in os.listdir("/proc") if p.isdigit() and mine(p)]
        r = libc.ptrace(16, gz[0], None, None) if gz else -1	# PTRACE_ATTACH
        result("ptrace", r == 0, None if gz else errno.ESRCH)
        if r == 0:
            os.waitpid(gz[0], 0x40000000)	# __WALL: its stop
            libc.ptrace(17, gz[0], None, None)	# PTRACE_DETACH
if said:
    with open("probe", "w") as f:
        f.write("\\n".join(said) + "\\n")
# Python 3.12 on warns unless told which filter; 3.11 knows none.
kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as t:
    for m in t:
        t.extract(m, ".", **kw)
sys.stdin.buffer.read()
for a in do:
    if a[0] == "signal":
        signal.signal(int(a[1]), signal.SIG_DFL)	# Python ignores SIGXFSZ
        os.kill(os.getpid(), int(a[1]))
PY
chmod 755 "$T/faketar/tar"
ln -s /usr/bin/gzip "$T/faketar/gzip"
config "\"path\": \"$T/faketar:/usr/bin:/bin\""

# tar dies silently after the whole stream arrived: the digest matches,
# only its status tells a truncated tree from a whole one.
mkagent s 1
serve "{\"agents\": [$(want s 1)]}"
for sig in 15 11 25; do
	echo "signal $sig" >"$T/faketar.do"
	pass
	is "tar killed by signal $sig: exit 1" "$rc" 1
	grep_log "tar killed by signal $sig: refused, saying so" "error s: refusing s-1.tar.gz: tar killed by signal $sig\$"
	check_fails "tar killed by signal $sig: nothing installed" test -e "$W/s/1"
	is "tar killed by signal $sig: no staging left" "$(leftovers s)" ''
done

# Adoption: a 0666 file and a 0777 directory that a subverted tar left
# so become 0644 and 0755.
rm -rf "$T/src/m-1" && mkdir -p "$T/src/m-1/pub" && printf '#!/bin/sh\necho started\n' >"$T/src/m-1/control" &&
    echo x >"$T/src/m-1/open" && echo y >"$T/src/m-1/pub/f" &&
    chmod 755 "$T/src/m-1/control" && chmod 666 "$T/src/m-1/open" && chmod 777 "$T/src/m-1/pub" "$T/src/m-1/pub/f"
publish m 1
echo modes >"$T/faketar.do"
serve "{\"agents\": [$(want m 1)]}"
pass
is 'tar left group and other write: installed' "$rc" 0
is 'adopted: 0666 -> 0644, 0777 -> 0755' "$(stat -c '%n %a' "$W/m/1/open" "$W/m/1/pub" "$W/m/1/pub/f" | sed "s|$W/m/1/||" | tr '\n' ' ')" \
    'open 644 pub 755 pub/f 755 '
config

# What an exploited tar may try: reach a listener on 127.0.0.1 or an
# abstract socket of the host's, see or leave SysV IPC objects, ptrace
# gzip. A listener that counts who reached it; a queue of the host's.
cat >"$T/listen.py" <<'PY'
import socket, sys, threading
def serve(s, name):
    s.listen(8)
    while True:
        c, _ = s.accept()
        open(sys.argv[2], "a").write(name + "\n")
        c.close()
t = socket.socket(); t.bind(("127.0.0.1", 0))
u = socket.socket(socket.AF_UNIX); u.bind("\0" + sys.argv[3])
threading.Thread(target=serve, args=(u, "unix"), daemon=True).start()
open(sys.argv[1], "w").write(str(t.getsockname()[1]))
serve(t, "tcp")
PY
abstract=ops-updater-test-$$
(cd "$T" && exec python3 "$T/listen.py" "$T/listen.port" "$T/reached" "$abstract") &
wait_file "$T/listen.port" && sleep 0.2
hostq=$(ipcmk -Q | sed -n 's/.*: *//p')
check 'the host has a message queue' test -n "$hostq"
printf 'tcp %s\nunix %s\nmsgs\nmsgget\nptrace\n' "$(cat "$T/listen.port")" "$abstract" >"$T/faketar.do"
PAYLOAD_KB=512 mkagent p 1
config "\"path\": \"$T/faketar:/usr/bin:/bin\""
serve "{\"agents\": [$(want p 1)], \"faults\": {\"rate\": 500000}}"
pass
is 'an exploited tar: installed all the same' "$rc" 0
pu=$(unpacked_as "$W")
probe() { sed -n "s/^$1 //p" "$W/p/1/probe"; }
check 'the listener works' sh -c "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $(cat "$T/listen.port"))).close()'"
check 'and its abstract socket' python3 -c "import socket; socket.socket(socket.AF_UNIX).connect('\\0$abstract')"
i=0; while [ $i -lt 20 ] && [ "$(wc -l <"$T/reached")" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
is 'only the test reached the listener, not tar' "$(sort "$T/reached" | tr '\n' ' ')" 'tcp unix '
check_fails "tar could not connect to 127.0.0.1 ($(probe tcp))" test "$(probe tcp)" = ok
check_fails "tar could not connect to the host's abstract socket ($(probe unix))" test "$(probe unix)" = ok
is "tar saw no message queue of the host's" "$(probe msgs)" ''
# The seccomp deny list: no socket but AF_UNIX ones, no SysV IPC, no
# ptrace; each fails with EPERM, and the rest works.
is 'seccomp: no AF_INET socket' "$(probe tcp)" EPERM
is 'seccomp: an AF_UNIX socket is allowed (it is the namespace that refuses)' "$(probe unix)" ECONNREFUSED
is 'seccomp: no message queue' "$(probe msgget)" EPERM
is 'seccomp: no ptrace of gzip, a process of the same id' "$(probe ptrace)" EPERM
grep_log 'the log says the children are filtered' "info p: unpacking p-1.tar.gz as it arrives, as uid $pu, .*, seccomp deny list\$"
is 'tar left no message queue behind' "$(awk -v u="$pu" 'NR > 1 && ($8 == u || $10 == u)' /proc/sysvipc/msg)" ''
ipcrm -q "$hostq"

# A process outside the pass that runs as the sandbox's id during a slow
# unpack (another allocator handed the id out, an admin ran it): it could
# have rewritten the tree. The host's fault: refused, no hold. The first
# one only leaves a message queue and is gone before the unpack ends (only
# the kernel's process events tell); the queue is removed after the
# unpack, as systemd's RemoveIPC= does. The second one runs on: it is not
# ours to kill.
: >"$T/faketar.do"
PAYLOAD_KB=512 mkagent p 2
PAYLOAD_KB=512 mkagent p 3
config "\"path\": \"$T/faketar:/usr/bin:/bin\", \"retry_failed\": 3600"
for who in ipcmk sleep; do
	v=$([ $who = ipcmk ] && echo 2 || echo 3)
	serve "{\"agents\": [$(want p $v)], \"faults\": {\"rate\": 200000}}"
	"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1 &
	pass_pid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q "unpacking p-$v" "$W/ops-updater.log"; do sleep 0.05; i=$((i + 1)); done
	pu=$(unpacked_as "$W")
	if [ $who = ipcmk ]; then
		setpriv --reuid="$pu" --regid="$pu" --clear-groups ipcmk -Q >/dev/null
		is 'ipcmk: its queue is there during the unpack' "$(awk -v u="$pu" 'NR > 1 && $8 == u' /proc/sysvipc/msg | wc -l)" 1
	else
		setpriv --reuid="$pu" --regid="$pu" --clear-groups sleep 120 &
		other=$!
	fi
	wait $pass_pid
	is "$who as the id during the unpack: exit 1" "$?" 1
	grep_log "$who: refused as the host's fault, saying who" "error p: cannot unpack p-$v.tar.gz: a process outside this pass \\(pid [0-9]+\\) ran as uid $pu, the sandbox's, during the unpack and could have changed what tar wrote: a fault of this host"
	is "$who: not held" "$(st 'a["held_version"]')" ''
	check_fails "$who: not installed" test -e "$W/p/$v"
	is "$who: no staging left" "$(leftovers p)" ''
done
grep_log 'the queue removed after the unpack, saying so' "warning: removed 1 SysV IPC object of uid [0-9]+, left after the unpack"
is 'no queue of the id left' "$(awk -v u="$pu" 'NR > 1 && ($8 == u || $10 == u)' /proc/sysvipc/msg)" ''
check 'the process of the id was not killed' kill -0 "$other"
kill "$other"
config

# The depth cap of the staged tree: 128 directories deep is fine, 129
# is one too many.
deep() {	# VERSION LEVELS
	rm -rf "$T/src/d-$1" && mkdir -p "$T/src/d-$1" && printf '#!/bin/sh\necho started\n' >"$T/src/d-$1/control" &&
	    chmod 755 "$T/src/d-$1/control" && mkdir -p "$T/src/d-$1/$(printf 'd/%.0s' $(seq "$2"))" && publish d "$1"
}
deep 1 128
deep 2 129
serve "{\"agents\": [$(want d 1)]}"
pass
is '128 levels deep: installed' "$rc" 0
serve "{\"agents\": [$(want d 2)]}"
pass
is '129 levels deep: exit 1' "$rc" 1
grep_log '129 levels deep: refused, saying why' "error d: refusing d-2.tar.gz: '(d/){128}d' is nested too deep\$"
check_fails '129 levels deep: not installed' test -e "$W/d/2"
is '129 levels deep: no staging left' "$(leftovers d)" ''
done_testing
