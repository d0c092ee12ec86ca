#!/bin/sh
# Nothing unverified is ever installed: wrong md5, escaping tarballs,
# missing control, HTTP errors. Each fails the pass and changes nothing.
. "$(dirname "$0")/lib.sh"

mkagent falcon-agent 1.0.0
mkagent falcon-agent 1.0.1
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config

# A fresh install with a wrong .md5.
printf '0123456789abcdef0123456789abcdef  falcon-agent-1.0.0.tar.gz\n' >"$F/falcon-agent-1.0.0.tar.gz.md5"
pass
is 'wrong md5 on a fresh install: exit 1' "$rc" 1
check_fails 'nothing installed, not even the agent directory' test -e "$W/falcon-agent"
grep_log 'log says expected and got' "MD5 mismatch: expected 0123456789abcdef0123456789abcdef, got [0-9a-f]{32}"

# An upgrade with a wrong .md5 leaves the running version alone.
(cd "$F" && md5sum falcon-agent-1.0.0.tar.gz >falcon-agent-1.0.0.tar.gz.md5)
pass
is 'good md5: installed' "$rc" 0
pid=$(cat "$W/falcon-agent/1.0.0/agent.pid")
printf 'ffffffffffffffffffffffffffffffff  falcon-agent-1.0.1.tar.gz\n' >"$F/falcon-agent-1.0.1.tar.gz.md5"
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
pass
is 'wrong md5 on an upgrade: exit 1' "$rc" 1
check_fails 'no 1.0.1 directory' test -e "$W/falcon-agent/1.0.1"
is 'no temp files or staging directories left' "$(leftovers falcon-agent)" ''
is '.version unchanged' "$(cat "$W/falcon-agent/.version")" 1.0.0
is 'the old process untouched' "$(cat "$W/falcon-agent/1.0.0/agent.pid")" "$pid"

# A .md5 that is not an md5sum line (an HTML error page served as 200).
printf '<html>oops</html>\n' >"$F/falcon-agent-1.0.1.tar.gz.md5"
pass
is 'garbage .md5: exit 1' "$rc" 1
grep_log 'log names the URL' "GET $BASE/files/falcon-agent-1.0.1.tar.gz.md5: not an md5sum line"

# Hostile tarballs, each published with a correct md5. The absolute
# member's name is unique to this run, so that finding it proves an escape.
ABS=/tmp/ops-updater-escaped-$$-$(date +%s%N)
export ABS
evil() {	# name version python-tarfile-members
	python3 - "$F/$1-$2.tar.gz" "$3" <<'PY'
import io, os, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
with tarfile.open(path, "w:gz") as t:
    def add(name, data=b"#!/bin/sh\necho started\n", mode=0o755, **kw):
        i = tarfile.TarInfo(name); i.mode = mode
        for k, v in kw.items(): setattr(i, k, v)
        i.size = len(data) if i.type == tarfile.REGTYPE else 0
        t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)
    add("control")
    if kind == "dotdot": add("../../../escaped")
    if kind == "absolute": add(os.environ["ABS"])
    if kind == "symlink": add("lib", type=tarfile.SYMTYPE, linkname="../../..")
    if kind == "rootlink": add("root", type=tarfile.SYMTYPE, linkname="/")
    if kind == "hardlink": add("h", type=tarfile.LNKTYPE, linkname="../../../etc/passwd")
    if kind == "device": add("null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    if kind == "fifo": add("fifo", type=tarfile.FIFOTYPE)
    # Each link lexically inside; b is the root, so b/.. is above it and
    # u2 ends above that: resolved, u1 is the agent's directory.
    if kind == "chain":
        add("b", type=tarfile.SYMTYPE, linkname=".")
        add("u1", type=tarfile.SYMTYPE, linkname="b/..")
        add("u2", type=tarfile.SYMTYPE, linkname="u1/..")
PY
	(cd "$F" && md5sum "$1-$2.tar.gz" >"$1-$2.tar.gz.md5")
}
# Why each is refused: tar's own defences (a stripped leading "/" or
# "../" is only a warning to tar, a refusal to us), or the walk of what it
# unpacked.
why_dotdot="tar says 'tar: Removing leading .\\.\\./\\.\\./\\.\\./. from member names'"
why_absolute="tar says 'tar: Removing leading ./. from member names'"
why_symlink="link 'lib' -> '\\.\\./\\.\\./\\.\\.' climbs above the version directory"
why_rootlink="link 'root' points to '/': an absolute path"
why_hardlink="tar says 'tar: Removing leading .\\.\\./\\.\\./\\.\\./. from hard link targets'"
# tar runs unprivileged: it cannot make a device at all.
why_device="tar says 'tar: null: Cannot mknod: Operation not permitted'"
why_fifo="'fifo' is a FIFO"
why_chain="link 'u1' -> 'b/\\.\\.' climbs above the version directory"
# A version per kind, so that one let through cannot hide the next.
for kind in dotdot absolute symlink rootlink hardlink device fifo chain; do
	evil evil $kind $kind
	serve "{\"agents\": [$(want evil $kind)]}"
	pass
	is "$kind member: exit 1" "$rc" 1
	check_fails "$kind member: nothing installed" test -e "$W/evil/$kind"
	eval "why=\$why_$kind"
	grep_log "$kind member: refused in the log, saying why" "error evil: refusing evil-$kind.tar.gz: $why"
	: >"$W/ops-updater.log"
done
check_fails 'no agent directory left for evil' test -e "$W/evil"
# tar unpacked into $W/evil/<staging>/tree/: ../../../escaped would be
# $W/escaped.
check_fails 'nothing escaped the staging directory by ..' test -e "$W/escaped"
check_fails 'nothing escaped by an absolute path' test -e "$ABS"
rm -f "$ABS"

# No control at the root.
mkdir -p "$T/src/nocontrol" && echo hi >"$T/src/nocontrol/readme"
tar -czf "$F/nocontrol-1.tar.gz" -C "$T/src/nocontrol" readme
(cd "$F" && md5sum nocontrol-1.tar.gz >nocontrol-1.tar.gz.md5)
serve "{\"agents\": [$(want nocontrol 1)]}"
pass
is 'no control: exit 1' "$rc" 1
grep_log 'no control: refused' 'refusing nocontrol-1.tar.gz: no executable control at its root'

# Not gzip at all, under a correct md5: gzip's own complaint is the
# reason, in the log line, and never a raw line of its own in the log.
: >"$W/ops-updater.log"
printf 'plain text, not a gzip stream\n' >"$F/notgz-1.tar.gz"
(cd "$F" && md5sum notgz-1.tar.gz >notgz-1.tar.gz.md5)
serve "{\"agents\": [$(want notgz 1)]}"
pass
is 'not gzip: exit 1' "$rc" 1
grep_log 'not gzip: the decompressor says why' \
    "error notgz: refusing notgz-1.tar.gz: (gzip says 'gzip: stdin: not in gzip format'|igzip says 'igzip: Error invalid gzip header found for file \\(null\\)') \\(exited 1\\)"
is 'not gzip: every line of the log is a log line' \
    "$(grep -Evc '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$W/ops-updater.log")" 0
check_fails 'not gzip: nothing installed' test -e "$W/notgz"

# Bytes after the last gzip member, under a correct md5: igzip skips them
# silently, gzip warns (exit 2). A release installs alike on hosts with
# and without igzip; gzip's warning is said, not a refusal. The second
# round runs gzip alone (a path without igzip; the unpack's uid must
# reach it, so $T is opened).
chmod 755 "$T"
mkdir -p "$T/gzonly"
for p in gzip tar sh sleep cat grep kill rm env nohup; do ln -s "$(command -v $p)" "$T/gzonly/$p"; done
for round in default gzonly; do
	[ $round = gzonly ] && config "\"path\": \"$T/gzonly\""
	mkagent trail $round
	printf 'trailing bytes, not gzip\n' >>"$F/trail-$round.tar.gz"
	(cd "$F" && md5sum "trail-$round.tar.gz" >"trail-$round.tar.gz.md5")
	serve "{\"agents\": [$(want trail $round)]}"
	: >"$W/ops-updater.log"
	pass
	is "trailing bytes ($round path): installed" "$rc $(cat "$W/trail/.version" 2>/dev/null)" "0 $round"
done
grep_log 'gzip'"'"'s warning is in the log' \
    "warning trail: trail-gzonly\.tar\.gz: gzip says 'gzip: stdin: decompression OK, trailing garbage ignored' \(exited 2: a warning\); unpacked all the same"
config

# A 404 and a truncated body.
serve "{\"agents\": [$(want falcon-agent 9.9.9)]}"
pass
is 'missing tarball: exit 1' "$rc" 1
grep_log 'HTTP status in the log' "GET $BASE/files/falcon-agent-9.9.9.tar.gz.md5: HTTP 404"
(cd "$F" && md5sum falcon-agent-1.0.1.tar.gz >falcon-agent-1.0.1.tar.gz.md5)
serve "{\"agents\": [$(want falcon-agent 1.0.1)], \"faults\": {\"files\": {\"falcon-agent-1.0.1.tar.gz\": {\"truncate\": 100}}}}"
pass
is 'truncated body: exit 1' "$rc" 1
is 'truncated body: no temp files left' "$(leftovers falcon-agent)" ''
check_fails 'truncated body: nothing installed' test -e "$W/falcon-agent/1.0.1"
done_testing
