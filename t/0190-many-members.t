#!/bin/sh
# A valid tarball with 40,000 members, arriving slowly: tar lists it into a
# pipe faster than the pass reads it, and must then wait (a blocking pipe),
# not fail with "write error" (it did while its end was non-blocking).
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
# The members are empty and made in memory: the test is about the listing,
# whose lines a long directory name makes long (it failed more surely so).
python3 - "$T/src/falcon-agent-1.0.0" "$F/falcon-agent-1.0.0.tar.gz" <<'PY' || exit 1
import sys, tarfile
src, out = sys.argv[1:]
with tarfile.open(out, "w:gz") as t:
    t.add(src, arcname=".")
    for i in range(40000):
        t.addfile(tarfile.TarInfo("many/%s/member-%05d" % ("d" * 60, i)))
PY
(cd "$F" && md5sum falcon-agent-1.0.0.tar.gz >falcon-agent-1.0.0.tar.gz.md5) || exit 1
is 'the tarball has 40,000 members and control' "$(tar -tzf "$F/falcon-agent-1.0.0.tar.gz" | grep -c '/member-')" 40000
serve "{\"agents\": [$(want falcon-agent 1.0.0)], \"faults\": {\"rate\": 1000000}}"
start_server
config
pass
is '40,000 members at 1 MB/s: exit 0' "$rc" 0
check 'the agent runs' running "$W/falcon-agent/1.0.0"
is 'every member unpacked' "$(ls "$W/falcon-agent/1.0.0/many/"d* | wc -l)" 40000
check_fails 'no tar write error' grep 'write error' "$W/ops-updater.log"
done_testing
