#!/bin/sh
# ops-updater -t and -T test a config before it lands (puppet's
# validate_cmd, ansible's validate): exit 0 or 78, every error with its
# line and column, and nothing sent, locked or written. check says
# CRITICAL on a config no pass can read.
. "$(dirname "$0")/lib.sh"

u=$OPS_UPDATER
start_server
: >"$T/requests"
config "\"metrics_file\": \"$T/m/ops-updater.prom\", \"log\": \"$T/l/ops-updater.log\""
mkdir "$T/m" "$T/l"
"$u" -t -c "$W/cfg.json" >"$T/out" 2>"$T/err"
is '-t on a good config: exit 0' "$?" 0
is 'and says so' "$(cat "$T/out")" "$W/cfg.json: ok"
is 'nothing on stderr' "$(cat "$T/err")" ''
"$u" -T -c "$W/cfg.json" >"$T/out" 2>"$T/err"
is '-T: exit 0' "$?" 0
matches '-T prints the effective config' "$(cat "$T/out")" "^metrics_file $T/m/ops-updater.prom\$"
matches '-T: defaults too' "$(cat "$T/out")" '^jitter 240$'
matches '-T: the server, made canonical' "$(cat "$T/out")" "^server http://127.0.0.1:$PORT\$"
is 'nothing was sent' "$(cat "$T/requests")" ''
is 'nothing was written: no lock, state, log or metrics' "$(ls -A "$W"; ls -A "$T/m"; ls -A "$T/l")" cfg.json

# Errors: 78, with the line and column, and still nothing written.
printf '{\n  "server": "http://127.0.0.1:%s"\n  "jitter": 0\n}\n' "$PORT" >"$T/bad.json"
"$u" -t -c "$T/bad.json" >"$T/out" 2>"$T/err"
is '-t on a syntax error: exit 78' "$?" 78
is 'it says where' "$(cat "$T/err")" "ops-updater: $T/bad.json: line 3, column 3: JSON syntax error"
is 'and prints nothing on stdout' "$(cat "$T/out")" ''
printf '{"server": "http://127.0.0.1:%s",\n "auth": {"user": "u",\n   "password_file": "%s/no-such"}}\n' "$PORT" "$T" >"$T/bad.json"
"$u" -T -c "$T/bad.json" >"$T/out" 2>"$T/err"
is '-T on a missing password file: exit 78' "$?" 78
is 'the key that names it, where it is written' "$(cat "$T/err")" \
    "ops-updater: $T/bad.json: line 3, column 4: auth.password_file: $T/no-such: No such file or directory"
is '-T prints no config then' "$(cat "$T/out")" ''
"$u" -t -c "$T/missing.json" 2>"$T/err"
is '-t on a missing file: exit 78' "$?" 78
is 'nothing was sent by any of them' "$(cat "$T/requests")" ''
is 'nor written' "$(ls -A "$W"; ls -A "$T/m"; ls -A "$T/l")" cfg.json
"$u" -t -c "$W/cfg.json" run >/dev/null 2>&1
is '-t with a command: usage, 64' "$?" 64

# check: a config that cannot be read or parsed stops every pass.
"$u" -c "$T/bad.json" check >"$T/check"
printf '{"server": "http://127.0.0.1:1",\n "jitter": 5\n "log": "x"}\n' >"$T/bad.json"
"$u" -c "$T/bad.json" check >"$T/check"
is 'check on a broken config: CRITICAL (2)' "$?" 2
is 'with the line and column' "$(cat "$T/check")" \
    "OPS-UPDATER CRITICAL - $T/bad.json: line 3, column 2: JSON syntax error"
"$u" -c "$T/missing.json" check >"$T/check"
is 'check on a missing config: CRITICAL (2)' "$?:$(cat "$T/check")" \
    "2:OPS-UPDATER CRITICAL - $T/missing.json: cannot read: No such file or directory"
done_testing
