#!/bin/sh
# Children get the config's path as PATH (by default sudo's secure_path),
# never the caller's or cron's: under cron's PATH=/usr/bin:/bin a control
# script that calls start-stop-daemon (in /usr/sbin) must still work, and
# a tar early in the caller's PATH is never the one root runs.
. "$(dirname "$0")/lib.sh"

SAFE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
check 'start-stop-daemon is in /usr/sbin' test -x /usr/sbin/start-stop-daemon
check_fails 'and not in cron'"'"'s PATH' env -i PATH=/usr/bin:/bin sh -c 'command -v start-stop-daemon'

# An agent started and stopped with start-stop-daemon, as many Debian
# agents are; its control records the PATH it got.
sbin_agent() {	# VERSION
	d=$T/src/sbin-$1
	rm -rf "$d" && mkdir -p "$d"
	printf '#!/bin/sh\nexec sleep 300\n' >"$d/sbin"
	cat >"$d/control" <<'CONTROL'
#!/bin/sh
running() { [ -f agent.pid ] && grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$(cat agent.pid)/status" 2>/dev/null; }
case "$1" in
start) echo "$PATH" >start.path
	start-stop-daemon --start --background --make-pidfile --pidfile "$PWD/agent.pid" --exec "$PWD/sbin" ;;
stop) start-stop-daemon --stop --pidfile "$PWD/agent.pid" --remove-pidfile --retry 5 ;;
status) running && echo started || echo stoped ;;
esac
CONTROL
	chmod +x "$d/control" "$d/sbin"
	publish sbin "$1"
}

# A tar and a gzip that only leave a mark: first in the caller's PATH.
mkdir -p "$T/evil"
for t in tar gzip; do
	printf '#!/bin/sh\ntouch %s/ran-%s\nexit 1\n' "$T" "$t" >"$T/evil/$t"
	chmod +x "$T/evil/$t"
done

sbin_agent 1
sbin_agent 2
serve "{\"agents\": [$(want sbin 1)]}"
start_server
config

# As cron runs it: an empty environment but PATH=/usr/bin:/bin.
crun() {
	env -i PATH="$1" "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1
	rc=$?
	sanitizer_clean "$T/pass.out" "run under PATH=$1"
}
crun /usr/bin:/bin
is 'under cron'"'"'s PATH: exit 0' "$rc" 0
check 'the agent runs, started by start-stop-daemon' running "$W/sbin/1"
is 'control got the safe PATH' "$(cat "$W/sbin/1/start.path")" "$SAFE"

serve "{\"agents\": [$(want sbin 2)]}"
crun "$T/evil:/usr/bin:/bin"
is 'upgrade with a tar and gzip first in the caller'"'"'s PATH: exit 0' "$rc" 0
is 'now at 2' "$(cat "$W/sbin/.version")" 2
check 'stopped with start-stop-daemon' sh -c "! test -e '$W/sbin/1/agent.pid'"
check_fails 'the caller'"'"'s tar was never run' test -e "$T/ran-tar"
check_fails 'nor its gzip' test -e "$T/ran-gzip"

# The path key decides instead: without /usr/sbin, start-stop-daemon is
# not found, as it was under cron before.
(cd "$W/sbin/2" && ./control stop)
config '"path": "/usr/bin:/bin"'
crun "$SAFE"
is 'path without /usr/sbin: the start fails, exit 1' "$rc" 1
is 'control got the configured path, not the caller'"'"'s' "$(cat "$W/sbin/2/start.path")" /usr/bin:/bin
check 'the failure is in its control-2.log' grep -q 'start-stop-daemon: not found' "$W/sbin/control-2.log"

# And it is where tar and gzip are looked for.
mkdir -p "$T/notools"
config "\"path\": \"$T/notools\""
pass
is 'no tar in path: exit 69' "$rc" 69
grep_log 'the log says where it looked' "error: tar not found in path \\($T/notools\\)\$"
config "\"path\": \"$T/evil:/usr/bin:/bin\""
serve "{\"agents\": [$(want sbin 1)]}"
rm -rf "$W/sbin/1"
pass
# It runs in the unpack's sandbox (t/0215), which cannot leave a mark in
# $T (nor even run from there, $T being 0700): its failure says it was
# the one chosen.
is 'a path naming the evil tar first: the pass fails' "$rc" 1
grep_log 'it was that tar the unpack went for (the key decides)' \
    'error sbin: (refusing sbin-1\.tar\.gz: tar exited 1|cannot unpack sbin-1\.tar\.gz: tar cannot run: Permission denied: a fault of this host, no verdict on the release)$'
check_fails 'and, sandboxed, it could not write outside staging' test -e "$T/ran-tar"
rm -f "$T/ran-tar" "$T/ran-gzip"

# A path that root cannot trust is a config error.
for bad in 'bin:/usr/bin' '/usr/bin::/bin' '/usr/bin:'; do
	config "\"path\": \"$bad\""
	pass
	is "path '$bad': exit 78" "$rc" 78
	check "and the message names the key" grep -Eq "^ops-updater: $W/cfg.json: line [0-9]+, column [0-9]+: path: '.*' is not an absolute directory" "$T/pass.out"
done
mkdir -p "$T/open"
chmod 777 "$T/open"
config "\"path\": \"/usr/bin:$T/open:/bin\""
pass
is 'a directory others may write in path: exit 78' "$rc" 78
check 'refused, and why' grep -Eq "^ops-updater: $W/cfg.json: line [0-9]+, column [0-9]+: path: $T/open refused: $T/open: writable by" "$T/pass.out"
config "\"path\": \"/usr/bin:$T/missing:/bin\""
serve "{\"agents\": []}"
pass
is 'a missing directory in path is skipped, as a shell does: exit 0' "$rc" 0
# But not one that others could create: missing in a directory they may
# write (sticky, like /tmp), it would be theirs, tar and all, the moment
# they made it, within the pass that checked it (its jitter, its scan).
mkdir -p "$T/sticky"
chmod 1777 "$T/sticky"
config "\"path\": \"/usr/bin:$T/sticky/bin:/bin\""
pass
is 'a missing directory others could create in path: exit 78' "$rc" 78
check 'refused, and why' grep -Eq "^ops-updater: $W/cfg.json: line [0-9]+, column [0-9]+: path: $T/sticky/bin refused: $T/sticky/bin: missing, in a directory others can write" "$T/pass.out"
done_testing
