#!/bin/sh
# Upgrading a tarball install of ops-updater, as ops-updater-fleet(7) says: the new
# binary is copied beside the old one and renamed over it. A pass running
# meanwhile (here: held in an agent's start) finishes with the old one;
# the next cron tick runs the new one. ops-updater never updates itself.
. "$(dirname "$0")/lib.sh"

# The tarball layout, and the command its crontab line runs.
cp "$OPS_UPDATER" "$W/ops-updater"
cp "$TOP/control" "$TOP/crontab.example" "$W/"
cron_cmd=$(grep -v '^[[:space:]]*#' "$W/crontab.example" | grep . | sed "s|/home/work/ops|$W|g" | cut -d' ' -f6-)
tick() { env -i HOME=/root PATH=/usr/bin:/bin /bin/sh -c "$cron_cmd"; }

# 1.0.1 and 1.0.2 wait in "control start" for their gate file.
mkgated falcon-agent 1.0.1 "$T/gate1"
mkgated falcon-agent 1.0.2 "$T/gate2"
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
start_server
config '"control_timeout": 120, "jitter": 0'

tick &
bg=$!
check 'a pass is in the start of 1.0.1' wait_file "$T/in-1.0.1"
old=$(cat "$W/ops-updater.pid")

# ops-updater-fleet(7)'s upgrade: a new file beside the old one, renamed over it.
cp "$OPS_UPDATER" "$T/ops-updater-new"
check_fails 'copying over the running binary is refused (text file busy)' cp "$T/ops-updater-new" "$W/ops-updater"
check 'install the new binary beside the old one' install -m 755 "$T/ops-updater-new" "$W/ops-updater.new"
check 'rename it over the old one' mv -f "$W/ops-updater.new" "$W/ops-updater"
is 'the running pass keeps the old binary' "$(readlink "/proc/$old/exe")" "$W/ops-updater (deleted)"
tick
is 'the next tick meanwhile: exit 75 (locked)' $? 75
touch "$T/gate1"
wait "$bg"
is 'the old pass finishes: exit 0' $? 0
is '1.0.1 is committed' "$(cat "$W/falcon-agent/.version")" 1.0.1

serve "{\"agents\": [$(want falcon-agent 1.0.2)]}"
tick &
bg=$!
check 'the next pass is in the start of 1.0.2' wait_file "$T/in-1.0.2"
new=$(cat "$W/ops-updater.pid")
is 'it runs the new binary' "$(readlink "/proc/$new/exe")" "$W/ops-updater"
is 'the very file installed' "$(stat -L -c %i "/proc/$new/exe")" "$(stat -c %i "$W/ops-updater")"
touch "$T/gate2"
wait "$bg"
is 'the new pass: exit 0' $? 0
check '1.0.2 runs' running "$W/falcon-agent/1.0.2"
check_fails 'no ops-updater.new is left' test -e "$W/ops-updater.new"
done_testing
