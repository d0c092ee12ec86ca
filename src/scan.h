/* What is really on this machine: agents of the work directory and their
 * status, as the heartbeat reports them. */
#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>
#include <time.h>

struct real_agent {
	char *name;
	char *version;
	char status[256];	/* what control status printed, or the error */
	char *error;		/* the last pass's error for it (state.h), or NULL:
				 * reported to the server; set by the caller */
	int refused;		/* failed trust_agent: its control was not run */
};

/* Read <workdir>/<name>/.version: the trimmed, valid version, or NULL
 * (missing, unreadable or invalid; the last two are logged). */
char *scan_version(const char *workdir, const char *name);
struct config;

/* Every <name>/ of cfg's workdir with a valid .version and a
 * <version>/control, sorted by name, each with its status (asked within
 * control_timeout). One that fails trust_agent (trust.h) is logged, its
 * control not run, and listed with "error: <why>" as its status. Names
 * that are the updater's own (hb_reserved: the metrics directory, which
 * may be another user's) are no agents and skipped. *n gets the count.
 * -1 when workdir cannot be read or trusted (logged). */
int scan_workdir(const struct config *cfg, struct real_agent **list, size_t *n);
/* Release a list from scan_workdir. */
void scan_free(struct real_agent *list, size_t n);

#endif
