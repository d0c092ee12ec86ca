#!/bin/sh
# kill -9 at the worst moments t/0130 does not reach, CRASH_ROUNDS times
# (default 3) per kind, each a new version:
#   resume    the pass killed, then the next one too (in its recovery:
#             the resumed trial, the rollback of one cut short)
#   children  the pass killed with its control scripts, twice in a row
#   reboot    the pass, its scripts and the agents' daemons killed (a
#             host that went down), twice in a row
#   rollback  a bad release (it dies in its health gate) killed in its
#             rollback
#   evidence  a held release republished (a new .md5): killed in its
#             download again, its trial or commit
#   deadline  passes cut by pass_timeout (1 to 3 s) at random points, the
#             second killed too, before, in or after its cut
# After each, one pass that runs to its end must converge: the wanted
# version (for a bad release: the last good one) running alone, .version
# naming it, every version directory complete, no leftovers, no trial
# left, no restart counted (but after a reboot, which kills agents too),
# nothing held but a bad release, held once. Bounded by
# CRASH_SECONDS; `make crash` runs a longer round.
. "$(dirname "$0")/lib.sh"

rounds=${CRASH_ROUNDS:-3}
limit=${CRASH_SECONDS:-300}
PAYLOAD_KB=128
export PAYLOAD_KB
start_server
base='"keep_versions": 2, "status_wait": 5, "health_wait": 1, "retry_failed": 3600'
config "$base"
A=$W/a

# The live processes whose working directory is in $A: daemons (sleep),
# scripts (anything else) or all.
procs() {
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$A"/*)
			grep -q '^State:[[:space:]]*[^Z[:space:]]' "$p/status" 2>/dev/null || continue
			if grep -q '^Name:[[:space:]]*sleep' "$p/status" 2>/dev/null; then
				[ "$1" = scripts ] || echo "${p#/proc/}"
			else
				[ "$1" = daemons ] || echo "${p#/proc/}"
			fi ;;
		esac
	done
}
versions_running() {
	for d in "$A"/*/; do running "$d" && basename "$d"; done | tr '\n' ' '
}
# Every version directory complete (MANIFEST holds), .version names one.
intact() {
	for d in "$A"/*/; do
		[ -d "$d" ] || continue
		(cd "$d" && md5sum -c --quiet MANIFEST) >/dev/null 2>&1 || { echo "incomplete: $d"; return 1; }
	done
	v=$(cat "$A/.version")
	[ -x "$A/$v/control" ] || { echo ".version names $v, which is not installed"; return 1; }
}
# A pass in the background, killed -9 after a random part of $1 ms (from
# when the log has a new line matching the ERE $3, when given); how much
# else dies with it: $2 = pass, children or reboot.
killed=0 in_resume=0 in_rollback=0
kill_pass() {
	seen=$(grep -Ec -- "${3:-^$}" "$W/ops-updater.log")
	"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >/dev/null 2>&1 &
	pid=$!
	j=0
	while [ -n "${3:-}" ] && [ "$(grep -Ec -- "$3" "$W/ops-updater.log")" -le "$seen" ] && [ $j -lt 200 ]; do
		sleep 0.02
		j=$((j + 1))
	done
	sleep "$(awk -v s="$n$$" -v m="$1" 'BEGIN { srand(s); printf "%.3f", rand() * m / 1000 }')"
	n=$((n + 1))
	grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$pid/status" 2>/dev/null && killed=$((killed + 1))
	kill -9 $pid 2>/dev/null
	case $2 in
	children) kill -9 $(procs scripts) 2>/dev/null ;;
	reboot) kill -9 $(procs all) 2>/dev/null ;;
	esac
	wait $pid 2>/dev/null
	# Where it landed, for the record.
	if ! grep -q "\[$pid\] info: pass done" "$W/ops-updater.log"; then
		grep -q "\[$pid\] warning a: the trial of .* was interrupted, and it runs" "$W/ops-updater.log" &&
		    in_resume=$((in_resume + 1))
		grep -Eq "\[$pid\] warning a: .*(rolling back|rollback from failed)" "$W/ops-updater.log" &&
		    in_rollback=$((in_rollback + 1))
	fi
	# A control script the killed pass ran goes on to its end; cron's
	# next pass comes minutes later.
	j=0
	while [ -n "$(procs scripts)" ] && [ $j -lt 100 ]; do sleep 0.05; j=$((j + 1)); done
}
# A release whose daemon dies 0.3 s after its start: it fails its gate.
mkbad() {
	mkagent a "$1" slow
	printf '#!/bin/sh\nexec sleep 0.3\n' >"$T/src/a-$1/a"
	(cd "$T/src/a-$1" && md5sum control a payload >MANIFEST)
	publish a "$1"
}
bad=0
# converged KIND WANT [HELD]: after one full pass, WANT runs alone and
# only HELD (a bad release) is held, once.
converged() {
	held="('', 0)"
	[ -n "${3:-}" ] && held="('$3', 1)"
	config "$base"
	pass
	why=$(intact) || { bad=$((bad + 1)); echo "# $1 $round: $why" >&2; }
	if [ "$(cat "$A/.version")" != "$2" ] || [ "$(versions_running)" != "$2 " ] ||
	    [ -n "$(leftovers a)" ] || [ "$(st 'a.get("trial_version")')" != None ] ||
	    { [ "$1" != reboot ] && [ "$(st 'a["restarts"]')" != 0 ]; } ||
	    [ "$(st 'a["held_version"], a["held_fails"]')" != "$held" ] ||
	    { [ -z "${3:-}" ] && [ "$rc" != 0 ]; }; then
		bad=$((bad + 1))
		echo "# $1 $round: exit $rc, .version $(cat "$A/.version"), running: $(versions_running)," \
		    "restarts, trial: $(st 'a["restarts"], a.get("trial_version")')," \
		    "held: $(st 'a["held_version"], a["held_fails"]'), leftovers: $(leftovers a)" >&2
		grep -v ' info' "$W/ops-updater.log" | tail -6 | sed 's/^/# /' >&2
	fi
}

mkagent a 0 slow
serve "{\"agents\": [$(want a 0)]}"
t0=$(date +%s%N)
pass
span=$((($(date +%s%N) - t0) / 1000000 + 300))
is 'setup: 0 installed' "$rc" 0
good=0 v=0 n=0 round=0
start=$(date +%s)
while [ $round -lt "$rounds" ] && [ $(($(date +%s) - start)) -lt "$limit" ]; do
	round=$((round + 1))
	for kind in resume children reboot; do
		v=$((v + 1))
		mkagent a $v slow
		serve "{\"agents\": [$(want a $v)], \"faults\": {\"rate\": 2000000}}"
		k=pass
		[ $kind = resume ] || k=$kind
		# A real reboot changes the kernel's boot id, and the pass then
		# counts no agent found down as a death on probation (t/0306);
		# this one cannot, so probation is off while it "reboots".
		[ $kind = reboot ] && config "$base, \"probation_deaths\": 0"
		kill_pass $span $k
		kill_pass $span $k
		converged $kind $v
		good=$v
	done

	v=$((v + 1))
	mkbad $v
	serve "{\"agents\": [$(want a $v)]}"
	kill_pass 500 pass "warning a: $v failed the health gate; rolling back"
	converged rollback $good $v

	v=$((v + 1))
	mkagent a $v nostart
	serve "{\"agents\": [$(want a $v)]}"
	config "$base, \"status_wait\": 1"
	pass
	mkagent a $v slow	# fixed, republished: a new .md5
	serve "{\"agents\": [$(want a $v)], \"faults\": {\"rate\": 2000000}}"
	kill_pass $span pass
	converged evidence $v
	good=$v

	v=$((v + 1))
	mkagent a $v slow
	serve "{\"agents\": [$(want a $v)], \"faults\": {\"rate\": 400000}}"
	pt=$(awk -v s="$v$$" 'BEGIN { srand(s); print 1 + int(rand() * 3) }')
	config "$base, \"pass_timeout\": $pt"
	pass
	kill_pass $((pt * 1000 + 300)) pass	# killed before or in its own cut
	converged deadline $v
	good=$v
done
echo "# $round rounds of 6 kinds, $killed of $n kills landed while the pass ran,"
echo "# $in_resume in a resumed trial, $in_rollback in a rollback"
is "all $rounds rounds ran within $limit s" "$round" "$rounds"
is 'every kind, every round: the next full pass converged' "$bad" 0
check 'a third of the kills or more landed mid-pass' test "$killed" -ge $((n / 3))
done_testing
