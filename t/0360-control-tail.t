#!/bin/sh
# control tail follows the log that cfg.json names, read as data: "log"
# relative to the config's directory, else <workdir>/ops-updater.log. With
# python3 and, where python3 is missing, with the sed fallback.
. "$(dirname "$0")/lib.sh"

cp "$TOP/control" "$W/"
# A PATH without python3, for the fallback: what control itself needs
# (and touch, which a hostile value would run if control evaluated it).
mkdir -p "$T/nopy"
for c in tail sed tr dirname grep crontab cat touch; do
	p=$(command -v "$c") && ln -s "$p" "$T/nopy/$c"
done

# Each candidate log holds its own name, so the output says which one
# tail followed.
mark() {
	mkdir -p "$(dirname "$1")" && printf 'this is %s\n' "$1" >"$1"
}

# tailed [env ...]: control tail (through env ... when given), run from $T,
# until it has printed a marked line, 5 s at most; its output in $T/tail.
tailed() {
	: >"$T/tail"
	(cd "$T" && exec "$@" "$W/control" tail) >"$T/tail" 2>"$T/tail.err" &
	tail_pid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q '^this is ' "$T/tail"; do
		sleep 0.05
		i=$((i + 1))
	done
	kill "$tail_pid" 2>/dev/null
	wait "$tail_pid" 2>/dev/null
}

# follows DESC CFG_JSON WANTED_LOG: with python3 and without.
follows() {
	printf '%s\n' "$2" >"$W/cfg.json"
	mark "$3"
	tailed
	is "$1" "$(grep '^this is ' "$T/tail")" "this is $3"
	tailed env PATH="$T/nopy"
	is "$1 (no python3)" "$(grep '^this is ' "$T/tail")" "this is $3"
	rm -f "$3"
}

check_fails 'the fallback PATH really has no python3' env PATH="$T/nopy" /bin/sh -c 'command -v python3'
follows 'no log key: <config dir>/ops-updater.log' '{"server": "h:1"}' "$W/ops-updater.log"
mark "$W/ops-updater.log"	# the default, there from now on: never shown when another is named
follows 'a relative log: from the config directory' \
    '{"server": "h:1",
      "log": "logs/updater.log"}' "$W/logs/updater.log"
follows 'an absolute log' "{\"log\": \"$T/var/log/ops.log\", \"server\": \"h:1\"}" "$T/var/log/ops.log"
follows 'a relative workdir, no log: <workdir>/ops-updater.log' \
    '{"server": "h:1", "workdir": "agents"}' "$W/agents/ops-updater.log"
follows 'an absolute workdir, no log' "{\"server\": \"h:1\", \"workdir\": \"$T/wd\"}" "$T/wd/ops-updater.log"
follows 'log wins over workdir, and is not relative to it' \
    "{\"workdir\": \"$T/wd\", \"log\": \"l/u.log\", \"log_max_mb\": 1}" "$W/l/u.log"

# Hostile values are data: nothing is run, the odd name is just a file name.
follows 'a log value full of shell is a file name' \
    '{"server": "h:1", "log": "$(touch pwned);`touch pwned2`|x&y"}' "$W/\$(touch pwned);\`touch pwned2\`|x&y"
check_fails 'and nothing was run' sh -c "find '$T' -name 'pwned*' | grep -q ."

# A broken cfg.json (ops-updater then complains into the default log).
printf '{"log": ' >"$W/cfg.json"
tailed
is 'a broken cfg.json: the default log' "$(grep '^this is ' "$T/tail")" "this is $W/ops-updater.log"
check 'and a warning says why' grep -q "control: $W/cfg.json: .*following the default log" "$T/tail.err"
rm -f "$W/cfg.json"
tailed
is 'no cfg.json: the default log' "$(grep '^this is ' "$T/tail")" "this is $W/ops-updater.log"
done_testing
