#!/bin/sh
# make fleet: a fleet of N hosts on loopback, each a work directory of its
# own with a real agent, one fake ops-meta (t/ops-meta.py) that also
# serves the tarballs at a limited rate per download, and passes fired as
# cron fires them: every host every INTERVAL seconds, each pass sleeping
# its own jitter. A new release is published twice, once without
# rollout_spread and once with SPREAD; for each the table says how long
# until every host ran it, how many tarball downloads ran at once at the
# peak, the heartbeat rate at the server and the passes that failed.
#
# Then a bad release (its daemon dies 2 s after it starts), with SPREAD,
# health_wait HEALTH_WAIT and holds, and with PROBATION=1 the probation
# keys (probation_window PROBATION_WINDOW, probation_deaths
# PROBATION_DEATHS; with PROBATION=0 probation_window 0, or nothing for an
# ops-updater that has no probation): the blast
# radius, that is how many hosts tried it before the first pass recorded a
# failure or hold for it (what the alert OpsUpdaterReleaseFailing of
# alerts.example.yml reads) and before that alert's condition held (more
# than 5% of the hosts asked for it), read from the hosts' metrics files;
# REACT seconds after the alert a fix is published, and the table says
# how long it took to reach the hosts that had tried the bad release.
#
# A failed pass is counted as the simulation's when its error is a
# connection to the fake server that failed or timed out (its fault, or
# the loaded machine's), as the bad release's when it names it, and as
# ops-updater's otherwise. Prints figures; fails only when the simulation
# itself cannot run.
#
#   N=200 INTERVAL=10 JITTER=5 SPREAD=60 SIZE_KB=1024 RATE_KB=512 \
#   HEALTH_WAIT=5 PROBATION=0 PROBATION_WINDOW=900 PROBATION_DEATHS=2 REACT=30 sh t/fleet.sh
set -u
N=${N:-200}
INTERVAL=${INTERVAL:-10}
JITTER=${JITTER:-5}
SPREAD=${SPREAD:-60}
SIZE_KB=${SIZE_KB:-1024}
RATE_KB=${RATE_KB:-512}
HEALTH_WAIT=${HEALTH_WAIT:-5}
PROBATION=${PROBATION:-0}
PROBATION_WINDOW=${PROBATION_WINDOW:-900}
PROBATION_DEATHS=${PROBATION_DEATHS:-2}
REACT=${REACT:-30}
cd "$(dirname "$0")" || exit 1
TDIR=$(pwd)
OPS_UPDATER=${OPS_UPDATER:-$TDIR/../ops-updater}
T=$(mktemp -d /tmp/ops-updater-fleet.XXXXXX)
F=$T/files
mkdir -p "$F" "$T/src" "$T/h"
server_pid=

cleanup() {
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$T"/*) kill "${p#/proc/}" 2>/dev/null ;; esac
	done
	find "$T/h" -name agent.pid 2>/dev/null | while read -r p; do kill "$(cat "$p")" 2>/dev/null; done
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() {
	echo "fleet: $*" >&2
	exit 1
}

# A real agent: a control script and a daemon (sleep), with a payload;
# with "bad" as $2, a daemon that dies 2 s after its start.
publish() {
	d=$T/src/fleet-agent-$1
	mkdir -p "$d"
	life=3600
	[ "${2:-}" = bad ] && life=2
	printf '#!/bin/sh\nexec sleep %d\n' $life >"$d/fleet-agent"
	cat >"$d/control" <<'EOF'
#!/bin/sh
# Alive and not a zombie (an init that does not reap leaves those behind).
running() { [ -f agent.pid ] && grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$(cat agent.pid)/status" 2>/dev/null; }
case "$1" in
start) running && exit 0; nohup ./fleet-agent >/dev/null 2>&1 & echo $! >agent.pid ;;
stop) running && kill "$(cat agent.pid)"; rm -f agent.pid ;;
status) running && echo started || echo stoped ;;
esac
EOF
	chmod +x "$d/control" "$d/fleet-agent"
	head -c $((SIZE_KB * 1024)) /dev/urandom >"$d/payload"
	tar -czf "$F/fleet-agent-$1.tar.gz" -C "$d" .
	(cd "$F" && md5sum "fleet-agent-$1.tar.gz" >"fleet-agent-$1.tar.gz.md5")
}

serve() {
	printf '{"agents": [{"default": {"name": "fleet-agent", "version": "%s", "tarball": "{base}/files", "md5": "", "cmd": "start"}}], "faults": {"rate": %d}}\n' \
	    "$1" $((RATE_KB * 1024)) >"$T/meta.json.tmp" && mv "$T/meta.json.tmp" "$T/meta.json"
}

# cfg.json of every host, with spread $1, and keys $2 when given
# (default: no health gate, no holds).
configure() {
	i=0
	while [ $i -lt "$N" ]; do
		w=$T/h/$i
		mkdir -p "$w"
		printf '{"server": "http://127.0.0.1:%s", "hostname": "fleet-%04d", "jitter": %d, "rollout_spread": %d, "status_wait": 10, "metrics_file": "%s", %s}\n' \
		    "$PORT" $i "$JITTER" "$1" "$w/metrics.prom" "${2:-\"health_wait\": 0, \"retry_failed\": 0}" >"$w/cfg.json"
		i=$((i + 1))
	done
}

# Hosts whose agent runs version $1.
at_version() {
	n=0
	for v in "$T"/h/*/fleet-agent/.version; do
		[ "$(cat "$v" 2>/dev/null)" = "$1" ] && n=$((n + 1))
	done
	echo $n
}

# One cron tick: a pass on every host, in the background, its exit code
# appended to $T/rc.
tick() {
	i=0
	while [ $i -lt "$N" ]; do
		( "$OPS_UPDATER" -c "$T/h/$i/cfg.json" run >/dev/null 2>&1; echo $? >>"$T/rc" ) &
		i=$((i + 1))
	done
}

now() {
	python3 -c 'import time; print("%.3f" % time.time())'
}

# A round begins: the counters and the hosts' logs start empty (no pass
# runs between rounds).
fresh() {
	: >"$T/rc"
	: >"$T/times"
	for f in "$T"/h/*/ops-updater.log; do : >"$f"; done
}

# The failed passes (exit not 0 or 75) of the hosts' logs, by cause:
# "server release ours". Bad release $1, if any. A pass's lines are those
# of its pid; a failure of ours is shown on stderr (the first 3).
failures() {
	python3 - "$T" "$PORT" "${1:-}" <<'EOF'
import glob, re, sys
t, port, bad = sys.argv[1], sys.argv[2], sys.argv[3]
line = re.compile(r"^\S+ \[(\d+)\] (\w+)(?: [^:]*)?: (.*)$")
# The fake server's fault, or the loaded machine's: a connection to it
# that failed or timed out (libcurl's words).
server = re.compile(r"127\.0\.0\.1:%s/\S*: .*(timed out|Timeout was reached|Failed to connect|Couldn't connect|"
                    r"Connection reset|Empty reply|Recv failure|Send failure)" % port)
release = re.compile(r"fleet-agent-%s\b|\b%s (failed|was|died)|holding %s|health gate|probation"
                     % (re.escape(bad), re.escape(bad), re.escape(bad))) if bad else None
counts = {"server": 0, "release": 0, "ours": 0}
shown = 0
for log in glob.glob(t + "/h/*/ops-updater.log"):
    passes = {}
    for l in open(log, errors="replace"):
        m = line.match(l)
        if m:
            passes.setdefault(m.group(1), []).append((m.group(2), m.group(3)))
    for pid, lines in passes.items():
        done = [re.match(r"pass done: exit (\d+)", w) for _, w in lines]
        codes = [int(d.group(1)) for d in done if d]
        if not codes or codes[-1] in (0, 75):
            continue
        errors = [w for lvl, w in lines if lvl in ("error", "warning")]
        if any(server.search(w) for w in errors):
            counts["server"] += 1
        elif release and any(release.search(w) for w in errors):
            counts["release"] += 1
        else:
            counts["ours"] += 1
            if shown < 3:
                print("fleet: a failed pass of ops-updater's (%s): %s" % (log, " | ".join(errors)[:600]), file=sys.stderr)
                shown += 1
print(counts["server"], counts["release"], counts["ours"])
EOF
}

# Publish version $1 with spread $2, tick until every host runs it; print
# "seconds peak_downloads heartbeats_per_s failed_ours busy downloads
# failed_server".
round() {
	configure "$2"
	fresh
	serve "$1"
	t0=$(now)
	limit=$(( $2 + 10 * INTERVAL + 60 ))
	all=
	while :; do
		tick
		next=$(( $(date +%s) + INTERVAL ))
		while [ "$(date +%s)" -lt $next ]; do
			if [ -z "$all" ] && [ "$(at_version "$1")" = "$N" ]; then
				all=$(python3 -c "import time; print('%.0f' % (time.time() - $t0))")
			fi
			sleep 0.5
		done
		[ -n "$all" ] && break
		[ "$(python3 -c "import time; print(int(time.time() - $t0))")" -gt $limit ] && break
	done
	wait
	version=$1
	set -- $(failures)
	python3 - "$T/times" "$t0" "$version" "$T/rc" "${all:-never}" "$(now)" $(($2 + $3)) "$1" <<'EOF'
import sys
times, t0, version, rcs, took, t1 = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])
ours, server = sys.argv[7], sys.argv[8]
rows = [l.split() for l in open(times)]
dl = [(float(a), float(b)) for a, b, st, p in rows if p.endswith("-%s.tar.gz" % version)]
hb = [float(a) for a, b, st, p in rows if p == "/heartbeat"]
events = sorted([(a, 1) for a, b in dl] + [(b, -1) for a, b in dl])
peak = cur = 0
for _, d in events:
    cur += d
    peak = max(peak, cur)
span = t1 - t0
codes = [int(l) for l in open(rcs) if l.strip()]
print(took, peak, "%.1f" % (len(hb) / span), ours, sum(1 for c in codes if c == 75), len(dl), server)
EOF
}

# The hosts as the alert sees them, every 0.5 s until $T/stop appears,
# for bad release $1 and fix $2: per host when it first tried the bad
# release (its version directory appeared), committed it (.version),
# first recorded a failure or hold for it (metrics: agent_held of it, or
# agent_failures while it is desired) and ran the fix; when the alert's
# condition first held (more than 5% of the hosts asked for it); written
# to $T/watch.json at the end, and $T/alerted once the alert would fire.
watch() {
	python3 - "$T" "$N" "$1" "$2" <<'EOF'
import json, os, re, sys, time
t, n, bad, fix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
first = {k: {} for k in ("tried", "committed", "recorded", "fixed")}
alert_at = record_at = None


def metrics(h):
    try:
        text = open("%s/h/%d/metrics.prom" % (t, h)).read()
    except OSError:
        return None, False
    desired = re.search(r'^ops_updater_agent_desired_info\{name="fleet-agent",version="([^"]*)"', text, re.M)
    held = re.search(r'^ops_updater_agent_held\{name="fleet-agent",version="%s"\} 1$' % re.escape(bad), text, re.M)
    fails = re.search(r'^ops_updater_agent_failures\{name="fleet-agent"\} ([1-9]\d*)$', text, re.M)
    asked = desired is not None and desired.group(1) == bad
    return asked, bool(held or (fails and asked))


while True:
    stop = os.path.exists(t + "/stop")  # a last look after it appears
    now = time.time()
    asked = failing = 0
    for h in range(n):
        d = "%s/h/%d/fleet-agent" % (t, h)
        try:
            v = open(d + "/.version").read().strip()
        except OSError:
            v = ""
        if h not in first["tried"] and os.path.isdir(d + "/" + bad):
            first["tried"][h] = now
        if v == bad:
            first["committed"].setdefault(h, now)
        if v == fix:
            first["fixed"].setdefault(h, now)
        a, f = metrics(h)
        asked += bool(a)
        failing += f
        if f:
            first["recorded"].setdefault(h, now)
    if record_at is None and first["recorded"]:
        record_at = now
    if alert_at is None and asked and failing / asked > 0.05:
        alert_at = now
        open(t + "/alerted", "w").close()
    if stop:
        break
    time.sleep(0.5)
json.dump({"first": first, "alert_at": alert_at, "record_at": record_at}, open(t + "/watch.json", "w"))
EOF
}

# The bad release $1 with spread $2, and its fix $3 published REACT s after
# the alert would fire; print the figures of the blast radius.
bad_round() {
	keys="\"health_wait\": $HEALTH_WAIT, \"retry_failed\": 3600"
	if [ "$PROBATION" = 1 ]; then
		configure "$2" "$keys, \"probation_window\": $PROBATION_WINDOW, \"probation_deaths\": $PROBATION_DEATHS"
		"$OPS_UPDATER" -c "$T/h/0/cfg.json" check >"$T/check.out" 2>&1
		grep -q 'unknown key' "$T/check.out" && die "$(cat "$T/check.out") (PROBATION=1 needs an ops-updater with probation)"
	else
		# Probation is on by default where ops-updater has it.
		configure "$2" "$keys, \"probation_window\": 0"
		"$OPS_UPDATER" -c "$T/h/0/cfg.json" check >"$T/check.out" 2>&1
		grep -q 'unknown key' "$T/check.out" && configure "$2" "$keys"
	fi
	fresh
	rm -f "$T/stop" "$T/alerted" "$T/watch.json"
	watch "$1" "$3" &
	watch_pid=$!
	serve "$1"
	t0=$(now)
	fix_at=
	limit=$(( 2 * $2 + 20 * INTERVAL + REACT + 120 ))
	while :; do
		tick
		next=$(( $(date +%s) + INTERVAL ))
		while [ "$(date +%s)" -lt $next ]; do
			if [ -z "$fix_at" ] && [ -e "$T/alerted" ] &&
			    [ "$(python3 -c "import os, time; print(int(time.time() - os.stat('$T/alerted').st_mtime >= $REACT))")" = 1 ]; then
				serve "$3"
				fix_at=$(now)
			fi
			[ -n "$fix_at" ] && [ "$(at_version "$3")" = "$N" ] && break 2
			sleep 0.5
		done
		[ "$(python3 -c "import time; print(int(time.time() - $t0))")" -gt $limit ] && break
	done
	touch "$T/stop"
	wait
	set -- $(failures "$1")
	python3 - "$T/watch.json" "$t0" "${fix_at:-0}" "$N" "$T/rc" "$@" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
t0, fix_at, n, rcs = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
server, release, ours = sys.argv[6:9]
first = {k: {int(h): v for h, v in d.items()} for k, d in w["first"].items()}
tried, committed, fixed = first["tried"], first["committed"], first["fixed"]


def before(t):
    return sum(1 for v in tried.values() if t is not None and v <= t) if t else "never"


def secs(t):
    return "%.0f" % (t - t0) if t else "never"


def reach(hosts):
    """Seconds from the fix's publication until every one of hosts ran it."""
    if not fix_at or not hosts:
        return "-"
    if any(h not in fixed for h in hosts):
        return "never (%d of %d)" % (sum(1 for h in hosts if h in fixed), len(hosts))
    return "%.0f" % (max(fixed[h] for h in hosts) - fix_at)


codes = [int(l) for l in open(rcs) if l.strip()]
rows = [
    ("seconds from publishing to the first failure recorded", secs(w["record_at"])),
    ("hosts that had tried it by then", before(w["record_at"])),
    ("seconds to the alert (over 5% of hosts asked fail)", secs(w["alert_at"])),
    ("hosts that had tried it by then", before(w["alert_at"])),
    ("hosts that tried it in all (fix REACT s later)", len(tried)),
    ("hosts that committed it (passed the gate)", len(committed)),
    ("seconds until the fix ran on every host that tried it", reach(list(tried))),
    ("seconds until it ran on every host that committed it", reach(list(committed))),
    ("seconds until it ran on every host", reach(list(range(n)))),
    ("passes that failed: the bad release's", release),
    ("passes that failed: ops-updater's", ours),
    ("passes failed by the simulation's server", server),
    ("passes that found the last one running (75)", sum(1 for c in codes if c == 75)),
]
for what, v in rows:
    print("%s\t%s" % (what, v))
EOF
}

[ -x "$OPS_UPDATER" ] || die "$OPS_UPDATER: not built"
printf '{"agents": []}\n' >"$T/meta.json"
python3 "$TDIR/ops-meta.py" --config "$T/meta.json" --files "$F" --port-file "$T/port" \
    --times "$T/times" &
server_pid=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$T/port") || die "the fake ops-meta did not start"
for v in 1.0.0 1.1.0 1.2.0 1.3.1; do publish $v; done
publish 1.3.0 bad

# Every host at 1.0.0 first, without jitter or spread: the starting line.
configure 0
serve 1.0.0
seq 0 $((N - 1)) | xargs -P 8 -I{} "$OPS_UPDATER" -c "$T/h/{}/cfg.json" --no-jitter run >/dev/null 2>&1
[ "$(at_version 1.0.0)" = "$N" ] || die "not every host installed 1.0.0 ($(at_version 1.0.0) of $N)"

JITTER=$JITTER
a=$(round 1.1.0 0)
b=$(round 1.2.0 "$SPREAD")
# In a subshell, as the others: its wait is for its passes, not the server.
(bad_round 1.3.0 "$SPREAD" 1.3.1) >"$T/bad.out" || exit 1
set -- $a
a_took=$1 a_peak=$2 a_hb=$3 a_fail=$4 a_busy=$5 a_dl=$6 a_server=$7
set -- $b
b_took=$1 b_peak=$2 b_hb=$3 b_fail=$4 b_busy=$5 b_dl=$6 b_server=$7

echo "ops-updater fleet: $N hosts on loopback, $(nproc) cores; a pass every ${INTERVAL} s per host (jitter ${JITTER} s);"
echo "a ${SIZE_KB} KiB release served at ${RATE_KB} KiB/s per download"
printf '%-52s %14s %14s\n' figure "spread 0" "spread ${SPREAD} s"
printf '%-52s %14s %14s\n' "seconds until every host ran the release" "$a_took" "$b_took"
printf '%-52s %14s %14s\n' "tarball downloads (all hosts)" "$a_dl" "$b_dl"
printf '%-52s %14s %14s\n' "peak concurrent tarball downloads" "$a_peak" "$b_peak"
printf '%-52s %14s %14s\n' "heartbeats per second at the server (mean)" "$a_hb" "$b_hb"
printf '%-52s %14s %14s\n' "passes that failed (exit not 0 or 75), ops-updater's" "$a_fail" "$b_fail"
printf '%-52s %14s %14s\n' "passes failed by the simulation's server" "$a_server" "$b_server"
printf '%-52s %14s %14s\n' "passes that found the last one running (75)" "$a_busy" "$b_busy"
echo
if [ "$PROBATION" = 1 ]; then
	prob="probation ${PROBATION_WINDOW} s / ${PROBATION_DEATHS} deaths"
else
	prob="no probation"
fi
echo "a bad release (dies 2 s after its start), spread ${SPREAD} s, health_wait ${HEALTH_WAIT} s, $prob;"
echo "its fix published ${REACT} s after the alert would fire"
while IFS='	' read -r what v; do
	printf '%-56s %10s\n' "$(printf '%s' "$what" | sed "s/REACT/$REACT/")" "$v"
done <"$T/bad.out"
