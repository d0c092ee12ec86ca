#!/bin/sh
# What ops-meta's status pages learn from a pass: every agent and the
# updater itself (name ops-updater, its version), and after a pass that
# changed something, the new state in the same pass.
. "$(dirname "$0")/lib.sh"

VERSION=$(sed -n 's/^VERSION = //p' "$TOP/Makefile")
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config

pass
is 'first pass: exit 0' "$rc" 0
is 'the updater reports its own version, started' "$(reported ops-updater)" "$VERSION started"
pass
check 'reported after the agents' grep -qF "REPORT test-host-1 [[\"falcon-agent\", \"1.0.0\", \"started\"], [\"ops-updater\", \"$VERSION\", \"started\"]]" "$T/requests"
done_testing
