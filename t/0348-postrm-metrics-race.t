#!/bin/sh
# Purge's postrm removes the metrics file prerm noted. The owner of a
# directory on the way (prometheus owns /var/lib/prometheus) may swap the
# metrics directory for a link at any moment, also after postrm's checks
# and before its rm: root must remove no file that link leads to. The
# race is won every time: a stand-in rm, first in PATH, makes the swap
# (as the owner) just before the real rm runs. postrm runs in a mount
# namespace of its own, the package's directories on tmpfs, without the
# unpack's user (a stand-in getent): nothing of this host is touched.
. "$(dirname "$0")/lib.sh"

POSTRM=$TOP/debian/ops-updater.postrm
P=$T/var/lib/prometheus
mkdir -p "$P/node-exporter" "$T/victim" "$T/bin"
chmod 711 "$T" && chmod 755 "$T/var" "$T/var/lib" "$P/node-exporter" && chown 65534 "$P"
echo old >"$P/node-exporter/ops-updater.prom"
echo keep >"$T/victim/ops-updater.prom"
# What a pass killed while writing it left (t/0349), and a file of the
# directory's owner's with that name, not root's to remove.
echo old >"$P/node-exporter/.ops-updater-tmp.ops-updater.prom.123"
echo theirs >"$P/node-exporter/.ops-updater-tmp.ops-updater.prom.1" &&
    chown 65534 "$P/node-exporter/.ops-updater-tmp.ops-updater.prom.1"
cat >"$T/bin/rm" <<EOS
#!/bin/sh
case "\$*" in *ops-updater.prom*) [ -d "$P/ne.real" ] ||
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
	    'mv "$P/node-exporter" "$P/ne.real" && ln -s "$T/victim" "$P/node-exporter"' ;;
esac
exec /bin/rm "\$@"
EOS
printf '#!/bin/sh\nexit 2\n' >"$T/bin/getent"
chmod 755 "$T/bin/rm" "$T/bin/getent"

purge() {	# METRICS_FILE BIN: postrm purge, the note naming METRICS_FILE, BIN first in PATH
	unshare --mount --propagation private sh -c '
		for d in /var/lib /var/log /run; do mount -t tmpfs none "$d" || exit 1; done
		mkdir /var/lib/ops-updater && echo "$1" >/var/lib/ops-updater/ops-updater.metrics-file &&
		PATH="$2:$PATH" sh "$3" purge && ! test -e /var/lib/ops-updater/ops-updater.metrics-file' \
	    sh "$1" "$2" "$POSTRM" >"$T/postrm.out" 2>&1
	rc=$?
	cat "$T/postrm.out" >&2
}
purge "$P/node-exporter/ops-updater.prom" "$T/bin"
is 'postrm purge: exit 0, the note gone' "$rc" 0
is 'the file the swapped-in link leads to is kept' "$(cat "$T/victim/ops-updater.prom")" keep
check 'the link too' test -L "$P/node-exporter"
check_fails 'the metrics file, in the directory moved away, is removed' test -e "$P/ne.real/ops-updater.prom"
check_fails 'so is the temporary file a killed pass left' test -e "$P/ne.real/.ops-updater-tmp.ops-updater.prom.123"
is 'the owner'"'"'s file is kept' "$(cat "$P/ne.real/.ops-updater-tmp.ops-updater.prom.1")" theirs

# The metrics directory a link already when purge begins: nothing it
# leads to is removed, nor the link.
mkdir "$T/bin2" && cp "$T/bin/getent" "$T/bin2/"
rm "$P/node-exporter" && mkdir -m 755 "$P/node-exporter" && echo old >"$P/node-exporter/ops-updater.prom"
mv "$P/node-exporter" "$P/ne.2" && ln -s "$T/victim" "$P/node-exporter"
purge "$P/node-exporter/ops-updater.prom" "$T/bin2"
is 'a link from the start: exit 0, the note gone' "$rc" 0
is 'a link from the start: the file it leads to is kept' "$(cat "$T/victim/ops-updater.prom")" keep
check 'and the link' test -L "$P/node-exporter"

done_testing
