#!/bin/sh
# kill -9 at random moments of an upgrade (download, unpack, stop, start,
# the health gate, the .version write), CRASH_ROUNDS times (default 30).
# After every kill: no version directory is half there, .version names a
# complete, verified version; the next pass converges to the wanted
# version, with exactly one agent running and no leftovers. A kill that
# cuts the download leaves a partial that the next pass resumes (the fake
# server answers Range); a kill in the health gate leaves a trial that the
# next pass resumes (the gate again, then the commit); at least one of
# each must have been. Bounded by CRASH_SECONDS; `make crash` runs a
# longer round.
. "$(dirname "$0")/lib.sh"

rounds=${CRASH_ROUNDS:-30}
limit=${CRASH_SECONDS:-240}
PAYLOAD_KB=256
export PAYLOAD_KB
start_server
config '"keep_versions": 2, "status_wait": 5, "health_wait": 1, "retry_failed": 3600'
A=$W/falcon-agent

# Every version directory complete (MANIFEST holds), .version names one.
intact() {
	for d in "$A"/*/; do
		[ -d "$d" ] || continue
		(cd "$d" && md5sum -c --quiet MANIFEST) >/dev/null 2>&1 || { echo "incomplete: $d"; return 1; }
	done
	if [ -f "$A/.version" ]; then
		v=$(cat "$A/.version")
		[ -x "$A/$v/control" ] || { echo ".version names $v, which is not installed"; return 1; }
	fi
}
agents_running() {
	n=0
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$A"/*)
			grep -q '^Name:[[:space:]]*sleep' "$p/status" 2>/dev/null &&
			    grep -q '^State:[[:space:]]*[^Z[:space:]]' "$p/status" 2>/dev/null && n=$((n + 1)) ;;
		esac
	done
	echo $n
}

control_scripts() {
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$A"/*)
			grep -q '^Name:[[:space:]]*sleep' "$p/status" 2>/dev/null || echo "${p#/proc/}" ;;
		esac
	done
}

mkagent falcon-agent 0 slow
serve "{\"agents\": [$(want falcon-agent 0)]}"
t0=$(date +%s%N)
pass
span=$((($(date +%s%N) - t0) / 1000000))
is 'round 0: installed without a kill' "$rc" 0

start=$(date +%s)
bad=0 killed=0 cut=0 resumed=0 gate=0 trials=0 i=0
while [ $i -lt "$rounds" ] && [ $(($(date +%s) - start)) -lt "$limit" ]; do
	i=$((i + 1))
	mkagent falcon-agent $i slow
	# Downloads at ~2 MB/s, so kills also land while the bytes stream in.
	serve "{\"agents\": [$(want falcon-agent $i)], \"faults\": {\"rate\": 2000000}}"
	"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1 &
	pid=$!
	if [ $((i % 4)) = 0 ]; then
		# Every fourth kill aims at the download (its bytes stream in
		# for about 0.13 s): left to chance, a loaded machine may
		# stretch the rest of the pass until none lands there.
		j=0
		while ! grep -q "\[$pid\] info falcon-agent: \(downloading\|resuming\) " "$W/ops-updater.log" &&
		    [ $j -lt 250 ]; do
			sleep 0.02
			j=$((j + 1))
		done
		sleep "$(awk -v s="$i$$" 'BEGIN { srand(s); printf "%.3f", rand() * 0.1 }')"
	else
		sleep "$(awk -v s="$i$$" -v m="$span" 'BEGIN { srand(s); printf "%.3f", rand() * (m + 300) / 1000 }')"
	fi
	# A pass that already exited but is not reaped yet (a zombie) still
	# takes a kill: it counts only if it was still running.
	if grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$pid/status" 2>/dev/null; then
		kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	else
		kill -9 $pid 2>/dev/null
	fi
	wait $pid 2>/dev/null
	[ -s "$A/.ops-updater-partial.falcon-agent-$i.tar.gz" ] &&
	    [ -f "$A/.ops-updater-partial.falcon-agent-$i.tar.gz.meta" ] && cut=$((cut + 1))
	# Killed in the health gate: it began and never ended.
	grep -q "\[$pid\] info falcon-agent: health: $A/$i must stay started" "$W/ops-updater.log" &&
	    ! grep -q "\[$pid\] info falcon-agent: now at $i " "$W/ops-updater.log" && gate=$((gate + 1))
	before=$(grep -c ' resuming ' "$W/ops-updater.log")
	resumes=$(grep -c 'its health gate again, from the start$' "$W/ops-updater.log")
	# A control start or stop of the killed pass runs on to its end, as it
	# should; cron's next pass comes minutes later, so wait for it here.
	j=0
	while [ -n "$(control_scripts)" ] && [ $j -lt 100 ]; do sleep 0.05; j=$((j + 1)); done
	why=$(intact) || { bad=$((bad + 1)); echo "# round $i, after the kill: $why" >&2; }
	pass
	[ "$(grep -c ' resuming ' "$W/ops-updater.log")" -gt "$before" ] && resumed=$((resumed + 1))
	[ "$(grep -c 'its health gate again, from the start$' "$W/ops-updater.log")" -gt "$resumes" ] &&
	    trials=$((trials + 1))
	why=$(intact) || { bad=$((bad + 1)); echo "# round $i, after the next pass: $why" >&2; }
	if [ "$rc" != 0 ] || [ "$(cat "$A/.version")" != $i ] || ! running "$A/$i" ||
	    [ "$(agents_running)" != 1 ] || [ -n "$(leftovers falcon-agent)" ]; then
		bad=$((bad + 1))
		echo "# round $i: next pass exit $rc, .version $(cat "$A/.version"), $(agents_running) agents, leftovers: $(leftovers falcon-agent)" >&2
		tail -5 "$W/ops-updater.log" | sed 's/^/# /' >&2
	fi
done
echo "# $i rounds, $killed kills landed while the pass ran (typical pass: $span ms)"
echo "# $cut kills cut the download, $resumed downloads resumed by the next pass"
echo "# $gate kills landed in the health gate, $trials trials resumed by the next pass"
is "all $rounds rounds ran within $limit s" "$i" "$rounds"
is 'every round: nothing half-done visible, and the next pass converged' "$bad" 0
check 'most kills landed mid-pass' test "$killed" -ge $((rounds / 2))
check "some kills cut the download ($cut)" test "$cut" -ge 1
check "cut downloads were resumed ($resumed)" test "$resumed" -ge 1
check "some kills landed in the health gate ($gate)" test "$gate" -ge 1
check "trials cut short were resumed ($trials)" test "$trials" -ge 1
done_testing
