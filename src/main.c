/* ops-updater: one pass of keeping this machine's agents at the versions
 * ops-meta asks for, then exit. cron runs it every few minutes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "fetch.h"
#include "file.h"
#include "heartbeat.h"
#include "install.h"
#include "lock.h"
#include "log.h"
#include "reconcile.h"
#include "scan.h"
#include "spawn.h"
#include "util.h"

#define EXIT_FAILED 1
#define EXIT_PLAN_CHANGES 2	/* like diff(1): something would change */

static const char usage[] =
    "usage: ops-updater [-c FILE] [-v] [--no-jitter] run\n"
    "       ops-updater [-c FILE] [-v] plan\n"
    "       ops-updater [-c FILE] [--json] status\n"
    "       ops-updater -V | --version\n"
    "       ops-updater -h | --help\n"
    "\n"
    "  run          one pass: lock, jitter, status, heartbeat, reconcile\n"
    "  plan         status and heartbeat, then print what a pass would do;\n"
    "               changes nothing (exit 0 nothing to do, 2 changes due)\n"
    "  status       table of local agents (name, version, status); no network\n"
    "\n"
    "  -c FILE      config file (default cfg.json)\n"
    "  -v           log request and response bodies\n"
    "  --no-jitter  skip the random sleep before the heartbeat\n"
    "  --json       status as a JSON list\n"
    "\n"
    "exit: 0 all agents as asked, 1 heartbeat or an agent failed, 2 plan: changes\n"
    "due, 64 usage, 69 tar or gzip missing, 75 another pass holds the lock,\n"
    "78 config error\n";

struct opts {
	const char *config;
	const char *command;
	int verbose, no_jitter, json;
};

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "no-jitter", no_argument, NULL, 'J' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const commands[] = { "run", "plan", "status" };
	size_t i;
	int c;

	o->config = "cfg.json";
	while ((c = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'J': o->no_jitter = 1; break;
		case 'j': o->json = 1; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': puts("ops-updater " OPS_UPDATER_VERSION); exit(0);
		default: fputs(usage, stderr); exit(EX_USAGE);
		}
	}
	for (i = 0; optind == argc - 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i]) == 0)
			o->command = commands[i];
	if (o->command == NULL || (o->json && strcmp(o->command, "status") != 0)) {
		fputs(usage, stderr);
		exit(EX_USAGE);
	}
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

static void
print_json(const struct real_agent *list, size_t n)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	char *text;
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "name", list[i].name) ||
		    !cJSON_AddStringToObject(o, "version", list[i].version) ||
		    !cJSON_AddStringToObject(o, "status", list[i].status))
			die_oom();
	}
	text = arr ? cJSON_Print(arr) : NULL;
	if (text == NULL)
		die_oom();
	puts(text);
	free(text);
	cJSON_Delete(arr);
}

static int
cmd_status(const struct config *cfg, int json)
{
	struct real_agent *list;
	size_t n, i;

	if (scan_workdir(cfg->workdir, cfg->control_timeout, &list, &n) == -1)
		return EXIT_FAILED;
	if (json)
		print_json(list, n);
	else {
		printf("%-24s %-16s %s\n", "NAME", "VERSION", "STATUS");
		for (i = 0; i < n; i++) {
			/* The status is what an agent's script printed. */
			char name[4 * 128 + 1], version[4 * 128 + 1], status[4 * sizeof(list[i].status)];

			str_vis(name, sizeof(name), list[i].name);
			str_vis(version, sizeof(version), list[i].version);
			str_vis(status, sizeof(status), list[i].status);
			printf("%-24s %-16s %s\n", name, version, status);
		}
	}
	scan_free(list, n);
	return 0;
}

/* Status, heartbeat, and reconcile for real or (plan) only on paper. */
static int
converge(const struct config *cfg, int plan)
{
	struct real_agent *list = NULL;
	struct hb_response resp = { 0 };
	size_t n = 0;
	int ret = EXIT_FAILED, r;

	if (cfg->tls_insecure)
		log_warnx(NULL, "tls.insecure is set: server certificates are NOT verified");

	if (scan_workdir(cfg->workdir, cfg->control_timeout, &list, &n) == -1 ||
	    hb_send(cfg, list, n, &resp) == -1)
		goto out;
	r = reconcile(cfg, &resp, list, n, plan ? stdout : NULL);
	if (r & RECONCILE_FAILED)
		ret = EXIT_FAILED;
	else if (plan && (r & RECONCILE_CHANGED))
		ret = EXIT_PLAN_CHANGES;
	else
		ret = 0;
out:
	hb_free(&resp);
	scan_free(list, n);
	return ret;
}

/* Bytes read by this process and the children it reaped (rchar of
 * /proc/self/io: files, sockets, pipes; Linux adds reaped children's). */
static long long
bytes_read(void)
{
	char *io = file_read("/proc/self/io", 4096), *p;
	long long n = -1;

	if (io != NULL && (p = strstr(io, "rchar: ")) != NULL)
		n = strtoll(p + 7, NULL, 10);
	free(io);
	return n;
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
	    ret, (double)(now_ms() - start) / 1e3, cpu, (double)ru.ru_maxrss / 1024, bytes_read() / 1024);
}

static int
cmd_run(const struct config *cfg, int no_jitter)
{
	char *lockpath = xasprintf("%s/ops-updater.pid", cfg->workdir);
	long long start = now_ms();
	int ret, r;

	if ((r = lock_take(lockpath)) != 0) {
		ret = r == 1 ? EX_TEMPFAIL : EXIT_FAILED;
		goto out;
	}
	log_rotate(cfg->log, (long long)cfg->log_max_mb << 20);
	agent_set_output_max((long long)cfg->log_max_mb << 20);
	install_sweep(cfg->workdir);
	if (!have_tools()) {
		ret = EX_UNAVAILABLE;
		goto out;
	}
	if (!no_jitter)
		jitter(cfg->jitter);
	ret = converge(cfg, 0);
out:
	log_cost(ret, start);
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
	/* A full disk or RLIMIT_FSIZE must fail a write with EFBIG, which is
	 * handled, not kill the pass. Children get the default back. */
	signal(SIGXFSZ, SIG_IGN);
	/* A child that stops reading its stdin must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv, &o);
	if (config_load(&cfg, o.config, err, sizeof(err)) == -1) {
		char shown[4 * sizeof(err)];	/* a key name from the file */

		str_vis(shown, sizeof(shown), err);
		fprintf(stderr, "ops-updater: %s: %s\n", o.config, shown);
		return EX_CONFIG;
	}
	log_set_verbose(o.verbose || cfg.verbose);
	/* status and plan are for people at a terminal: they log to stderr
	 * and leave the log file, like everything else, untouched. */
	if (strcmp(o.command, "status") == 0) {
		ret = cmd_status(&cfg, o.json);
	} else if (strcmp(o.command, "plan") == 0) {
		fetch_init(&cfg);
		ret = converge(&cfg, 1);
		fetch_cleanup();
	} else if (log_open(cfg.log) == -1) {
		fprintf(stderr, "ops-updater: log %s: %s\n", cfg.log, log_open_strerror(errno));
		ret = EX_CONFIG;
	} else {
		fetch_init(&cfg);
		ret = cmd_run(&cfg, o.no_jitter);
		fetch_cleanup();
	}
	config_free(&cfg);
	return ret;
}
