/* ops-updater: one pass of keeping this machine's agents at the versions
 * ops-meta asks for, then exit. cron runs it every few minutes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "configload.h"
#include "deadline.h"
#include "fetch.h"
#include "fetchwait.h"
#include "file.h"
#include "heartbeat.h"
#include "lock.h"
#include "metrics.h"
#include "log.h"
#include "opts.h"
#include "partial.h"
#include "probation.h"
#include "reconcile.h"
#include "recover.h"
#include "report.h"
#include "retain.h"
#include "scan.h"
#include "spawn.h"
#include "state.h"
#include "stateread.h"
#include "statewrite.h"
#include "trust.h"
#include "util.h"

#define EXIT_FAILED 1
#define EXIT_PLAN_CHANGES 2	/* like diff(1): something would change */

/* Descriptors 0-2 must be open, or a file we open could become stdout. */
static void
sanitize_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/* Random seconds in [0, max] from the kernel: a fleet started by cron in the
 * same second must still spread out. */
static void
jitter(int max)
{
	unsigned int r;
	long long ms;

	if (max <= 0)
		return;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
		log_err(NULL, "getrandom; no jitter this pass");
		return;
	}
	ms = (long long)(r % ((unsigned)max * 1000u + 1));
	log_debug(NULL, "sleeping %lld ms of jitter", ms);
	sleep_ms(ms);
}

/* tar unpacks, and runs gzip for it: without them no install can work. */
static int
have_tools(void)
{
	static const char *const tools[] = { "tar", "gzip" };
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char *p = spawn_which(tools[i]);

		if (p == NULL) {
			log_errx(NULL, "%s not found in path (%s)", tools[i], spawn_path());
			ok = 0;
		}
		free(p);
	}
	return ok;
}

/* status: the agents as their control scripts say (scan), or with scan
 * 0 the last pass's record only. */
static int
cmd_status(const struct config *cfg, int json, int scan)
{
	struct real_agent *list = NULL;
	struct pass_state st;
	char err[512], vis[512];
	size_t n = 0, i;
	char prot[256];
	int have;

	if (scan && scan_workdir(cfg, &list, &n) == -1)
		return EXIT_FAILED;
	if ((have = state_read(cfg->workdir, &st, err, sizeof(err))) == -1 || have == 2) {
		str_vis(vis, sizeof(vis), err);
		log_warnx(NULL, "state: %s", vis);
	}
	if (have == 2)
		have = 0;	/* what could be salvaged */
	if (json) {
		char *text = report_status_json(config_protection(cfg, prot, sizeof(prot)), list, n, scan,
		    have == 0 ? &st : NULL, (long long)time(NULL));

		puts(text);
		free(text);
	} else {
		printf("protection: %s\n", config_protection(cfg, prot, sizeof(prot)));
		printf("version: ops-updater %s\n", OPS_UPDATER_VERSION);
		if (!scan)
			report_record_only(stdout, have == 0 ? &st : NULL, (long long)time(NULL));
		else
			printf("%-24s %-16s %s\n", "NAME", "VERSION", "STATUS");
		for (i = 0; i < n; i++) {
			/* The status is what an agent's script printed. */
			char name[4 * 128 + 1], version[4 * 128 + 1], status[4 * sizeof(list[i].status)];

			str_vis(name, sizeof(name), list[i].name);
			str_vis(version, sizeof(version), list[i].version);
			str_vis(status, sizeof(status), list[i].status);
			printf("%-24s %-16s %s\n", name, version, status);
		}
		report_status_text(stdout, cfg->workdir, have == 0 ? &st : NULL, (long long)time(NULL));
	}
	state_free(&st);
	scan_free(list, n);
	return 0;
}

/* Each scanned agent's last error from the state, for the heartbeat. */
static void
attach_errors(struct real_agent *list, size_t n, const struct pass_state *st)
{
	const struct agent_state *a;
	size_t i;

	for (i = 0; i < n; i++)
		if ((a = state_find(st, list[i].name)) != NULL)
			list[i].error = state_verdict_text(a);
}

/* Bytes of the updater's own heartbeat error, at most. */
#define SELF_ERROR_MAX 1024

/* The errors of agents that failed with nothing on disk to report them
 * (a first install that failed: no .version, no realAgents entry), as
 * "name: error; ...", for the updater's own heartbeat entry (with
 * heartbeat_self): else the server would never hear why a new host lacks
 * an agent. NULL: none, or no such entry. */
static char *
absent_errors(const struct config *cfg, const struct real_agent *list, size_t n, const struct pass_state *st)
{
	struct buf b = { 0 };
	size_t i, j;

	for (i = 0; cfg->heartbeat_self && st != NULL && i < st->n; i++) {
		const struct agent_state *a = &st->agents[i];
		char *verdict;

		for (j = 0; j < n && strcmp(list[j].name, a->name) != 0; j++)
			;
		if (j < n || (verdict = state_verdict_text(a)) == NULL)
			continue;	/* installed (its own entry says it), or as asked */
		if (b.len > 0)
			buf_add(&b, "; ", 2);
		buf_add(&b, a->name, strlen(a->name));
		buf_add(&b, ": ", 2);
		buf_add(&b, verdict, strlen(verdict));
		free(verdict);
	}
	if (b.len == 0)
		return NULL;
	if (b.len > SELF_ERROR_MAX) {
		b.len = SELF_ERROR_MAX - 3;
		buf_add(&b, "...", 3);
	}
	buf_add(&b, "", 1);	/* the NUL */
	return b.data;
}

/* What converge saw: the scan, whether the server answered, and whether
 * reconcile changed anything. */
struct seen {
	struct real_agent *list;
	size_t n;
	int answered;
	int changed;
};

/* What the failed heartbeat logged (captured), never ""; the pass
 * deadline, when that is what cut it (not "Operation timed out after 1
 * milliseconds"). */
static const char *
heartbeat_error(void)
{
	static char cause[64];

	if (deadline_passed())
		return deadline_cause(cause, sizeof(cause));
	return log_captured()[0] != '\0' ? log_captured() : "failed (no error line)";
}

/* Did the scan refuse an agent we manage? It fails the pass even when the
 * server does not name it: files that others could have changed are news. */
static int
refused(const struct config *cfg, const struct seen *seen)
{
	size_t i;

	for (i = 0; i < seen->n; i++)
		if (seen->list[i].refused && config_manages(cfg, seen->list[i].name))
			return 1;
	return 0;
}

/* Status, heartbeat, and reconcile for real or (plan) only on paper. The
 * scan is left in seen for the caller to free. */
static int
converge(const struct config *cfg, int plan, const struct reconcile_state *rs, struct seen *seen)
{
	struct hb_response resp = { 0 };
	struct server_state *recent = hb_recent(cfg, rs->prev);
	char *absent = NULL;
	int ret = EXIT_FAILED, r;

	if (cfg->tls_insecure)
		log_warnx(NULL, "tls.insecure is set: server certificates are NOT verified");

	if (scan_workdir(cfg, &seen->list, &seen->n) == -1)
		goto out;
	attach_errors(seen->list, seen->n, rs->prev);
	absent = absent_errors(cfg, seen->list, seen->n, rs->prev);
	/* A failed heartbeat is a failure of its own: what it logged goes to
	 * the state, for status, check and the metrics. */
	log_capture(HB_SELF);
	r = hb_send(cfg, seen->list, seen->n, absent, recent, &resp);
	if (rs->next != NULL) {
		hb_remember(cfg, &resp, recent, rs->next);
		state_heartbeat(rs->next, r == -1 ? heartbeat_error() : "", (long long)time(NULL));
	}
	log_capture(NULL);
	if (r == -1)
		goto out;
	seen->answered = 1;
	r = reconcile(cfg, &resp, seen->list, seen->n, plan ? stdout : NULL, rs);
	seen->changed = (r & RECONCILE_CHANGED) != 0;
	if ((r & RECONCILE_FAILED) || refused(cfg, seen))
		ret = EXIT_FAILED;
	else if (plan && (r & RECONCILE_CHANGED))
		ret = EXIT_PLAN_CHANGES;
	else
		ret = 0;
out:
	hb_free(&resp);
	free(recent);
	free(absent);
	return ret;
}

/* A pass that changed something tells the server at once, or its status
 * pages would show the old versions until the next pass: the agents as
 * the pass left them (scanned again, into seen, for the metrics too),
 * each with this pass's error. Within heartbeat_timeout; the answer is
 * not acted on, and a failure is only logged: the next pass reports. */
static void
report_changes(const struct config *cfg, const struct pass_state *prev, struct pass_state *next,
    struct seen *seen)
{
	char *absent;

	scan_free(seen->list, seen->n);
	seen->list = NULL;
	seen->n = 0;
	if (scan_workdir(cfg, &seen->list, &seen->n) == -1)
		return;
	state_carry(next, prev, cfg->workdir);
	attach_errors(seen->list, seen->n, next);
	absent = absent_errors(cfg, seen->list, seen->n, next);
	if (hb_report(cfg, next->server != NULL ? next->server : cfg->server, seen->list, seen->n,
	    absent) == -1)
		log_warnx(NULL, "the server was not told of this pass's changes: the next pass tells it");
	free(absent);
}

/* The metrics textfile of this pass, with the agents of the last scan:
 * as the pass left them (report_changes scanned again after a change).
 * Why it could not be written goes to the state, for status and check:
 * a collector that silently serves an old file hides everything. */
static void
write_metrics(const struct config *cfg, struct pass_state *st, const struct seen *seen)
{
	state_set(&st->metrics_error, "");
	if (*cfg->metrics_file == '\0')
		return;
	log_capture(HB_SELF);	/* the updater's own errors */
	if (metrics_write(cfg->metrics_file, st, seen->list, seen->n) == -1)
		state_set(&st->metrics_error, log_captured()[0] != '\0' ? log_captured() :
		    "metrics not written (no error line)");
	log_capture(NULL);
}

/* The number after key in the /proc file path (at most max bytes), or -1. */
static long long
proc_number(const char *path, size_t max, const char *key)
{
	char *text = file_read(path, max), *p;
	long long n = -1;

	if (text != NULL && (p = strstr(text, key)) != NULL)
		n = strtoll(p + strlen(key), NULL, 10);
	free(text);
	return n;
}

/* Bytes read by this process and the children it reaped (rchar of
 * /proc/self/io: files, sockets, pipes; Linux adds reaped children's). */
static long long
bytes_read(void)
{
	return proc_number("/proc/self/io", 4096, "rchar:");
}

/* This process's peak resident set in KiB: VmHWM of /proc/self/status,
 * not ru_maxrss, which Linux carries over execve from the parent (under a
 * 300 MiB puppet agent, every pass would say 300 MiB). -1: unknown. */
static long long
peak_rss_kb(void)
{
	return proc_number("/proc/self/status", 16384, "\nVmHWM:");
}

/* The pass's last line says what it cost: a fleet runs this forever. */
static void
log_cost(int ret, long long start)
{
	struct rusage ru;
	double cpu;

	getrusage(RUSAGE_SELF, &ru);	/* ours only: children apart */
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	log_info(NULL, "pass done: exit %d in %.3f s; own cpu %.1f ms, peak rss %.1f MiB, read %lld KiB with children",
	    ret, (double)(now_ms() - start) / 1e3, cpu, (double)peak_rss_kb() / 1024, bytes_read() / 1024);
}

/* The last pass's state; a missing one is normal, a bad one a warning. */
static void
read_state(const struct config *cfg, struct pass_state *st)
{
	char err[512];

	switch (state_read(cfg->workdir, st, err, sizeof(err))) {
	case -1:
		log_warnx(NULL, "state: %s; starting afresh (no holds, no failure counts)", err);
		break;
	case 2:
		log_warnx(NULL, "state: %s; going on with what was kept", err);
		break;
	}
}

/* This pass's state, at its end: what it did, and for agents it did not
 * reach (no heartbeat, or left out of the server's answer this once) what
 * the last pass knew, holds included: a bad release is not retried at once
 * because one answer did not list it. When the server answered, an agent
 * it no longer lists that has nothing on disk is forgotten. Written after
 * the metrics, so that it says whether they could be. */
static void
write_state(const struct config *cfg, struct pass_state *prev, struct pass_state *next,
    time_t started, long long start_ms, int ret, const struct seen *seen)
{
	const struct fetch_backoff *waits;
	int e;

	state_carry(next, prev, seen->answered ? cfg->workdir : NULL);
	free(next->waits);
	next->nwaits = fetch_backoff_list(&waits);
	next->waits = xcalloc(next->nwaits, sizeof(*next->waits));
	memcpy(next->waits, waits, next->nwaits * sizeof(*waits));
	next->started = (long long)started;
	next->duration_ms = now_ms() - start_ms;
	next->exit_code = ret;
	next->log_lost = log_lost(&e);
	state_set(&next->log_error, next->log_lost > 0 ? strerror(e) : "");
	write_metrics(cfg, next, seen);
	state_write(cfg->workdir, next);
}

/* The kernel's boot id, new at every boot, into next; rs->rebooted when
 * the last pass ran under another one. "" where /proc does not say. */
static void
boot_id(struct reconcile_state *rs)
{
	char *id = file_read("/proc/sys/kernel/random/boot_id", 64);

	state_set(&rs->next->boot_id, id != NULL ? str_trim(id) : "");
	free(id);
	rs->rebooted = probation_rebooted(rs->prev->boot_id, rs->next->boot_id);
	if (rs->rebooted)
		log_info(NULL, "the host went down since the last pass (a new boot id): agents found down "
		    "are started again, no death on probation");
}

static int
cmd_run(const struct config *cfg, int no_jitter, int retry, int now)
{
	char *lockpath = xasprintf("%s/ops-updater.pid", cfg->workdir);
	struct pass_state prev = { 0 }, next = { 0 };
	struct reconcile_state rs = { &prev, &next, retry, now, 0 };
	struct seen seen = { 0 };
	long long start = now_ms();
	time_t started = time(NULL);
	int ret, r, locked = 0, swept;

	if ((r = lock_take(lockpath)) != 0) {
		ret = r == 1 ? EX_TEMPFAIL : EXIT_FAILED;
		goto out;
	}
	locked = 1;
	deadline_set(cfg->pass_timeout);
	read_state(cfg, &prev);
	/* --now: no wait for a server's Retry-After either, as it says. */
	fetch_backoff_load(prev.waits, prev.nwaits, now);
	state_begin(&next, &prev);
	boot_id(&rs);
	recover(cfg, &prev, &next);
	log_rotate(cfg->log, (long long)cfg->log_max_mb << 20);
	/* A key of its own: a package that leaves the log to logrotate
	 * (log_max_mb 0) must not let daemons fill the work directory. */
	agent_set_output_max((long long)cfg->control_log_max_mb << 20);
	swept = retain_sweep(cfg->workdir);
	partial_sweep(cfg->workdir, cfg->partial_max_age);
	if (!have_tools()) {
		ret = EX_UNAVAILABLE;
		goto out;
	}
	/* The jitter may not eat the pass: at most half of it. */
	if (!no_jitter)
		jitter(cfg->jitter < cfg->pass_timeout / 2 ? cfg->jitter : cfg->pass_timeout / 2);
	ret = converge(cfg, 0, &rs, &seen);
	if (ret == 0 && swept == -1)
		ret = EXIT_FAILED;	/* a leftover that cannot go: the log says why */
	/* Past the deadline no control script runs: the scan taken stands. */
	if (seen.changed && !deadline_passed())
		report_changes(cfg, &prev, &next, &seen);
	if (deadline_passed()) {
		char cause[64];

		log_errx(NULL, "the pass ran into pass_timeout (%d s): stopped where it was, as a kill "
		    "would leave it; the next pass goes on from there", cfg->pass_timeout);
		state_set(&next.cut, deadline_cause(cause, sizeof(cause)));
		ret = EXIT_FAILED;
	}
out:
	/* Only the holder of the lock may write the state and the metrics. */
	if (locked)
		write_state(cfg, &prev, &next, started, start, ret, &seen);
	scan_free(seen.list, seen.n);
	log_cost(ret, start);
	state_free(&prev);
	state_free(&next);
	free(lockpath);
	return ret;
}

/* Is the log's directory, with every one above it, trusted? Root creates,
 * appends to and renames the log there. 0, or -1 with why. */
static int
trust_log_dir(const struct config *cfg, char *why, size_t len)
{
	char *copy = xstrdup(cfg->log);
	int r = trust_path(dirname(copy), S_IFDIR, NULL, why, len);

	free(copy);
	return r;
}

/* Open the log, in a trusted directory only; -1 when not (said on stderr). */
static int
open_log(const struct config *cfg)
{
	char why[512], shown[4 * sizeof(why)];

	if (trust_log_dir(cfg, why, sizeof(why)) == -1) {
		str_vis(shown, sizeof(shown), why);
		fprintf(stderr, "ops-updater: log %s refused: %s\n", cfg->log, shown);
		return -1;
	}
	if (log_open(cfg->log) == -1) {
		fprintf(stderr, "ops-updater: log %s: %s\n", cfg->log, log_open_strerror(errno));
		return -1;
	}
	return 0;
}

/* server is "": installed, not configured yet (the package's cfg.json). A
 * pass does nothing, not even take the lock: one line in the log, nothing
 * on stdout or stderr for cron to mail; plan says the same on stderr.
 * Nothing is asked of this host, so nothing failed: exit 0. */
static int
cmd_unconfigured(const struct config *cfg, const char *path, int run)
{
	if (run && open_log(cfg) == -1)
		return EX_CONFIG;
	log_warnx(NULL, "not configured: server is empty in %s; nothing is done until it names ops-meta", path);
	return 0;
}

/* run, plan and status run control scripts as root: the work directory and
 * every directory above it must pass trust_path before anything is done
 * there (lock, log, state, sweeps), and the work directory itself must be
 * no symlink. 0, or -1 with why. */
static int
trust_workdir(const struct config *cfg, char *why, size_t len)
{
	char reason[256];

	if (trust_path(cfg->workdir, S_IFDIR, NULL, why, len) == -1)
		return -1;
	if (trust_at(AT_FDCWD, cfg->workdir, S_IFDIR, reason, sizeof(reason)) == -1) {
		snprintf(why, len, "%s: %s", cfg->workdir, reason);
		return -1;
	}
	return 0;
}

/* The work directory was refused: say so on stderr and, for run, in the
 * log too when its directory is trusted (a log inside the refused work
 * directory is not). */
static void
refuse_workdir(const struct config *cfg, int run, const char *why)
{
	char shown[4 * 1024], reason[512];
	int logged = 0;

	str_vis(shown, sizeof(shown), why);
	if (run && trust_log_dir(cfg, reason, sizeof(reason)) == 0 && log_open(cfg->log) == 0) {
		log_errx(NULL, "work directory %s refused: %s", cfg->workdir, why);
		logged = 1;
	}
	/* The log copies its lines to a terminal itself. */
	if (!logged || !isatty(STDERR_FILENO))
		fprintf(stderr, "ops-updater: work directory %s refused: %s\n", cfg->workdir, shown);
}

/* status as a user other than root: control scripts are root's to run
 * (as another user they fail, and a running agent looks stopped), and so
 * are the password file and key. The config, and the last pass's record
 * with its age, stand in for them. */
static int
cmd_status_record(const char *path, int json)
{
	struct config cfg;
	char err[1024], shown[4 * sizeof(err)];
	int ret;

	if (config_read(&cfg, path, err, sizeof(err)) == -1) {
		str_vis(shown, sizeof(shown), err);
		fprintf(stderr, "ops-updater: %s: %s\n", path, shown);
		return EX_CONFIG;
	}
	ret = cmd_status(&cfg, json, 0);
	config_free(&cfg);
	return ret;
}

/* -t and -T: the config and the files it names, loaded as a pass loads
 * them, and nothing else: nothing sent, no lock, nothing written, so that
 * puppet and ansible can test a file before it lands. */
static int
cmd_test(const char *path, int dump)
{
	struct config cfg;
	char err[1024], shown[4 * sizeof(err)];

	if (config_load(&cfg, path, err, sizeof(err)) == -1) {
		str_vis(shown, sizeof(shown), err);
		fprintf(stderr, "ops-updater: %s: %s\n", path, shown);
		return EX_CONFIG;
	}
	if (dump)
		config_dump(stdout, &cfg);
	else
		printf("%s: ok%s\n", path, config_unconfigured(&cfg) ? " (server is empty: passes do nothing)" : "");
	config_free(&cfg);
	return 0;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct opts o = { 0 };
	char err[1024];
	int ret;

	sanitize_fds();
	umask(022);
	/* A full disk or RLIMIT_FSIZE must fail a write with EFBIG, which is
	 * handled, not kill the pass. Children get the default back. */
	signal(SIGXFSZ, SIG_IGN);
	/* A child that stops reading its stdin must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	opts_parse(argc, argv, &o);
	if (o.test)
		return cmd_test(o.config, o.test == 2);
	if (strcmp(o.command, "check") == 0) {
		/* A monitoring user reads the config and the state, nothing
		 * of root's: no password file, no key. A config no pass can
		 * read stops every pass: critical, not unknown. */
		if (config_read(&cfg, o.config, err, sizeof(err)) == -1)
			return report_critical("%s: %s", o.config, err);
		if (config_unconfigured(&cfg))
			ret = report_unknown("not configured: server is empty in %s; passes do nothing", o.config);
		else
			ret = report_check(cfg.workdir, o.max_age);
		config_free(&cfg);
		return ret;
	}
	if (strcmp(o.command, "status") == 0 && geteuid() != 0)
		return cmd_status_record(o.config, o.json);
	if (config_load(&cfg, o.config, err, sizeof(err)) == -1) {
		char shown[4 * sizeof(err)];	/* a key name from the file */

		str_vis(shown, sizeof(shown), err);
		fprintf(stderr, "ops-updater: %s: %s\n", o.config, shown);
		return EX_CONFIG;
	}
	log_set_verbose(o.verbose || cfg.verbose);
	spawn_set_path(cfg.path);	/* never cron's PATH, nor the caller's */
	/* status and plan are for people at a terminal: they log to stderr
	 * and leave the log file, like everything else, untouched. */
	if (config_unconfigured(&cfg) && strcmp(o.command, "status") != 0) {
		ret = cmd_unconfigured(&cfg, o.config, strcmp(o.command, "run") == 0);
	} else if (trust_workdir(&cfg, err, sizeof(err)) == -1) {
		refuse_workdir(&cfg, strcmp(o.command, "run") == 0, err);
		ret = EXIT_FAILED;
	} else if (strcmp(o.command, "status") == 0) {
		ret = cmd_status(&cfg, o.json, 1);
	} else if (strcmp(o.command, "plan") == 0) {
		struct pass_state prev = { 0 };
		struct reconcile_state rs = { &prev, NULL, 0, o.now, 0 };
		struct seen seen = { 0 };

		read_state(&cfg, &prev);	/* for holds; plan writes none */
		fetch_init(&cfg);
		fetch_backoff_load(prev.waits, prev.nwaits, o.now);
		ret = converge(&cfg, 1, &rs, &seen);
		fetch_cleanup();
		scan_free(seen.list, seen.n);
		state_free(&prev);
	} else if (open_log(&cfg) == -1) {
		ret = EX_CONFIG;
	} else {
		fetch_init(&cfg);
		ret = cmd_run(&cfg, o.no_jitter, o.retry, o.now);
		fetch_cleanup();
	}
	config_free(&cfg);
	return ret;
}
