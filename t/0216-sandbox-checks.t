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
W=$W1

# A fake tar for the sandbox (one process: the id may have two, gzip's and
# its own): it unpacks the whole stream with the archive's modes (the
# umask ignored, as a subverted tar may), reads it to its end, then does
# what $T/faketar.do says.
mkdir -m 755 "$T/faketar"
cat >"$T/faketar/tar" <<PY
#!/usr/bin/python3
import os, signal, sys, tarfile
do = open("$T/faketar.do").read().split()
# Python 3.12 on warns unless told which filter; 3.11 knows none.
kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as t:
    for m in t:
        t.extract(m, ".", **kw)
sys.stdin.buffer.read()
if do[0] == "signal":
    signal.signal(int(do[1]), signal.SIG_DFL)	# Python ignores SIGXFSZ
    os.kill(os.getpid(), int(do[1]))
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
