#!/bin/sh
# The command line: usage, version, config errors, the status table, tools.
. "$(dirname "$0")/lib.sh"

u=$OPS_UPDATER
"$u" >/dev/null 2>&1; is 'no command: exit 64' $? 64
"$u" frobnicate >/dev/null 2>&1; is 'unknown command: exit 64' $? 64
"$u" -x run >/dev/null 2>&1; is 'unknown option: exit 64' $? 64
"$u" --help >"$T/help"; is '--help: exit 0' $? 0
check '--help lists the commands and exit codes' grep -q 'status  *what the config protects against, a table of local agents' "$T/help"
# make without CONFIG: the tarball's config, in the current directory
# (the package's build sets its own; t/package.sh checks that one).
check '--help shows the default config: cfg.json' grep -q '^  -c FILE  *config file (default cfg.json)$' "$T/help"
is '--version: the version of debian/changelog' "$("$u" --version)" \
    "ops-updater $(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)"

cfgerr() {	# config text, expected message
	printf '%s\n' "$1" >"$T/bad.json"
	"$u" -c "$T/bad.json" run 2>"$T/err"
	is "config error exit 78: $2" $? 78
	is "config error names the key: $2" "$(cat "$T/err")" "ops-updater: $T/bad.json: $2"
}
cfgerr '{"server": "127.0.0.1:1", "jitter": "soon"}' 'line 1, column 27: jitter: must be a whole number from 0 to 3600'
cfgerr '{"server": "127.0.0.1:1", "agnets": []}' 'line 1, column 27: agnets: unknown key'
cfgerr '{"server": "127.0.0.1:1",' 'line 2, column 1: JSON syntax error'
"$u" -c "$T/missing.json" run 2>"$T/err"
is 'missing config: exit 78' $? 78
is 'missing config: says why' "$(cat "$T/err")" "ops-updater: $T/missing.json: cannot read: No such file or directory"
check_fails 'a config error writes no log or lock' test -e "$T/ops-updater.log" -o -e "$T/ops-updater.pid"
printf '{"server": "127.0.0.1:1", "log": "%s/no/such/dir/log"}\n' "$T" >"$T/bad.json"
"$u" -c "$T/bad.json" run 2>/dev/null
is 'a log that cannot be opened: exit 78' $? 78

# status: a table of the local agents; no network (the server is down).
mkagent falcon-agent 1.0.0
mkdir -p "$W/falcon-agent" && tar -xzf "$F/falcon-agent-1.0.0.tar.gz" -C "$W/falcon-agent" --one-top-level=1.0.0
echo 1.0.0 >"$W/falcon-agent/.version"
mkdir -p "$W/not-an-agent"
config
"$u" -c "$W/cfg.json" status >"$T/status"
is 'status: exit 0' $? 0
is 'status: first, what the config protects against' "$(head -1 "$T/status")" \
    'protection: plain http, no key: accidental corruption only (MD5 from the same origin)'
is 'status: then its own version' "$(sed -n 2p "$T/status")" \
    "version: ops-updater $VERSION"
is 'status: the table' "$(sed 1,2d "$T/status")" "$(printf '%-24s %-16s %s\n%-24s %-16s %s' NAME VERSION STATUS falcon-agent 1.0.0 stoped)"
check_fails 'status takes no lock' test -e "$W/ops-updater.pid"

# Jitter: a random sleep within the configured bound (-v says how long).
config '"jitter": 1'
"$u" -c "$W/cfg.json" -v run >/dev/null 2>&1
ms=$(sed -n 's/.*debug: sleeping \([0-9]*\) ms of jitter$/\1/p' "$W/ops-updater.log")
check 'jitter: a sleep of 0..1000 ms was chosen' test -n "$ms" -a "${ms:-9999}" -le 1000
config

# tar missing from the config's path: 69, nothing done.
mkdir -p "$T/bin" && ln -s "$(command -v gzip)" "$T/bin/gzip"
config "\"path\": \"$T/bin\""
"$u" -c "$W/cfg.json" --no-jitter run 2>/dev/null
is 'tar missing: exit 69' $? 69
grep_log 'tar missing: logged' 'error: tar not found in path'
done_testing
