/* The command line: the options, the one command, and which command may
 * take which; the usage text of --help. */
#ifndef OPTS_H
#define OPTS_H

/* What the command line asks. */
struct opts {
	const char *config;
	const char *command;
	int verbose, no_jitter, json, retry, now;
	int test;		/* -t: 1, -T: 2; command is then NULL */
	long long max_age;	/* check: -1 = not given */
};

/* Parse argv into o. --help and --version print and exit 0; a usage
 * error exits 64 with the usage, or for check UNKNOWN with one plugin
 * line (report.h). */
void opts_parse(int argc, char **argv, struct opts *o);

#endif
