#!/bin/sh
# The documents stay in step with the code: the man pages are lint-clean
# and ops-updater-cfg.json(5) names every config key; make install and
# uninstall honour PREFIX and DESTDIR.
. "$(dirname "$0")/lib.sh"

for page in ops-updater.1 ops-updater-cfg.json.5 ops-meta.7 ops-updater-fleet.7; do
	mandoc -T lint -W warning "$TOP/$page" >"$T/lint" 2>&1
	is "mandoc -T lint $page: no warnings" "$(cat "$T/lint")" ''
done
keys=$(python3 -c 'import json,sys
c = json.load(open(sys.argv[1]))
print(" ".join(k if not isinstance(v, dict) else " ".join(k + "." + s for s in v) for k, v in c.items()))' "$TOP/cfg.example.json")
check 'cfg.example.json has keys' test -n "$keys"
for k in $keys; do
	check "ops-updater-cfg.json(5) documents $k" grep -Eq "^\\.It (.* )?Ic $k( |\$)" "$TOP/ops-updater-cfg.json.5"
done
# The repository stands alone: the protocol is in ops-meta(7), and nothing
# points outside the tree (the patterns are spelt so as not to match here).
check_fails 'no file refers to a protocol document outside the repository' \
    grep -rIlE '\.\./shar[e]d|PROTOCO[L]\.md' --exclude-dir=.git --exclude-dir='build*' "$TOP"
for w in 'POST {server}/heartbeat' hostname realAgents timestamp errorMessage desiredAgents \
    '{tarball}/{name}-{version}.tar.gz' '{md5 or tarball}/{name}-{version}.tar.gz.md5' stoped; do
	check "ops-meta(7) describes the protocol: $w" grep -qF -- "$w" "$TOP/ops-meta.7"
done
help=$("$OPS_UPDATER" --help)
for c in run plan status check; do
	check "--help and the man page know $c" sh -c "printf '%s' \"\$1\" | grep -q \"^  $c \" && grep -q '^\\.It Cm $c\$' \"\$2\"" - "$help" "$TOP/ops-updater.1"
done

# The Debian package's files agree with each other and with the program,
# and ops-updater(1) and ops-updater-fleet(7) name every path it installs.
cp "$TOP/debian/cfg.json" "$T/pkg-cfg.json"
"$OPS_UPDATER" -c "$T/pkg-cfg.json" check >"$T/o"
is "the package's cfg.json loads, as not configured" "$?:$(cat "$T/o")" \
    "3:OPS-UPDATER UNKNOWN - not configured: server is empty in $T/pkg-cfg.json; passes do nothing"
python3 - "$TOP" >"$T/o" 2>&1 <<'PY'
import json, re, sys
top = sys.argv[1]
cfg = json.load(open(top + "/debian/cfg.json"))
example = json.load(open(top + "/cfg.example.json"))
assert set(cfg) <= set(example), "keys not in cfg.example.json: %s" % (set(cfg) - set(example))
assert cfg["server"] == "" and cfg["log_max_mb"] == 0, "server set or built-in rotation on"
cron = open(top + "/debian/ops-updater.cron.d").read()
job = [l for l in cron.splitlines() if l and not l.startswith("#") and "=" not in l.split()[0]]
assert len(job) == 1, "cron.d: %d jobs" % len(job)
assert "-c /etc/ops-updater/cfg.json run >>%s 2>&1" % cfg["log"] in job[0], "cron.d: config or log path"
assert re.search(r"^PATH=\S+$", cron, re.M), "cron.d: no PATH line"
rot = open(top + "/debian/ops-updater.logrotate").read()
assert re.search(r"^%s \{$" % re.escape(cfg["log"]), rot, re.M), "logrotate: not the log of cfg.json"
inst = open(top + "/debian/ops-updater.install").read()
assert re.search(r"^debian/cfg.json etc/ops-updater$", inst, re.M), "cfg.json not installed in /etc/ops-updater"
PY
is "the package's cfg.json, cron.d, logrotate and install files agree" "$(cat "$T/o")" ''
for p in /usr/bin/ops-updater /etc/ops-updater/cfg.json /etc/cron.d/ops-updater /etc/logrotate.d/ops-updater \
    /var/lib/ops-updater /var/log/ops-updater/ops-updater.log; do
	check "ops-updater(1) names $p" grep -qF "$p" "$TOP/ops-updater.1"
	check "ops-updater-fleet(7) names $p" grep -qF "$p" "$TOP/ops-updater-fleet.7"
done

make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr >"$T/make.out" 2>&1
is 'make install: exit 0' $? 0
for f in usr/bin/ops-updater usr/share/man/man1/ops-updater.1 usr/share/man/man5/ops-updater-cfg.json.5 \
    usr/share/man/man7/ops-meta.7 usr/share/man/man7/ops-updater-fleet.7 usr/share/doc/ops-updater/cfg.example.json \
    usr/share/doc/ops-updater/crontab.example usr/share/doc/ops-updater/control; do
	check "installed $f" test -s "$T/root/$f"
done
check 'the installed binary runs' "$T/root/usr/bin/ops-updater" --version
make -s -C "$TOP" uninstall DESTDIR="$T/root" PREFIX=/usr >"$T/make.out" 2>&1
is 'make uninstall: exit 0' $? 0
is 'uninstall leaves no file' "$(find "$T/root" -type f)" ''
# make demo: the README's first command. It upgrades, then leaves nothing.
mkdir -p "$T/demo"
TMPDIR=$T/demo OPS_UPDATER= make -s -C "$TOP" demo >"$T/demo.out" 2>&1
is 'make demo: exit 0' $? 0
check 'make demo installs 1.0.0' grep -q 'demo-agent: now at 1.0.0 (was not installed)' "$T/demo.out"
check 'make demo upgrades to 1.0.1' grep -q 'demo-agent: now at 1.0.1 (was 1.0.0)' "$T/demo.out"
left=
for p in /proc/[0-9]*; do	# agents by their directory, the server by its arguments
	case "$(readlink "$p/cwd" 2>/dev/null) $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in *"$T/demo/"*)
		grep -q '^State:[[:space:]]*[^Z[:space:]]' "$p/status" 2>/dev/null && left="$left ${p#/proc/}" ;;
	esac
done
is 'make demo leaves nothing running' "$left" ''
is 'make demo leaves no files' "$(ls -A "$T/demo")" ''
done_testing
