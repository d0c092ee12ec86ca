#!/bin/sh
# One verdict per agent per pass, written once to the pass's state: state,
# status, status --json, check and its perfdata, the metrics and the
# heartbeat's error all render it, for every outcome a pass can have (ok,
# nothing, failed, busy, held, waiting for its slot, refused, cut by
# pass_timeout). None works it out again from other fields: in the pass
# that puts a release on hold, all of them say held.
. "$(dirname "$0")/lib.sh"

# views NAME: what each view says of agent NAME's last verdict, one line
# per view, "view: word | cause". The heartbeat's is what ops-meta got from
# a plan (a heartbeat with the last pass's record, nothing changed).
cat >"$T/views.py" <<'PY'
import json, re, sys
name, T, W, hb = sys.argv[1:5]
state = json.load(open(W + "/ops-updater.state.json"))
a = [x for x in state["agents"] if x["name"] == name][0]
print("state: %s | %s" % (a["result"], a["error"]))

status = open(T + "/status").read().split("\nlast pass: ", 1)[1]
line = [l for l in status.splitlines() if l.startswith(name + " ")][0]
word = line.split()[1]
print("status: %s | %s" % (word, a["error"] if a["error"] and a["error"] in line else "" if not a["error"] else "MISSING"))

js = json.load(open(T + "/status.json"))
b = [x for x in js["last_pass"]["agents"] if x["name"] == name][0]
print("status --json: %s | %s" % (b["result"], b["error"]))
c = [x for x in js["agents"] if x["name"] == name]
print("status --json agents: %s | %s" % (c[0]["result"], c[0]["error"]))

check = open(T + "/check").read().strip()
text, perf = check.split(" | ")
perf = dict(kv.split("=", 1) for kv in perf.split())
failed, held = int(perf["failed"].split(";")[0]), int(perf["held"].split(";")[0])
if text.startswith("OPS-UPDATER OK - "):
    word, cause = "as asked", ""
    if "waiting for its slot" in text:
        word = "waiting"
else:
    m = re.search(r"(?:- |; )(\w+): " + re.escape(name) + r" \((.*)\); last pass", text)
    word, cause = (m.group(1), m.group(2)) if m else ("NOT NAMED", text)
print("check: %s | %s" % (word, cause))
print("check perfdata: failed=%d held=%d" % (failed, held))

verdicts, held_series = [], []
for l in open(W + "/metrics.prom"):
    if l.startswith('ops_updater_agent_verdict{name="%s",' % name):
        verdicts.append(re.search(r'verdict="([^"]*)"\} 1$', l).group(1))
    if l.startswith('ops_updater_agent_held{name="%s",' % name):
        held_series.append(l.rsplit(" ", 1)[1].strip())
print("metrics: %s | held %s" % (",".join(verdicts), ",".join(held_series)))

r = json.load(open(hb))[0]
err = r.get("error")
print("heartbeat: %s" % ("as asked | " if err is None else err.replace(": ", " | ", 1)))
PY

# views VERDICT DESC: every view of agent a agrees on VERDICT.
views() {
	"$OPS_UPDATER" -c "$W/cfg.json" status >"$T/status" 2>/dev/null
	"$OPS_UPDATER" -c "$W/cfg.json" status --json >"$T/status.json" 2>/dev/null
	"$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>/dev/null
	"$OPS_UPDATER" -c "$W/cfg.json" plan >/dev/null 2>&1
	curl -s "$BASE/status/json/a" >"$T/hb.json"
	python3 "$T/views.py" a "$T" "$W" "$T/hb.json" >"$T/views" 2>&1
	err=$(st '[x["error"] for x in s["agents"] if x["name"] == "a"][0]')
	case $1 in
	ok | nothing) word=$1 chk='as asked' heart='as asked | ' f=0 h=0 ;;
	waiting) word=$1 chk=$1 heart='as asked | ' f=0 h=0 ;;
	held) word=$1 chk=$1 heart="held | $err" f=0 h=1 ;;
	*) word=$1 chk=$1 heart="$1 | $err" f=1 h=0 ;;
	esac
	want=$(printf '%s\n' "state: $word | $err" "status: $word | $err" "status --json: $word | $err" \
	    "status --json agents: $word | $err" "check: $chk | $err" "check perfdata: failed=$f held=$h" \
	    "metrics: $word | held $h" "heartbeat: $heart")
	is "$2: every view says $1" "$(cat "$T/views")" "$want"
}

start_server
mkagent a 1
config "\"metrics_file\": \"$W/metrics.prom\""
serve "{\"agents\": [$(want a 1)]}"
pass
is 'ok: exit 0' "$rc" 0
views ok 'installed'
pass
views nothing 'already as asked'

# The file server answers 503: not the release's fault, no hold; twice in
# a row, and the next pass leaves the busy server alone.
mkagent a 2
config "\"metrics_file\": \"$W/metrics.prom\", \"retry_failed\": 600"
serve "{\"agents\": [$(want a 2)], \"faults\": {\"files\": {\"a-2.tar.gz\": {\"status\": 503}}}}"
pass
is 'failed: exit 1' "$rc" 1
views failed 'a 503 for the tarball'
pass
pass
is 'busy: exit 1' "$rc" 1
views busy 'a busy file server skipped'

# A release that does not start: held from the pass that tried it.
mkagent a 3 nostart
config "\"metrics_file\": \"$W/metrics.prom\", \"retry_failed\": 600, \"status_wait\": 1"
serve "{\"agents\": [$(want a 3)]}"
pass
is 'held: exit 1' "$rc" 1
views held 'the pass whose failure put the hold on'
pass
views held 'a pass that holds it'

# A new version waits for this host's slot.
mkagent a 4
config "\"metrics_file\": \"$W/metrics.prom\", \"rollout_spread\": 3600"
serve "{\"agents\": [$(want a 4)]}"
pass
is 'waiting: exit 0' "$rc" 0
views waiting 'before its slot'

# An entry the server should not have sent.
serve "{\"agents\": [$(want a 4/x)]}"
pass
is 'refused: exit 1' "$rc" 1
views refused 'an invalid version'

# The pass deadline cuts a download from a file server that hangs.
config "\"metrics_file\": \"$W/metrics.prom\", \"pass_timeout\": 3, \"download_timeout\": 600, \"download_stall\": 600"
serve "{\"agents\": [$(want a 4)], \"faults\": {\"files\": {\"a-4.tar.gz\": {\"stall\": 60}}}}"
pass
is 'cut: exit 1' "$rc" 1
views cut 'a download cut by pass_timeout'
is 'cut: the cause is the deadline, not the transfer' "$(st 'a["error"], a["held_version"]')" \
    "('cut by pass_timeout (3 s)', '')"
done_testing
