/* ops-updater: one pass of keeping this machine's agents at the versions
 * ops-meta asks for, then exit. cron runs it every few minutes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "heartbeat.h"
#include "lock.h"
#include "log.h"
#include "reconcile.h"
#include "scan.h"
#include "spawn.h"
#include "util.h"

#define EXIT_FAILED 1

static const char usage[] =
    "usage: ops-updater [-c FILE] [-v] [--no-jitter] run\n"
    "       ops-updater [-c FILE] status\n"
    "       ops-updater -V | --version\n"
    "       ops-updater -h | --help\n"
    "\n"
    "  run          one pass: lock, jitter, status, heartbeat, reconcile\n"
    "  status       table of local agents (name, version, status); no network\n"
    "\n"
    "  -c FILE      config file (default cfg.json)\n"
    "  -v           log request and response bodies\n"
    "  --no-jitter  skip the random sleep before the heartbeat\n"
    "\n"
    "exit: 0 all agents as asked, 1 heartbeat or an agent failed, 64 usage,\n"
    "69 tar or gzip missing, 75 another pass holds the lock, 78 config error\n";

struct opts {
	const char *config;
	const char *command;
	int verbose, no_jitter;
};

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "no-jitter", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->config = "cfg.json";
	while ((c = getopt_long(argc, argv, "+c:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'J': o->no_jitter = 1; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': puts("ops-updater " OPS_UPDATER_VERSION); exit(0);
		default: fputs(usage, stderr); exit(EX_USAGE);
		}
	}
	if (optind != argc - 1 || (strcmp(argv[optind], "run") != 0 && strcmp(argv[optind], "status") != 0)) {
		fputs(usage, stderr);
		exit(EX_USAGE);
	}
	o->command = argv[optind];
}

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
			log_errx(NULL, "%s not found on PATH (%s)", tools[i],
			    getenv("PATH") ? getenv("PATH") : "unset");
			ok = 0;
		}
		free(p);
	}
	return ok;
}

static int
cmd_status(const struct config *cfg)
{
	struct real_agent *list;
	size_t n, i;

	if (scan_workdir(cfg->workdir, cfg->control_timeout, &list, &n) == -1)
		return EXIT_FAILED;
	printf("%-24s %-16s %s\n", "NAME", "VERSION", "STATUS");
	for (i = 0; i < n; i++)
		printf("%-24s %-16s %s\n", list[i].name, list[i].version, list[i].status);
	scan_free(list, n);
	return 0;
}

static int
cmd_run(const struct config *cfg, int no_jitter)
{
	struct real_agent *list = NULL;
	struct hb_response resp = { 0 };
	char *lockpath = xasprintf("%s/ops-updater.pid", cfg->workdir);
	size_t n = 0;
	int ret = EXIT_FAILED, r;

	if ((r = lock_take(lockpath)) != 0) {
		ret = r == 1 ? EX_TEMPFAIL : EXIT_FAILED;
		goto out;
	}
	if (!have_tools()) {
		ret = EX_UNAVAILABLE;
		goto out;
	}
	if (!no_jitter)
		jitter(cfg->jitter);
	if (scan_workdir(cfg->workdir, cfg->control_timeout, &list, &n) == -1 ||
	    hb_send(cfg, list, n, &resp) == -1)
		goto out;
	ret = reconcile(cfg, &resp) == 0 ? 0 : EXIT_FAILED;
out:
	log_info(NULL, "pass done: exit %d", ret);
	hb_free(&resp);
	scan_free(list, n);
	free(lockpath);
	return ret;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct opts o = { 0 };
	char err[256];
	int ret;

	sanitize_fds();
	umask(022);
	parse_args(argc, argv, &o);
	if (config_load(&cfg, o.config, err, sizeof(err)) == -1) {
		fprintf(stderr, "ops-updater: %s: %s\n", o.config, err);
		return EX_CONFIG;
	}
	log_set_verbose(o.verbose || cfg.verbose);
	if (strcmp(o.command, "status") == 0) {
		ret = cmd_status(&cfg);
	} else if (log_open(cfg.log) == -1) {
		fprintf(stderr, "ops-updater: log %s: %s\n", cfg.log, strerror(errno));
		ret = EX_CONFIG;
	} else {
		fetch_init(&cfg);
		ret = cmd_run(&cfg, o.no_jitter);
		fetch_cleanup();
	}
	config_free(&cfg);
	return ret;
}
