#!/bin/sh
# Removing trees an agent can write in. Agents run as their own users and
# own directories inside their version directory (logs/); root prunes that
# version. An agent swapping such a directory for a symlink while root
# walks it must not aim root's unlinks anywhere else: the walk goes by
# directory descriptors. Also: symlinks are removed, never followed; a
# mount point is not entered; a tree of any depth is removed.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
ROUNDS=${WALK_ROUNDS:-4}
A=$W/falcon-agent
# nobody must reach the version directories (mktemp made $T 0700).
chmod 711 "$T"
mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
start_server
config '"keep_versions": 0, "status_wait": 2'

# A directory of 1,000 files 000..999.
fill() { mkdir -p "$1" && (cd "$1" && seq -w 0 999 | xargs touch); }
nfiles() { find "$1" -type f | wc -l; }
# A switch, then the next pass, which removes the version it replaced:
# $rc is the first that failed.
to() {
	serve "{\"agents\": [$(want falcon-agent "$1")]}"
	pass
	swrc=$rc
	pass
	[ "$swrc" = 0 ] || rc=$swrc
}
# The test's own canary, root's: the walk must never reach it.
fill "$T/canary"

# Plain: symlinks inside a pruned version lead nowhere.
to 1.0.0
is 'at 1.0.0: exit 0' "$rc" 0
ln -s "$T/canary" "$A/1.0.0/link"
mkdir -p "$A/1.0.0/logs/deep"
ln -s "$T/canary" "$A/1.0.0/logs/deep/link"
ln -s "$T/canary/000" "$A/1.0.0/logs/file-link"
to 1.0.1
is 'pruning a version with symlinks in it: exit 0' "$rc" 0
check_fails 'the version is gone' test -e "$A/1.0.0"
is 'no leftovers' "$(leftovers falcon-agent)" ''
is 'the canary the symlinks pointed at keeps all its files' "$(nfiles "$T/canary")" 1000

# The race: nobody owns 1.0.0/logs/d (1,000 files) and d.x, a symlink to
# the canary, and swaps the two atomically (renameat2 RENAME_EXCHANGE), as
# fast as it can, while root prunes 1.0.0; whichever root removes, it puts
# back. It works relative to its working directory, which follows logs/ when
# root renames the version aside before removing it.
cat >"$T/swap.py" <<'EOF'
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
swaps = 0
def bye(*_):
    print(swaps)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
target = sys.argv[1]
os.symlink(target, "d.x")
open("ready", "w").close()
while os.stat(".").st_nlink > 0:
    if libc.renameat2(AT_FDCWD, b"d", AT_FDCWD, b"d.x", RENAME_EXCHANGE) == 0:
        swaps += 1
        continue
    for name in ("d", "d.x"):
        try:
            os.symlink(target, name)
        except OSError:
            pass
bye()
EOF
chmod 644 "$T/swap.py"
total=0
for round in $(seq "$ROUNDS"); do
	to 1.0.0
	is "round $round: at 1.0.0: exit 0" "$rc" 0
	logs=$A/1.0.0/logs
	mkdir "$logs" && chown "$NOBODY:$NOBODY" "$logs"
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups sh -c "cd '$logs' && mkdir d && cd d && seq -w 0 999 | xargs touch"
	(cd "$logs" && exec setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	    /usr/bin/python3 -I "$T/swap.py" "$T/canary") >"$T/swaps" 2>"$T/swap.err" &
	swapper=$!
	i=0
	while [ ! -e "$logs/ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	to 1.0.1
	kill "$swapper" 2>/dev/null
	wait "$swapper"
	n=$(cat "$T/swaps")
	total=$((total + ${n:-0}))
	check "round $round: the swapper ran (it swapped $n times)" test "${n:-0}" -gt 0
	check_fails "round $round: 1.0.0 is gone" test -e "$A/1.0.0"
	is "round $round: the canary keeps all its files" "$(nfiles "$T/canary")" 1000
done
# How often root met a swap (not asserted: a matter of timing).
echo "# swaps met by root: $(grep -cE 'was replaced while being removed|/d(\.x)?: (Too many levels|Not a directory)' "$W/ops-updater.log"), swaps made: $total"
pass
is 'the next pass sweeps what the race left: exit 0' "$rc" 0
is 'no leftovers' "$(leftovers falcon-agent)" ''

# Another file system below a version: not entered, the version stays aside.
to 1.0.0
mkdir "$A/1.0.0/mnt"
if mount -t tmpfs -o size=1m ops-updater-test "$A/1.0.0/mnt" 2>/dev/null; then
	: >"$A/1.0.0/mnt/precious"
	to 1.0.1
	grep_log 'a mount point is not entered' 'is on another file system: not removed'
	m=$(find "$A" -path '*/mnt/precious')
	check 'and the file on it is still there' test -n "$m"
	umount "$(dirname "$m")"
	pass
	is 'unmounted: the next pass sweeps it' "$(leftovers falcon-agent)" ''
else
	ntest=$((ntest + 1)); echo "ok $ntest # SKIP cannot mount a tmpfs here"
fi

# A hostile tree deeper than a walk holds descriptors for: moved up in
# pieces and removed all the same, no crash.
to 1.0.0
(cd "$A/1.0.0" && i=0 && while [ $i -lt 600 ]; do mkdir d && cd d || exit 1; i=$((i + 1)); done)
to 1.0.1
is 'a tree 600 deep: the switch succeeds' "$rc" 0
check_fails 'and 1.0.0 is gone' test -e "$A/1.0.0"
is 'nothing left aside' "$(leftovers falcon-agent)" ''
done_testing
