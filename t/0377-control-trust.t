#!/bin/sh
# Root runs a version's control only while that version directory and its
# control pass the ownership checks, checked again before every run, not
# only when the pass begins with the agent: a release's own control (run
# as root) may give its directory away (chown -R to the agent's user), and
# that user may then put a control of their own there. Neither the
# rollback, nor the health gate, nor the removal of a kept failed version
# may run it.
. "$(dirname "$0")/lib.sh"

chmod 755 "$T"		# the agent's user reaches its directories
NOBODY=$(id -u nobody)
AS="setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups"
A=$W/a
# What the agent's user puts in place of control: it leaves a mark, and
# says started, so that it would pass a health gate.
printf '#!/bin/sh\necho "$(id -u) $1" >>%s/pwned\necho started\n' "$T" >"$T/evil"
chmod 755 "$T/evil"
plant="$AS sh -c 'cp $T/evil control.new; mv -f control.new control'"

# gives VERSION [EXIT]: a release whose control start gives its directory
# to nobody; with EXIT, it then exits so at once, else it starts.
gives() {
	mkagent a "$1"
	sed -i "s|^start) |start) chown $NOBODY . control; ${2:+exit $2; }|" "$T/src/a-$1/control"
	publish a "$1"
}
# The same, and nobody puts its control there before start returns.
plants() {
	mkagent a "$1"
	sed -i "s|^start) |start) chown $NOBODY . control; $plant; ${2:+exit $2; }|" "$T/src/a-$1/control"
	publish a "$1"
}

# gives_control VERSION: a release whose control start gives only the
# control to nobody (the directory stays root's), who writes a control of
# their own into it; then start fails.
gives_control() {
	mkagent a "$1"
	sed -i "s|^start) |start) chown $NOBODY control; $AS sh -c 'cat $T/evil >control'; exit 1; |" "$T/src/a-$1/control"
	publish a "$1"
}

mkagent a 1
gives 2 1
gives_control 6
plants 3 1
plants 4
mkagent a 5 nostart
serve "{\"agents\": [$(want a 1)]}"
start_server
config '"status_wait": 2, "health_wait": 1'
pass
is 'setup: 1 installed' "$rc" 0

# The rollback of a start that gave its directory away and failed.
serve "{\"agents\": [$(want a 3)]}"
pass
is '3 did not start: exit 1' "$rc" 1
check_fails 'the control planted in 3 was never run' test -e "$T/pwned"
grep_log 'the rollback says why it ran nothing there' \
    "error a: stop $A/3: control stop not run: $A/3: owned by uid $NOBODY, not root or uid 0\$"
is '1 runs again' "$(cat "$A/.version") $(running "$A/1" && echo up)" '1 up'

# The status wait of a start that gave its directory away and started:
# asked, the planted control would say started.
serve "{\"agents\": [$(want a 4)]}"
pass
is '4 fails: exit 1' "$rc" 1
check_fails 'the control planted in 4 was never run' test -e "$T/pwned"
grep_log 'the start failed, and says why' \
    "error a: start $A/4: did not start: status is 'error: control status not run: $A/4: owned by uid $NOBODY, not root or uid 0', not 'started'"
is '1 runs again' "$(cat "$A/.version") $(running "$A/1" && echo up)" '1 up'
# 4 cannot be stopped without its control: its daemon runs on (the log
# says so); not ours to kill otherwise.
grep_log 'the rollback could not stop 4' "error a: stop $A/4: control stop not run: $A/4: owned by uid $NOBODY"
kill "$(cat "$A/4/agent.pid")"

# A kept failed version whose directory went to nobody, who put a control
# there since: when a later version fails, it is not stopped through it
# (nor removed: it was not stopped).
serve "{\"agents\": [$(want a 2)]}"
pass
is '2 did not start: kept' "$rc $(st 'a["kept_failed"]')" '1 2'
(cd "$A/2" && eval "$plant")
is 'nobody put its control in 2' "$(stat -c %u "$A/2/control")" "$NOBODY"
serve "{\"agents\": [$(want a 5)]}"
pass
is '5 did not start: exit 1' "$rc" 1
check_fails 'the control planted in 2 was never run' test -e "$T/pwned"
grep_log 'the removal of 2 says why it ran nothing' \
    "error a: stop $A/2: control stop not run: $A/2: owned by uid $NOBODY, not root or uid 0\$"
grep_log 'and that 2 stays' "error a: $A/2 did not stop: not removed\$"
is '1 runs, and only 1' "$(cat "$A/.version") $(for v in 1 2 3 4 5; do running "$A/$v" && printf '%s ' $v; done)" '1 1 '

# Only the control given away, its directory still root's: the control's
# own ownership, checked before the rollback's stop, keeps it from running.
serve "{\"agents\": [$(want a 6)]}"
pass
is '6 did not start: exit 1' "$rc" 1
is 'nobody wrote its control in 6' "$(stat -c %u "$A/6/control") $(stat -c %u "$A/6")" "$NOBODY 0"
check_fails 'the control nobody wrote in 6 was never run' test -e "$T/pwned"
grep_log 'the rollback says why it ran nothing there' \
    "error a: stop $A/6: control stop not run: $A/6/control: owned by uid $NOBODY, not root or uid 0\$"
done_testing
