#!/bin/sh
# Names no agent may take: the updater's own (ops-updater: the updater is
# not an agent), every name starting with it (its pid, state and log
# files), and the entries of the work directory that are or hold files it
# writes there (the log, its .1, the metrics file). A server without a key
# could otherwise make root install an agent over them. Refused with the
# reason, before anything is fetched; the agents beside them go on.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
for n in ops-updater ops-updater.log.1 ops-updater.state.json upd.log upd.log.1 prom; do
	mkagent "$n" 1
done
start_server
mkdir -p "$W/prom"
config "\"log\": \"upd.log\", \"metrics_file\": \"$W/prom/node/ops.prom\""
mkdir -p "$W/prom/node"
entries=$(want falcon-agent 1.0.0)
for n in ops-updater ops-updater.log.1 ops-updater.state.json upd.log upd.log.1 prom; do
	entries="$entries, $(want "$n" 1)"
done
serve "{\"agents\": [$entries]}"

"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>"$T/plan.err"
is 'plan: exit 1' "$?" 1
check 'plan: the updater is not an agent' grep -q "refuse: name 'ops-updater' is reserved: it is the updater's own, and the updater is not an agent" "$T/plan"

pass
is 'pass: exit 1' "$rc" 1
L=$W/upd.log
grep_reason() {	# DESC ERE: a line of the log
	if grep -Eq -- "$2" "$L"; then report 0 "$1"; else report 1 "$1"; echo "# no line: $2" >&2; fi
}
grep_reason 'ops-updater: refused, the updater is not an agent' \
    "entry 2 skipped: name 'ops-updater' is reserved: it is the updater's own, and the updater is not an agent"
grep_reason 'ops-updater.log.1: refused' \
    "entry 3 skipped: name 'ops-updater.log.1' is reserved: names starting with 'ops-updater' are the updater's own"
grep_reason 'ops-updater.state.json: refused' "entry 4 skipped: name 'ops-updater.state.json' is reserved"
grep_reason 'the log: refused' "entry 5 skipped: name 'upd.log' is reserved: the updater writes its log there \\($W/upd.log\\)"
grep_reason "the log's .1: refused" "entry 6 skipped: name 'upd.log.1' is reserved: the updater rotates its log there \\($W/upd.log.1\\)"
grep_reason 'the metrics directory: refused' "entry 7 skipped: name 'prom' is reserved: the updater writes its metrics there \\($W/prom/node/ops.prom\\)"
is 'nothing of them fetched' "$(grep -cE '^GET /files/(ops-updater|upd|prom)' "$T/requests")" 0
check_fails 'no directory made in place of the log rotation' test -e "$W/upd.log.1"
check_fails 'nothing installed in the metrics directory' test -e "$W/prom/.version" -o -e "$W/prom/1"
check 'the log is still a file' test -f "$W/upd.log" -a ! -e "$W/ops-updater.log.1"
check 'the state is still a file' test -f "$W/ops-updater.state.json"
is 'the state says refused' "$(st '[x["result"] for x in s["agents"] if x["name"] == "upd.log.1"][0]')" refused
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check"
is 'check warns' $? 1
check 'check names the refused entries, the first with why' \
    grep -q "^OPS-UPDATER WARNING - refused: ops-updater (name 'ops-updater' is reserved: it is the updater's own.*), ops-updater.log.1, " "$T/check"
check 'the metrics are written' test -s "$W/prom/node/ops.prom"
check 'the agent beside them installed' running "$W/falcon-agent/1.0.0"

serve "{\"agents\": [$(want ops-updater 1 stop)]}"
pass
is 'a stop for ops-updater: exit 1' "$rc" 1
grep_reason 'a stop for ops-updater: refused too' "entry 1 skipped: name 'ops-updater' is reserved"

# The metrics directory may be another user's (node_exporter's): it is no
# agent, also when that user puts a .version in it. Not refused (no
# error, every pass), not reported to the server as one.
chmod 755 "$T"
chown -R nobody "$W/prom"
setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups sh -c "echo 1 >'$W/prom/.version'"
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
: >"$W/upd.log"
n0=$(wc -l <"$T/requests")
pass
is 'the metrics directory is another user'"'"'s, with a .version: exit 0' "$rc" 0
check_fails 'no error for it' grep -q ' error prom: ' "$W/upd.log"
is 'not reported to the server' "$(tail -n +$((n0 + 1)) "$T/requests" | grep -c '^REPORT .*\["prom"')$(reported prom)" 0
check 'the metrics are written' test -s "$W/prom/node/ops.prom"
done_testing
