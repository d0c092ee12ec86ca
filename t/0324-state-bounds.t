#!/bin/sh
# The state file is bounded and always readable, and says nothing it should
# not: a hostile answer cannot blow it up past what the next read takes; an
# agent the server stopped listing that has nothing on disk leaves it (and
# status and check); raw bytes from the server come out escaped, so the
# file and status --json stay valid UTF-8 JSON; a damaged or oversized file
# gives up what it still holds, holds first, instead of being thrown away.
. "$(dirname "$0")/lib.sh"

A=$W/falcon-agent
json_ok() {	# FILE: valid UTF-8 JSON?
	python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1"
}
nagents() { st 'len(s["agents"])'; }
# N entries named PREFIX0..PREFIX<N-1>, cmd CMD, after falcon-agent's.
many() {
	python3 - "$@" <<'PY'
import json, sys
n, prefix, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
print(",".join(json.dumps({"default": {"name": "%s%d" % (prefix, i), "version": "1",
      "tarball": "{base}/files", "md5": "", "cmd": cmd}}) for i in range(n)))
PY
}

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1 nostart
start_server
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
config
pass
is 'setup: 1.0.0 installed' "$rc" 0
config '"status_wait": 1, "retry_failed": 3600'
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'setup: 1.0.1 failed and is held' "$(st 'a["held_version"]')" 1.0.1

# 1. One answer: 1000 entries, each with a 450-byte cmd of raw bytes (the
# answer is under 1 MiB; escaped, each cmd would be 1 KiB).
python3 - "$T/meta.json" "$(want falcon-agent 1.0.1)" <<'PY'
import json, sys
junk = "\udcff\udcfe\x1b[2J" * 64
agents = [json.loads(sys.argv[2].replace("{base}", "BASE"))] + [
    {"default": {"name": "junk%d" % i, "version": "1", "tarball": "{base}/files", "md5": "", "cmd": junk}}
    for i in range(999)]
open(sys.argv[1] + ".tmp", "w").write(json.dumps({"agents": agents}).replace("BASE", "{base}"))
PY
mv "$T/meta.json.tmp" "$T/meta.json"
: >"$W/ops-updater.log"
pass
size=$(stat -c %s "$W/ops-updater.state.json")
check "1000 long raw entries: the state file within 2 MiB ($size bytes)" test "$size" -le 2097152
check 'it is valid UTF-8 JSON' json_ok "$W/ops-updater.state.json"
is 'every entry kept' "$(nagents)" 1000
pass
check_fails 'the next pass reads it without a warning' grep -q 'warning: state' "$W/ops-updater.log"
is 'the hold is still there' "$(st 'a["held_version"], a["result"]')" "('1.0.1', 'held')"
is 'falcon-agent 1.0.1 was not tried again' "$(grep -c 'start .*/falcon-agent/1.0.1;' "$W/ops-updater.log")" 0
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
is 'check: WARNING (held), not CRITICAL' "$?" 1

# 2. Answers of 1000 new names each: only what the server asks for now is
# carried, not every name it ever sent.
for round in a b c; do
	serve "{\"agents\": [$(want falcon-agent 1.0.1), $(many 999 "$round" stop)]}"
	pass
done
is 'three answers of new names: the state holds the last one only' "$(nagents)" 1000
is 'no name of the first answer left' "$(st 'sum(x["name"].startswith("a") for x in s["agents"])')" 0
is 'the hold is still there' "$(st 'a["held_version"]')" 1.0.1

# 3. An agent the server stops listing, with nothing on disk, leaves the
# state, status and check after the next pass it answers.
serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want ghost 1)]}"
pass
is 'ghost: its release is not there: failed, held' "$(st '[(x["result"], x["held_version"]) for x in s["agents"] if x["name"] == "ghost"]')" "[('held', '1')]"
check 'ghost: nothing on disk' test ! -e "$W/ghost"
stop_server
pass
is 'no answer: ghost is kept' "$(st '[x["name"] for x in s["agents"] if x["name"] == "ghost"]')" "['ghost']"
start_server
config '"status_wait": 1'
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
pass
is 'the server lists falcon-agent only: a good pass' "$rc" 0
is 'ghost has left the state' "$(st '[x["name"] for x in s["agents"]]')" "['falcon-agent']"
"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>&1
check_fails 'and status' grep -q ghost "$T/status"
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
is 'and check: OK' "$?" 0

# 4. Raw bytes from the server, and from a control script: escaped as in the
# log; the state and status --json are valid UTF-8 JSON.
config '"status_wait": 1, "retry_failed": 3600'
ODD='1.0\udcff\udcfe\u001b[2J'
serve "{\"agents\": [$(want falcon-agent "$ODD"), $(want odd "$ODD" stop)]}"
: >"$W/ops-updater.log"
pass
is 'raw bytes: exit 1 (an invalid version)' "$rc" 1
check 'the state is valid UTF-8 JSON' json_ok "$W/ops-updater.state.json"
is 'the refusal in the state, escaped as in the log' "$(st 'a["error"]')" \
    "version '1.0\\xff\\xfe\\x1b[2J' is not a valid version ([A-Za-z0-9._-], no leading '.')"
grep_log 'and in the log the same' "skipped: version '1.0\\\\xff\\\\xfe\\\\x1b\\[2J' is not a valid version"
is 'a version that is not checked (cmd stop) escaped too' \
    "$(st '[x["version"] for x in s["agents"] if x["name"] == "odd"]')" "['1.0\\\\xff\\\\xfe\\\\x1b[2J']"
sed -i 's/^status) .*/status) printf "started\\377\\033[2J\\n" ;;/' "$A/1.0.0/control"
"$OPS_UPDATER" -c "$W/cfg.json" --json status >"$T/json" 2>/dev/null
check 'status --json: valid UTF-8 JSON' json_ok "$T/json"
is 'status --json: a script'"'"'s raw status escaped' \
    "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["agents"][0]["status"])' "$T/json")" 'started\xff\x1b[2J'
is 'status --json: the error as the state has it' \
    "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["last_pass"]["agents"][0]["error"])' "$T/json")" \
    "version '1.0\\xff\\xfe\\x1b[2J' is not a valid version ([A-Za-z0-9._-], no leading '.')"
sed -i 's/^status) .*/status) running \&\& echo started || echo stoped ;;/' "$A/1.0.0/control"

# 5. A state file cut short (a full disk under an older version): what is
# whole before the cut is kept, the hold with it.
serve "{\"agents\": [$(want falcon-agent 1.0.1), $(many 50 k stop)]}"
pass
is 'setup: the hold is there again' "$(st 'a["held_version"]')" 1.0.1
head -c $(($(stat -c %s "$W/ops-updater.state.json") / 2)) "$W/ops-updater.state.json" >"$T/cut"
cat "$T/cut" >"$W/ops-updater.state.json"
"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1
is 'cut in half: check WARNING, not CRITICAL' "$?" 1
check 'check says it is damaged' grep -q 'state file damaged: .*: not a whole JSON object: [0-9]* agents kept (0 with a field lost), at least 1 lost' "$T/check"
: >"$W/ops-updater.log"
pass
grep_log 'the pass goes on with what was kept' 'warning: state: .*: not a whole JSON object: [0-9]+ agents kept .*; going on with what was kept$'
is 'the hold was salvaged: 1.0.1 not tried' "$(st 'a["held_version"], a["result"]') $(grep -c 'start .*/falcon-agent/1.0.1;' "$W/ops-updater.log")" "('1.0.1', 'held') 0"
check 'the file is whole again' json_ok "$W/ops-updater.state.json"

# 6. Files an older version could write: more entries than a read takes,
# and more bytes. The hold comes first in both.
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
held = [a for a in s["agents"] if a["name"] == "falcon-agent"]
s["agents"] = held + [{"name": "old%05d" % i, "result": "failed", "fails": 1} for i in range(12000)]
json.dump(s, open(sys.argv[1], "w"))
PY
stop_server	# no answer: every entry is carried, as far as the bounds allow
: >"$W/ops-updater.log"
pass
grep_log '12001 entries: read 10000, the rest said lost' \
    'warning: state: .*: more than 10000 agents: 10000 agents kept \(0 with a field lost\), 2001 lost; going on'
grep_log 'written: 2000 at most, said so' 'warning: state: 8000 of 10000 agents left out of .* to keep it within 2000 entries and 2 MiB'
is 'written: 2000 entries, the hold first' "$(nagents) $(st 'a["name"], a["held_version"]')" "2000 ('falcon-agent', '1.0.1')"
python3 - "$W/ops-updater.state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["agents"] += [{"name": "pad%05d" % i, "result": "nothing", "done": "x" * 1000} for i in range(9000)]
json.dump(s, open(sys.argv[1], "w"), indent=1)
PY
check 'a file over 8 MiB' test "$(stat -c %s "$W/ops-updater.state.json")" -gt 8388608
: >"$W/ops-updater.log"
pass
grep_log 'over 8 MiB: its first 8 MiB salvaged' 'warning: state: .*: not a whole JSON object: [0-9]+ agents kept .*; going on with what was kept$'
is 'the hold kept' "$(st 'a["name"], a["held_version"]')" "('falcon-agent', '1.0.1')"
check 'written within 2 MiB' test "$(stat -c %s "$W/ops-updater.state.json")" -le 2097152
done_testing
