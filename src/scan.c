#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "file.h"
#include "log.h"
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

int
scan_workdir(const char *workdir, int timeout, struct real_agent **list, size_t *n)
{
	DIR *d = opendir(workdir);
	struct dirent *de;
	size_t cap = 0;

	*list = NULL;
	*n = 0;
	if (d == NULL) {
		log_err(NULL, "open work directory %s", workdir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *version, *dir, *ctl;

		if (!name_is_valid(de->d_name) || (version = scan_version(workdir, de->d_name)) == NULL)
			continue;
		dir = xasprintf("%s/%s/%s", workdir, de->d_name, version);
		ctl = xasprintf("%s/control", dir);
		if (file_is_exec(ctl)) {
			struct real_agent *a;

			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*list = xrealloc(*list, cap * sizeof(**list));
			}
			a = &(*list)[(*n)++];
			a->name = xstrdup(de->d_name);
			a->version = version;
			a->error = NULL;
			version = NULL;
			if (agent_status(dir, timeout, a->status, sizeof(a->status)) == -1)
				log_errx(a->name, "%s: %s", dir, a->status);
		} else
			log_warnx(de->d_name, ".version names %s, but %s is not an executable file",
			    version, ctl);
		free(version);
		free(ctl);
		free(dir);
	}
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
