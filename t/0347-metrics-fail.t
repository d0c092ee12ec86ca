#!/bin/sh
# A metrics file the pass could not write (its directory refused by the
# ownership rules, a full disk, any write error) is a WARNING in check,
# with the reason, and said by status: the pass itself may exit 0, and
# node_exporter would go on serving the old file. Also: Debian's
# node-exporter layout, whose /var/lib/prometheus is prometheus's.
. "$(dirname "$0")/lib.sh"


mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server

# Debian 12's prometheus-node-exporter: the textfile directory
# /var/lib/prometheus/node-exporter is root's (0755), but its postinst
# makes /var/lib/prometheus the prometheus user's (here uid 65534). The
# file is reached through descriptors, no symlink followed: written.
P=$T/var/lib/prometheus
mkdir -p "$P/node-exporter" && chmod 755 "$T/var" "$T/var/lib" "$P" "$P/node-exporter" && chown 65534 "$P"
M=$P/node-exporter/ops-updater.prom
config "\"metrics_file\": \"$M\""
pass
is 'Debian layout: exit 0' "$rc" 0
check 'the metrics are written' grep -q '^ops_updater_last_pass_exit_code 0$' "$M"
is 'by root, 0644' "$(stat -c '%u %a' "$M")" '0 644'
is 'no metrics error in the state' "$(st 's["metrics_error"]')" ''
plugin
is 'check OK' "$crc" 0
# The textfile directory itself may be the collector user's.
chown 65534 "$P/node-exporter"
rm -f "$M"
pass
check 'a textfile directory of another user: written' test -s "$M"
plugin
is 'and check OK' "$crc" 0

# That user makes the textfile directory a symlink: refused, and said.
mkdir "$T/elsewhere"
mv "$P/node-exporter" "$P/old" && ln -s "$T/elsewhere" "$P/node-exporter"
pass
is 'metrics refused: the pass itself exits 0' "$rc" 0
check_fails 'nothing written through the link' test -e "$T/elsewhere/ops-updater.prom"
why="metrics not written to $M: $P/node-exporter is a symlink: refused (no directory on the way to metrics_file may be one)"
is 'the state has why' "$(st 's["metrics_error"]')" "$why"
plugin
is 'metrics refused: check WARNING' "$crc" 1
check 'metrics refused: check says why' sh -c 'printf "%s\n" "$1" | grep -qF "OPS-UPDATER WARNING - $2; last pass "' - "$out" "$why"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status"
check 'status says it too' grep -qxF "metrics: $why" "$T/status"
"$OPS_UPDATER" -c "$W/cfg.json" --json status >"$T/json"
check 'status --json too' python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["last_pass"]["metrics_error"].startswith("metrics not written to")' "$T/json"
rm "$P/node-exporter" && mv "$P/old" "$P/node-exporter"

# '..' on the way: refused, as it could climb out of a directory swapped
# in meanwhile.
mkdir -p "$T/up/a" "$T/up/b"
config "\"metrics_file\": \"$T/up/a/../b/ops.prom\""
pass
is "'..' in the path: exit 0" "$rc" 0
check_fails 'nothing written' test -e "$T/up/b/ops.prom"
is 'the state says why' "$(st 's["metrics_error"]')" \
    "metrics not written to $T/up/a/../b/ops.prom: refused: '..' in its directory"

# Any write error: here a directory where the file goes (rename fails).
mkdir -p "$T/node/ops.prom/x"
config "\"metrics_file\": \"$T/node/ops.prom\""
pass
is 'cannot rename: exit 0' "$rc" 0
matches 'cannot rename: the state has errno' "$(st 's["metrics_error"]')" \
    "^metrics not written to $T/node/ops.prom: Is a directory\$"
plugin
is 'cannot rename: check WARNING' "$crc" 1

# A full disk.
if mkdir "$T/full" && mount -t tmpfs -o size=64k ops-updater-test "$T/full" 2>/dev/null; then
	mkdir "$T/full/node"
	dd if=/dev/zero of="$T/full/fill" bs=4k 2>/dev/null
	config "\"metrics_file\": \"$T/full/node/ops.prom\""
	pass
	is 'full disk: exit 0' "$rc" 0
	matches 'full disk: the state says so' "$(st 's["metrics_error"]')" \
	    "^metrics not written to $T/full/node/ops.prom: No space left on device\$"
	plugin
	matches 'full disk: check WARNING with why' "$crc $out" \
	    "^1 OPS-UPDATER WARNING - metrics not written to $T/full/node/ops.prom: No space left on device; last pass"
	umount "$T/full"
else
	for n in 1 2 3; do ntest=$((ntest + 1)); echo "ok $ntest # SKIP cannot mount a tmpfs here"; done
fi
done_testing
