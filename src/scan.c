#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "file.h"
#include "heartbeat.h"
#include "log.h"
#include "trust.h"
#include "util.h"

#define VERSION_FILE_MAX 256

char *
scan_version(const char *workdir, const char *name)
{
	char *path = xasprintf("%s/%s/.version", workdir, name);
	char *v = file_read(path, VERSION_FILE_MAX);

	if (v == NULL) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_err(name, "read %s", path);
	} else if (!name_is_valid(str_trim(v))) {
		log_errx(name, "%s: '%s' is not a valid version; ignored", path, v);
		free(v);
		v = NULL;
	}
	free(path);
	return v;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct real_agent *)a)->name, ((const struct real_agent *)b)->name);
}

/* A new entry at the end of the list. */
static struct real_agent *
list_add(struct real_agent **list, size_t *n, size_t *cap, const char *name, char *version)
{
	struct real_agent *a;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*list = xrealloc(*list, *cap * sizeof(**list));
	}
	a = &(*list)[(*n)++];
	a->name = xstrdup(name);
	a->version = version;
	a->error = NULL;
	a->refused = 0;
	a->status[0] = '\0';
	return a;
}

/* Entry name of workdir: listed when it is an agent. One that fails
 * trust_agent is listed (when its .version names a version) with the
 * reason as its status, and its control is never run. */
static void
scan_agent(const char *workdir, const char *name, int timeout, struct real_agent **list,
    size_t *n, size_t *cap)
{
	char *path = xasprintf("%s/%s", workdir, name), *version = NULL, *dir = NULL, *ctl = NULL;
	char why[200];
	struct real_agent *a;
	struct stat st;

	if (lstat(path, &st) == -1 || !(S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
		goto out;	/* not an agent: the lock, the log, a config */
	if (trust_agent(workdir, name, NULL, why, sizeof(why)) == -1) {
		log_errx(name, "refused: %s", why);
		/* Nothing is read through a symlinked agent directory. */
		if (S_ISDIR(st.st_mode) && (version = scan_version(workdir, name)) != NULL) {
			a = list_add(list, n, cap, name, version);
			version = NULL;
			a->refused = 1;
			snprintf(a->status, sizeof(a->status), "error: %s", why);
		}
		goto out;
	}
	if ((version = scan_version(workdir, name)) == NULL)
		goto out;
	if (trust_agent(workdir, name, version, why, sizeof(why)) == -1) {
		log_errx(name, "refused: %s", why);
		a = list_add(list, n, cap, name, version);
		version = NULL;
		a->refused = 1;
		snprintf(a->status, sizeof(a->status), "error: %s", why);
		goto out;
	}
	dir = xasprintf("%s/%s", path, version);
	ctl = xasprintf("%s/control", dir);
	if (!file_is_exec(ctl)) {
		log_warnx(name, ".version names %s, but %s is not an executable file", version, ctl);
		goto out;
	}
	a = list_add(list, n, cap, name, version);
	version = NULL;
	if (agent_status(dir, timeout, a->status, sizeof(a->status)) == -1)
		log_errx(a->name, "%s: %s", dir, a->status);
out:
	free(version);
	free(ctl);
	free(dir);
	free(path);
}

int
scan_workdir(const struct config *cfg, struct real_agent **list, size_t *n)
{
	const char *workdir = cfg->workdir;
	struct dirent *de;
	size_t cap = 0;
	char why[200];
	DIR *d;

	*list = NULL;
	*n = 0;
	if (trust_at(AT_FDCWD, workdir, S_IFDIR, why, sizeof(why)) == -1) {
		log_errx(NULL, "work directory %s refused: %s", workdir, why);
		return -1;
	}
	if ((d = opendir(workdir)) == NULL) {
		log_err(NULL, "open work directory %s", workdir);
		return -1;
	}
	/* The updater's own entries are no agents: the metrics directory may
	 * be another user's, who must not make every pass fail (refused) or
	 * report an agent of their making to the server. */
	while ((de = readdir(d)) != NULL)
		if (name_is_valid(de->d_name) && !hb_reserved(cfg, de->d_name, why, sizeof(why)))
			scan_agent(workdir, de->d_name, cfg->control_timeout, list, n, &cap);
	closedir(d);
	if (*n > 1)
		qsort(*list, *n, sizeof(**list), by_name);
	return 0;
}

void
scan_free(struct real_agent *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].version);
		free(list[i].error);
	}
	free(list);
}
