#!/bin/sh
# The canary workflow of ops-updater-fleet(7), ROLLOUTS, against the fake
# ops-meta, which matches host name prefixes as ops-meta does: a release
# published to the canary prefix reaches the canaries at once and no other
# host; the alert of alerts.example.yml, evaluated by promtool on the
# hosts' own metrics files, fires when the canaries hold a bad release and
# is silent once they run a good one; published to the rest, it reaches
# them over their rollout_spread, and the bad release never did.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || { echo "# promtool missing: sh .ci/deps --test installs it (prometheus)" >&2; exit 1; }
CANARIES='bj-canary-1 bj-canary-2'
REST='bj-web-1 sh-web-1 sh-web-2'
mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.1.0 crash	# dies 2 s after its start
mkagent falcon-agent 1.1.1
start_server

# Each host a work directory with its own host name; the canaries take a
# release at once, the rest over 10 s.
for h in $CANARIES $REST; do
	W=$T/hosts/$h
	mkdir -p "$W"
	spread=10
	case $h in bj-canary-*) spread=0 ;; esac
	HOSTNAME_CFG=$h config "\"rollout_spread\": $spread, \"health_wait\": 4, \"retry_failed\": 3600, \"metrics_file\": \"$W/metrics.prom\""
done
# A pass on each host of $1 (a list); the exit codes, in order, in $rcs.
passes() {
	rcs=
	for h in $1; do
		W=$T/hosts/$h
		pass
		rcs="$rcs${rcs:+ }$rc"
	done
}
versions() {
	for h in $1; do
		printf '%s ' "$(cat "$T/hosts/$h/falcon-agent/.version" 2>/dev/null)"
	done
}
# ops-meta's configuration: the default version, and the canaries' if any.
publish_to() {
	others=
	[ -n "${2:-}" ] && others=", \"others\": [{\"prefix\": \"bj-canary\", \"version\": \"$2\"}]"
	serve "{\"agents\": [{\"default\": {\"name\": \"falcon-agent\", \"version\": \"$1\", \"tarball\": \"{base}/files\", \"md5\": \"\", \"cmd\": \"start\"}$others}]}"
}
# Does OpsUpdaterReleaseFailing of alerts.example.yml fire, on the metrics
# files of every host, exactly for "$1" ("VERSION SHARE%"; empty: for
# none)? promtool tests the rule on them, each host an instance.
alert_is() {
	python3 - "$T" "$TOP/alerts.example.yml" "$1" $CANARIES $REST >"$T/alert-test.yml" <<'PY'
import json, re, sys
t, rules, want, hosts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
series = []
for h in hosts:
    for line in open("%s/hosts/%s/metrics.prom" % (t, h)):
        m = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)\n", line)
        if m:
            labels = re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")
            labels += [("instance", h), ("job", "node")]
            sel = "%s{%s}" % (m.group(1), ",".join('%s="%s"' % kv for kv in labels))
            series.append({"series": sel, "values": "%sx5" % m.group(3)})
exp = []
if want:
    version, share = want.split()
    exp = [{"exp_labels": {"severity": "critical", "name": "falcon-agent", "version": version},
            "exp_annotations": {"summary": "falcon-agent %s is held or failing on %s of the hosts asked for it"
                                % (version, share)}}]
print(json.dumps({"rule_files": [rules], "evaluation_interval": "1m", "tests": [{
    "interval": "1m", "input_series": series,
    "alert_rule_test": [{"eval_time": "2m", "alertname": "OpsUpdaterReleaseFailing", "exp_alerts": exp}]}]}))
PY
	promtool test rules "$T/alert-test.yml" >"$T/alert.out" 2>&1
}

# Every host runs 1.0.0.
publish_to 1.0.0
passes "$CANARIES $REST"
is 'start: every pass exits 0' "$rcs" '0 0 0 0 0'
is 'start: every host runs 1.0.0' "$(versions "$CANARIES $REST")" '1.0.0 1.0.0 1.0.0 1.0.0 1.0.0 '
check 'start: the alert is silent' alert_is ''

# 1. A bad release to the canaries only: they try it at once, fail its
# health gate, roll back and hold it; no other host is asked for it.
publish_to 1.0.0 1.1.0
passes "$CANARIES $REST"
is 'bad canary release: the canaries fail, the rest pass' "$rcs" '1 1 0 0 0'
is 'bad canary release: every host runs 1.0.0' "$(versions "$CANARIES $REST")" '1.0.0 1.0.0 1.0.0 1.0.0 1.0.0 '
for h in $CANARIES; do
	W=$T/hosts/$h
	is "bad canary release: $h holds 1.1.0" "$(st 'a["held_version"]')" 1.1.0
done
is 'bad canary release: downloaded by the 2 canaries only' "$(grep -c '^GET /files/falcon-agent-1.1.0.tar.gz ' "$T/requests")" 2
for h in $REST; do
	W=$T/hosts/$h
	is "bad canary release: $h was asked for 1.0.0" "$(st 'a["version"]')" 1.0.0
	check_fails "bad canary release: $h's log does not name 1.1.0" grep -q 1.1.0 "$W/ops-updater.log"
done
# 2. The alert sees it: both hosts asked for 1.1.0 hold it.
check 'bad canary release: OpsUpdaterReleaseFailing fires for 1.1.0, on all its hosts' alert_is '1.1.0 100%'

# The fix, to the canaries: they take it at once; the hold of 1.1.0 they
# keep no longer counts.
publish_to 1.0.0 1.1.1
passes "$CANARIES $REST"
is 'fix to the canaries: every pass exits 0' "$rcs" '0 0 0 0 0'
is 'fix to the canaries: they run 1.1.1, the rest 1.0.0' "$(versions "$CANARIES $REST")" '1.1.1 1.1.1 1.0.0 1.0.0 1.0.0 '
check 'fix to the canaries: the alert is silent' alert_is ''

# 3. To the rest, with rollout_spread: each takes it at its slot, a second
# from 0 to 9 after its first pass that saw it (a hash of its name: that
# none of three waits has a chance of 1 in 1000); passes every second, as
# a fast cron would.
publish_to 1.1.1
i=0
while [ "$(versions "$REST")" != '1.1.1 1.1.1 1.1.1 ' ] && [ $i -lt 40 ]; do
	passes "$REST"
	is "to the rest, round $i: every pass exits 0" "$rcs" '0 0 0'
	sleep 1
	i=$((i + 1))
done
is 'to the rest: every host runs 1.1.1' "$(versions "$CANARIES $REST")" '1.1.1 1.1.1 1.1.1 1.1.1 1.1.1 '
check 'to the rest: spread, a host waited for its slot' \
    grep -q 'falcon-agent: 1.1.1 waits for its slot' "$T/hosts/bj-web-1/ops-updater.log" \
    "$T/hosts/sh-web-1/ops-updater.log" "$T/hosts/sh-web-2/ops-updater.log"
is 'the bad release was downloaded by the canaries only' "$(grep -c '^GET /files/falcon-agent-1.1.0.tar.gz ' "$T/requests")" 2
check 'and the alert is silent' alert_is ''
passes "$CANARIES"
is 'the canaries, after all that: every pass exits 0' "$rcs" '0 0'
done_testing
