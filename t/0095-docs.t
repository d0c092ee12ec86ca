#!/bin/sh
# The documents stay in step with the code: the man page is lint-clean and,
# like the README, names every config key; make install and uninstall
# honour PREFIX and DESTDIR.
. "$(dirname "$0")/lib.sh"

mandoc -T lint -W warning "$TOP/ops-updater.1" >"$T/lint" 2>&1
is 'mandoc -T lint: no warnings' "$(cat "$T/lint")" ''
keys=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))))' "$TOP/cfg.example.json")
check 'cfg.example.json has keys' test -n "$keys"
for k in $keys; do
	check "man page documents $k" grep -q "^\\.It Ic $k\$" "$TOP/ops-updater.1"
	check "README documents $k" grep -q "^| $k |" "$TOP/README"
done
help=$("$OPS_UPDATER" --help)
for c in run plan status; do
	check "--help and the man page know $c" sh -c "printf '%s' \"\$1\" | grep -q \"^  $c \" && grep -q '^\\.It Cm $c\$' \"\$2\"" - "$help" "$TOP/ops-updater.1"
done

make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr >"$T/make.out" 2>&1
is 'make install: exit 0' $? 0
for f in usr/bin/ops-updater usr/share/man/man1/ops-updater.1 usr/share/doc/ops-updater/cfg.example.json \
    usr/share/doc/ops-updater/crontab.example usr/share/doc/ops-updater/control; do
	check "installed $f" test -s "$T/root/$f"
done
check 'the installed binary runs' "$T/root/usr/bin/ops-updater" --version
make -s -C "$TOP" uninstall DESTDIR="$T/root" PREFIX=/usr >"$T/make.out" 2>&1
is 'make uninstall: exit 0' $? 0
is 'uninstall leaves no file' "$(find "$T/root" -type f)" ''
done_testing
