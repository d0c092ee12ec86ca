#!/bin/sh
# The per-file watchdog of lib.sh: a test file that hangs on a child, or
# loops, is ended after TEST_TIMEOUT seconds and fails, with its children.
. "$(dirname "$0")/lib.sh"

# hung KIND: a test file that hangs, with a 2 s watchdog.
hung() {
	cat >"$T/$1.t" <<SCRIPT
#!/bin/sh
TEST_TIMEOUT=2
. "$TDIR/lib.sh"
case $1 in
child) sleep 300.$$ ;;
loop) while :; do :; done ;;
esac
echo "ok 1 - never reached"
done_testing
SCRIPT
	start=$(date +%s)
	sh "$T/$1.t" >"$T/$1.out" 2>"$T/$1.err"
	echo "$? $(($(date +%s) - start))"
}
for kind in child loop; do
	set -- $(hung $kind)
	check_fails "$kind: the file fails" test "$1" = 0
	is "$kind: ended within seconds, not at the end of its hang" "$(($2 < 30))" 1
	check_fails "$kind: nothing after the hang ran" grep -q 'never reached' "$T/$kind.out"
	check "$kind: it says why" grep -q 'timed out after 2 s' "$T/$kind.err"
done
check_fails 'the hung child is gone' pgrep -f "^sleep 300\\.$$\$"
done_testing
