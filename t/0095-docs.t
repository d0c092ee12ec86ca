#!/bin/sh
# The documents stay in step with the code: the man pages are lint-clean
# and ops-updater-cfg.json(5) names every config key; make install and
# uninstall honour PREFIX and DESTDIR.
. "$(dirname "$0")/lib.sh"

# The pages, and what each one keeps in step with: a check fails when the
# code or --help has something its page lacks, or the page something the
# code no longer has. The checks are in Python, below; each prints
# "ok<TAB>what" or "not ok<TAB>what<TAB>why", and is counted here; a
# traceback is a failure too.
"$OPS_UPDATER" --help >"$T/help"
is '--help: exit 0' $? 0
for page in ops-updater.1 ops-updater-cfg.json.5 ops-meta.7 ops-updater-fleet.7; do
	mandoc -T lint -W warning "$TOP/$page" >"$T/lint" 2>&1
	is "mandoc -T lint $page: no warnings" "$(cat "$T/lint")" ''
	# Style too; whether a referenced page exists on this machine is
	# not the page's fault (the names of ours are checked below).
	mandoc -T lint -W style "$TOP/$page" 2>&1 | grep -Ev 'referenced manual not found|mandoc\.db' >"$T/lint"
	is "mandoc -T lint -W style $page: no style messages" "$(cat "$T/lint")" ''
done
python3 - "$TOP" "$T/help" >"$T/docs" 2>&1 <<'PY'
import json, re, subprocess, sys

top, help_path = sys.argv[1], sys.argv[2]
PAGES = {"ops-updater.1": ("ops-updater", "1"), "ops-updater-cfg.json.5": ("ops-updater-cfg.json", "5"),
         "ops-meta.7": ("ops-meta", "7"), "ops-updater-fleet.7": ("ops-updater-fleet", "7")}
CFG, CMD, FLEET = "ops-updater-cfg.json.5", "ops-updater.1", "ops-updater-fleet.7"


def read(path):
    return open(top + "/" + path, encoding="utf-8").read()


def check(what, ok, why=""):
    print("%s\t%s%s" % ("ok" if ok else "not ok", what, "" if ok else "\t" + why))


def sections(text):
    """The text of each .Sh of an mdoc page, by its name."""
    out, name = {}, None
    for line in text.splitlines():
        if line.startswith(".Sh "):
            name = line[4:].strip()
            out[name] = ""
        elif name is not None:
            out[name] += line + "\n"
    return out


def entry(text, pattern):
    """The lines of the .It whose line matches pattern, to the next .It or .El."""
    lines, out, inside = text.splitlines(), [], False
    for line in lines:
        if inside and (line.startswith(".It ") or line.startswith(".El")):
            break
        if inside:
            out.append(line)
        elif line.startswith(".It ") and re.search(pattern, line):
            inside = True
    return " ".join(out) if inside else None


def number(expr):
    """A C constant expression of the key table: digits, <<, *, +."""
    if not re.fullmatch(r"[0-9 <*+()]+", expr):
        raise ValueError("not a constant: " + expr)
    return int(eval(expr))


pages = {p: read(p) for p in PAGES}
secs = {p: sections(t) for p, t in pages.items()}
readme = read("README")
helptext = open(help_path).read()

# The key table of the parser (src/config.c) and cfg.example.json.
src = read("src/config.c")
def table(name):
    m = re.search(r"\b%s\[\] = \{(.*?)\n\};" % name, src, re.S)
    return m.group(1) if m else ""
strkeys = [(s, k) for s, _, k in re.findall(r'\{ (NULL|"(\w+)"), "(\w+)", offsetof', table("strkeys"))]
boolkeys = [(s, k) for s, _, k in re.findall(r'\{ (NULL|"(\w+)"), "(\w+)", offsetof', table("boolkeys"))]
intkeys = re.findall(r'\{ "(\w+)", offsetof\(struct config, \w+\), ([^,]+), ([^,]+), ([^}]+?) \}', table("intkeys"))
legacy = re.findall(r'"(\w+)"', (re.search(r"legacy\[\] = \{([^}]*)\}", src) or re.search("()", "")).group(1))
toplevel = re.findall(r'strcmp\(key, "(\w+)"\) == 0', src)
parser = [k if s == "NULL" else s.strip('"') + "." + k for s, k in strkeys + boolkeys]
parser += [k for k, *_ in intkeys] + toplevel
check("src/config.c: the key table is read (%d keys, %d of the Go updater)" % (len(parser), len(legacy)),
      len(intkeys) >= 10 and len(strkeys) >= 10 and len(boolkeys) >= 2 and "server" in toplevel and legacy)
example = json.load(open(top + "/cfg.example.json"))
exkeys = [k if not isinstance(v, dict) else k + "." + s for k, v in example.items()
          for s in (v if isinstance(v, dict) else [None])]
exkeys = [k[:-5] if k.endswith(".None") else k for k in exkeys]
cfg5 = pages[CFG]
go = re.search(r"The Go updater's keys.*?\n\.Sh ", cfg5, re.S)
go = set(re.findall(r"^\.Ic (\w+)", go.group(0), re.M)) if go else set()
for k in sorted(set(parser) - set(exkeys)):
    check("cfg.example.json has %s, or ops-updater-cfg.json(5) names it a key of the Go updater" % k,
          k in go, "in src/config.c's table only")
for k in sorted(set(exkeys) - set(parser)):
    check("src/config.c parses cfg.example.json's %s" % k, False, "not in the key table")
for k in legacy:
    check("ops-updater-cfg.json(5) names the Go updater's key %s" % k, k in go)
for k in sorted(set(parser) | set(exkeys)):
    if k in go:
        continue
    check("ops-updater-cfg.json(5) documents %s in an entry of its own" % k,
          re.search(r"^\.It (.* )?Ic %s( |$)" % re.escape(k), cfg5, re.M))
for k, d, lo, hi in intkeys:
    text = entry(cfg5, r"Ic %s( |$)" % k) or ""
    want = "From %d to %d; default %d." % (number(lo), number(hi), number(d))
    check("ops-updater-cfg.json(5): %s, %s" % (k, want), want in text, "its entry: " + text[-160:])
    check("cfg.example.json: %s at its default, %d" % (k, number(d)), example.get(k) == number(d),
          "it has %r" % example.get(k))
# In full there only: no other page has an entry for a key, and README
# lists a few.
for p in PAGES:
    if p != CFG:
        dup = [k for k in parser if re.search(r"^\.It (.* )?Ic %s( |$)" % re.escape(k), pages[p], re.M)]
        check("%s has no entry for a config key (they are in ops-updater-cfg.json(5))" % p, not dup, " ".join(dup))
rows = [k for k in re.findall(r"^\| ([\w.]+) \|", readme, re.M) if k in parser]
check("README's key table is a summary: %d of %d keys" % (len(rows), len(parser)),
      0 < len(rows) <= len(parser) // 3)

# --help against ops-updater(1): every command and option, both ways.
cmd = pages[CMD]
usage = "\n".join(l for l in helptext.splitlines() if l.startswith(("usage:", "       ops-updater", "  -")))
hcmds = re.findall(r"^  ([a-z]+)  ", helptext, re.M)
hopts = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", usage))
check("--help: commands and options read (%d, %d)" % (len(hcmds), len(hopts)), len(hcmds) >= 4 and len(hopts) >= 8)
for c in hcmds:
    check("ops-updater(1) describes the command %s" % c, re.search(r"^\.It Cm %s$" % c, cmd, re.M))
    check("ops-updater(1)'s SYNOPSIS has %s" % c, re.search(r"^\.Cm %s$" % c, secs[CMD]["SYNOPSIS"], re.M))
for c in re.findall(r"^\.It Cm (\S+)$", secs[CMD]["DESCRIPTION"], re.M):
    check("--help knows ops-updater(1)'s command %s" % c, c in hcmds)
def fl(o):
    return "Fl " + ("\\-" + o[2:] if o.startswith("--") else o[1:])
for o in sorted(hopts):
    check("ops-updater(1) describes the option %s" % o, re.search(r"^\.It (.* )?%s( |$)" % re.escape(fl(o)), cmd, re.M))
    check("ops-updater(1)'s SYNOPSIS has %s" % o, re.search(r"%s( |$)" % re.escape(fl(o)), secs[CMD]["SYNOPSIS"], re.M))
for o in re.findall(r"^\.It (Fl .*)$", secs[CMD]["DESCRIPTION"], re.M):
    for f in re.findall(r"Fl (\\-[\w-]+|\w)", o):
        f = "--" + f[2:] if f.startswith("\\-") else "-" + f
        check("--help knows ops-updater(1)'s option %s" % f, f in hopts)

# Exit codes: what the code exits with, in ops-updater(1) and --help.
code = "".join(read("src/" + f) for f in ("main.c", "util.c", "report.c", "report.h", "lock.c"))
sysexits = dict(re.findall(r"^#define (EX_\w+)\s+(\d+)", open("/usr/include/sysexits.h").read(), re.M))
allsrc = "".join(read("src/" + f) for f in subprocess.run(["ls", top + "/src"], capture_output=True,
                                                              text=True).stdout.split())
run_codes = {0} | {int(sysexits[e]) for e in re.findall(r"\b(EX_[A-Z]+)\b", allsrc) if e in sysexits}
run_codes |= {int(n) for n in re.findall(r"^#define EXIT_\w+ (\d+)", read("src/main.c"), re.M)}
check_codes = {int(n) for n in re.findall(r"^#define CHECK_\w+ (\d+)", read("src/report.h"), re.M)}
check("exit codes read from src/ (%s; check %s)" % (sorted(run_codes), sorted(check_codes)),
      {0, 1, 64, 75, 78} <= run_codes and check_codes == {0, 1, 2, 3})
documented = {int(n) for n in re.findall(r"^\.It (\d+)$", secs[CMD]["EXIT STATUS"], re.M)}
for n in sorted(run_codes | check_codes):
    check("ops-updater(1) EXIT STATUS has %d" % n, n in documented)
for n in sorted(documented - run_codes - check_codes):
    check("ops-updater(1)'s exit code %d is one the code has" % n, False)
hexit = re.search(r"^exit: (.*?)\n\n", helptext, re.M | re.S)
hcodes = {int(n) for n in re.findall(r"(?<![\w.])(\d+) ", hexit.group(1))} if hexit else set()
check("--help lists the exit codes of run and plan", hcodes == run_codes,
      "--help: %s, the code: %s" % (sorted(hcodes), sorted(run_codes)))

# Metrics: every series src/metrics.c writes, in the page that has them.
series = {"ops_updater_" + s for s in re.findall(r'family(?:_of)?\(&?b, "(\w+)"', read("src/metrics.c"))}
check("src/metrics.c: series read (%d)" % len(series), len(series) >= 10)
fleet = pages[FLEET]
listed = set(re.findall(r"^\.It Va (ops_updater_\w+)", fleet, re.M))
for s in sorted(series):
    check("ops-updater-fleet(7) documents the series %s" % s, s in listed)
for s in sorted(listed - series):
    check("ops-updater-fleet(7)'s series %s is one src/metrics.c writes" % s, False)
for p in PAGES:
    if p != FLEET:
        check("%s has no list of series (ops-updater-fleet(7) has it)" % p,
              not re.search(r"^\.It Va ops_updater_", pages[p], re.M))

# Troubleshooting on a Debian host: the package's paths.
trouble = secs[FLEET].get("TROUBLESHOOTING", "")
for path in ("/var/log/ops-updater/ops-updater.log", "/var/lib/ops-updater", "/etc/ops-updater/cfg.json",
             "/etc/cron.d/ops-updater"):
    check("ops-updater-fleet(7) TROUBLESHOOTING names %s" % path, path in trouble)

# The pages find each other: SEE ALSO names the others, and every
# reference to one of ours (in a page or the README) is to one that is.
for p, (name, sec) in PAGES.items():
    see = secs[p].get("SEE ALSO", "")
    for q, (oname, osec) in PAGES.items():
        if q != p:
            check("%s SEE ALSO names %s(%s)" % (p, oname, osec), re.search(r"^\.Xr %s %s( |$)" % (re.escape(oname), osec), see, re.M))
    check("%s: .Dt and NAME are %s(%s)" % (p, name, sec),
          re.search(r"^\.Dt %s %s$" % (re.escape(name.upper()), sec), pages[p], re.M) and
          re.search(r"^\.Nm %s$" % re.escape(name), secs[p].get("NAME", ""), re.M))
ours = {v for v in PAGES.values()}
refs = [(p, m) for p in PAGES for m in re.findall(r"^\.Xr (ops-\S+) (\d)", pages[p], re.M)]
refs += [("README", m) for m in re.findall(r"\b(ops-[\w.-]*[\w])\((\d)\)", readme)]
check("references to our pages read (%d)" % len(refs), len(refs) >= 20)
for p, (name, sec) in refs:
    check("%s refers to %s(%s), which is one of the pages" % (p, name, sec), (name, sec) in ours)

# The README is the front door.
n = readme.count("\n")
check("README is the front door: %d lines, at most 300" % n, n <= 300)
PY
is 'the Python checks ran to their end' "$(grep -cv '^\(ok\|not ok\)	' "$T/docs")" 0
while IFS='	' read -r res what why; do
	[ "$res" = ok ] || printf '# %s\n' "$why" >&2
	is "$what" "$res" ok
done <"$T/docs"
check 'the Python checks made their checks' test "$(wc -l <"$T/docs")" -gt 150
# The repository stands alone: the protocol is in ops-meta(7), and nothing
# points outside the tree (the patterns are spelt so as not to match here).
check_fails 'no file refers to a protocol document outside the repository' \
    grep -rIlE '\.\./shar[e]d|PROTOCO[L]\.md' --exclude-dir=.git --exclude-dir='build*' "$TOP"
for w in 'POST {server}/heartbeat' hostname realAgents timestamp errorMessage desiredAgents \
    '{tarball}/{name}-{version}.tar.gz' '{md5 or tarball}/{name}-{version}.tar.gz.md5' stoped; do
	check "ops-meta(7) describes the protocol: $w" grep -qF -- "$w" "$TOP/ops-meta.7"
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
    usr/share/doc/ops-updater/crontab.example usr/share/doc/ops-updater/alerts.example.yml \
    usr/share/doc/ops-updater/control; do
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
