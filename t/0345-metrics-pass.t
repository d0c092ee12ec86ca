#!/bin/sh
# metrics_file in real passes: written by every pass that holds the lock,
# good or failed, and read back with the Python client's Prometheus parser.
# It shows the agents as they are at the end of the pass.
. "$(dirname "$0")/lib.sh"

PY=python3
$PY -c 'import prometheus_client' 2>/dev/null || PY=/usr/bin/python3
cat >"$T/get.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
# get.py FILE METRIC [label=value ...]: the value of that one series.
want = dict(a.split("=", 1) for a in sys.argv[3:])
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        if s.name == sys.argv[2] and all(s.labels.get(k) == v for k, v in want.items()):
            print(int(s.value) if s.value == int(s.value) else s.value)
PY
m() { $PY "$T/get.py" "$T/node/ops.prom" "$@" 2>&1; }

mkdir -p "$T/node"
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config "\"metrics_file\": \"$T/node/ops.prom\", \"retry_failed\": 600"
pass
is 'first pass: exit 0' "$rc" 0
is 'the exit code is exported' "$(m ops_updater_last_pass_exit_code)" 0
is 'the agent as installed by this pass, started' \
    "$(m ops_updater_agent_info name=falcon-agent version=1.0.0 status=started)" 1
is 'the desired version' "$(m ops_updater_agent_desired_info name=falcon-agent version=1.0.0 cmd=start)" 1
is 'no failures' "$(m ops_updater_agent_failures name=falcon-agent)" 0
is 'not held' "$(m ops_updater_agent_held name=falcon-agent)" 0
check 'the pass timestamp is now' test "$(($(date +%s) - $(m ops_updater_last_pass_timestamp_seconds)))" -lt 60

# A release that cannot be had: failed, then held.
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'missing tarball: exit 1' "$rc" 1
is 'exit code 1 exported' "$(m ops_updater_last_pass_exit_code)" 1
is 'one failure' "$(m ops_updater_agent_failures name=falcon-agent)" 1
is 'the running version is still 1.0.0' "$(m ops_updater_agent_info name=falcon-agent version=1.0.0 status=started)" 1
pass
is 'held: exit 1' "$rc" 1
is 'held 1.0.1 exported' "$(m ops_updater_agent_held name=falcon-agent version=1.0.1)" 1

# The server down: the pass fails, and says so in the metrics too.
stop_server
config "\"metrics_file\": \"$T/node/ops.prom\", \"connect_timeout\": 2"
: >"$T/node/ops.prom"
pass
is 'server down: exit 1' "$rc" 1
is 'server down: exit code 1 exported' "$(m ops_updater_last_pass_exit_code)" 1
is 'the agent still exported as it runs' "$(m ops_updater_agent_info name=falcon-agent version=1.0.0 status=started)" 1
done_testing
