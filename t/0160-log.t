#!/bin/sh
# The log under attack: names from the server that are huge or carry a
# newline must neither overflow a line nor forge one; the log file itself
# is opened without following a symbolic link.
. "$(dirname "$0")/lib.sh"

TS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z \[[0-9]+\] [a-z]+[ :]'

# Desired agents with these names, none in the config's agents list:
# reconcile logs each one under -v with the name as the agent field.
serve_names() {
	python3 -c '
import json, sys
agents = [{"default": {"name": n, "version": "1", "tarball": "{base}/files", "md5": "", "cmd": "start"}}
          for n in sys.argv[2:]]
json.dump({"agents": agents}, open(sys.argv[1], "w"))' "$T/meta.json" "$@"
}
serve '{"agents": []}'
start_server
config '"agents": ["other"]'

serve_names "$(head -c 20000 /dev/zero | tr '\0' a)"
pass -v
is 'a 20,000-byte name: the pass ends normally' "$rc" 0
grep_log 'the huge name is cut short' 'debug a{190,200}\.\.\.: not in the agents list'
check_fails 'no line is longer than 4096 bytes' awk 'length($0) >= 4096 { exit 0 } END { exit 1 }' "$W/ops-updater.log"

serve_names "x
2026-01-01T00:00:00Z [1] info forged: all agents stopped" "$(printf 'x\033[2Jy\r')"
pass -v
is 'names with control bytes: the pass ends normally' "$rc" 0
check_fails 'no line starts with the forged text' grep -q '^2026-01-01T00:00:00Z' "$W/ops-updater.log"
grep_log 'the newline is shown escaped' 'debug x\\x0a2026-01-01T00:00:00Z \[1\] info forged: all agents stopped: not in the agents list'
grep_log 'escape sequences are shown escaped' 'debug x\\x1b\[2Jy\\x0d: not in the agents list'
check_fails 'every log line starts with a timestamp' grep -Evq "$TS" "$W/ops-updater.log"
check_fails 'no raw control byte in the log' grep -q "$(printf '[\001-\011\013-\037\177]')" "$W/ops-updater.log"

# A symbolic link in place of the log: root must not append through it.
echo canary >"$T/canary"
mv "$W/ops-updater.log" "$T/saved.log"
ln -s "$T/canary" "$W/ops-updater.log"
pass
is 'a symlinked log: exit 78' "$rc" 78
check 'and a clear message' grep -q "log $W/ops-updater.log: not a regular file" "$T/pass.out"
is 'the canary is unchanged' "$(cat "$T/canary")" canary
check 'the link is left as it was' test -L "$W/ops-updater.log"
rm "$W/ops-updater.log"

# Nor anything else that is not a regular file.
mkfifo "$W/ops-updater.log"
timeout 30 "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1
is 'a fifo as log: exit 78, without hanging' "$?" 78
rm "$W/ops-updater.log"
mknod "$W/ops-updater.log" c 1 3	# /dev/null
pass
is 'a device as log: exit 78' "$rc" 78
check 'and a clear message' grep -q "log $W/ops-updater.log: not a regular file" "$T/pass.out"
rm "$W/ops-updater.log"
mv "$T/saved.log" "$W/ops-updater.log"

# Rotation renames onto <log>.1 and never opens it: a link there is replaced,
# its target untouched.
echo canary >"$T/canary"
ln -s "$T/canary" "$W/ops-updater.log.1"
config '"agents": ["other"], "log_max_mb": 1'
head -c 1100000 /dev/zero | tr '\0' x >>"$W/ops-updater.log"
pass
is 'rotation over a symlinked .1: exit 0' "$rc" 0
check 'the .1 link was replaced by the old log' test -f "$W/ops-updater.log.1" -a ! -L "$W/ops-updater.log.1"
is 'the canary is still unchanged' "$(cat "$T/canary")" canary
done_testing
