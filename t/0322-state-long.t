#!/bin/sh
# One long string from the server must not make the state file unreadable:
# a 5000-byte version or cmd is stored cut and escaped, and a state file
# with a string too long is read with the string cut, not thrown away
# (which dropped every hold and failure count, and made check CRITICAL).
. "$(dirname "$0")/lib.sh"

LONG=$(python3 -c 'print("v" * 5000)')
# Non-ASCII and a control byte, as JSON escapes.
ODD='x\u00ff\u0001y\u4e2d'

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1 nostart
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config
pass
is 'setup: 1.0.0 installed' "$rc" 0
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
config '"status_wait": 1, "retry_failed": 600'
pass
is 'setup: 1.0.1 failed and is held' "$(st 'a["held_version"]')" 1.0.1
tarball=$(st 'a["held_tarball"]')
is 'the held tarball prefix is the URL as the server sent it' "$tarball" "http://127.0.0.1:$PORT/files"

# Beside it, hostile entries: a long version for an unmanaged name, an
# unknown long cmd and odd bytes for another.
serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want zz "$LONG" stop), $(want yy 1 "$ODD$LONG")]}"
pass
pass
is 'after two passes: the hold is still there' "$(st 'a["held_version"], a["result"], a["held_fails"]')" "('1.0.1', 'held', 1)"
is 'the held tarball unchanged' "$(st 'a["held_tarball"]')" "$tarball"
is 'the state file is plain ASCII' "$(python3 -c 'import sys
print(all(b in b"\t\n" or 32 <= b < 127 for b in open(sys.argv[1], "rb").read()))' "$W/ops-updater.state.json")" True
check 'the odd bytes are there, escaped' grep -q 'x\\\\xc3\\\\xbf\\\\x01y' "$W/ops-updater.state.json"
is 'what the server asked is cut to 320 bytes in the state file' \
    "$(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(max(len(v) for a in s["agents"] for v in a.values() if isinstance(v, str)))' "$W/ops-updater.state.json")" 320
check_fails 'no warning that the state cannot be read' grep -q 'state' "$W/ops-updater.log"
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
crc=$?
is 'check: WARNING (held), not CRITICAL' "$crc" 1
check 'check names the hold' grep -q '^OPS-UPDATER WARNING - .*held: falcon-agent' "$T/check"

# A state file written by an older version, with a string too long: the
# string is cut, the rest (the hold) kept.
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for a in s["agents"]:
    if a["name"] == "falcon-agent":
        a["error"] = "e" * 10000
json.dump(s, open(sys.argv[1], "w"))
PY
: >"$W/ops-updater.log"
pass
is 'an old file with a long string: the hold is still there' "$(st 'a["held_version"], a["result"], a["held_fails"]')" "('1.0.1', 'held', 1)"
check_fails 'an old file with a long string: read without a warning' grep -q 'state' "$W/ops-updater.log"
# A wrong type loses that field only, and check says the file is damaged.
sed -i 's/"error":[[:space:]]*"[^"]*"/"error": 7/' "$W/ops-updater.state.json"
check 'the state file now has a number for a string' grep -q '"error": 7' "$W/ops-updater.state.json"
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
is 'a number for a string: check says WARNING, not CRITICAL' "$?" 1
check 'check says the state file is damaged' \
    grep -q '^OPS-UPDATER WARNING - held: falcon-agent; state file damaged: .*: a string field is not a string: 3 agents kept (3 with a field lost), 0 lost;' "$T/check"
: >"$W/ops-updater.log"
pass
is 'a number for a string: the hold is still there' "$(st 'a["held_version"], a["result"]')" "('1.0.1', 'held')"
grep_log 'a number for a string: the pass says what was lost' \
    'warning: state: .*: a string field is not a string: 3 agents kept \(3 with a field lost\), 0 lost; going on with what was kept$'
check 'and writes it whole again' python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$W/ops-updater.state.json"
done_testing
