#!/bin/sh
# The fake ops-meta itself behaves as the protocol (ops-meta(7), the page
# ops-meta.7) says ops-meta does: the rest of the suite is only as good as
# this server.
. "$(dirname "$0")/lib.sh"

start_server
post() { curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$1" "$BASE/heartbeat"; }

is 'blank body: 400' "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/heartbeat")" 400
is 'not JSON: 400' "$(post 'nope')" 400
is 'blank hostname: 400' "$(post '{"hostname": "", "realAgents": []}')" 400
is 'no agents configured: desiredAgents is null' "$(post '{"hostname": "h1", "realAgents": []}') $(cat "$T/body")" \
    '200 {"errorMessage": "", "desiredAgents": null}'

serve '{"agents": [{"default": {"name": "a", "version": "1", "tarball": "{base}/files", "md5": "", "cmd": "start"},
  "others": [{"prefix": "bj", "version": "2"}, {"prefix": "bj-canary", "cmd": "stop"}]}]}'
post '{"hostname": "sh-1", "realAgents": []}' >/dev/null
is 'default block' "$(cat "$T/body")" \
    "{\"errorMessage\": \"\", \"desiredAgents\": [{\"name\": \"a\", \"version\": \"1\", \"tarball\": \"$BASE/files\", \"md5\": \"\", \"cmd\": \"start\"}]}"
post '{"hostname": "bj-canary-7", "realAgents": []}' >/dev/null
is 'every matching prefix overrides, in order' "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["desiredAgents"][0]; print(d["version"], d["cmd"])' "$T/body")" '2 stop'

# Prefixes exactly as ops-meta's g.DesiredAgents matches them: the blocks
# in the order listed, a later match winning over an earlier one however
# long its prefix; an empty or missing prefix matches every host; a null
# block is skipped; name is the default's; an agent without a default is
# left out.
serve '{"agents": [{"default": {"name": "a", "version": "1", "tarball": "{base}/files", "md5": "", "cmd": "start"},
  "others": [{"prefix": "bj-canary", "version": "3", "md5": "{base}/sums"}, null, {"prefix": "bj", "version": "2", "md5": ""},
             {"prefix": "", "tarball": "{base}/mirror"}, {"cmd": "start", "name": "renamed"}, {"prefix": "sh", "version": null}]},
  {"others": [{"prefix": "", "version": "9"}]}, {"default": null},
  {"default": {"name": "b", "version": "5", "tarball": "{base}/files", "md5": "", "cmd": "stop"}}]}'
desired() {	# HOST: name version tarball md5 cmd of each desired agent
	post "{\"hostname\": \"$1\", \"realAgents\": []}" >/dev/null
	python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["desiredAgents"]:
    print(d["name"], d["version"], d["tarball"].replace(sys.argv[2], ""), d["md5"].replace(sys.argv[2], "") or "-", d["cmd"])' "$T/body" "$BASE"
}
is 'a later match wins over a longer prefix; an empty one matches all' "$(desired bj-canary-1)" "a 2 /mirror /sums start
b 5 /files - stop"
is 'a host no prefix names: the default, with the blocks for every host' "$(desired sh-1)" "a 1 /mirror - start
b 5 /files - stop"

post '{"hostname": "h1", "realAgents": [{"name": "a", "version": "1", "status": "started", "timestamp": 5}]}' >/dev/null
is 'status/text shows the last report' "$(curl -s "$BASE/status/text/a")" 'h1 1 started 5'
is 'the request log has what was reported' "$(grep '^REPORT ' "$T/requests" | tail -1)" 'REPORT h1 [["a", "1", "started"]]'
is 'status/json too' "$(curl -s "$BASE/status/json/a" | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["hostname"], r["status"])')" 'h1 started'
is 'files are served' "$(echo hi >"$F/x.tar.gz" && curl -s "$BASE/files/x.tar.gz")" hi
is 'a missing file is a 404' "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/files/nope")" 404
done_testing
