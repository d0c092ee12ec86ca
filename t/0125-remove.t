#!/bin/sh
# An old version is removed whatever its agent user made of it, however
# deep; and one that cannot be removed does not stay there unseen: the
# pass fails, the state has the error, check warns, until it is gone.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
chmod 755 "$T"
start_server
config '"keep_versions": 0'
A=$W/a
mkagent a 1; mkagent a 2; mkagent a 3
check_rc() { "$OPS_UPDATER" -c "$W/cfg.json" check >"$T/check" 2>&1; echo $?; }
to() {
	serve "{\"agents\": [$(want a "$1")]}"
	pass
}

# 1. The agent user nests its logs/ 300 directories deep (more than one
# walk holds descriptors for), with a file at the bottom.
to 1
is 'setup: at 1' "$rc" 0
mkdir "$A/1/logs" && chown $NOBODY:$NOBODY "$A/1/logs"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups sh -c \
    "cd '$A/1/logs' && i=0; while [ \$i -lt 300 ]; do mkdir d && cd d || exit 1; i=\$((i + 1)); done; echo x >f"
check 'setup: 300 levels deep' test -n "$(find "$A/1/logs" -mindepth 300 -name f)"
to 2
is 'switch to 2: exit 0' "$rc" 0
check 'the switching pass leaves 1, the version it replaced' test -d "$A/1"
pass
is 'the next pass: exit 0' "$rc" 0
check_fails '1 is gone' test -e "$A/1"
is 'nothing left aside' "$(leftovers a)" ''
grep_log 'logged' 'info a: removed old version 1$'
is 'check: OK' "$(check_rc)" 0

# 2. A file that cannot be removed (immutable) in the old version.
mkdir "$A/2/logs" && echo x >"$A/2/logs/f"
if chattr +i "$A/2/logs/f" 2>/dev/null; then
	to 3
	is 'switch to 3: exit 0 (2 goes in the next pass)' "$rc" 0
	pass
	is 'the next pass, 2 unremovable: exit 1' "$rc" 1
	is 'the state has the error' "$(st 'a["result"], "logs/f" in a["error"] and "Operation not permitted" in a["error"]')" "('failed', True)"
	is '.version is 3 all the same' "$(cat "$A/.version")" 3
	is 'check: WARNING' "$(check_rc)" 1
	pass
	is 'next pass: the sweep fails again: exit 1' "$rc" 1
	is 'check: still WARNING' "$(check_rc)" 1
	chattr -i "$(find "$A" -name f -path '*/logs/*')"
	pass
	is 'removable again: the sweep takes it, exit 0' "$rc $(leftovers a)" '0 '
	is 'check: OK' "$(check_rc)" 0
else
	for n in 1 2 3 4 5 6 7 8 9; do ntest=$((ntest + 1)); echo "ok $ntest # SKIP chattr +i not supported here"; done
fi
done_testing
