#!/bin/sh
# A hold outlives an answer that leaves the agent out: the server listing
# only other agents for one round must not make a bad release tried (and
# the old version stopped and started) again at once.
. "$(dirname "$0")/lib.sh"

start_server
config '"health_wait": 3, "retry_failed": 3600'
mkagent a 1; mkagent a 2 crash; mkagent b 1
serve "{\"agents\": [$(want a 1), $(want b 1)]}"
pass
is 'setup: a 1 and b 1 installed' "$rc" 0

serve "{\"agents\": [$(want a 2), $(want b 1)]}"
pass
is 'a 2 dies in its health wait: exit 1' "$rc" 1
is 'a 2 held' "$(st 'a["held_version"], a["result"]')" "('2', 'held')"
starts=$(grep -c 'start .*/a/2;' "$W/ops-updater.log")

serve "{\"agents\": [$(want b 1)]}"
pass
is 'the server leaves a out once: the pass is fine' "$rc" 0
is 'a keeps its entry, hold and failure count' \
    "$(st '[(x["name"], x["held_version"], x["fails"], x["result"]) for x in s["agents"] if x["name"] == "a"]')" \
    "[('a', '2', 1, 'held')]"
"$OPS_UPDATER" -c "$W/cfg.json" check >/dev/null
is 'check still warns about a' $? 1

serve "{\"agents\": [$(want a 2), $(want b 1)]}"
pass
is 'a 2 asked again: still held, exit 1' "$rc" 1
is 'the state says held' "$(st '[x["result"] for x in s["agents"] if x["name"] == "a"]')" "['held']"
is 'a 2 was not started again' "$(grep -c 'start .*/a/2;' "$W/ops-updater.log")" "$starts"
check 'a 1 still runs' running "$W/a/1"
done_testing
