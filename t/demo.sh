#!/bin/sh
# make demo: ops-updater's main job on a throwaway work directory. Starts the
# test ops-meta on 127.0.0.1 with a sample agent, runs a pass (install 1.0.0
# and start it), switches the server to 1.0.1 and runs again (upgrade), shows
# the status table and the log, then stops everything it started.
. "$(dirname "$0")/lib.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step() {
	"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run
	echo "(exit $?)"
}

mkagent demo-agent 1.0.0
mkagent demo-agent 1.0.1
serve "{\"agents\": [$(want demo-agent 1.0.0)]}"
start_server
config '"control_timeout": 10, "status_wait": 10'
say "ops-meta (test server) on $BASE, work directory $W"
cat "$W/cfg.json"

say "pass 1: the server asks for demo-agent 1.0.0"
step
"$OPS_UPDATER" -c "$W/cfg.json" status

say "pass 2: the server now asks for 1.0.1"
serve "{\"agents\": [$(want demo-agent 1.0.1)]}"
step
"$OPS_UPDATER" -c "$W/cfg.json" status

say "pass 3: nothing to do (converged: no download)"
step

say "what the server was told ($BASE/status/text/demo-agent)"
curl -s "$BASE/status/text/demo-agent"

say "the log ($W/ops-updater.log)"
cat "$W/ops-updater.log"

say "stopping the agent and the server; removing $T"
(cd "$W/demo-agent/1.0.1" && ./control stop)
