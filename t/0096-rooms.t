#!/bin/sh
# The rooms of src/ stay honest: no call cycle between its files (none
# calls into another that calls back, directly or through a third: every
# file stands above all it uses), no src/*.c over 700 lines, and every
# header says its concern in a first comment and gives each prototype a
# comment. The calls are read from the objects the tests run (nm: what
# each defines and what it leaves undefined), not guessed from includes.
. "$(dirname "$0")/lib.sh"

# The objects beside the binary under test (build/, or build-asan/ for
# make check-asan); a copy at the top of the tree has them in build/.
B=$(dirname "$OPS_UPDATER")
[ -f "$B/main.o" ] || B=$TOP/build
check "the objects of src/ are built in $B" test -f "$B/main.o"

python3 - "$TOP/src" "$B" >"$T/graph" 2>&1 <<'PY'
import glob, os, subprocess, sys
src, build = sys.argv[1], sys.argv[2]
files = sorted(os.path.basename(c)[:-2] for c in glob.glob(src + "/*.c"))
defined, used = {}, {}
for f in files:
    o = os.path.join(build, f + ".o")
    if not os.path.exists(o):
        print("no object for src/%s.c: %s" % (f, o))
        sys.exit(1)
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    used[f] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used[f].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCGSV":
            defined[parts[2]] = f
# f -> g, with the symbols of g that f uses.
edges = {f: {} for f in files}
for f in files:
    for s in used[f]:
        g = defined.get(s)
        if g is not None and g != f:
            edges[f].setdefault(g, set()).add(s)
# Strongly connected components (Tarjan): any with two files is a circle.
index, low, stack, on, comps = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        comps.append(sorted(comp))
sys.setrecursionlimit(10000)
for f in files:
    if f not in index:
        visit(f)
# One circle per component, shortest from its first file, for the reader.
def circle(comp):
    start, prev, seen, todo = comp[0], {}, {comp[0]}, [comp[0]]
    while todo:
        v = todo.pop(0)
        for w in sorted(edges[v]):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [start]
            if w in comp and w not in seen:
                seen.add(w)
                prev[w] = v
                todo.append(w)
for comp in comps:
    if len(comp) > 1:
        path = circle(comp)
        print("circle: " + " -> ".join(
            "%s.c" % path[0] if i == 0 else "%s.c (%s)" % (g, ", ".join(sorted(edges[path[i - 1]][g])))
            for i, g in enumerate(path)))
        if len(comp) > len(path) - 1:
            print("  (the same circle holds %s)" % ", ".join(c + ".c" for c in comp))
PY
graph=$(cat "$T/graph")
is 'no call cycle between the files of src/' "$graph" ''

# Lines of code in each room: about 700 at most.
for f in "$TOP"/src/*.c; do
	n=$(wc -l <"$f")
	check "src/${f##*/}: $n lines, at most 700" test "$n" -le 700
done

# Each header opens with its concern, and each prototype has its comment
# on the line above (or ending there, for a comment of several lines).
for h in "$TOP"/src/*.h; do
	check "src/${h##*/} opens with a comment" sh -c 'head -n 1 "$1" | grep -q "^/\*"' - "$h"
	bare=$(awk '
		/^[a-z].*[a-z_0-9]+\(/ && prev !~ /\*\/[[:space:]]*$/ { print FILENAME ":" NR ": " $0 }
		{ prev = $0 }' "$h")
	is "src/${h##*/}: every prototype has a comment" "$bare" ''
done

done_testing
