#!/bin/sh
# A log that cannot be written is not silent: on a full file system the
# pass goes on, and the lines it could not write are counted in the
# state, shown by status and check (WARNING) and in the metrics.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "Bail out! tmpfs mounts need root"; exit 1; }
S=$T/full
mkdir -p "$S"
trap 'umount -l "$S" 2>/dev/null; cleanup' EXIT
mount -t tmpfs -o size=64k,mode=755 ops-updater-test "$S" || { echo "Bail out! cannot mount a tmpfs"; exit 1; }

mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config "\"jitter\": 0, \"log\": \"$S/ops-updater.log\", \"metrics_file\": \"$W/ops-updater.prom\""
: >"$S/ops-updater.log"
dd if=/dev/zero of="$S/filler" bs=4k 2>/dev/null	# until the file system is full
check 'setup: the log file system is full' sh -c '! echo x >>"$1/ops-updater.log"' - "$S"

pass
is 'a pass with a log on a full file system goes on: exit 0' "$rc" 0
check 'and installs the agent' running "$W/falcon-agent/1.0.0"
lost=$(st 's["log_lines_lost"]')
check "the state counts the lines lost ($lost)" test "${lost:-0}" -gt 0 2>/dev/null
is 'and why' "$(st 's["log_error"]')" 'No space left on device'
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status says so' grep -qx "log: $lost lines of the last pass could not be written (No space left on device)" "$T/status"
plugin
is 'check: WARNING' "$crc" 1
check 'naming the lines lost' sh -c 'printf "%s\n" "$1" | grep -q "^OPS-UPDATER WARNING - log: $2 lines lost (No space left on device); last pass [0-9]* s ago |"' - "$out" "$lost"
check 'the metrics have it' grep -qx "ops_updater_log_lines_lost $lost" "$W/ops-updater.prom"

# Room again: the next pass writes its log, and the count is back to 0.
rm -f "$S/filler"
pass
is 'room again: exit 0' "$rc" 0
is 'no line lost' "$(st 's["log_lines_lost"]')" 0
plugin
is 'check: OK again' "$crc" 0
check 'the metrics say 0' grep -qx 'ops_updater_log_lines_lost 0' "$W/ops-updater.prom"
done_testing
