#!/bin/sh
# make bench: what a pass costs, measured on loopback, side by side in one
# run. Prints figures, their goals and the ratio; never fails. Not a test.
#   1. converged pass, 3 agents: wall, own CPU (children apart), peak RSS
#   2. upgrade with a 256 MiB tarball against curl + tar alone
#   3. peak RSS of the upgrade, 16 MiB against 256 MiB
#   4. converged pass with 256 MiB tarballs in every version directory
#   5. converged pass with 1, 10, 50 agents
#   6. upgrade against the naive durable pipeline (curl -o, tar xzf, sync)
#      run alone, incompressible and compressible, without and with a key,
#      with gzip and with igzip (Debian isal, when installed): PAIRS runs
#      of each, each paired with a naive run just before or after it (in
#      turn), the median of the pair ratios with their min-max; and the
#      pass after each upgrade, which removes the version before last
#   7. a download killed at half, then resumed: bytes fetched again
#   8. syncfs against fsync of every file and directory of a fresh tree,
#      with 1 GiB of other dirty data in the same file system
# BENCH_BIG_MB sets the big tarball's size (256); BENCH_RUNS the repeats (15);
# BENCH_PAIRS the paired runs of each row of 6 (5).
TEST_TIMEOUT=${TEST_TIMEOUT:-7200}	# not a test: lib.sh's watchdog waits long
. "$(dirname "$0")/lib.sh"

BIG=${BENCH_BIG_MB:-256}
RUNS=${BENCH_RUNS:-15}
PAIRS=${BENCH_PAIRS:-5}
exec 3>&1 >"$T/bench.log" 2>&1	# fixtures talk; only the table goes out
out() { printf "$@" >&3; }

# Median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# Fields of the last "pass done" line: wall s, own cpu ms, peak rss MiB, read KiB.
cost() { sed -n 's/.*pass done: exit [0-9]* in \([0-9.]*\) s; own cpu \([0-9.]*\) ms, peak rss \([0-9.]*\) MiB, read \([0-9]*\) KiB with children$/\1 \2 \3 \4/p' "$W/ops-updater.log" | tail -1; }
field() { cost | cut -d' ' -f"$1"; }
row() { out '%-44s %12s %14s %8s\n' "$1" "$2" "$3" "$4"; }
# The last error of the log, when a figure is missing for it.
why() { out '     (%s)\n' "$(grep ' error ' "$W/ops-updater.log" | tail -1 | cut -d' ' -f3- | cut -c1-150)"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# N converged passes: medians of wall ms (outside), own cpu ms, peak rss MiB, read KiB.
converged() {
	: >"$T/runs"
	i=0
	while [ $i -lt "$RUNS" ]; do
		t=$(ms)
		pass
		echo "$(($(ms) - t)) $(cost)" >>"$T/runs"
		i=$((i + 1))
	done
	for f in 1 3 4 5; do cut -d' ' -f$f "$T/runs" | median; done | tr '\n' ' '
}

# A release NAME VERSION with a payload of MB MiB of random bytes.
bigagent() {
	mkagent "$1" "$2"
	head -c $(($3 * 1048576)) /dev/urandom >"$T/src/$1-$2/payload"
	tar -cf - -C "$T/src/$1-$2" . | gzip -1 >"$F/$1-$2.tar.gz"
	(cd "$F" && md5sum "$1-$2.tar.gz" >"$1-$2.tar.gz.md5")
}

start_server
config '"log_max_mb": 0, "keep_versions": 5'
out 'ops-updater bench: %s, %s cores, %s\n' "$(uname -srm)" "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
out '%-44s %12s %14s %8s\n' figure measured goal ratio

# 1. Converged pass with three agents running.
for a in a1 a2 a3; do mkagent $a 1; done
serve "{\"agents\": [$(want a1 1), $(want a2 1), $(want a3 1)]}"
pass
set -- $(converged)
wall1=$1 cpu1=$2 rss1=$3 read1=$4
row '1. converged, 3 agents: wall ms' "$wall1" '-' '-'
row '1. converged, 3 agents: own CPU ms' "$cpu1" '<= 5' "$(ratio "$cpu1" 5)"
row '1. converged, 3 agents: peak RSS MiB' "$rss1" '<= 8' "$(ratio "$rss1" 8)"
# The floor under (1): a program that only loads libcurl (and its shared
# libraries), cJSON and libcrypto and calls curl_global_init.
cat >"$T/floor.c" <<'C'
#include <curl/curl.h>
#include <stdio.h>
#include <sys/resource.h>
int main(void) {
	struct rusage ru;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl_global_cleanup();
	getrusage(RUSAGE_SELF, &ru);
	printf("%.2f %.1f\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3, ru.ru_maxrss / 1024.0);
	return 0;
}
C
if cc -O2 -o "$T/floor" "$T/floor.c" $(pkg-config --cflags --libs libcurl libcjson libcrypto); then
	i=0; : >"$T/fl"
	while [ $i -lt "$RUNS" ]; do "$T/floor" >>"$T/fl"; i=$((i + 1)); done
	row '   floor: load libcurl + global init, CPU ms' "$(cut -d' ' -f1 "$T/fl" | median)" '-' '-'
	row '   floor: load libcurl + global init, RSS MiB' "$(cut -d' ' -f2 "$T/fl" | median)" '-' '-'
	row "   libraries the binary loads" "$(ldd "$OPS_UPDATER" | grep -c '=>')" '-' '-'
fi

# 2. Upgrade with a big tarball, against curl and tar alone.
bigagent big 1 16
bigagent big 2 "$BIG"
serve "{\"agents\": [$(want big 1)]}"
pass
rss16=$(field 3)
url=$BASE/files/big-2.tar.gz
t=$(ms); curl -s -o /dev/null "$url"; tcurl=$(($(ms) - t))
mkdir -p "$T/x"; t=$(ms); tar -xzf "$F/big-2.tar.gz" -C "$T/x"; ttar=$(($(ms) - t)); rm -rf "$T/x"
serve "{\"agents\": [$(want big 2)]}"
t=$(ms); pass; tup=$(($(ms) - t))
rss256=$(field 3)
bound=$((tcurl + ttar))
row "2. upgrade ${BIG} MiB: wall ms (rc $rc)" "$tup" "<= 1.3 x $bound" "$(ratio "$tup" "$bound")"
row "   bound: curl alone + tar xzf alone, ms" "$tcurl + $ttar" '-' '-'
[ "$rc" = 0 ] || why

# 3. Peak RSS does not grow with the tarball.
row "3. upgrade peak RSS MiB, 16 vs ${BIG} MiB" "$rss16 / $rss256" 'same +- 1' \
    "$(awk -v a="$rss16" -v b="$rss256" 'BEGIN { printf "%+.1f", b - a }')"

# 4. Converged, every version directory holding a big tarball.
serve "{\"agents\": [$(want a1 1), $(want a2 1), $(want a3 1), $(want big 2)]}"
pass
set -- $(converged)
row "4. converged, ${BIG} MiB tarballs: read KiB*" "$4" "= (1): $read1" "$(ratio "$4" "$read1")"
row "4. converged, ${BIG} MiB tarballs: CPU ms" "$2" "= (1): $cpu1" "$(ratio "$2" "$cpu1")"
if command -v strace >/dev/null; then
	strace -f -qq -e trace=openat -o "$T/strace" "$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run
	row '4. tarballs opened by the pass (strace)' "$(grep -c '\.tar\.gz"' "$T/strace")" '0' '-'
fi
(cd "$W/big" && ./2/control stop)
out '   * read by the pass and its children, from /proc/self/io\n'

# 5. Scaling: 1, 10, 50 agents; the growth should be their control status.
for n in 1 10 50; do
	list=
	i=1
	while [ $i -le $n ]; do
		[ -d "$W/s$i" ] || { mkagent s$i 1; }
		list="$list${list:+, }$(want s$i 1)"
		i=$((i + 1))
	done
	serve "{\"agents\": [$list]}"
	pass
	set -- $(converged)
	eval wall_$n=$1
done
: >"$T/st"
i=0
while [ $i -lt "$RUNS" ]; do t=$(ms); (cd "$W/s1/1" && ./control status >/dev/null); echo $(($(ms) - t)) >>"$T/st"; i=$((i + 1)); done
st=$(median <"$T/st")
for n in 10 50; do
	eval w=\$wall_$n
	want=$(awk -v b="$wall_1" -v s="$st" -v n=$n 'BEGIN { printf "%.0f", b + (n - 1) * s }')
	row "5. converged, $n agents: wall ms" "$w" "~ $want" "$(ratio "$w" "$want")"
done
row '5. converged, 1 agent: wall ms' "$wall_1" '-' '-'
row '   one control status alone, ms' "$st" '-' '-'
for i in $(seq 1 50); do (cd "$W/s$i/1" 2>/dev/null && ./control stop); done
for a in a1 a2 a3; do (cd "$W/$a/1" && ./control stop); done

# 6. The naive durable pipeline, run alone: ms for curl -o F, tar xzf F, sync.
naive() {
	rm -rf "$T/naive"
	mkdir -p "$T/naive/x"
	sync
	t=$(ms)
	curl -s -o "$T/naive/f" "$BASE/files/$1" && tar -xzf "$T/naive/f" -C "$T/naive/x" && sync
	echo $(($(ms) - t))
	rm -rf "$T/naive"
}
# A release NAME VERSION of about MB MiB of real binaries: compressible,
# thousands of files.
treeagent() {
	mkagent "$1" "$2"
	python3 - "$T/src/$1-$2/files" "$3" <<'PY'
import os, shutil, sys
dst, cap, n = sys.argv[1], int(sys.argv[2]) << 20, 0
for top in ("/usr/bin", "/usr/lib", "/usr/libexec", "/usr/share"):
    for root, dirs, files in os.walk(top):
        for f in files:
            p = os.path.join(root, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            sub = os.path.join(dst, os.path.relpath(root, "/"))
            os.makedirs(sub, exist_ok=True)
            try:
                shutil.copyfile(p, os.path.join(sub, f))
            except OSError:
                continue
            n += os.path.getsize(p)
            if n >= cap:
                sys.exit(0)
PY
	tar -cf - -C "$T/src/$1-$2" . | gzip -1 >"$F/$1-$2.tar.gz"
	(cd "$F" && md5sum "$1-$2.tar.gz" >"$1-$2.tar.gz.md5")
}
# Upgrade NAME to VERSION: ms, with the rc and peak RSS in $up_rc, $up_rss.
upgrade() {
	serve "{\"agents\": [$(want "$1" "$2")]}"
	sync
	t=$(ms)
	pass
	echo $(($(ms) - t)) >"$T/up"
	up_rc=$rc
	up_rss=$(field 3)
}
# A path without igzip (/bin is /usr/bin on Debian), where the sandbox
# can reach it, for the config: the same upgrades with gzip.
chmod 711 "$T" && mkdir -m 755 "$T/usrbin" && ln -s /usr/bin/* "$T/usrbin/" && rm -f "$T/usrbin/igzip"
NOIGZIP=$T/usrbin:/usr/sbin:/sbin
# The same bytes as NAME-FROM, published as NAME-TO (a version not yet
# installed), with .md5, .sha256 and the .sha256's Ed25519 signature.
copy() {
	ln -f "$F/$1-$2.tar.gz" "$F/$1-$3.tar.gz"	# the same bytes: no disk
	(cd "$F" && md5sum "$1-$3.tar.gz" >"$1-$3.tar.gz.md5" && sha256sum "$1-$3.tar.gz" >"$1-$3.tar.gz.sha256")
	openssl pkeyutl -sign -rawin -inkey "$T/release.key" -in "$F/$1-$3.tar.gz.sha256" -out "$F/$1-$3.tar.gz.sig"
}
# Upgrade NAME to versions FIRST, FIRST+1, ... PAIRS times, with a key or
# not (KEY 1/0), with igzip or not (Z igzip/gzip), each paired with a naive
# run of the same tarball, before it in odd pairs and after it in even ones:
# a row of the upgrade's and the naive run's median ms against GOAL x, and
# the median ratio of the pairs with their min-max. The pass after each
# upgrade (nothing to do but remove the version before last) is timed too,
# into $T/next.
upgrade_row() {	# NAME FIRST KEY Z GOAL
	key=
	[ "$3" = 1 ] && key=', "verify": {"public_key": "'"$T/release.pub"'"}'
	# Children get the config's path, never ours.
	[ "$4" = gzip ] && key="$key"', "path": "'"$NOIGZIP"'"'
	config '"log_max_mb": 0, "keep_versions": 1'"$key"
	case $3 in 1) what="key" ;; *) what="no key" ;; esac
	: >"$T/pairs"
	p=0 v=$2 bad=
	while [ $p -lt "$PAIRS" ]; do
		[ $((p % 2)) = 0 ] && nv=$(naive "$1-2.tar.gz")
		upgrade "$1" "$v"
		up=$(cat "$T/up")
		[ $((p % 2)) = 1 ] && nv=$(naive "$1-2.tar.gz")
		ran=$(sed -n 's/.*verified .*; unpacked [0-9]* with \([a-z]*\)$/\1/p' "$W/ops-updater.log" | tail -1)
		if [ "$up_rc" != 0 ] || [ "$ran" != "$4" ]; then
			bad="rc $up_rc, decompressed with ${ran:-?}"
			break
		fi
		echo "$up $nv $(ratio "$up" "$nv")" >>"$T/pairs"
		t=$(ms); pass; echo "$(($(ms) - t))" >>"$T/next"
		(cd "$W/$1/$v" 2>/dev/null && ./control stop >/dev/null 2>&1)
		p=$((p + 1)) v=$((v + 1))
	done
	if [ -n "$bad" ]; then
		row "   upgrade, $what, $4 / naive, ms" "n/a" "<= $5 x naive" '-'
		out '     (%s)\n' "$bad"
		why
		(cd "$W/$1/$v" 2>/dev/null && ./control stop >/dev/null 2>&1)
		return
	fi
	r=$(cut -d' ' -f3 "$T/pairs" | median)
	row "   upgrade, $what, $4 / naive, ms" "$(cut -d' ' -f1 "$T/pairs" | median) / $(cut -d' ' -f2 "$T/pairs" | median)" \
	    "<= $5 x naive" "$(ratio "$r" 1)"
	row "     the pair ratios: min-max" "$(cut -d' ' -f3 "$T/pairs" | sort -n | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//; s/ /-/')" '' ''
}
openssl genpkey -algorithm ed25519 -out "$T/release.key" && openssl pkey -in "$T/release.key" -pubout -out "$T/release.pub"
treeagent tree 1 1
treeagent tree 2 "$BIG"
last=$((3 + 4 * PAIRS))
v=3
while [ $v -lt $last ]; do copy big 2 $v; copy tree 2 $v; v=$((v + 1)); done
serve "{\"agents\": [$(want tree 1)]}"
pass
have_igzip=$(command -v igzip || true)
: >"$T/next"
for kind in big tree; do
	case $kind in big) label=incompressible ;; *) label=compressible ;; esac
	out '6. %s MiB %s tarball, durable install (medians of %s pairs; key: .sig of .sha256):\n' \
	    "$BIG" "$label" "$PAIRS"
	upgrade_row $kind 3 0 gzip 1.0
	[ $kind = tree ] && rss_tree=$up_rss
	upgrade_row $kind $((3 + PAIRS)) 1 gzip 1.0
	if [ -n "$have_igzip" ]; then
		upgrade_row $kind $((3 + 2 * PAIRS)) 0 igzip 0.5
		upgrade_row $kind $((3 + 3 * PAIRS)) 1 igzip 0.5
	else
		out '     (no igzip: apt-get install isal for the igzip figures)\n'
	fi
done
row "   the pass after an upgrade (prunes), ms" "$(median <"$T/next")" '-' '-'
row "   peak RSS MiB: 16 / $BIG / $BIG compr." "$rss16 / $rss256 / $rss_tree" 'flat' '-'
config '"log_max_mb": 0, "keep_versions": 5'

# 7. Killed at half of the download, then resumed: what is fetched again.
cp "$F/big-2.tar.gz" "$F/res-1.tar.gz"
(cd "$F" && md5sum res-1.tar.gz >res-1.tar.gz.md5)
full=$(stat -c %s "$F/res-1.tar.gz")
config '"log_max_mb": 0, "keep_versions": 5, "download_rate_kbps": 65536'
serve "{\"agents\": [$(want res 1)]}"
"$OPS_UPDATER" -c "$W/cfg.json" --no-jitter run &
pid=$!
i=0
while [ "$(stat -c %s "$W/res/.ops-updater-partial.res-1.tar.gz" 2>/dev/null || echo 0)" -lt $((full / 2)) ] && [ $i -lt 1000 ]; do
	sleep 0.02
	i=$((i + 1))
done
kill -9 $pid
wait $pid
config '"log_max_mb": 0, "keep_versions": 5'
pass
at=$(sed -n 's/.*resuming .*res-1.tar.gz at byte \([0-9]*\)$/\1/p' "$W/ops-updater.log" | tail -1)
if [ "$rc" = 0 ] && [ -n "$at" ] && grep -Eq '^GET /files/res-1.tar.gz 206( |$)' "$T/requests"; then
	row "7. resumed at half: MiB fetched again / size" "$(((full - at) >> 20)) / $((full >> 20))" '~ 0.5' "$(ratio $((full - at)) "$full")"
else
	row "7. resumed at half: MiB fetched again / size" "n/a (rc $rc)" '~ 0.5' '-'
	why
fi
(cd "$W/res/1" 2>/dev/null && ./control stop >/dev/null 2>&1)

# 8. syncfs against fsync of each file and directory of a fresh tree, while
# a writer keeps about 1 GiB dirty in the same file system (bounded: 120 s).
if cc -O2 -o "$T/syncbench" "$TDIR/syncbench.c"; then
	(end=$(($(date +%s) + 120)); while [ ! -e "$T/stop" ] && [ "$(date +%s)" -lt $end ]; do
		dd if=/dev/zero of="$T/dirty" bs=1M count=1024 conv=notrunc status=none; done) &
	writer=$!
	sleep 3
	dirty=$(awk '/^Dirty:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
	mkdir -p "$T/s1" "$T/s2"
	tar -xzf "$F/tree-2.tar.gz" -C "$T/s1"
	out '   (another process keeps %s MiB dirty in the same file system)\n' "$dirty"
	set -- $("$T/syncbench" fsync "$T/s1")
	row "8. fsync each of $2 files+dirs, ms" "$1" '-' '-'
	tar -xzf "$F/tree-2.tar.gz" -C "$T/s2"
	row "   syncfs of the same tree, again, ms" "$($T/syncbench syncfs "$T/s2" | cut -d' ' -f1)" '-' '-'
	touch "$T/stop"
	wait $writer
	rm -rf "$T/s1" "$T/s2" "$T/dirty"
fi
exit 0
