#!/bin/sh
# The updater's own control script, against a crontab stand-in on PATH
# (never the real user crontab).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/bin"
cat >"$T/bin/crontab" <<'STANDIN'
#!/bin/sh
# crontab(1) stand-in: the table lives in $CRONTAB_FILE.
case $1 in
-l) [ -f "$CRONTAB_FILE" ] || { echo "no crontab for $(id -un)" >&2; exit 1; }; cat "$CRONTAB_FILE" ;;
-) cat >"$CRONTAB_FILE.new" && mv "$CRONTAB_FILE.new" "$CRONTAB_FILE" ;;
*) echo "crontab stand-in: $*" >&2; exit 1 ;;
esac
STANDIN
chmod +x "$T/bin/crontab"
export CRONTAB_FILE=$T/crontab PATH="$T/bin:$PATH"

# A deployment directory, as an operator lays it out.
cp "$OPS_UPDATER" "$W/ops-updater"
cp "$TOP/control" "$TOP/crontab.example" "$W/"
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"jitter": 1'
ctl() { "$W/control" "$@"; }

is 'no crontab yet: stoped' "$(ctl status)" stoped
printf 'MAILTO=ops@example.com\n0 3 * * * /usr/local/bin/backup\n' >"$CRONTAB_FILE"
check 'start' ctl start
is 'started' "$(ctl status)" started
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
is 'stoped' "$(ctl status)" stoped
is 'only our line is gone' "$(cat "$CRONTAB_FILE")" "$(printf 'MAILTO=ops@example.com\n0 3 * * * /usr/local/bin/backup')"
check 'stop again is fine' ctl stop
check 'restart' ctl restart
is 'restart: started' "$(ctl status)" started

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
