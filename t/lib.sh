# t/lib.sh: TAP helpers and fixtures for ops-updater's tests. Sourced by
# every t/NNNN-*.t, which runs from anywhere under prove. Why a check
# failed goes to stderr, which prove shows even when not verbose.
#
#   check DESC CMD...           ok when CMD succeeds
#   check_fails DESC CMD...     ok when CMD fails
#   is DESC GOT WANT            ok when the strings are equal
#   matches DESC TEXT ERE       ok when TEXT has a line matching ERE
#   grep_log DESC ERE           ok when the log has a matching line
#   mkagent NAME VERSION [MODE] build and publish a real agent tarball
#                               (with $PAYLOAD_KB: a random payload and a MANIFEST)
#   mkgated NAME VERSION GATE   the same, but "control start" first touches
#                               $T/in-VERSION, then waits for file GATE: a
#                               pass holds the lock as long as a test likes
#   wait_file FILE              wait up to 60 s for FILE to appear; 0 if it did
#   publish NAME VERSION        tar and md5 $T/src/NAME-VERSION into the served files
#   serve JSON                  (re)write the fake ops-meta's config
#   start_other / stop_other    a second fake ops-meta, another origin ($OTHER)
#   start_proxy / stop_proxy    tinyproxy on 127.0.0.1:$PROXY_PORT (free_port: a free one)
#   pass [ARGS]                 one ops-updater pass; its exit code in $rc
#   st EXPR                     a Python expression over the state file's
#                               JSON s, e.g. st 's["exit_code"]'; a: agent 0
#   sa AGENT EXPR               the same, a: that agent's entry
#   crashing NAME VERSION       publish an agent whose daemon dies 4 s after
#                               each start
#   dead DIR [WHAT]             wait for the agent of DIR to die; check it did
#   plugin [ARGS]               ops-updater check: its line in $out, its
#                               exit code in $crc
#   done_testing                the plan, last; the script's exit status
# Every test file is ended, and fails, after $TEST_TIMEOUT seconds (900).
set -u
cd "$(dirname "$0")" || exit 1
TDIR=$(pwd)
TOP=$(cd .. && pwd)
OPS_UPDATER=${OPS_UPDATER:-$TOP/ops-updater}
T=$(mktemp -d "${TMPDIR:-/tmp}/ops-updater-test.XXXXXX")
# Debian's python3, which has the modules .ci/deps installs: a python3
# found first in PATH (a pyenv shim, say) may lack them, and a shim's
# start costs 0.1 s idle and seconds on a loaded machine, hundreds of
# times a suite. A link, not a function: "python3 ... &" must be the
# server's own pid, for kill.
if [ -x /usr/bin/python3 ]; then
	mkdir "$T/.bin" && ln -s /usr/bin/python3 "$T/.bin/python3"
	PATH=$T/.bin:$PATH
	export PATH
fi
W=$T/work		# the updater's work directory
# The version this tree builds, from its one place.
VERSION=$(sed -n '1s/^ops-updater (\([^)]*\)).*/\1/p' "$TOP/debian/changelog")
F=$T/files		# what the fake server serves under /files/
mkdir -p "$W" "$F" "$T/src"
ntest=0
nfail=0
server_pid=
other_pid=

cleanup() {
	# Agents started by control scripts: their pid files are in $W.
	find "$W" -name agent.pid 2>/dev/null | while read -r p; do
		kill "$(cat "$p")" 2>/dev/null
	done
	# Whatever else runs in our tree (a killed pass's control scripts).
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$T" | "$T"/*) kill "${p#/proc/}" 2>/dev/null ;; esac
	done
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	[ -n "$other_pid" ] && kill "$other_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The watchdog: a test file still running after TEST_TIMEOUT seconds (a
# loop, a hung child) is ended, and fails: make test fails, never hangs.
# Generous: the slowest file takes about 2 minutes on a loaded 2-core
# machine. Its working directory is $T, so cleanup ends it with the rest.
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
(
	cd "$T" || exit 1
	sleep "$TEST_TIMEOUT" || exit 0	# ended early by cleanup: nothing to do
	echo "# $0: timed out after $TEST_TIMEOUT s: ending it" >&2
	read -r self _ </proc/self/stat
	# The script first, so that its trap is pending when the child it
	# waits for dies; then everything it runs, but this watchdog.
	kill -TERM $$
	kill_tree() {
		for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
			[ "$c" = "$self" ] || kill_tree "$c"
		done
		kill -KILL "$1" 2>/dev/null
	}
	for c in $(cat /proc/$$/task/*/children 2>/dev/null); do
		[ "$c" = "$self" ] || kill_tree "$c"
	done
) >/dev/null &

report() {
	ntest=$((ntest + 1))
	if [ "$1" = 0 ]; then
		echo "ok $ntest - $2"
	else
		nfail=$((nfail + 1))
		echo "not ok $ntest - $2"
	fi
}

check() {
	desc=$1
	shift
	"$@" >"$T/out" 2>&1
	r=$?
	report $r "$desc"
	[ $r = 0 ] || sed 's/^/# /' "$T/out" >&2
}

check_fails() {
	desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then
		report 1 "$desc"
		sed 's/^/# /' "$T/out" >&2
	else
		report 0 "$desc"
	fi
}

is() {
	if [ "$2" = "$3" ]; then
		report 0 "$1"
	else
		report 1 "$1"
		printf '# got:  %s\n# want: %s\n' "$2" "$3" >&2
	fi
}

matches() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		report 0 "$1"
	else
		report 1 "$1"
		printf '# got:  %s\n# want: /%s/\n' "$2" "$3" >&2
	fi
}

grep_log() {
	if grep -Eq -- "$2" "$W/ops-updater.log" 2>/dev/null; then
		report 0 "$1"
	else
		report 1 "$1"
		echo "# no line matching: $2" >&2
		sed 's/^/# log: /' "$W/ops-updater.log" 2>/dev/null | tail -20 >&2
	fi
}

# An agent: control + a daemon that really runs (sleep, so a stray one dies
# on its own). MODE: ok, nostart (start does nothing), hangstatus (status
# never answers), stdout (the daemon keeps the script's stdout open), slow
# (start and stop take 0.1 s), crash (the daemon dies 2 s after its start),
# ticker (like stdout, and the daemon writes "tick N" to it every 0.1 s).
# Every start appends a line to <version>/starts.
mkagent() {
	name=$1 version=$2 mode=${3:-ok}
	d=$T/src/$name-$version
	rm -rf "$d"
	mkdir -p "$d"
	printf '#!/bin/sh\nexec sleep 300\n' >"$d/$name"
	[ "$mode" = crash ] && printf '#!/bin/sh\nexec sleep 2\n' >"$d/$name"
	[ "$mode" = ticker ] &&
	    printf '#!/bin/sh\ni=0\nwhile [ $i -lt 3000 ]; do echo "tick $i"; i=$((i + 1)); sleep 0.1; done\n' >"$d/$name"
	case $mode in
	nostart) startcmd=':' ;;
	slow) startcmd="sleep 0.1; nohup ./$name >/dev/null 2>&1 & echo \$! >agent.pid" ;;
	stdout|ticker) startcmd="./$name & echo \$! >agent.pid" ;;
	*) startcmd="nohup ./$name >/dev/null 2>&1 & echo \$! >agent.pid" ;;
	esac
	statuscmd='running && echo started || echo stoped'
	[ "$mode" = hangstatus ] && statuscmd='sleep 300'
	cat >"$d/control" <<CONTROL
#!/bin/sh
# test agent $name $version ($mode)
# Alive and not a zombie (an init that does not reap leaves those behind).
running() { [ -f agent.pid ] && grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/\$(cat agent.pid)/status" 2>/dev/null; }
case "\$1" in
start) running && exit 0; echo start >>starts; env >start.env; $startcmd ;;
stop) [ $mode = slow ] && sleep 0.1; running && kill "\$(cat agent.pid)"; rm -f agent.pid ;;
status) $statuscmd ;;
*) echo "usage: \$0 start|stop|status" >&2; exit 2 ;;
esac
CONTROL
	chmod +x "$d/control" "$d/$name"
	# What an intact install holds, to be checked with md5sum -c.
	if [ -n "${PAYLOAD_KB:-}" ]; then
		head -c $((PAYLOAD_KB * 1024)) /dev/urandom >"$d/payload"
		(cd "$d" && md5sum control "$name" payload >MANIFEST)
	fi
	publish "$name" "$version"
}

# The release of the tree $T/src/$1-$2, with its .md5, for the fake server.
publish() {
	tar -czf "$F/$1-$2.tar.gz" -C "$T/src/$1-$2" .
	(cd "$F" && md5sum "$1-$2.tar.gz" >"$1-$2.tar.gz.md5")
}

mkgated() {
	mkagent "$1" "$2"
	sed -i "s|^start) |start) touch $T/in-$2; while [ ! -e $3 ]; do sleep 0.1; done; |" "$T/src/$1-$2/control"
	publish "$1" "$2"
}

wait_file() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	test -e "$1"
}

# The fake ops-meta config; read again by the server on every request.
serve() {
	printf '%s\n' "$1" >"$T/meta.json.tmp" && mv "$T/meta.json.tmp" "$T/meta.json"
}

# One desired agent entry with tarballs from our fake server.
want() {
	printf '{"default": {"name": "%s", "version": "%s", "tarball": "{base}/files", "md5": "", "cmd": "%s"}}' \
	    "$1" "$2" "${3:-start}"
}

# start_server [ops-meta.py options, e.g. --cert/--key for HTTPS]
start_server() {
	[ -f "$T/meta.json" ] || serve '{"agents": []}'
	rm -f "$T/port"
	python3 "$TDIR/ops-meta.py" --config "$T/meta.json" --files "$F" \
	    --port-file "$T/port" --log "$T/requests" "$@" &
	server_pid=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(cat "$T/port")
	case " $* " in *" --cert "*) BASE=https://127.0.0.1:$PORT ;; *) BASE=http://127.0.0.1:$PORT ;; esac
}

# A second fake ops-meta on another port: another origin, plain http, its
# own config ($T/meta2.json: no agents, no auth) and request log
# ($T/requests2), serving the same files. Its base URL in $OTHER.
start_other() {
	printf '{"agents": []}\n' >"$T/meta2.json"
	python3 "$TDIR/ops-meta.py" --config "$T/meta2.json" --files "$F" \
	    --port-file "$T/port2" --log "$T/requests2" &
	other_pid=$!
	i=0
	while [ ! -s "$T/port2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	OTHER=http://127.0.0.1:$(cat "$T/port2")
}

stop_other() {
	kill "$other_pid" 2>/dev/null
	wait "$other_pid" 2>/dev/null
	other_pid=
}

stop_server() {
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
}

# A CA, a server certificate for 127.0.0.1 and a client certificate, in $T/pki.
mkcerts() {
	mkdir -p "$T/pki" && (
		cd "$T/pki" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca &&
		for who in server client; do
			openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr -subj /CN=$who &&
			printf 'subjectAltName=IP:127.0.0.1\n' >$who.ext &&
			openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			    -extfile $who.ext -out $who.pem || return 1
		done
	) >"$T/pki.log" 2>&1
}

# cfg.json in $W with the server and any extra keys, e.g. config '"jitter": 0'.
# Short timeouts unless the extra keys set them.
config() {
	extra=${1:-}
	case $extra in *control_timeout*) ;; *) extra="$extra${extra:+, }\"control_timeout\": 5" ;; esac
	case $extra in *status_wait*) ;; *) extra="$extra, \"status_wait\": 5" ;; esac
	# No health gate and no holds unless a test is about them: tests that
	# retry the same version at once stay fast.
	case $extra in *health_wait*) ;; *) extra="$extra, \"health_wait\": 0" ;; esac
	case $extra in *retry_failed*) ;; *) extra="$extra, \"retry_failed\": 0" ;; esac
	printf '{"server": "%s", "hostname": "%s", %s}\n' \
	    "${SERVER:-127.0.0.1:${PORT:-1}}" "${HOSTNAME_CFG:-test-host-1}" "$extra" >"$W/cfg.json"
}

# Under check-asan a sanitizer report fails the test even where the pass
# was expected to fail anyway.
sanitizer_clean() {
	if grep -Eq 'Sanitizer|runtime error:' "$1"; then
		report 1 "no sanitizer report ($2)"
		sed 's/^/# /' "$1" | head -40 >&2
	fi
}

pass() {
	"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter "$@" run >"$T/pass.out" 2>&1
	rc=$?
	sanitizer_clean "$T/pass.out" "pass $*"
}

plugin() {
	"$OPS_UPDATER" -c "$W/cfg.json" "$@" check >"$T/check" 2>"$T/check.err"
	crc=$?
	out=$(cat "$T/check")
	sanitizer_clean "$T/check.err" "check $*"
}

# What the server was told about agent $1, as "version status" per host.
reported() {
	curl -s "$BASE/status/text/$1" | awk '{print $2, $3}'
}

# Does the agent of version directory $1 run (a zombie does not)?
running() {
	[ -f "$1/agent.pid" ] && grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$(cat "$1/agent.pid")/status" 2>/dev/null
}

# The live processes whose working directory is $1.
procs_in() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/cwd" 2>/dev/null)" = "$1" ] &&
		    grep -q '^State:[[:space:]]*[^Z[:space:]]' "$p/status" 2>/dev/null && echo "${p#/proc/}"
	done
}

st() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1])); a = (s["agents"] or [None])[0]
print(eval(sys.argv[2]))' "$W/ops-updater.state.json" "$1" 2>&1
}
# sa AGENT EXPR: st's EXPR for the entry of that agent (a).
sa() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1])); a = [x for x in s["agents"] if x["name"] == sys.argv[2]][0]
print(eval(sys.argv[3]))' "$W/ops-updater.state.json" "$1" "$2" 2>&1
}
# crashing NAME VERSION: publish an agent whose daemon dies 4 s after each
# start: long enough to pass a health gate of 1 s on a loaded machine.
crashing() {
	mkagent "$1" "$2" crash
	printf '#!/bin/sh\nexec sleep 4\n' >"$T/src/$1-$2/$1"
	publish "$1" "$2"
}
# dead DIR [WHAT]: wait up to 20 s for the agent of version directory DIR
# to die, and check that it did.
dead() {
	w=0
	while running "$1" && [ $w -lt 200 ]; do sleep 0.1; w=$((w + 1)); done
	check_fails "${2:-it} died" running "$1"
}

downloads() {
	grep -c '^GET /files/' "$T/requests" 2>/dev/null || true
}

# Anything but agents' version directories and .version left in $W/$1?
leftovers() {
	find "$W/$1" -name '.ops-updater-tmp.*' 2>/dev/null
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_proxy [tinyproxy.conf lines]: a forward proxy (tinyproxy) on
# 127.0.0.1:$PROXY_PORT, in the background of this script, logging every
# request to $T/proxy.log. Its working directory is $T, so cleanup ends it.
proxy_pid=
start_proxy() {
	tries=0
	while [ $tries -lt 5 ]; do
		PROXY_PORT=$(free_port)
		printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nLogFile "%s"\nLogLevel Info\nMaxClients 20\nAllow 127.0.0.1\n%s\n' \
		    "$PROXY_PORT" "$T/proxy.log" "${1:-}" >"$T/proxy.conf"
		: >"$T/proxy.log"
		(cd "$T" && exec tinyproxy -d -c "$T/proxy.conf") >"$T/proxy.out" 2>&1 &
		proxy_pid=$!
		i=0
		while [ $i -lt 50 ] && kill -0 "$proxy_pid" 2>/dev/null; do
			grep -q 'Accepting connections' "$T/proxy.log" && return 0
			sleep 0.1
			i=$((i + 1))
		done
		stop_proxy
		tries=$((tries + 1))
	done
	echo "# tinyproxy did not start:" >&2
	sed 's/^/# /' "$T/proxy.out" "$T/proxy.log" >&2
	return 1
}

stop_proxy() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	proxy_pid=
}

# The plan comes last: a script that dies early has none, and fails.
done_testing() {
	echo "1..$ntest"
	[ $nfail = 0 ]
}
