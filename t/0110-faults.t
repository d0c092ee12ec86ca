#!/bin/sh
# Faults of the network and the disk: each a clear error, nothing changed.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
head -c 3000000 /dev/urandom >"$T/big"
mkdir -p "$T/src/big" && cp "$T/big" "$T/src/big/payload" && printf '#!/bin/sh\necho stoped\n' >"$T/src/big/control" &&
    chmod +x "$T/src/big/control" && tar -czf "$F/falcon-agent-2.0.0.tar.gz" -C "$T/src/big" control payload &&
    (cd "$F" && md5sum falcon-agent-2.0.0.tar.gz >falcon-agent-2.0.0.tar.gz.md5)
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config
pass
is 'setup: 1.0.0 installed' "$rc" 0
pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")

unchanged() {	# DESC: nothing on disk or in processes changed
	is "$1: .version unchanged" "$(cat "$W/falcon-agent/.version")" 1.0.0
	is "$1: no 2.0.0" "$(ls "$W/falcon-agent" | tr '\n' ' ')" '1.0.0 control-1.0.0.log '
	is "$1: no temp files" "$(leftovers falcon-agent)" ''
	is "$1: the agent untouched" "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$pid"
}
upgrade_with() {	# FAULTS-JSON [EXTRA-CONFIG]
	serve "{\"agents\": [$(want falcon-agent 2.0.0)], \"faults\": $1}"
	config "${2:-}"
	: >"$W/ops-updater.log"
	pass
}

# A disk that fills up during the download (RLIMIT_FSIZE of 1 MiB).
serve "{\"agents\": [$(want falcon-agent 2.0.0)]}"
: >"$W/ops-updater.log"
(ulimit -f 2048; "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1)
rc=$?
sanitizer_clean "$T/pass.out" 'disk full'
is 'disk full: exit 1' "$rc" 1
grep_log 'disk full: a clear error' 'GET .*falcon-agent-2.0.0.tar.gz: write: File too large'
unchanged 'disk full'

upgrade_with '{"files": {"falcon-agent-2.0.0.tar.gz": {"stall": 30}}}' '"download_stall": 1'
is 'stalled body: exit 1' "$rc" 1
grep_log 'stalled body: timed out' 'GET .*falcon-agent-2.0.0.tar.gz: Operation too slow'
unchanged 'stalled body'

upgrade_with '{"files": {"falcon-agent-2.0.0.tar.gz": {"status": 500}}}'
is 'HTTP 500: exit 1' "$rc" 1
grep_log 'HTTP 500: logged' 'GET .*falcon-agent-2.0.0.tar.gz: HTTP 500'
unchanged 'HTTP 500'

upgrade_with '{"files": {"falcon-agent-2.0.0.tar.gz": {"redirect": "{base}/files/falcon-agent-2.0.0.tar.gz"}}}'
is 'redirect loop: exit 1' "$rc" 1
grep_log 'redirect loop: logged' 'GET .*falcon-agent-2.0.0.tar.gz: Maximum \(5\) redirects followed'
unchanged 'redirect loop'

upgrade_with '{"files": {"falcon-agent-2.0.0.tar.gz": {"redirect": "file:///etc/passwd"}}}'
is 'redirect to file://: exit 1' "$rc" 1
# The reason, not only the failure: a followed file:// fails later anyway
# (tar is fed /etc/passwd, the MD5 differs), so only libcurl's refusal
# shows the protocol checks (PROTOCOLS_STR and REDIR_PROTOCOLS_STR: either
# one refuses it).
grep_log 'redirect to file://: refused by protocol' 'GET .*falcon-agent-2.0.0.tar.gz: Protocol "?file"? not supported'
unchanged 'redirect to file://'

upgrade_with '{}' '"download_max_mb": 1'
is 'over the size cap: exit 1' "$rc" 1
grep_log 'over the size cap: logged' 'GET .*falcon-agent-2.0.0.tar.gz: larger than download_max_mb \(1 MiB\)'
unchanged 'over the size cap'

# Heartbeat bodies of every wrong shape.
hb() {	# BODY DESC ERE
	printf '%s' "$1" >"$T/body"
	python3 - "$T/body" "$T/meta.json" <<'PY'
import json, sys
body = open(sys.argv[1]).read()
json.dump({"agents": [], "faults": {"heartbeat": {"status": 200, "body": body}}}, open(sys.argv[2], "w"))
PY
	: >"$W/ops-updater.log"
	pass
	is "$2: exit 1" "$rc" 1
	grep_log "$2: logged" "$3"
	is "$2: the agent untouched" "$(cat "$W/falcon-agent/.version") $(cat "$W/falcon-agent/1.0.0/agent.pid")" "1.0.0 $pid"
}
config
hb "$(python3 -c 'print("[" * 5000 + "]" * 5000)')" 'deep nesting' 'response is not a JSON object'
hb "{\"desiredAgents\": [$(python3 -c 'print(",".join(["{}"] * 1500))')]}" 'huge array' 'desiredAgents has more than 1000 entries'
hb '{"errorMessage": null, "desiredAgents": [null, {"name": null, "version": null, "cmd": "start"}]}' 'nulls' 'entry 1 skipped: entry 1 is not an object'
hb '{"desiredAgents": [{"name": "falcon-agent", "version": ["2"], "tarball": {}, "cmd": "start"}]}' 'wrong types' "entry 1 skipped: field 'version' is not a string"
hb '{"desiredAgents": [{"name": "falcon-agent", "version": "2.0.0", "tarball": "http://127.0.0.1:1/x", "cmd": 7}]}' 'cmd not a string' "entry 1 skipped: field 'cmd' is not a string"
hb '' 'empty body' 'response is not a JSON object'
done_testing
