#!/bin/sh
# ops-updater check: a monitoring plugin (Nagios convention): one line with
# perfdata; 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Local files only.
. "$(dirname "$0")/lib.sh"

chk() {	# [ARGS]: the line in $out, the exit code in $crc
	"$OPS_UPDATER" -c "$W/cfg.json" "$@" check >"$T/check" 2>"$T/check.err"
	crc=$?
	out=$(cat "$T/check")
	sanitizer_clean "$T/check.err" "check $*"
	is "check $*: exactly one line on stdout, nothing on stderr" "$(wc -l <"$T/check") $(wc -c <"$T/check.err")" '1 0'
}

mkagent falcon-agent 1.0.0
mkagent dinp-agent 2.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0), $(want dinp-agent 2.0.0)]}"
start_server
config

chk
is 'no state: CRITICAL' "$crc" 2
case $out in "OPS-UPDATER CRITICAL - no pass recorded: $W/ops-updater.state.json: No such file or directory | "*) r=0 ;; *) r=1 ;; esac
is 'no state: says so' "$r" 0
is 'no state: the age is U in the perfdata (no value, as the plugin guidelines say)' "${out#* | }" 'age=U;;900'

pass
chk
is 'good pass: OK' "$crc" 0
check 'good pass: the line' sh -c 'printf "%s\n" "$1" | grep -Eq "^OPS-UPDATER OK - 2 agents as asked, last pass [0-9]+ s ago \| age=[0-9]+s;;900;0 failed=0;;;0 held=0;;;0 agents=2;;;0 duration=[0-9.]+s;;;0 exit=0 heartbeat_fails=0;0;2;0 heartbeat_parked=0;0;;0$"' - "$out"

# WARNING: an agent failed (a release that is not there).
serve "{\"agents\": [$(want falcon-agent 1.0.9), $(want dinp-agent 2.0.0)]}"
pass
chk
is 'failed agent: WARNING' "$crc" 1
check 'failed agent: named' sh -c 'printf "%s\n" "$1" | grep -Eq "^OPS-UPDATER WARNING - failed: falcon-agent \(GET http://127.0.0.1:[0-9]+/files/falcon-agent-1.0.9.tar.gz.md5: HTTP 404\); last pass [0-9]+ s ago \| .* failed=1;;;0 held=0;;;0 .* exit=1 heartbeat_fails=0;0;2;0 heartbeat_parked=0;0;;0$"' - "$out"

# WARNING: an agent held.
config '"retry_failed": 600'
pass
pass
is 'setup: held' "$(st 'a["result"]')" held
chk
is 'held agent: WARNING' "$crc" 1
check 'held agent: named' sh -c 'printf "%s\n" "$1" | grep -Eq "^OPS-UPDATER WARNING - held: falcon-agent \(GET http://127.0.0.1:[0-9]+/files/falcon-agent-1.0.9.tar.gz.md5: HTTP 404\); last pass .* failed=0;;;0 held=1;;;0 "' - "$out"

# An outside string with a '|' (here what a failed start printed): in
# the plugin's line '|' begins the performance data, so it would cut the
# text and forge values. Shown as \x7c; the one '|' is ours.
mkagent dinp-agent 2.0.1
sed -i 's/^start) /start) echo "boom | failed=0;;;0 held=0;;;0 exit=0"; exit 1; /' "$T/src/dinp-agent-2.0.1/control"
publish dinp-agent 2.0.1
serve "{\"agents\": [$(want dinp-agent 2.0.1), $(want falcon-agent 1.0.9)]}"
pass
chk
is 'a failed start that printed a |: WARNING' "$crc" 1
is 'one | in the line, before the real perfdata' "$(printf '%s\n' "$out" | tr -cd '|' | wc -c) ${out#*|}" \
    "1 ${out#*; last pass * s ago |}"
check 'what it printed is there, its | escaped' sh -c 'printf "%s\n" "$1" | grep -qF "(last output: '"'boom \\x7c failed=0;;;0 held=0;;;0 exit=0'"')"' - "$out"
# The same for a message of the server's, in the heartbeat's failure.
serve "{\"agents\": [], \"faults\": {\"heartbeat\": {\"status\": 500, \"body\": \"down | failed=0\"}}}"
pass
chk
is 'a failed heartbeat whose answer has a |: one | in the line' "$(printf '%s\n' "$out" | tr -cd '|' | wc -c)" 1
serve "{\"agents\": [$(want falcon-agent 1.0.9), $(want dinp-agent 2.0.0)]}"
pass	# the heartbeat works again

# CRITICAL: no pass finished within --max-age (the server down does not
# matter: check uses no network).
stop_server
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys, time
s = json.load(open(sys.argv[1]))
s["started"] = int(time.time()) - 2000
s["duration_ms"] = 1500
s["exit_code"] = 0
for a in s["agents"]:
    a["result"] = "nothing"
json.dump(s, open(sys.argv[1], "w"))
PY
log_before=$(cksum <"$W/ops-updater.log")
rm -f "$W/ops-updater.pid"
chk
is 'stale: CRITICAL' "$crc" 2
check 'stale: how long ago' sh -c 'printf "%s\n" "$1" | grep -Eq "^OPS-UPDATER CRITICAL - no pass finished in 900 s: the last one (199[0-9]|20[0-5][0-9]) s ago \| age=(199[0-9]|20[0-5][0-9])s;;900;0 "' - "$out"
chk --max-age 3600
is 'stale but within --max-age 3600: OK' "$crc" 0
is 'check writes no log and takes no lock' "$(cksum <"$W/ops-updater.log") $(ls "$W" | grep -c ops-updater.pid)" "$log_before 0"

# UNKNOWN: bad arguments. A config no pass can read: CRITICAL.
for args in '--max-age abc' '--max-age 0' '--max-age' '--bogus' '--json' '--retry'; do
	# shellcheck disable=SC2086
	chk $args
	is "check $args: UNKNOWN" "$crc" 3
	case $out in "OPS-UPDATER UNKNOWN - "*) r=0 ;; *) r=1 ;; esac
	is "check $args: says UNKNOWN" "$r" 0
done
"$OPS_UPDATER" -c "$T/missing.json" check >"$T/check" 2>&1
is 'missing config: CRITICAL' "$?" 2
is 'missing config: one line' "$(cat "$T/check")" "OPS-UPDATER CRITICAL - $T/missing.json: cannot read: No such file or directory"
done_testing
