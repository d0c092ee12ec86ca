#include "retain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "file.h"
#include "log.h"
#include "trust.h"
#include "util.h"

/* Remove version of agentdir without ever showing it half removed: one
 * rename to a temp name first (a killed pass leaves that to the sweep),
 * then a walk by descriptors (rm_rf_at): an agent owns directories inside
 * its version directory and may swap them for symlinks meanwhile. */
static int
remove_version(const char *name, const char *agentdir, const char *version)
{
	char *aside = xasprintf("%s/" TMP_PREFIX "old.XXXXXX", agentdir);
	const char *base = strrchr(aside, '/') + 1;
	int fd, ret = -1;

	if ((fd = open(agentdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_err(name, "open %s", agentdir);
		goto out;
	}
	if (mkdtemp(aside) == NULL)
		log_err(name, "create %s", aside);
	else if (renameat(fd, version, fd, base) == -1) {
		log_err(name, "move %s/%s aside", agentdir, version);
		unlinkat(fd, base, AT_REMOVEDIR);
	} else
		ret = rm_rf_at(fd, agentdir, base);
	close(fd);
out:
	free(aside);
	return ret;
}

int
retain_remove(const char *workdir, const char *name, const char *version)
{
	char *agentdir = xasprintf("%s/%s", workdir, name);
	int ret = remove_version(name, agentdir, version);

	if (ret == 0)
		agent_output_remove(name, agentdir, version);
	free(agentdir);
	return ret;
}

/* Make room for a rename onto dir: a leftover without a control (not a
 * version by our rules) is removed, whatever it is (a symlink is not
 * followed). */
int
retain_clear(const char *name, const char *agentdir, const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_err(name, "stat %s", dir);
		return -1;
	}
	log_warnx(name, "removing incomplete %s", dir);
	return remove_version(name, agentdir, strrchr(dir, '/') + 1);
}

/* A fresh DIR of the directory open as fd (its own offset: a dup would
 * share the caller's), or NULL (logged). */
static DIR *
dir_list(int fd, const char *path)
{
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = own == -1 ? NULL : fdopendir(own);

	if (d == NULL) {
		log_err(NULL, "open %s", path);
		if (own != -1)
			close(own);
	}
	return d;
}

/* Remove TMP_PREFIX entries of the directory open as fd. 0, or -1 when
 * one could not be removed (logged). */
static int
sweep_dir(int fd, const char *path)
{
	DIR *d = dir_list(fd, path);
	struct dirent *de;
	int ret = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
			continue;
		if (rm_rf_at(fd, path, de->d_name) == 0)
			log_info(NULL, "removed %s/%s, left by an interrupted pass", path, de->d_name);
		else
			ret = -1;
	}
	closedir(d);
	return ret;
}

/* Sweep agent directory name of the work directory open as wfd, unless
 * others could write it (the scan reports that). */
static int
sweep_agent(int wfd, const char *workdir, const char *name)
{
	char *path = xasprintf("%s/%s", workdir, name);
	char why[128];
	int fd, ret = 0;

	if (trust_at(wfd, name, S_IFDIR, why, sizeof(why)) == 0 &&
	    (fd = openat(wfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		ret = sweep_dir(fd, path);
		if (agent_output_sweep(fd, path) == -1)
			ret = -1;
		close(fd);
	}
	free(path);
	return ret;
}

int
retain_sweep(const char *workdir)
{
	struct dirent *de;
	char why[128];
	DIR *d;
	int wfd, ret;

	if (trust_at(AT_FDCWD, workdir, S_IFDIR, why, sizeof(why)) == -1 ||
	    (wfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;	/* the scan reports it */
	ret = sweep_dir(wfd, workdir);
	if ((d = dir_list(wfd, workdir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (name_is_valid(de->d_name) && sweep_agent(wfd, workdir, de->d_name) == -1)
				ret = -1;
		closedir(d);
	}
	close(wfd);
	return ret;
}

void
retain_touch(const char *workdir, const char *name, const char *version)
{
	char *path = xasprintf("%s/%s/%s", workdir, name, version);

	if (utimensat(AT_FDCWD, path, NULL, 0) == -1)
		log_err(name, "touch %s", path);
	free(path);
}

struct version_dir {
	char *name;
	struct timespec used;
};

static int
newest_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct version_dir *)a)->used;
	const struct timespec *y = &((const struct version_dir *)b)->used;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	return x->tv_nsec < y->tv_nsec ? 1 : (x->tv_nsec > y->tv_nsec ? -1 : 0);
}

/* Is entry of agentdir a version by our rules: a directory with an
 * executable control? Anything else there (an operator's, an agent's own
 * directory) is no version to prune, now that a pass prunes whenever an
 * agent is as asked (reconcile.c). */
static int
is_version(const char *agentdir, const char *entry)
{
	char *control = xasprintf("%s/%s/control", agentdir, entry);
	int ok = file_is_exec(control);

	free(control);
	return ok;
}

/* Is v one of the NULL-terminated list? */
static int
spared(const char *const *spare, const char *v)
{
	for (; spare != NULL && *spare != NULL; spare++)
		if (strcmp(*spare, v) == 0)
			return 1;
	return 0;
}

/* The version directories of the agent directory open as fd but current
 * and those spared, each with its mtime; their count in *n. */
static struct version_dir *
prune_list(int fd, const char *agentdir, const char *current, const char *const *spare, size_t *n)
{
	DIR *d = dir_list(fd, agentdir);
	struct version_dir *v = NULL;
	struct dirent *de;
	size_t cap = 0;

	*n = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		struct stat st;

		/* Only version directories; never the current one. */
		if (!name_is_valid(de->d_name) || strcmp(de->d_name, current) == 0 ||
		    spared(spare, de->d_name) || fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode) || !is_version(agentdir, de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[*n].name = xstrdup(de->d_name);
		v[(*n)++].used = st.st_mtim;
	}
	if (d != NULL)
		closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), newest_first);
	return v;
}

/* Remove old version v of agent name unless it still runs or is not ours
 * to run: its control is the only way to ask. 0, or -1 (logged). */
static int
prune_one(const char *workdir, const char *name, const char *agentdir, const char *v, int timeout)
{
	char *path = xasprintf("%s/%s", agentdir, v);
	char status[256];
	int ret = 0;

	if (trust_agent(workdir, name, v, status, sizeof(status)) == -1) {
		log_errx(name, "old version %s kept: %s", v, status);
		ret = -1;
	} else if (agent_present(workdir, name, v) &&
	    agent_status(path, timeout, status, sizeof(status)) == 0 && strcmp(status, "started") == 0)
		log_warnx(name, "old version %s still runs: kept", v);
	else if (remove_version(name, agentdir, v) == -1)
		ret = -1;
	else {
		log_info(name, "removed old version %s", v);
		agent_output_remove(name, agentdir, v);
	}
	free(path);
	return ret;
}

int
retain_prune(const char *workdir, const char *name, const char *current, const char *const *spare,
    int keep, int timeout)
{
	char *agentdir = xasprintf("%s/%s", workdir, name);
	struct version_dir *v;
	size_t n, i;
	int fd, ret = 0;

	if ((fd = open(agentdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_err(name, "open %s", agentdir);
		free(agentdir);
		return -1;
	}
	v = prune_list(fd, agentdir, current, spare, &n);
	close(fd);
	for (i = 0; i < n; i++) {
		if (i >= (size_t)keep && prune_one(workdir, name, agentdir, v[i].name, timeout) == -1)
			ret = -1;
		free(v[i].name);
	}
	free(v);
	free(agentdir);
	return ret;
}
