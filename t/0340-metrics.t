#!/bin/sh
# The metrics textfile, read back by a real Prometheus parser (the Python
# client's, Debian's python3-prometheus-client): every value and every
# hostile label value must come back as metrics_format meant it. The
# sample last pass is the one of t/unit.c, written by metrics_write.
. "$(dirname "$0")/lib.sh"
UNIT=${UNIT:-$TOP/build/unit}

# Debian's module is for Debian's python3, which a pyenv on PATH may hide.
PY=python3
$PY -c 'import prometheus_client' 2>/dev/null || PY=/usr/bin/python3
check 'the Prometheus parser is installed (python3-prometheus-client)' $PY -c 'import prometheus_client'

"$UNIT" metrics-sample "$T/m.prom" >"$T/unit.out" 2>&1
is 'metrics_write: exit 0' $? 0
is 'the file is readable by node_exporter (0644)' "$(stat -c %a "$T/m.prom")" 644
is 'no temp file left' "$(ls -A "$T" | grep -c ops-updater-tmp)" 0

cat >"$T/parse.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
fams = {}
for f in text_string_to_metric_families(text):
    assert f.name not in fams, "family %s given twice" % f.name
    fams[f.name] = f
got = {}
for f in fams.values():
    counters = ("ops_updater_agent_restarts", "ops_updater_agent_probation_failures")
    assert f.type == ("counter" if f.name in counters else "gauge"), (f.name, f.type)
    for s in f.samples:
        key = (s.name, tuple(sorted(s.labels.items())))
        assert key not in got, "duplicate series %r" % (key,)
        got[key] = s.value

def want(metric, value, **labels):
    key = (metric, tuple(sorted(labels.items())))
    assert key in got, "missing %r\nhave: %r" % (key, [k for k in got if k[0] == metric])
    assert got[key] == value, "%r: got %r, want %r" % (key, got[key], value)
    del got[key]

P = "ops_updater_"
A = "A" * 200 + "..."
B = "\\" * 200 + "..."
evil = 'ev"il\\na\nme'
want(P + "last_pass_timestamp_seconds", 1700000000)
want(P + "last_pass_duration_seconds", 1.234)
want(P + "last_pass_exit_code", 1)
want(P + "log_lines_lost", 0)
want(P + "agent_info", 1, name="falcon-agent", version="1.0.0", status="started")
want(P + "agent_info", 1, name="weird", version="1.0", status='l1\nl2 "q" \\ ??? ? \u00e9 ??? ??')
want(P + "agent_desired_info", 1, name="falcon-agent", version="1.0.1", cmd="start")
want(P + "agent_desired_info", 1, name=evil, version='2.0\n"x"', cmd="st\\op")
want(P + "agent_desired_info", 1, name=A, version=B, cmd="")
want(P + "agent_desired_info", 1, name="", version="", cmd="")
want(P + "agent_failures", 0, name="falcon-agent")
want(P + "agent_failures", 3, name=evil)
want(P + "agent_failures", 7, name=A)
want(P + "agent_failures", 0, name="")
want(P + "agent_held", 0, name="falcon-agent", version="")
want(P + "agent_held", 1, name=evil, version='2.0\n"x"')
want(P + "agent_held", 0, name=A, version="")
want(P + "agent_held", 0, name="", version="")
want(P + "agent_verdict", 1, name="falcon-agent", version="1.0.1", verdict="ok")
want(P + "agent_verdict", 1, name=evil, version='2.0\n"x"', verdict="held")
want(P + "agent_verdict", 1, name=A, version=B, verdict="cut")
want(P + "agent_verdict", 1, name="", version="", verdict="ok")
want(P + "build_info", 1, version=sys.argv[2])
want(P + "heartbeat_success", 0)
want(P + "heartbeat_last_success_timestamp_seconds", 1699998000)
want(P + "heartbeat_failures", 2)
want(P + "agent_restarts_total", 4, name="falcon-agent")
want(P + "agent_restarts_total", 0, name=evil)
want(P + "agent_restarts_total", 0, name=A)
want(P + "agent_restarts_total", 0, name="")
want(P + "agent_probation_deaths", 2, name=evil, version='2.0\n"x"')
want(P + "agent_probation_failures_total", 0, name="falcon-agent")
want(P + "agent_probation_failures_total", 1, name=evil)
want(P + "agent_probation_failures_total", 0, name=A)
want(P + "agent_probation_failures_total", 0, name="")
assert not got, "unexpected series: %r" % list(got)
assert len(fams) == 18, sorted(fams)
print("ok")
PY
check 'the parser reads every value and label back as meant, and nothing else' $PY "$T/parse.py" "$T/m.prom" \
    "$VERSION"

# The textfile collector's directory may be shared: a symlink planted where
# the file goes is replaced, never written through.
echo keep >"$T/victim"
ln -s "$T/victim" "$T/link.prom"
"$UNIT" metrics-sample "$T/link.prom" >"$T/unit.out" 2>&1
is 'metrics_write over a symlink: exit 0' $? 0
is 'the symlink target is untouched' "$(cat "$T/victim")" keep
check 'the symlink is replaced by the file' sh -c "test -f '$T/link.prom' && ! test -L '$T/link.prom'"

# A directory that cannot be written: -1 with the cause logged.
"$UNIT" metrics-sample "$T/nodir/m.prom" >"$T/unit.out" 2>&1
is 'metrics_write into a missing directory: exit 1' $? 1
check 'the cause is logged' grep -q "create $T/nodir/.*No such file\|metrics not written to $T/nodir/m.prom" "$T/unit.out"
done_testing
