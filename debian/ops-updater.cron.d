# /etc/cron.d/ops-updater: one ops-updater pass every 5 minutes, as root.
#
# A pass first sleeps a random time of up to "jitter" seconds (cfg.json;
# 240 by default), so that a fleet does not call ops-meta all at once. It
# logs to /var/log/ops-updater/ops-updater.log; what it prints before that
# log is open (a broken cfg.json, a refused log directory) is appended
# there too, so cron has nothing to mail. Until "server" is set in
# /etc/ops-updater/cfg.json a pass does nothing but say so in the log.
# test -x: a package removed but not purged keeps this file, silently.
PATH=/usr/sbin:/usr/bin:/sbin:/bin

*/5 * * * *	root	test -x /usr/bin/ops-updater && ops-updater -c /etc/ops-updater/cfg.json run >>/var/log/ops-updater/ops-updater.log 2>&1
