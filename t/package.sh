#!/bin/sh
# make test-deb: the Debian package on this machine, as a fleet host sees
# it. Installs $DEB (make deb's) and a second build at a higher version
# (made here from make deb's copy of the sources); runs real passes with the
# exact command line of /etc/cron.d/ops-updater, in cron's environment,
# against the fake ops-meta; adopts a tarball install's work directory
# without restarting its agent; upgrades while a pass holds the lock;
# removes and purges with an agent running. It leaves the machine as it
# found it. Not in make test: it installs a system package, as root (CI
# machines are throwaway). It never skips: what it cannot do fails it.
. "$(dirname "$0")/lib.sh"

bail() {
	echo "Bail out! $*"
	exit 1
}
apt() {	# apt-get, waiting for a dpkg lock another job may hold
	DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "$@"
}
apt_ok() {	# desc, apt-get arguments: ok when apt-get succeeds
	desc=$1
	shift
	apt "$@" >"$T/apt.out" 2>&1
	r=$?
	report $r "$desc"
	[ $r = 0 ] || sed 's/^/# /' "$T/apt.out" >&2
}

# The machine must be one this test may change and restore.
[ "$(id -u)" = 0 ] || bail "must run as root: it installs, removes and purges the package"
[ -n "${DEB:-}" ] && [ -f "$DEB" ] || bail "no package at DEB=${DEB:-}: run make deb first"
case $(dpkg-query -W -f='${db:Status-Status}' ops-updater 2>/dev/null) in
'' | not-installed) ;;
*) bail "ops-updater is installed on this machine: this test would purge it" ;;
esac
for p in /etc/ops-updater /etc/cron.d/ops-updater /etc/logrotate.d/ops-updater /var/lib/ops-updater /var/log/ops-updater; do
	[ -e "$p" ] && bail "$p exists: this test would remove it"
done
for p in /proc/[0-9]*; do
	case $(cat "$p/comm" 2>/dev/null) in cron | crond)
		bail "a cron daemon runs (pid ${p#/proc/}): it would run passes of its own from /etc/cron.d/ops-updater during the test" ;;
	esac
done
command -v logrotate >/dev/null || bail "logrotate is missing (.ci/deps installs it)"
apt -s install "$DEB" >"$T/sim" 2>&1 || { cat "$T/sim"; bail "apt-get cannot install $DEB"; }
extra=$(sed -n 's/^Inst \([^ ]*\).*/\1/p' "$T/sim" | grep -vx ops-updater | tr '\n' ' ')
[ -z "$extra" ] || bail "installing $DEB would also install: $extra(run .ci/deps first, so that purging leaves the machine as it was)"

WD=/var/lib/ops-updater
LOG=/var/log/ops-updater/ops-updater.log
pkg_cleanup() {
	for p in "$WD"/*/*/agent.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	case $(dpkg-query -W -f='${db:Status-Status}' ops-updater 2>/dev/null) in
	'' | not-installed) ;;
	*) apt purge ops-updater >/dev/null 2>&1 ;;
	esac
	rm -rf "$WD" /var/log/ops-updater /etc/ops-updater
}
trap 'pkg_cleanup; cleanup' EXIT

# The second build: make deb's copy of the sources at a higher version.
v1=$(dpkg-deb -f "$DEB" Version)
v2=$v1+test.1
src1=$(dirname "$DEB")/ops-updater-$v1
[ -d "$src1/debian" ] || bail "$src1: make deb's copy of the sources is missing"
mkdir -p "$T/deb2"
cp -R "$src1" "$T/deb2/ops-updater-$v2"
{
	printf 'ops-updater (%s) unstable; urgency=medium\n\n  * Test build.\n\n -- test <test@ops-updater.invalid>  %s\n\n' "$v2" "$(date -R)"
	cat "$src1/debian/changelog"
} >"$T/deb2/ops-updater-$v2/debian/changelog"
(cd "$T/deb2/ops-updater-$v2" && dpkg-buildpackage -us -uc -b) >"$T/deb2.log" 2>&1 ||
    { tail -30 "$T/deb2.log"; bail "the second build failed"; }
DEB2=$T/deb2/ops-updater_${v2}_$(dpkg --print-architecture).deb
check "a second build at $v2" test -f "$DEB2"

# Agents: 1.0.0 plain; 1.0.1 and 1.0.2 wait in "control start" until
# their gate file appears, so that a pass holds the lock as long as we like.
mkagent falcon-agent 1.0.0
mkgated falcon-agent 1.0.1 "$T/gate1"
mkgated falcon-agent 1.0.2 "$T/gate2"
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server

# A tarball install, as the seed's README laid it out, with its agent.
cp "$OPS_UPDATER" "$W/ops-updater"
cp "$TOP/control" "$TOP/crontab.example" "$W/"
config
"$W/control" run >/dev/null 2>&1
check 'the tarball install runs its agent' running "$W/falcon-agent/1.0.0"
tarball_pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")

# Install.
apt_ok 'apt-get install' install "$DEB"
is 'installed, at its version' "$(dpkg-query -W -f='${db:Status-Status} ${Version}' ops-updater)" "installed $v1"
is '/usr/bin/ops-updater --version' "$(/usr/bin/ops-updater --version)" "ops-updater $v1"
conffiles=$(dpkg-query -W -f='${Conffiles}' ops-updater | awk '{print $1}' | sort | tr '\n' ' ')
is 'conffiles: cron.d, logrotate, cfg.json' "$conffiles" '/etc/cron.d/ops-updater /etc/logrotate.d/ops-updater /etc/ops-updater/cfg.json '
is 'cfg.json: server empty, FHS paths, built-in rotation off' "$(python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); print(repr(c.get("server")), c.get("workdir"), c.get("log"), c.get("log_max_mb"))' /etc/ops-updater/cfg.json)" \
    "'' $WD $LOG 0"
is 'the work directory: root, 0755' "$(stat -c '%U %a' "$WD")" 'root 755'
is 'the log: root:adm, 0640' "$(stat -c '%U:%G %a' "$LOG")" 'root:adm 640'
is 'the work directory is empty' "$(ls -A "$WD")" ''
# Each man page in its section's directory, where man(1) looks for it
# (man 5 ops-updater-cfg.json), its .Dt naming that section.
for m in man1/ops-updater.1 man5/ops-updater-cfg.json.5 man7/ops-meta.7 man7/ops-updater-fleet.7; do
	page=${m#*/}
	is "the man page $page is installed in $(dirname "$m")" \
	    "$(zcat "/usr/share/man/$m.gz" 2>&1 | sed -n 's/^\.Dt //p')" \
	    "$(printf '%s' "${page%.*}" | tr '[:lower:]' '[:upper:]') ${page##*.}"
done
check 'so is every key, in the example' test -f /usr/share/doc/ops-updater/examples/cfg.example.json
check 'and the alerting rules' test -f /usr/share/doc/ops-updater/examples/alerts.example.yml
# Without -c, the packaged binary reads the packaged config from any
# directory, and never a cfg.json that lies where it is run.
is '--help shows the packaged default config' "$(/usr/bin/ops-updater --help | grep '^  -c FILE')" \
    '  -c FILE      config file (default /etc/ops-updater/cfg.json)'
(cd /tmp && /usr/bin/ops-updater status) >"$T/status" 2>&1
is 'cd /tmp && ops-updater status: exit 0' "$?" 0
check 'it read the packaged cfg.json' grep -q '^protection: none: not configured' "$T/status"
mkdir "$T/elsewhere"
printf '{"server": "http://127.0.0.1:1", "workdir": "%s/nowhere"}\n' "$T" >"$T/elsewhere/cfg.json"
(cd "$T/elsewhere" && /usr/bin/ops-updater status) >"$T/status" 2>&1
is 'beside another cfg.json: exit 0' "$?" 0
check 'it read the packaged one still' grep -q '^protection: none: not configured' "$T/status"
check 'installing left the tarball install alone' test "$(cat "$W/falcon-agent/1.0.0/agent.pid")" = "$tarball_pid"
# The unpack's own user, as apt's _apt: a system user, no home, no shell,
# a group of its own.
is 'the user _ops-updater: no home, no shell' "$(getent passwd _ops-updater | cut -d: -f6,7)" '/nonexistent:/usr/sbin/nologin'
is 'a system user' "$(( $(id -u _ops-updater) < 1000 ))" 1
is 'with a group of its own' "$(id -gn _ops-updater)" _ops-updater
sbu=$(id -u _ops-updater)

# The cron job, exactly as /etc/cron.d has it, in cron's environment.
cron_path=$(sed -n 's/^PATH=//p' /etc/cron.d/ops-updater)
cron_line=$(grep -v '^[[:space:]]*#' /etc/cron.d/ops-updater | grep -v '^[A-Z_]*=' | grep .)
is 'cron.d: one job, every 5 minutes, as root' "$(printf '%s\n' "$cron_line" | awk '{print $1, $2, $3, $4, $5, $6}')" '*/5 * * * * root'
cron_cmd=$(printf '%s\n' "$cron_line" | sed 's/^[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*//')
check 'cron.d: a PATH line without /usr/local' sh -c 'test -n "$1" && case :$1: in *:/usr/local/*) exit 1 ;; esac' - "$cron_path"
check 'cron.d: the job is guarded by test -x' sh -c 'case $1 in "test -x /usr/bin/ops-updater && "*) ;; *) exit 1 ;; esac' - "$cron_cmd"
cronjob() {	# the job, as cron runs it
	(cd /root && env -i HOME=/root LOGNAME=root SHELL=/bin/sh PATH="$cron_path" /bin/sh -c "$cron_cmd")
}
cronrun() {	# exit status in $crc, output in $T/cron.out
	cronjob >"$T/cron.out" 2>&1
	crc=$?
}
loglines() { wc -l <"$LOG"; }

# Not configured: the pass does nothing and says so once.
n=$(loglines)
cronrun
is 'not configured: exit 0' "$crc" 0
is 'not configured: nothing for cron to mail' "$(cat "$T/cron.out")" ''
is 'not configured: one log line' "$(($(loglines) - n))" 1
check 'which says so' grep -q "warning: not configured: server is empty in /etc/ops-updater/cfg.json" "$LOG"
is 'not configured: nothing in the work directory (no lock, no state)' "$(ls -A "$WD")" ''
/usr/bin/ops-updater -c /etc/ops-updater/cfg.json check >"$T/check"
is 'not configured: check is UNKNOWN' "$?:$(cat "$T/check")" \
    '3:OPS-UPDATER UNKNOWN - not configured: server is empty in /etc/ops-updater/cfg.json; passes do nothing'

# Migration: the package adopts the tarball install's work directory as it
# is; its agent is not restarted.
# The metrics go where node_exporter would read them, in a directory
# another user owns: purge removes the file.
PROM=$T/prometheus/node-exporter
mkdir -p "$PROM" && chmod 755 "$T" "$T/prometheus" && chown 65534 "$T/prometheus"
setcfg() {	# workdir, extra keys
	printf '{"server": "%s", "hostname": "test-host-pkg", "workdir": "%s", "log": "%s", "log_max_mb": 0,
 "jitter": 0, "control_timeout": 120, "health_wait": 0, "retry_failed": 0,
 "metrics_file": "%s/ops-updater.prom"%s}\n' "$BASE" "$1" "$LOG" "$PROM" "${2:-}" >/etc/ops-updater/cfg.json
}
setcfg "$W"
/usr/bin/ops-updater -c /etc/ops-updater/cfg.json plan >"$T/plan" 2>&1
is 'migration: plan says nothing to do' "$?" 0
cronrun
is 'migration: the first pass, exit 0' "$crc" 0
is 'migration: nothing for cron to mail' "$(cat "$T/cron.out")" ''
is 'migration: the agent was not restarted' "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$tarball_pid"
check 'migration: and runs' running "$W/falcon-agent/1.0.0"
is 'migration: started once, by the tarball install' "$(wc -l <"$W/falcon-agent/1.0.0/starts")" 1
check 'migration: the pass is in the package log' grep -q 'pass done: exit 0' "$LOG"

# The package's own work directory from now on.
setcfg "$WD"
cronrun
is 'a real pass from cron.d: exit 0' "$crc" 0
is 'nothing for cron to mail' "$(cat "$T/cron.out")" ''
check 'the agent runs in /var/lib/ops-updater' running "$WD/falcon-agent/1.0.0"
check 'the metrics are written' grep -q '^ops_updater_last_pass_exit_code 0$' "$PROM/ops-updater.prom"
(cd / && /usr/bin/ops-updater check) >"$T/check"
is 'cd / && ops-updater check: OK with the packaged cfg.json' "$?:$(cut -c1-16 "$T/check")" '0:OPS-UPDATER OK -'
check 'gzip and tar ran as _ops-updater' grep -q "unpacking falcon-agent-1.0.0.tar.gz as it arrives, as uid $sbu (_ops-updater)," "$LOG"

# The two rotations never fight: the pass leaves a log past the built-in
# threshold (10 MiB by default) alone; logrotate rotates it.
truncate -s 11M "$LOG"
cronrun
check_fails 'log_max_mb 0: the pass does not rotate' test -e "$LOG.1"
check 'it appends past 11 MiB' test "$(stat -c %s "$LOG")" -gt $((11 << 20))
check 'logrotate -f with the package snippet' logrotate -f -s "$T/logrotate.state" /etc/logrotate.d/ops-updater
check 'logrotate: the old log is .1' test "$(stat -c %s "$LOG.1")" -gt $((11 << 20))
is 'logrotate: the new log is empty, root:adm 0640' "$(stat -c '%s %U:%G %a' "$LOG")" '0 root:adm 640'
cronrun
check 'the next pass writes the new log' grep -q 'pass done: exit 0' "$LOG"

# Upgrade while a pass holds the lock: the server asks for 1.0.1, whose
# start waits for gate1.
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
cronjob >"$T/bg.out" 2>&1 &
bg=$!
check 'a pass is in the start of 1.0.1' wait_file "$T/in-1.0.1"
old=$(cat "$WD/ops-updater.pid")
check 'it holds the lock' kill -0 "$old"
# Meanwhile a pass of another work directory: _ops-updater is the first
# pass's, so its gzip and tar run as an id from the range.
W3=$T/w3
mkdir -p "$W3"
printf '{"server": "%s", "hostname": "test-host-w3", "jitter": 0, "control_timeout": 120, "health_wait": 0}\n' "$BASE" >"$W3/cfg.json"
/usr/bin/ops-updater -c "$W3/cfg.json" run >"$T/w3.out" 2>&1 &
w3=$!
i=0
while [ $i -lt 600 ] && ! grep -q 'unpacking falcon-agent-1.0.1' "$W3/ops-updater.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
w3uid=$(sed -n 's/.* unpacking .* as uid \([0-9]*\).*/\1/p' "$W3/ops-updater.log")
check "a second pass at once: not _ops-updater, an id from 60578-61183 ($w3uid)" \
    test "${w3uid:-0}" -ge 60578 -a "${w3uid:-0}" -le 61183
cronrun
is 'the next tick meanwhile: exit 75 (locked)' "$crc" 75
is 'and nothing for cron to mail' "$(cat "$T/cron.out")" ''
apt_ok "upgrade to $v2 during the pass" install "$DEB2"
is "/usr/bin/ops-updater is $v2" "$(/usr/bin/ops-updater --version)" "ops-updater $v2"
check 'the pass still runs' kill -0 "$old"
is 'the pass runs the old binary, now unlinked' "$(readlink "/proc/$old/exe")" '/usr/bin/ops-updater (deleted)'
check 'the conffile keeps the operator'"'"'s server' grep -qF "\"server\": \"$BASE\"" /etc/ops-updater/cfg.json
touch "$T/gate1"
wait "$bg"
is 'the old pass finishes: exit 0' $? 0
wait "$w3"
is 'the pass of the other work directory: exit 0' $? 0
is 'with nothing for cron to mail' "$(cat "$T/bg.out")" ''
is '1.0.1 is committed' "$(cat "$WD/falcon-agent/.version")" 1.0.1
check '1.0.1 runs' running "$WD/falcon-agent/1.0.1"
check_fails '1.0.0 does not' running "$WD/falcon-agent/1.0.0"

# The next pass is the new binary: catch it in the start of 1.0.2.
serve "{\"agents\": [$(want falcon-agent 1.0.2)]}"
cronjob >"$T/bg.out" 2>&1 &
bg=$!
check 'the next pass is in the start of 1.0.2' wait_file "$T/in-1.0.2"
new=$(cat "$WD/ops-updater.pid")
is 'the next pass runs /usr/bin/ops-updater as it is now' "$(readlink "/proc/$new/exe")" /usr/bin/ops-updater
is 'the very file of the upgrade' "$(stat -L -c %i "/proc/$new/exe")" "$(stat -c %i /usr/bin/ops-updater)"
touch "$T/gate2"
wait "$bg"
is 'the new pass: exit 0' $? 0
is '1.0.2 is committed' "$(cat "$WD/falcon-agent/.version")" 1.0.2
check '1.0.2 runs' running "$WD/falcon-agent/1.0.2"
agent=$(cat "$WD/falcon-agent/1.0.2/agent.pid")

# Remove: no more passes; the agent runs on, its directory untouched.
# prerm notes the metrics file's path at the top of the work directory,
# for purge: what is below is the agents', and must stay as it was.
snapshot() { find "$WD" -mindepth 1 ! -name ops-updater.metrics-file -printf '%p %y %m %U %s %T@ %i\n' | sort; }
snapshot >"$T/before"
apt_ok 'apt-get remove' remove ops-updater
is 'removed, config kept' "$(dpkg-query -W -f='${db:Status-Status}' ops-updater)" config-files
check_fails 'the binary is gone' test -e /usr/bin/ops-updater
check 'cron.d is kept (a conffile)' test -f /etc/cron.d/ops-updater
check 'cfg.json is kept' grep -qF "\"server\": \"$BASE\"" /etc/ops-updater/cfg.json
is 'the agent still runs' "$(cat "$WD/falcon-agent/1.0.2/agent.pid")" "$agent"
check 'and is alive' running "$WD/falcon-agent/1.0.2"
is 'the work directory is untouched' "$(snapshot)" "$(cat "$T/before")"
check 'the metrics file is kept by remove' test -f "$PROM/ops-updater.prom"
is 'prerm noted its path, for purge' "$(cat "$WD/ops-updater.metrics-file")" "$PROM/ops-updater.prom"
n=$(loglines)
cronrun
check 'the cron job now does nothing (test -x)' test "$crc" != 0
is 'silently: nothing for cron to mail' "$(cat "$T/cron.out")" ''
is 'and nothing in the log' "$(loglines)" "$n"
is 'the work directory is still untouched' "$(snapshot)" "$(cat "$T/before")"

# The owner of the metrics directory's parent swaps the directory for a
# link before the purge: the package's postrm, run as dpkg will, removes
# nothing it leads to (nor the link); the note goes all the same.
cp "$WD/ops-updater.metrics-file" "$T/note"
mv "$PROM" "$PROM.real"
mkdir "$T/victim" && echo keep >"$T/victim/ops-updater.prom"
ln -s "$T/victim" "$PROM"
check 'postrm purge by hand, with the metrics directory a link' sh /var/lib/dpkg/info/ops-updater.postrm purge
is 'the file the link leads to is kept' "$(cat "$T/victim/ops-updater.prom")" keep
check 'the link too' test -L "$PROM"
check_fails 'the note is gone' test -e "$WD/ops-updater.metrics-file"
rm "$PROM" && mv "$PROM.real" "$PROM" && cp "$T/note" "$WD/ops-updater.metrics-file"

# Purge: the package's own files go, the agent stays. So do the user of
# the unpack and what it may have left: a process, a message queue, a
# file in /tmp, a staging tree of a killed pass; and the id locks.
sbg=$(id -g _ops-updater)
setpriv --reuid="$sbu" --regid="$sbg" --clear-groups sh -c "ipcmk -Q >/dev/null; touch /tmp/ops-updater-test-left.$$"
(cd "$T" && exec setpriv --reuid="$sbu" --regid="$sbg" --clear-groups sleep 300) &
left=$!
mkdir -p "$WD/falcon-agent/.ops-updater-tmp.9.test/tree" && chown -R "$sbu:$sbg" "$WD/falcon-agent/.ops-updater-tmp.9.test"
check 'the id locks of its passes are there' test -e "/run/ops-updater/$sbu" -a -e "/run/ops-updater/$w3uid"
apt_ok 'apt-get purge' purge ops-updater
check_fails 'purge removed the user _ops-updater' getent passwd _ops-updater
check_fails 'and its group' getent group _ops-updater
check_fails 'its process is gone' kill -0 "$left"
is 'its message queue is gone' "$(awk -v u="$sbu" 'NR > 1 && ($8 == u || $10 == u)' /proc/sysvipc/msg)" ''
check_fails 'its file in /tmp is gone' test -e "/tmp/ops-updater-test-left.$$"
check_fails 'the staging tree a killed pass left is gone' test -e "$WD/falcon-agent/.ops-updater-tmp.9.test"
# (Another pass on this machine may hold a lock there: only ours are
# sure to be free.)
check_fails "purge removed the id locks of its passes ($sbu, $w3uid)" \
    test -e "/run/ops-updater/$sbu" -o -e "/run/ops-updater/$w3uid"
check 'purged' sh -c 'case $(dpkg-query -W -f="\${db:Status-Status}" ops-updater 2>/dev/null) in "" | not-installed) ;; *) exit 1 ;; esac'
for p in /etc/ops-updater /etc/cron.d/ops-updater /etc/logrotate.d/ops-updater /var/log/ops-updater \
    "$WD/ops-updater.pid" "$WD/ops-updater.state.json"; do
	check_fails "purge removed $p" test -e "$p"
done
check_fails 'purge removed the metrics file, which node_exporter would export forever' test -e "$PROM/ops-updater.prom"
check_fails 'and its note' test -e "$WD/ops-updater.metrics-file"
check 'the metrics directory stays (node_exporter'"'"'s)' test -d "$PROM"
check 'the agent still runs' running "$WD/falcon-agent/1.0.2"
# (Its directory's own mtime aside: the staging tree left there went.)
is 'its files are untouched' "$(snapshot | grep -v -e "^$WD d " -e "^$WD/falcon-agent d ")" \
    "$(grep -v -e "^$WD d " -e "^$WD/falcon-agent d " -e "^$WD/ops-updater.pid " -e "^$WD/ops-updater.state.json " "$T/before")"
check 'the tarball install'"'"'s agent runs too' running "$W/falcon-agent/1.0.0"
done_testing
