#!/bin/sh
# make fleet: a fleet of N hosts on loopback, each a work directory of its
# own with a real agent, one fake ops-meta (t/ops-meta.py) that also
# serves the tarballs at a limited rate per download, and passes fired as
# cron fires them: every host every INTERVAL seconds, each pass sleeping
# its own jitter. A new release is published twice, once without
# rollout_spread and once with SPREAD; for each the table says how long
# until every host ran it, how many tarball downloads ran at once at the
# peak, the heartbeat rate at the server and the passes that failed.
# Prints figures; fails only when the simulation itself cannot run.
#
#   N=200 INTERVAL=10 JITTER=5 SPREAD=60 SIZE_KB=1024 RATE_KB=512 sh t/fleet.sh
set -u
N=${N:-200}
INTERVAL=${INTERVAL:-10}
JITTER=${JITTER:-5}
SPREAD=${SPREAD:-60}
SIZE_KB=${SIZE_KB:-1024}
RATE_KB=${RATE_KB:-512}
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

# A real agent: a control script and a daemon (sleep), with a payload.
publish() {
	d=$T/src/fleet-agent-$1
	mkdir -p "$d"
	printf '#!/bin/sh\nexec sleep 3600\n' >"$d/fleet-agent"
	cat >"$d/control" <<'EOF'
#!/bin/sh
running() { [ -f agent.pid ] && kill -0 "$(cat agent.pid)" 2>/dev/null; }
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

# cfg.json of every host, with spread $1.
configure() {
	i=0
	while [ $i -lt "$N" ]; do
		w=$T/h/$i
		mkdir -p "$w"
		printf '{"server": "http://127.0.0.1:%s", "hostname": "fleet-%04d", "jitter": %d, "rollout_spread": %d, "health_wait": 0, "retry_failed": 0, "status_wait": 10}\n' \
		    "$PORT" $i "$JITTER" "$1" >"$w/cfg.json"
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

# Publish version $1 with spread $2, tick until every host runs it; print
# "seconds peak_downloads heartbeats_per_s failed busy".
round() {
	configure "$2"
	: >"$T/rc"
	: >"$T/times"
	serve "$1"
	t0=$(date +%s.%N)
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
	python3 - "$T/times" "$t0" "$1" "$T/rc" "${all:-never}" "$(date +%s.%N)" <<'EOF'
import sys
times, t0, version, rcs, took, t1 = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])
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
print(took, peak, "%.1f" % (len(hb) / span), sum(1 for c in codes if c not in (0, 75)),
      sum(1 for c in codes if c == 75), len(dl))
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
for v in 1.0.0 1.1.0 1.2.0; do publish $v; done

# Every host at 1.0.0 first, without jitter or spread: the starting line.
configure 0
serve 1.0.0
seq 0 $((N - 1)) | xargs -P 8 -I{} "$OPS_UPDATER" -c "$T/h/{}/cfg.json" --no-jitter run >/dev/null 2>&1
[ "$(at_version 1.0.0)" = "$N" ] || die "not every host installed 1.0.0 ($(at_version 1.0.0) of $N)"

JITTER=$JITTER
a=$(round 1.1.0 0)
b=$(round 1.2.0 "$SPREAD")
set -- $a
a_took=$1 a_peak=$2 a_hb=$3 a_fail=$4 a_busy=$5 a_dl=$6
set -- $b
b_took=$1 b_peak=$2 b_hb=$3 b_fail=$4 b_busy=$5 b_dl=$6

echo "ops-updater fleet: $N hosts on loopback, $(nproc) cores; a pass every ${INTERVAL} s per host (jitter ${JITTER} s);"
echo "a ${SIZE_KB} KiB release served at ${RATE_KB} KiB/s per download"
printf '%-44s %14s %14s\n' figure "spread 0" "spread ${SPREAD} s"
printf '%-44s %14s %14s\n' "seconds until every host ran the release" "$a_took" "$b_took"
printf '%-44s %14s %14s\n' "tarball downloads (all hosts)" "$a_dl" "$b_dl"
printf '%-44s %14s %14s\n' "peak concurrent tarball downloads" "$a_peak" "$b_peak"
printf '%-44s %14s %14s\n' "heartbeats per second at the server (mean)" "$a_hb" "$b_hb"
printf '%-44s %14s %14s\n' "passes that failed (exit not 0 or 75)" "$a_fail" "$b_fail"
printf '%-44s %14s %14s\n' "passes that found the last one running (75)" "$a_busy" "$b_busy"
