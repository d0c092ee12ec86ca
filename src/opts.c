#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "report.h"
#include "spawn.h"

static const char usage[] =
    "usage: ops-updater [-c FILE] [-v] [--no-jitter] [--retry] [--now] run\n"
    "       ops-updater [-c FILE] [-v] [--now] plan\n"
    "       ops-updater [-c FILE] [--json] status\n"
    "       ops-updater [-c FILE] [--max-age SECONDS] check\n"
    "       ops-updater -t | -T [-c FILE]\n"
    "       ops-updater -V | --version\n"
    "       ops-updater -h | --help\n"
    "\n"
    "  run          one pass: lock, jitter, status, heartbeat, reconcile\n"
    "  plan         status and heartbeat, then print what a pass would do;\n"
    "               changes nothing (exit 0 nothing to do, 2 changes due)\n"
    "  status       what the config protects against, a table of local agents\n"
    "               (name, version, status) and what the last pass did for each,\n"
    "               and its own version; no network; not as root: the last\n"
    "               pass's record and its age, no control script run\n"
    "  check        monitoring plugin (Nagios convention): one line, exit 0 OK,\n"
    "               1 WARNING (an agent failed or held, the heartbeat failed\n"
    "               or parked, the state damaged), 2 CRITICAL (no pass finished within\n"
    "               --max-age, the heartbeat failed 3 passes in a row),\n"
    "               3 UNKNOWN (2 when the config cannot be read or parsed);\n"
    "               local files only\n"
    "\n"
    "  -c FILE      config file (default " OPS_UPDATER_CFG ")\n"
    "  -t           test the config and the files it names, then exit 0 (ok)\n"
    "               or 78 (the error, with its line and column): nothing sent,\n"
    "               no lock, nothing written; for puppet's validate_cmd\n"
    "  -T           -t, then print the effective config, one key a line\n"
    "  -v           log request and response bodies\n"
    "  --no-jitter  skip the random sleep before the heartbeat\n"
    "  --json       status as a JSON object: agents and last_pass\n"
    "  --retry      run: try versions held back after a failure now\n"
    "  --now        run, plan: do not wait for this host's slot (rollout_spread),\n"
    "               for a Retry-After recorded before, nor for a busy file\n"
    "               server's backoff\n"
    "  --max-age S  check: a pass must have finished within S seconds (900)\n"
    "\n"
    "exit: 0 all agents as asked, 1 heartbeat or an agent failed, 2 plan: changes\n"
    "due, 64 usage, 69 tar or gzip not in the config's path, 71 out of memory,\n"
    "75 another pass holds the lock, 78 config error\n"
    "\n"
    "Children (control, tar, gzip) get PATH from the config's path, by default\n"
    SPAWN_PATH_DEFAULT ",\nnever the caller's or cron's.\n";

#define MAX_AGE_DEFAULT 900

/* A usage error: for check a plugin line and UNKNOWN, else usage and 64. */
static __attribute__((noreturn)) void
bad_usage(int check, const char *why)
{
	if (check)
		exit(report_unknown("usage: %s; see ops-updater --help", why));
	fputs(usage, stderr);
	exit(EX_USAGE);
}

/* --max-age: whole seconds, 1 to a year. */
static long long
parse_max_age(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 366LL * 86400)
		exit(report_unknown("--max-age must be whole seconds from 1 to 31622400"));
	return v;
}

void
opts_parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "no-jitter", no_argument, NULL, 'J' },
		{ "json", no_argument, NULL, 'j' },
		{ "retry", no_argument, NULL, 'R' },
		{ "now", no_argument, NULL, 'N' },
		{ "max-age", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const commands[] = { "run", "plan", "status", "check" };
	size_t i;
	int c, check = 0;

	/* A monitoring system reads stdout and the exit code only: for check,
	 * even a bad option must give one plugin line and UNKNOWN. */
	for (i = 1; i < (size_t)argc; i++)
		if (strcmp(argv[i], "check") == 0)
			check = 1;
	opterr = !check;
	o->config = OPS_UPDATER_CFG;
	o->max_age = -1;
	while ((c = getopt_long(argc, argv, "c:vhVtT", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'J': o->no_jitter = 1; break;
		case 'j': o->json = 1; break;
		case 'R': o->retry = 1; break;
		case 'N': o->now = 1; break;
		case 'M': o->max_age = parse_max_age(optarg); break;
		case 't': o->test = o->test > 1 ? o->test : 1; break;
		case 'T': o->test = 2; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': puts("ops-updater " OPS_UPDATER_VERSION); exit(0);
		default: bad_usage(check, "unknown option or missing argument");
		}
	}
	/* -t and -T stand for a command, and take only -c. */
	if (o->test) {
		if (optind != argc || check || o->verbose || o->no_jitter || o->json || o->retry || o->now ||
		    o->max_age != -1)
			bad_usage(check, "-t and -T take -c only, and no command");
		return;
	}
	for (i = 0; optind == argc - 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i]) == 0)
			o->command = commands[i];
	if (o->command == NULL)
		bad_usage(check, "one command");
	if ((o->json && strcmp(o->command, "status") != 0) ||
	    (o->retry && strcmp(o->command, "run") != 0) ||
	    (o->now && strcmp(o->command, "run") != 0 && strcmp(o->command, "plan") != 0) ||
	    (o->max_age != -1 && strcmp(o->command, "check") != 0))
		bad_usage(check, "an option of another command");
	if (o->max_age == -1)
		o->max_age = MAX_AGE_DEFAULT;
}
