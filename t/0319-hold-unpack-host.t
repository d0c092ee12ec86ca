#!/bin/sh
# An unpack that fails for the host's sake holds nothing: gzip or tar cut
# at download_timeout (a slow host or link), or not run at all (here:
# a path the unpack's unprivileged uid cannot reach). The log says so,
# the pass fails, and the next pass on a healthy host installs at once.
. "$(dirname "$0")/lib.sh"

start_server
mkagent a 1; mkagent a 2; mkagent a 3
serve "{\"agents\": [$(want a 1)]}"
config '"retry_failed": 3600'
pass
is 'setup: 1 installed' "$rc" 0
# The sandbox's uid must reach the tools of these paths.
chmod 755 "$T"

# A slow host: tar takes longer than download_timeout to begin.
mkdir -p "$T/slow"
# (No fork: the unpack's uid may run only a few processes.)
printf '#!/bin/sh\nexec perl -e '"'"'sleep 5; exec "tar", @ARGV'"'"' -- "$@"\n' >"$T/slow/tar"
chmod 755 "$T/slow" "$T/slow/tar"
config "\"retry_failed\": 3600, \"download_timeout\": 2, \"path\": \"$T/slow:/usr/bin:/bin\""
serve "{\"agents\": [$(want a 2)]}"
pass
is 'tar cut at download_timeout: exit 1, failed, not held' \
    "$rc $(st 'a["result"], a["held_version"]')" "1 ('failed', '')"
grep_log 'the log blames the time, not the release' \
    'error a: a-2\.tar\.gz not downloaded and unpacked within 2 s \(download_timeout\): a slow link or host, no verdict on the release$'
config '"retry_failed": 3600'
pass
is 'a fast host: the next pass installs it, no --retry' "$rc $(cat "$W/a/.version")" "0 2"

# The same slow tar on a release larger than the pipes: the unpack runs
# into download_timeout while the download is still under way. What came
# so far is good to resume from.
PAYLOAD_KB=6144 mkagent a 4
config "\"retry_failed\": 3600, \"download_timeout\": 2, \"path\": \"$T/slow:/usr/bin:/bin\""
serve "{\"agents\": [$(want a 4)]}"
pass
is 'cut mid-download by the unpack deadline: exit 1, failed, not held' \
    "$rc $(st 'a["result"], a["held_version"]')" "1 ('failed', '')"
check 'and the bytes so far are kept to resume' test -s "$W/a/.ops-updater-partial.a-4.tar.gz"
config '"retry_failed": 3600'
pass
is 'the next pass resumes and installs it' "$rc $(cat "$W/a/.version")" "0 4"
grep_log 'resumed, not fetched again' 'a: resuming .*/a-4\.tar\.gz at byte [1-9]'

# tar where the unpack's uid cannot run it: the host's setup.
mkdir -p "$T/rootonly"
ln -s "$(command -v tar)" "$T/rootonly/tar"
chmod 700 "$T/rootonly"
config "\"retry_failed\": 3600, \"path\": \"$T/rootonly:/usr/bin:/bin\""
serve "{\"agents\": [$(want a 3)]}"
: >"$W/ops-updater.log"
pass
is 'tar cannot run: exit 1, failed, not held' \
    "$rc $(st 'a["result"], a["held_version"]')" "1 ('failed', '')"
grep_log 'the log names the host, not the release' \
    'error a: cannot unpack a-3\.tar\.gz: tar cannot run: Permission denied: a fault of this host, no verdict on the release$'
chmod 755 "$T/rootonly"
pass
is 'the host fixed: the next pass installs it, no --retry' "$rc $(cat "$W/a/.version")" "0 3"

# tar killed by SIGKILL from outside (as the OOM killer does), not by us.
mkdir -p "$T/oom"
printf '#!/bin/sh\nexec perl -e '"'"'kill 9, $$'"'"'\n' >"$T/oom/tar"
chmod 755 "$T/oom" "$T/oom/tar"
mkagent a 5
config "\"retry_failed\": 3600, \"path\": \"$T/oom:/usr/bin:/bin\""
serve "{\"agents\": [$(want a 5)]}"
: >"$W/ops-updater.log"
pass
is 'tar killed by SIGKILL: exit 1, failed, not held' \
    "$rc $(st 'a["result"], a["held_version"]')" "1 ('failed', '')"
grep_log 'the log says so' \
    'error a: cannot unpack a-5\.tar\.gz: tar killed by signal 9: a fault of this host, no verdict on the release$'

done_testing
