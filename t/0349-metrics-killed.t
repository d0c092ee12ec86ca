#!/bin/sh
# A pass killed while it writes the metrics file leaves its temporary file
# (.ops-updater-tmp.<name>.<pid>) in the metrics directory, which is
# node_exporter's and no sweep of the work directory's: the next pass
# removes it, and purge's postrm too (t/0348), or every such kill leaves
# one more copy behind for good. A file of that name that is not ours
# (the directory's owner's) is left alone.
. "$(dirname "$0")/lib.sh"

mkdir -m 755 "$T/prom"
M=$T/prom/ops.prom
mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config "\"metrics_file\": \"$M\""
pass
is 'setup: exit 0' "$rc" 0

# Which rename of the pass is the metrics file's; then the same pass again,
# killed (strace delivers SIGKILL) as it makes that rename.
strace -qq -e trace=rename,renameat,renameat2 -o "$T/trace" "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run \
    >"$T/pass.out" 2>&1
n=$(awk '/^rename/ { i++ } /^rename.*ops\.prom"/ { print i; exit }' "$T/trace")
check 'the metrics file is renamed into place' test -n "$n"
strace -qq -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL:when="$n" \
    -o "$T/trace2" "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run >"$T/pass.out" 2>&1
matches 'the pass was killed at that rename' "$(grep '^rename' "$T/trace2" | tail -n 1)" 'ops\.prom".*= \?$'
left=$(find "$T/prom" -name '.ops-updater-tmp.ops.prom.*' | wc -l)
is 'it left its temporary file' "$left" 1
# One of the directory's owner's, with our prefix: not ours to remove.
echo theirs >"$T/prom/.ops-updater-tmp.ops.prom.1" && chown 65534 "$T/prom/.ops-updater-tmp.ops.prom.1"

pass
is 'the next pass: exit 0' "$rc" 0
check 'it writes the metrics' grep -q '^ops_updater_last_pass_exit_code 0$' "$M"
is 'and removes what the killed pass left' "$(find "$T/prom" -name '.ops-updater-tmp.*' -user 0 | wc -l)" 0
grep_log 'the log says so' "removed $T/prom/\\.ops-updater-tmp\\.ops\\.prom\\.[0-9]+, left by an interrupted pass"
is 'the owner'"'"'s file is kept' "$(cat "$T/prom/.ops-updater-tmp.ops.prom.1")" theirs

done_testing
