#!/bin/sh
# ops-updater plan: what a pass would do, and nothing done; status --json;
# the log rotated at log_max_mb.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
mkagent dinp-agent 2.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0), $(want dinp-agent 2.0.0)]}"
start_server
config
pass
is 'setup: both installed' "$rc" 0
falcon=$(cat "$W/falcon-agent/1.0.0/agent.pid")
dinp=$(cat "$W/dinp-agent/2.0.0/agent.pid")

# Everything on disk but the pid file, with content and mtimes.
snapshot() {
	find "$W" -path "$W/ops-updater.pid" -prune -o -printf '%p %s %T@ %m\n' | sort
	find "$W" -type f ! -name '*.tar.gz' -exec md5sum {} + | sort
}
plan() {
	"$OPS_UPDATER" -c "$W/cfg.json" plan >"$T/plan" 2>"$T/plan.err"
	prc=$?
	sanitizer_clean "$T/plan.err" plan
}

plan
is 'converged: exit 0' "$prc" 0
is 'converged: nothing to do' "$(cat "$T/plan")" "$(printf '%-24s nothing: running 1.0.0\n%-24s nothing: running 2.0.0' falcon-agent dinp-agent)"

kill "$dinp"
serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want dinp-agent 2.0.0), $(want gone 1 stop), $(want odd 1 reboot),
  {\"default\": {\"name\": \"../x\", \"version\": \"1\", \"tarball\": \"{base}/files\", \"cmd\": \"start\"}}]}"
snapshot >"$T/before"
downloads_before=$(downloads)
loglines=$(wc -l <"$W/ops-updater.log")
plan
is 'changes due and a refusal: exit 1' "$prc" 1
is 'the plan, one line per agent' "$(cat "$T/plan")" "$(printf '%-24s %s\n' \
    falcon-agent 'download+install 1.0.1, replacing 1.0.0' \
    dinp-agent 'start 2.0.0' \
    gone 'nothing: not installed' \
    odd "nothing: unknown cmd 'reboot' ignored"
    printf 'entry %-18s %s' 5 "refuse: name '../x' is not a valid name ([A-Za-z0-9._-], no leading '.')")"
snapshot >"$T/after"
check 'plan changed nothing on disk' cmp "$T/before" "$T/after"
is 'plan downloaded nothing' "$(downloads)" "$downloads_before"
check 'plan left the running agent alone' test "$(cat "$W/falcon-agent/1.0.0/agent.pid")" = "$falcon"
check_fails 'plan started nothing' running "$W/dinp-agent/2.0.0"
is 'plan wrote nothing to the log' "$(wc -l <"$W/ops-updater.log")" "$loglines"

serve "{\"agents\": [$(want falcon-agent 1.0.1), $(want dinp-agent 2.0.0 stop)]}"
plan
is 'changes due: exit 2' "$prc" 2
is 'stopped agent: nothing to stop' "$(sed -n 2p "$T/plan")" "$(printf '%-24s nothing: stopped 2.0.0' dinp-agent)"
pass
plan
is 'after the pass: exit 0' "$prc" 0

PORT_SAVED=$PORT
PORT=1 config
plan
is 'server down: exit 1' "$prc" 1
check 'server down: said on stderr' grep -q 'POST http://127.0.0.1:1/heartbeat' "$T/plan.err"
PORT=$PORT_SAVED config

"$OPS_UPDATER" -c "$W/cfg.json" status --json >"$T/json"
is 'status --json' "$(python3 -c 'import json,sys; print(" ".join("%s=%s:%s" % (a["name"], a["version"], a["status"]) for a in json.load(open(sys.argv[1]))["agents"]))' "$T/json")" \
    'dinp-agent=2.0.0:stoped falcon-agent=1.0.1:started'
is 'status --json says what the config protects against' \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["protection"])' "$T/json")" \
    'plain http, no key: accidental corruption only (MD5 from the same origin)'
is 'status --json gives its own version' \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$T/json")" \
    "$VERSION"
"$OPS_UPDATER" -c "$W/cfg.json" --json plan >/dev/null 2>&1
is '--json is for status only: exit 64' $? 64

# Rotation: a log at log_max_mb moves to .1 at the start of a pass.
config '"log_max_mb": 1'
head -c 1100000 /dev/zero | tr '\0' x >>"$W/ops-updater.log"
echo old-marker >>"$W/ops-updater.log"
pass
is 'rotation: exit 0' "$rc" 0
check 'the previous log is ops-updater.log.1' grep -q old-marker "$W/ops-updater.log.1"
check_fails 'the new log starts afresh' grep -q old-marker "$W/ops-updater.log"
grep_log 'the new log says where the old one went' "log rotated: the previous one is $W/ops-updater.log.1"
echo second-marker >>"$W/ops-updater.log"
pass
check 'a small log is not rotated' grep -q second-marker "$W/ops-updater.log"
done_testing
