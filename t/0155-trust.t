#!/bin/sh
# StrictModes: root runs and believes only what no one else could have
# changed. The work directory, an agent directory, .version, a version
# directory and control must be owned by root (or the user running the
# pass), writable by neither group nor others, and no symlink. A refused
# agent is skipped (its control never runs), logged, reported with status
# "error: ..." and fails the pass; the other agents are still handled.
# Also the password file: checked with every directory above it (a symlink
# is followed only where nobody else could have put it), opened at the
# resolved path and checked again on the opened descriptor.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
A=$W/falcon-agent
O=$W/other-agent
mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
mkagent other-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0), $(want other-agent 1.0.0)]}"
start_server
config
pass
is 'setup: exit 0' "$rc" 0
check 'setup: falcon-agent runs' running "$A/1.0.0"
check 'setup: other-agent runs' running "$O/1.0.0"
# Every run of falcon-agent's control from now on leaves a mark in $T/ran.
mv "$A/1.0.0/control" "$A/1.0.0/control.real"
printf '#!/bin/sh\necho "$1" >>"%s/ran"\nexec ./control.real "$@"\n' "$T" >"$A/1.0.0/control"
chmod 755 "$A/1.0.0/control"
pass
is 'setup: the marked control is trusted: exit 0' "$rc" 0
check 'setup: and it runs (status)' grep -qx status "$T/ran"
# From now on a pass would stop falcon-agent; a pass that does not refuse
# it runs its control (status) at least: each case below fails on its own.
serve "{\"agents\": [$(want falcon-agent 1.0.0 stop), $(want other-agent 1.0.0)]}"

# spoil PATH KIND: make PATH untrusted; mend PATH KIND undoes it. A
# symlink leads out of the work directory, where nothing looks like an agent.
spoil() {
	case $2 in
	owner) chown "$NOBODY" "$1" ;;
	group) chmod g+w "$1" ;;
	other) chmod o+w "$1" ;;
	symlink) mv "$1" "$T/moved" && ln -s "$T/moved" "$1" ;;
	esac
}
mend() {
	case $2 in
	owner) chown 0 "$1" ;;
	group | other) chmod go-w "$1" ;;
	symlink) rm "$1" && mv "$T/moved" "$1" ;;
	esac
}
why() {
	case $1 in
	owner) echo "owned by uid $NOBODY, not root or uid 0" ;;
	group) echo 'writable by group \(mode 0[0-7]{3}\)' ;;
	other) echo 'writable by others \(mode 0[0-7]{3}\)' ;;
	symlink) echo 'is a symlink' ;;
	esac
}

n=0
for what in agent version dotversion control; do
	case $what in
	agent) p=$A ;;
	version) p=$A/1.0.0 ;;
	dotversion) p=$A/.version ;;
	control) p=$A/1.0.0/control ;;
	esac
	for kind in owner group other symlink; do
		n=$((n + 1))
		HOSTNAME_CFG=case-$n
		config
		rm -f "$T/ran"
		(cd "$O/1.0.0" && ./control stop)
		spoil "$p" "$kind"
		pass
		mend "$p" "$kind"
		is "$what $kind: exit 1" "$rc" 1
		check_fails "$what $kind: its control never ran" test -e "$T/ran"
		grep_log "$what $kind: the error names the path and why" "error falcon-agent: refused: $p: $(why "$kind")$"
		grep_log "$what $kind: the entry is skipped" "error: desiredAgents entry 1 skipped: $p: $(why "$kind")$"
		check "$what $kind: other-agent is still handled" running "$O/1.0.0"
		# Reported when a .version names a version (it is not read through a symlink).
		if [ "$kind" != symlink ] || [ "$what" = version ] || [ "$what" = control ]; then
			check "$what $kind: reported as an error" sh -c \
			    "curl -s '$BASE/status/text/falcon-agent' | grep -E '^case-$n 1\\.0\\.0 error: $p: $(why "$kind") '"
		fi
	done
done
check 'falcon-agent was never stopped' running "$A/1.0.0"

# The work directory: the whole pass fails before anything is done there
# (the log in it is not even opened), no control runs. The config is
# outside it, or the config would be refused first.
mkdir -p "$T/etc"
for kind in owner group other symlink; do
	n=$((n + 1))
	rm -f "$T/ran"
	wd=$W
	[ $kind = symlink ] && ln -s "$W" "$T/work-link" && wd=$T/work-link
	config "\"workdir\": \"$wd\""
	mv "$W/cfg.json" "$T/etc/cfg.json"
	[ $kind = symlink ] || spoil "$W" "$kind"
	log_before=$(cksum <"$W/ops-updater.log")
	"$OPS_UPDATER" -c "$T/etc/cfg.json" --no-jitter run >"$T/pass.out" 2>&1
	rc=$?
	case $kind in symlink) rm "$T/work-link" ;; *) mend "$W" "$kind" ;; esac
	is "workdir $kind: exit 1" "$rc" 1
	check_fails "workdir $kind: no control ran" test -e "$T/ran"
	check "workdir $kind: stderr names it and why" grep -Eq \
	    "^ops-updater: work directory $wd refused: $wd: $(why "$kind")$" "$T/pass.out"
	if [ $kind = symlink ]; then
		# Root's link in root's directory leads to a trusted log.
		grep_log "workdir $kind: and in the log, found safe" "error: work directory $wd refused: $wd: is a symlink$"
	else
		is "workdir $kind: the log in it is left alone" "$(cksum <"$W/ops-updater.log")" "$log_before"
	fi
done
config
pass
is 'all mended: exit 0' "$rc" 0
check 'falcon-agent is stopped as asked' test "$(grep -c . "$T/ran")" -gt 0 -a ! -e "$A/1.0.0/agent.pid"
check 'other-agent runs' running "$O/1.0.0"

# A refused agent fails the pass even when the server does not name it;
# one outside the agents allow-list is none of this updater's business.
serve "{\"agents\": [$(want other-agent 1.0.0)]}"
rm -f "$T/ran"
chown "$NOBODY" "$A/1.0.0"
pass
is 'an unsafe agent the server does not name: exit 1' "$rc" 1
grep_log 'and the log says why' "error falcon-agent: refused: $A/1.0.0: $(why owner)$"
check_fails 'its control never ran' test -e "$T/ran"
config '"agents": ["other-agent"]'
pass
is 'the same outside the allow-list: exit 0' "$rc" 0
chown 0 "$A/1.0.0"
config

# The password file: on the opened descriptor, never through a symlink.
printf 'pw\n' >"$T/password"
chmod 600 "$T/password"
config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}"
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
is 'a password file of ours, 0600: accepted' $? 0
pwcase() {
	"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
	is "password file $1: exit 78" $? 78
	check "password file $1: the error names it and says why" grep -Eq "auth.password_file: $2" "$T/err"
}
chmod 640 "$T/password"
pwcase 'readable by group' "$T/password is readable by group; chmod g-r it"
chmod 604 "$T/password"
pwcase 'readable by others' "$T/password is readable by others; chmod o-r it"
chmod 600 "$T/password"
chown "$NOBODY" "$T/password"
pwcase "owned by $NOBODY" "$T/password refused: $T/password: owned by uid $NOBODY, not root or uid 0"
chown 0 "$T/password"
# Through a symlink: read when the file and every directory on the way
# pass, opened at the resolved path.
ln -s "$T/password" "$T/password-link"
config "\"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password-link\"}"
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
is 'a symlink of ours to a good password file: accepted' $? 0
chown "$NOBODY" "$T/password"
pwcase "a symlink to one owned by $NOBODY" "$T/password-link refused: $T/password: owned by uid $NOBODY, not root or uid 0"
chown 0 "$T/password"
done_testing
