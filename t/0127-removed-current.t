#!/bin/sh
# The current version's directory removed by hand while it runs: the pass
# installs and starts it again, but what was started from the old copy may
# still run, and nothing can stop it (its control went with it). That is
# said: a warning in the log, a note in status, and check WARNING for a
# day (STATE_GONE_WARN), then OK again.
. "$(dirname "$0")/lib.sh"

A=$W/a
mkagent a 1.0.0
serve "{\"agents\": [$(want a 1.0.0)]}"
start_server
config
pass
is 'setup: 1.0.0 installed' "$rc $(cat "$A/.version")" '0 1.0.0'
old=$(cat "$A/1.0.0/agent.pid")
rm -rf "$A/1.0.0"
: >"$W/ops-updater.log"
pass
is 'reinstalled and started: exit 0' "$rc $(cat "$A/.version")" '0 1.0.0'
check 'the new copy runs' running "$A/1.0.0"
check 'and so does the old one: the premise' test -d "/proc/$old" -a "$old" != "$(cat "$A/1.0.0/agent.pid")"
grep_log 'the log warns' \
    'warning a: 1\.0\.0, which \.version names, has no usable directory \(removed by hand\?\): 1\.0\.0 is installed and started without stopping it; processes started from the old copy may still run$'
is 'the state keeps it' "$(st 'a["gone_version"], a["gone_at"] > 0, a["result"]')" "('1.0.0', True, 'ok')"
plugin
is 'check: WARNING' "$crc" 1
matches 'check says why' "$out" \
    "^OPS-UPDATER WARNING - reinstalled: a \\(1\\.0\\.0's directory was gone: its old processes may still run\\); last pass"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check 'status has a note' grep -Eq \
    '^ +note: 1\.0\.0 had no directory at [0-9T:-]+Z \(removed by hand\?\) and was installed and started over it: processes of its old copy may still run$' \
    "$T/status"
pass
plugin
is 'a pass later: still WARNING' "$crc" 1
kill "$old"

# A day later the warning has had its time.
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["agents"][0]["gone_at"] -= 86400
json.dump(s, open(sys.argv[1], "w"))
PY
pass
plugin
is 'a day later: check OK' "$crc $(st 'a.get("gone_version", "")')" '0 '
done_testing
