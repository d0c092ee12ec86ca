#!/bin/sh
# alerts.example.yml, the Prometheus alerting rules we ship: promtool finds
# them valid, and t/alerts-test.yml shows each alert firing on a bad fleet
# and silent on a good one. The tests are tested too: an alert made never
# to fire must fail them (each has a firing case), and one made to fire on
# every series it reads must fail its silent cases (they hold series that
# would fire a careless rule). Every series the rules read is one the code
# writes and ops-updater-fleet(7) documents.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || { echo "# promtool missing: sh .ci/deps --test installs it (prometheus)" >&2; exit 1; }
RULES=$TOP/alerts.example.yml
promtool check rules "$RULES" >"$T/o" 2>&1
is 'promtool check rules: exit 0' "$?" 0
check 'promtool check rules: 5 rules' grep -q 'SUCCESS: 5 rules found' "$T/o"
promtool test rules "$TDIR/alerts-test.yml" >"$T/o" 2>&1
r=$?
is 'promtool test rules t/alerts-test.yml: exit 0' "$r" 0
[ "$r" = 0 ] || sed 's/^/# /' "$T/o" >&2

# The checks below are in Python (as in t/0095): each prints "ok<TAB>what"
# or "not ok<TAB>what<TAB>why", counted here.
python3 - "$TOP" "$T" >"$T/checks" 2>&1 <<'PY'
import copy, re, subprocess, sys
import yaml

top, tmp = sys.argv[1], sys.argv[2]
# Series the rules read that another change adds to the code and the
# page, until it is merged (none now).
PENDING = set()


def check(what, ok, why=""):
    print("%s\t%s%s" % ("ok" if ok else "not ok", what, "" if ok else "\t" + why))


rules = yaml.safe_load(open(top + "/alerts.example.yml"))
tests = yaml.safe_load(open(top + "/t/alerts-test.yml"))
alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
check("the rules read: %d alerts" % len(alerts), len(alerts) == 5)


def promtool_test(rules_doc, tests_doc, name):
    """promtool test rules on these documents; True when it passes."""
    with open("%s/%s-rules.yml" % (tmp, name), "w") as f:
        yaml.safe_dump(rules_doc, f)
    t = dict(tests_doc, rule_files=["%s-rules.yml" % name])
    with open("%s/%s-test.yml" % (tmp, name), "w") as f:
        yaml.safe_dump(t, f)
    return subprocess.run(["promtool", "test", "rules", "%s/%s-test.yml" % (tmp, name)],
                          capture_output=True).returncode == 0


def with_expr(alert, expr):
    """The rules with this alert's expr replaced, and no "for"."""
    doc = copy.deepcopy(rules)
    for g in doc["groups"]:
        for r in g["rules"]:
            if r.get("alert") == alert:
                r["expr"] = expr
                r.pop("for", None)
    return doc


for a in alerts:
    name = a["alert"]
    cases = [c for g in tests["tests"] for c in g.get("alert_rule_test", []) if c["alertname"] == name]
    check("%s: t/alerts-test.yml has a firing case" % name, any(c["exp_alerts"] for c in cases))
    check("%s: t/alerts-test.yml has a silent case" % name, any(not c["exp_alerts"] for c in cases))
    check("%s made never to fire fails t/alerts-test.yml" % name,
          not promtool_test(with_expr(name, "vector(1) < 0"), tests, name + "-never"))
    # Only its silent cases, against the alert firing on every sample of
    # the first series it reads.
    silent = {"evaluation_interval": tests.get("evaluation_interval", "1m"), "tests": []}
    for g in tests["tests"]:
        keep = [c for c in g.get("alert_rule_test", []) if c["alertname"] == name and not c["exp_alerts"]]
        if keep:
            silent["tests"].append(dict(g, alert_rule_test=keep))
    series = re.search(r"\bops_updater_\w+", a["expr"]).group(0)
    check("%s: its silent cases pass as it is" % name, promtool_test(rules, silent, name + "-silent"))
    check("%s made to fire on every %s fails its silent cases" % (name, series),
          not promtool_test(with_expr(name, series), silent, name + "-always"))

# The series the rules read: written by src/metrics.c, documented in the
# list of series of ops-updater-fleet(7) (t/0095 keeps the two in step).
named = set(re.findall(r"\bops_updater_\w+", open(top + "/alerts.example.yml").read()))
written = {"ops_updater_" + s for s in
           re.findall(r'family(?:_of)?\(&?b, "(\w+)"', open(top + "/src/metrics.c").read())}
listed = set(re.findall(r"^\.It Va (ops_updater_\w+)", open(top + "/ops-updater-fleet.7").read(), re.M))
check("the rules name series (%d)" % len(named), len(named) >= 7)
for s in sorted(named - PENDING):
    check("src/metrics.c writes %s" % s, s in written)
    check("ops-updater-fleet(7) documents %s" % s, s in listed)
for s in sorted(PENDING - named):
    check("pending series %s is one the rules name" % s, False, "drop it from PENDING")
PY
is 'the Python checks ran to their end' "$(grep -cv '^\(ok\|not ok\)	' "$T/checks")" 0
[ "$(grep -cv '^\(ok\|not ok\)	' "$T/checks")" = 0 ] || sed 's/^/# /' "$T/checks" >&2
while IFS='	' read -r res what why; do
	[ "$res" = ok ] || printf '# %s\n' "$why" >&2
	is "$what" "$res" ok
done <"$T/checks"
check 'the Python checks made their checks' test "$(wc -l <"$T/checks")" -gt 30
done_testing
