#!/bin/sh
# Every directory above what root believes: the work directory, the log,
# the config and the files it names must pass with every directory above
# them up to "/" (owned by root or us, writable by neither group nor
# others; a sticky one of root's, like /tmp, passes above a path). Whoever
# can rename an entry of a directory above decides what the path leads
# to. And nothing is done in the work directory (lock, log, state,
# sweeps) before it passed.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
AS="setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups"
chmod 755 "$T"		# others may reach what the test gives them
mkdir -p "$T/etc"

# An agent whose control leaves our canary: it must never run as root.
mkdir -p "$T/src/evil"
printf '#!/bin/sh\nid >"%s/canary"\necho started\n' "$T" >"$T/src/evil/control"
chmod 755 "$T/src/evil/control"
tar -czf "$F/evil-6.6.6.tar.gz" -C "$T/src/evil" . && (cd "$F" && md5sum evil-6.6.6.tar.gz >evil-6.6.6.tar.gz.md5)
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server

# cfgat FILE [EXTRA]: a config at FILE (lib.sh's config, moved there).
cfgat() {
	config "${2:-}"
	mv "$W/cfg.json" "$1"
}
# run CFG [COMMAND]: a pass (or COMMAND) with config CFG; output in
# $T/pass.out, exit code in $rc.
run() {
	"$OPS_UPDATER" -c "$1" --no-jitter "${2:-run}" >"$T/pass.out" 2>&1
	rc=$?
	sanitizer_clean "$T/pass.out" "$*"
}

# 1. The seed README's old layout: /home/work/ops under a /home/work of the
# agents' user (here $NOBODY), who swaps the work directory for one of
# their own and plants a config that names the real one (t/x1 of the
# review). Root must read no config of theirs and run nothing.
P=$T/home
mkdir "$P" && chown $NOBODY:$NOBODY "$P"
mkdir "$P/ops"
$AS sh -c "mv '$P/ops' '$P/ops.real' && mkdir '$P/ops'"
is 'setup: the agents user swapped the work directory' "$(stat -c %u "$P/ops")" $NOBODY
printf '{"server": "127.0.0.1:%s", "workdir": "%s/ops.real", "jitter": 0, "health_wait": 0}\n' "$PORT" "$P" >"$T/evil.json"
$AS sh -c "cat '$T/evil.json' >'$P/ops/cfg.json'"
serve "{\"agents\": [$(want evil 6.6.6)]}"
run "$P/ops/cfg.json"
is 'planted config under a parent of uid 65534: exit 78' "$rc" 78
check 'the message names the parent and why' grep -qF \
    "ops-updater: $P/ops/cfg.json: refused: $P: owned by uid $NOBODY, not root or uid 0" "$T/pass.out"
check_fails 'nothing ran as root (no canary)' test -e "$T/canary"
check_fails 'nothing was installed in the real work directory' test -e "$P/ops.real/evil"

# The config in root's place, the work directory still under that parent:
# refused before anything is done there, by run, plan and status.
$AS sh -c "rm -rf '$P/ops' && mv '$P/ops.real' '$P/ops'"
cfgat "$T/etc/home.json" "\"workdir\": \"$P/ops\""
for cmd in run plan status; do
	run "$T/etc/home.json" $cmd
	is "$cmd: work directory under a parent of uid 65534: exit 1" "$rc" 1
	check "$cmd: the message names the parent and why" grep -qF \
	    "work directory $P/ops refused: $P: owned by uid $NOBODY, not root or uid 0" "$T/pass.out"
done
check_fails 'nothing ran as root (no canary)' test -e "$T/canary"
is 'nothing was done in it (no lock, log, state, agent)' "$(ls -A "$P/ops")" ''

# Group-writable parent: refused. Root's sticky, world-writable parent
# (like /tmp): accepted, the work directory itself being root's.
chown 0:0 "$P"
chmod 775 "$P"
run "$T/etc/home.json"
is 'parent writable by group: exit 1' "$rc" 1
check 'the message says why' grep -qF "work directory $P/ops refused: $P: writable by group (mode 0775)" "$T/pass.out"
chmod 1777 "$P"
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
run "$T/etc/home.json"
is "parent root's, sticky and world-writable: exit 0" "$rc" 0
check 'and the agent runs' running "$P/ops/falcon-agent/1.0.0"
chmod 1775 "$P"
chown $NOBODY "$P"
run "$T/etc/home.json"
is "sticky parent of uid 65534: exit 1" "$rc" 1
check 'the message says why' grep -qF "work directory $P/ops refused: $P: owned by uid $NOBODY" "$T/pass.out"
(cd "$P/ops/falcon-agent/1.0.0" && ./control stop)
chown 0 "$P" && chmod 755 "$P"

# 2. The work directory made a symlink to a directory of root's by the
# owner of its parent (t/x3 of the review): before, the pass took the
# lock (rewriting the pid file), opened the log and swept partials there
# before the scan refused it.
V=$T/victim
mkdir -p "$V/sub"
echo precious >"$V/ops-updater.pid"
echo precious >"$V/sub/.ops-updater-partial.db"
touch -d '3 days ago' "$V/sub/.ops-updater-partial.db"
chown $NOBODY "$P"
$AS sh -c "mv '$P/ops' '$P/ops.gone' && ln -s '$V' '$P/ops'"
# The log elsewhere, in root's directory: opened, and the refusal is there.
cfgat "$T/etc/x3.json" "\"workdir\": \"$P/ops\", \"log\": \"$T/etc/x3.log\""
run "$T/etc/x3.json"
is 'symlinked work directory under a parent of uid 65534: exit 1' "$rc" 1
check 'the refusal is in the log, kept elsewhere' grep -qF \
    "error: work directory $P/ops refused: $P: owned by uid $NOBODY, not root or uid 0" "$T/etc/x3.log"
check 'and on stderr' grep -qF "ops-updater: work directory $P/ops refused: $P: owned by uid $NOBODY" "$T/pass.out"
is 'the pid file there is untouched' "$(cat "$V/ops-updater.pid")" precious
check_fails 'no log was created there' test -e "$V/ops-updater.log"
check_fails 'no state was written there' test -e "$V/ops-updater.state.json"
check 'the old partial there is not swept' test -e "$V/sub/.ops-updater-partial.db"
check_fails 'nothing ran as root (no canary)' test -e "$T/canary"
run "$T/etc/home.json"
is 'the same with the log in it: exit 1' "$rc" 1
check_fails 'no log was created there' test -e "$V/ops-updater.log"
rm -rf "$P" "$V"

# partial_sweep goes by descriptors and enters only what passes: a
# symlink in the work directory to a directory with an old partial, and
# an agent directory of uid 65534, are not swept.
mkdir -p "$T/victim2" "$W/foreign"
echo precious >"$T/victim2/.ops-updater-partial.x"
echo precious >"$W/foreign/.ops-updater-partial.y"
touch -d '3 days ago' "$T/victim2/.ops-updater-partial.x" "$W/foreign/.ops-updater-partial.y"
chown $NOBODY "$W/foreign"
ln -s "$T/victim2" "$W/linked"
config
pass
check 'sweep: a partial reached through a symlink is kept' test -e "$T/victim2/.ops-updater-partial.x"
check 'sweep: one in an agent directory of uid 65534 is kept' test -e "$W/foreign/.ops-updater-partial.y"
mkdir "$W/ours" && echo old >"$W/ours/.ops-updater-partial.z" && touch -d '3 days ago' "$W/ours/.ops-updater-partial.z"
pass
check_fails 'sweep: one in a trusted agent directory goes' test -e "$W/ours/.ops-updater-partial.z"
rm -rf "$W/foreign" "$W/linked" "$W/ours"

# 3. The config and each file it names that root believes: owned by
# uid 65534, writable by others, or under a parent of uid 65534: exit 78,
# naming the file and why. Each is checked by status (no network).
openssl genpkey -algorithm ed25519 -out "$T/k.key" 2>/dev/null && openssl pkey -in "$T/k.key" -pubout -out "$T/k.pub" 2>/dev/null
check 'setup: an Ed25519 public key' test -s "$T/k.pub"
printf 'pw\n' >"$T/pw"
good_files() {
	rm -rf "$T/f" && mkdir -p "$T/f" && chmod 755 "$T/f"
	cp "$T/k.pub" "$T/f/key.pub" && cp "$T/k.pub" "$T/f/ca.pem" && cp "$T/k.pub" "$T/f/cert.pem" &&
	    cp "$T/k.pub" "$T/f/key.pem" && cp "$T/pw" "$T/f/pw" && chmod 644 "$T/f"/* && chmod 600 "$T/f/pw"
	printf '{"server": "https://127.0.0.1:1", "workdir": "%s", "verify": {"public_key": "%s"},
  "tls": {"ca_file": "%s", "cert_file": "%s", "key_file": "%s"},
  "auth": {"user": "ops", "password_file": "%s"}}\n' "$W" "$T/f/key.pub" "$T/f/ca.pem" "$T/f/cert.pem" \
	    "$T/f/key.pem" "$T/f/pw" >"$T/f/cfg.json"
	chmod 644 "$T/f/cfg.json"
}
good_files
run "$T/f/cfg.json" status
is 'every file good: status exit 0' "$rc" 0
for f in cfg.json key.pub ca.pem cert.pem key.pem pw; do
	for kind in owner other parent; do
		good_files
		cfg=$T/f/cfg.json
		case $kind in
		owner) chown $NOBODY "$T/f/$f"; why="$T/f/$f: owned by uid $NOBODY, not root or uid 0" ;;
		other) chmod o+w "$T/f/$f"; why="$T/f/$f: writable by others \(mode 0[0-7]{3}\)" ;;
		parent)
			# In a directory of uid 65534 (other files: through a
			# link from root's directory).
			mkdir "$T/nb" && mv "$T/f/$f" "$T/nb/$f" && chown $NOBODY "$T/nb"
			if [ $f = cfg.json ]; then cfg=$T/nb/cfg.json; else ln -s "$T/nb/$f" "$T/f/$f"; fi
			why="$T/nb: owned by uid $NOBODY, not root or uid 0" ;;
		esac
		case $f in
		cfg.json) pre="ops-updater: $cfg: refused:" ;;
		key.pub) pre="ops-updater: $cfg: line [0-9]+, column [0-9]+: verify.public_key: $T/f/$f refused:" ;;
		ca.pem) pre="ops-updater: $cfg: line [0-9]+, column [0-9]+: tls.ca_file: $T/f/$f refused:" ;;
		cert.pem) pre="ops-updater: $cfg: line [0-9]+, column [0-9]+: tls.cert_file: $T/f/$f refused:" ;;
		key.pem) pre="ops-updater: $cfg: line [0-9]+, column [0-9]+: tls.key_file: $T/f/$f refused:" ;;
		pw) pre="ops-updater: $cfg: line [0-9]+, column [0-9]+: auth.password_file: $T/f/$f refused:" ;;
		esac
		run "$cfg" status
		rm -rf "$T/nb"
		is "$f $kind: exit 78" "$rc" 78
		check "$f $kind: the message names the file and why" grep -Eq "^$pre $why$" "$T/pass.out"
	done
done
good_files
ln -s "$T/f/key.pub" "$T/f/key-link.pub"
sed -i "s|$T/f/key.pub|$T/f/key-link.pub|" "$T/f/cfg.json"
run "$T/f/cfg.json" status
is "a symlink in root's directory to a good key: read (exit 0)" "$rc" 0
rm -rf "$T/f"

# 4. A non-default log: its directory and all above must pass, or the
# pass does nothing and says why (exit 78); no log is created.
mkdir -p "$T/logs" && chown $NOBODY "$T/logs"
cfgat "$T/etc/log.json" "\"workdir\": \"$W\", \"log\": \"$T/logs/ops.log\""
run "$T/etc/log.json"
is 'log directory of uid 65534: exit 78' "$rc" 78
check 'the message names the log and why' grep -qF \
    "ops-updater: log $T/logs/ops.log refused: $T/logs: owned by uid $NOBODY, not root or uid 0" "$T/pass.out"
check_fails 'no log created there' test -e "$T/logs/ops.log"

# The metrics file: its directory, and any above it, may be another
# user's (node_exporter's textfile directory under /var/lib/prometheus,
# prometheus's): it is reached one component at a time, each opened
# without following a link in the one above, and written in the last.
mkdir -p "$T/prom/textfile" && chown $NOBODY "$T/prom/textfile"
cfgat "$T/etc/m.json" "\"workdir\": \"$W\", \"metrics_file\": \"$T/prom/textfile/ops.prom\""
run "$T/etc/m.json"
is 'metrics directory of uid 65534 under a parent of root: exit 0' "$rc" 0
check 'the metrics are written there' grep -q '^ops_updater_last_pass_exit_code 0$' "$T/prom/textfile/ops.prom"
is 'by root, 0644' "$(stat -c '%u %a' "$T/prom/textfile/ops.prom")" '0 644'
# Its owner swaps it for a link (the parent being root's sticky one).
chmod 1777 "$T/prom"
mkdir "$T/victim3"
$AS sh -c "mv '$T/prom/textfile' '$T/prom/old' && ln -s '$T/victim3' '$T/prom/textfile'"
run "$T/etc/m.json"
check_fails 'swapped for a link: nothing written through it' test -e "$T/victim3/ops.prom"
grep_log 'and the log says so' "metrics not written to $T/prom/textfile/ops.prom: $T/prom/textfile is a symlink: refused \\(no directory on the way to metrics_file may be one\\)"
rm -f "$T/prom/textfile" && mv "$T/prom/old" "$T/prom/textfile"
# Debian's layout: the parent is another user's too (/var/lib/prometheus).
chmod 755 "$T/prom" && chown $NOBODY "$T/prom"
rm -f "$T/prom/textfile/ops.prom"
run "$T/etc/m.json"
is 'metrics directory under a parent of uid 65534: exit 0' "$rc" 0
check 'the metrics are written there' grep -q '^ops_updater_last_pass_exit_code 0$' "$T/prom/textfile/ops.prom"
is 'by root, 0644' "$(stat -c '%u %a' "$T/prom/textfile/ops.prom")" '0 644'
# That owner puts a link higher up: refused there too.
before=$(cksum <"$T/prom/textfile/ops.prom")
mkdir -p "$T/victim4/textfile"
$AS sh -c "mv '$T/prom' '$T/prom.old'" 2>/dev/null || mv "$T/prom" "$T/prom.old"
ln -s "$T/victim4" "$T/prom"
run "$T/etc/m.json"
check_fails 'a link above the directory: nothing written through it' test -e "$T/victim4/textfile/ops.prom"
grep_log 'and the log says so' "metrics not written to $T/prom/textfile/ops.prom: $T/prom is a symlink: refused \\(no directory on the way to metrics_file may be one\\)"
rm "$T/prom" && mv "$T/prom.old" "$T/prom"
is 'the old file is left as it was' "$(cksum <"$T/prom/textfile/ops.prom")" "$before"

# 5. check as a monitoring user: the config and the state are all it
# reads; the password file (root's, 0600) is not its business.
printf 'pw\n' >"$T/etc/pw" && chmod 600 "$T/etc/pw"
config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/etc/pw\"}"
pass
is 'setup: a pass with auth: exit 0' "$rc" 0
chmod 644 "$W/cfg.json" "$W/ops-updater.state.json"
$AS "$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check.out" 2>&1
crc=$?
is 'check as uid 65534 with a root-only password file: OK' "$crc" 0
check 'one plugin line, not UNKNOWN' grep -q '^OPS-UPDATER OK - ' "$T/check.out"
done_testing
