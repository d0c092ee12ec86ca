#!/bin/sh
# The updater's own control script, against a crontab stand-in on PATH
# (never the real user crontab). status and start look for a cron daemon
# among the processes: those run in a PID namespace of their own, whose
# /proc shows only what runs there, with or without a daemon named cron.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/bin"
cat >"$T/bin/crontab" <<'STANDIN'
#!/bin/sh
# crontab(1) stand-in: the table lives in $CRONTAB_FILE; each install
# ("crontab -") adds a line to $CRONTAB_FILE.calls. With $CRONTAB_FILE.broken,
# -l fails as a real error would.
case $1 in
-l) [ -f "$CRONTAB_FILE.broken" ] && { echo "crontab: cannot open: Permission denied" >&2; exit 1; }
    [ -f "$CRONTAB_FILE" ] || { echo "no crontab for $(id -un)" >&2; exit 1; }; cat "$CRONTAB_FILE" ;;
-) echo install >>"$CRONTAB_FILE.calls"; cat >"$CRONTAB_FILE.new" && mv "$CRONTAB_FILE.new" "$CRONTAB_FILE" ;;
*) echo "crontab stand-in: $*" >&2; exit 1 ;;
esac
STANDIN
chmod +x "$T/bin/crontab"
export CRONTAB_FILE=$T/crontab PATH="$T/bin:$PATH"
calls() { cat "$CRONTAB_FILE.calls" 2>/dev/null | wc -l; }

# A real process named cron (a copy of sleep), seen as running only once
# it has exec'd: then the command runs beside it. Both go with the namespace.
cp "$(command -v sleep)" "$T/bin/cron"
with_cron() {
	unshare --pid --fork --mount-proc sh -c '"$1" 300 & c=$!; shift
	    while [ "$(cat /proc/$c/comm 2>/dev/null)" != cron ]; do sleep 0.01; done
	    "$@"' - "$T/bin/cron" "$@"
}
no_cron() { unshare --pid --fork --mount-proc "$@"; }
check 'unshare gives a PID namespace of our own (util-linux, as root)' no_cron true

# A deployment directory, as an operator lays it out.
cp "$OPS_UPDATER" "$W/ops-updater"
cp "$TOP/control" "$TOP/crontab.example" "$W/"
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"jitter": 1'
ctl() { "$W/control" "$@"; }
cst() { with_cron "$W/control" status; }

is 'no crontab yet: stoped' "$(cst)" stoped
printf 'MAILTO=ops@example.com\n0 3 * * * /usr/local/bin/backup\n' >"$CRONTAB_FILE"
check 'start' ctl start
is 'started' "$(cst)" started
check 'start again' ctl start
is 'start is idempotent: one line' "$(grep -c "ops-updater\\[$W\\]" "$CRONTAB_FILE")" 1
is 'the line: every 5 minutes, this directory, output to the log' "$(grep -F "[$W]" "$CRONTAB_FILE")" \
    "*/5 * * * * cd $W && ./ops-updater -c $W/cfg.json run >>$W/ops-updater.log 2>&1 # ops-updater[$W]"
is 'the user lines are kept' "$(head -2 "$CRONTAB_FILE")" "$(printf 'MAILTO=ops@example.com\n0 3 * * * /usr/local/bin/backup')"

# The installed line really works: run its command as cron would.
cmd=$(grep -F "[$W]" "$CRONTAB_FILE" | cut -d' ' -f6-)
sh -c "$cmd"
is 'the cron command runs a pass' "$?" 0
check 'and the agent runs' running "$W/falcon-agent/1.0.0"

check 'stop' ctl stop
is 'stoped' "$(cst)" stoped
is 'only our line is gone' "$(cat "$CRONTAB_FILE")" "$(printf 'MAILTO=ops@example.com\n0 3 * * * /usr/local/bin/backup')"
check 'stop again is fine' ctl stop
check 'restart' ctl restart
is 'restart: started' "$(cst)" started

# status is started only while a cron daemon runs to read the line.
no_cron "$W/control" status >"$T/st.out" 2>"$T/st.err"
is 'no cron daemon: status is stoped, for no pass runs' "$(cat "$T/st.out")" stoped
is 'and says why on stderr' "$(cat "$T/st.err")" \
    'control: the crontab line is installed, but no cron daemon runs: no pass runs until one does (Debian: apt-get install cron)'
with_cron "$W/control" status >"$T/st.out" 2>"$T/st.err"
is 'with a cron daemon: started' "$(cat "$T/st.out")" started
is 'and nothing on stderr' "$(cat "$T/st.err")" ''
no_cron "$W/control" stop
no_cron "$W/control" status >"$T/st.out" 2>"$T/st.err"
is 'no line, no daemon: stoped' "$(cat "$T/st.out")" stoped
is 'and no complaint about cron' "$(cat "$T/st.err")" ''
no_cron "$W/control" start 2>"$T/st.err"
is 'start without a cron daemon: the line goes in (exit 0)' $? 0
check 'start without a cron daemon: it is there' grep -qF "# ops-updater[$W]" "$CRONTAB_FILE"
check 'start without a cron daemon: says nothing will run it' grep -q 'no cron daemon runs' "$T/st.err"

# restart: crontab.example's line in, the old one out, in one crontab call.
sed -i 's|^\*/5 |*/10 |' "$W/crontab.example"
before=$(calls)
check 'restart with a changed crontab.example' ctl restart
is 'restart: one crontab call' "$(($(calls) - before))" 1
is 'restart: the new line, not the old one' "$(grep -F "[$W]" "$CRONTAB_FILE" | cut -d' ' -f1)" '*/10'
is 'restart: the user lines are kept' "$(head -2 "$CRONTAB_FILE")" "$(printf 'MAILTO=ops@example.com\n0 3 * * * /usr/local/bin/backup')"
check 'restart: still started' test "$(cst)" = started

# A broken crontab.example is refused before any crontab is touched.
cp "$W/crontab.example" "$T/crontab.example.good"
cp "$CRONTAB_FILE" "$T/crontab.before"
broken() {	# why, crontab.example text, expected message
	printf '%s\n' "$2" >"$W/crontab.example"
	for verb in restart start; do
		[ $verb = start ] && no_cron "$W/control" stop	# else start has nothing to do
		cp "$T/crontab.before" "$CRONTAB_FILE"
		before=$(calls)
		ctl $verb >"$T/br.out" 2>&1
		is "$verb refuses $1: exit 1" $? 1
		is "$verb refuses $1: says why" "$(cat "$T/br.out")" "control: $W/crontab.example: $3"
		is "$verb refuses $1: no crontab call" "$(calls)" "$before"
	done
	is "refused $1: the crontab is as it was" "$(cat "$CRONTAB_FILE")" "$(cat "$T/crontab.before")"
}
broken 'two lines' "$(printf '*/5 * * * * cd /home/work/ops && ./ops-updater run\n0 * * * * cd /home/work/ops && ./ops-updater run')" \
    'more than one crontab line'
broken 'no line' '# all commented out' 'no crontab line in it'
broken 'a %' '*/5 * * * * cd /home/work/ops && ./ops-updater run >>log.$(date +%F)' "'%' in the line (cron makes it a newline)"
broken 'another directory' '*/5 * * * * cd /opt/other && ./ops-updater run' \
    "the line does not name /home/work/ops (replaced by $W)"
broken 'a bad schedule' '*/5 * * * cd /home/work/ops && ./ops-updater run' "'cd' is not a cron time field"
broken 'no command' '*/5 * * * *' "no command after the schedule"
rm "$W/crontab.example"
before=$(calls)
for verb in restart start; do
	[ $verb = start ] && no_cron "$W/control" stop
	cp "$T/crontab.before" "$CRONTAB_FILE"
	ctl $verb >"$T/br.out" 2>&1
	is "$verb refuses a missing crontab.example" "$(cat "$T/br.out")" "control: $W/crontab.example: missing or unreadable"
	is "$verb: and leaves the crontab as it was" "$(cat "$CRONTAB_FILE")" "$(cat "$T/crontab.before")"
done
is 'a missing crontab.example: no crontab call' "$(calls)" "$((before + 1))"	# the stop
cp "$T/crontab.example.good" "$W/crontab.example"

# crontab -l failing for another reason than "no crontab" is no empty
# table: nothing is written back, or the user's lines would be lost.
touch "$CRONTAB_FILE.broken"
before=$(calls)
for verb in start stop restart; do
	ctl $verb >"$T/br.out" 2>&1
	is "$verb: crontab -l failing: exit 1" $? 1
	is "$verb: crontab -l failing: says why" "$(cat "$T/br.out")" \
	    'control: crontab -l failed (crontab: cannot open: Permission denied); the crontab is left as it is'
done
is 'crontab -l failing: no crontab call' "$(calls)" "$before"
rm "$CRONTAB_FILE.broken"
is 'crontab -l failing: the crontab is as it was' "$(cat "$CRONTAB_FILE")" "$(cat "$T/crontab.before")"
check 'restart' ctl restart
is 'restart: started' "$(cst)" started

ctl plan >"$T/plan"
is 'plan: exit 0 (converged)' "$?" 0
check 'plan: prints the plan' grep -q 'falcon-agent  *nothing: running 1.0.0' "$T/plan"
kill "$(cat "$W/falcon-agent/1.0.0/agent.pid")"
ctl run
is 'run: a pass now' "$?" 0
check 'run: the agent was restarted' running "$W/falcon-agent/1.0.0"
timeout 2 "$W/control" tail >"$T/tail"
check 'tail follows the log' grep -q 'pass done: exit 0' "$T/tail"
ctl frobnicate 2>/dev/null
is 'unknown verb: exit 64' "$?" 64

mkdir -p "$T/bad dir" && cp "$W/control" "$W/crontab.example" "$W/ops-updater" "$T/bad dir/"
check_fails 'a directory a crontab line cannot hold is refused' "$T/bad dir/control" start
done_testing
