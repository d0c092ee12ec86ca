#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int
trust_stat(const struct stat *st, mode_t type, char *why, size_t len)
{
	uid_t me = geteuid();

	if (S_ISLNK(st->st_mode))
		snprintf(why, len, "is a symlink");
	else if (type != 0 && (st->st_mode & S_IFMT) != type)
		snprintf(why, len, "is not a %s", type == S_IFDIR ? "directory" : "regular file");
	else if (st->st_uid != 0 && st->st_uid != me)
		snprintf(why, len, "owned by uid %lu, not root or uid %lu",
		    (unsigned long)st->st_uid, (unsigned long)me);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		snprintf(why, len, "writable by %s (mode %04o)",
		    (st->st_mode & S_IWOTH) ? "others" : "group", (unsigned)(st->st_mode & 07777));
	else
		return 0;
	return -1;
}

int
trust_at(int dirfd, const char *name, mode_t type, char *why, size_t len)
{
	char *copy = xstrdup(name);
	size_t n = strlen(copy);
	struct stat st;
	int ret;

	/* A trailing slash would make the kernel follow a final symlink. */
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	if (fstatat(dirfd, copy, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		snprintf(why, len, "%s", strerror(errno));
		ret = -1;
	} else {
		ret = trust_stat(&st, type, why, len);
		errno = 0;
	}
	free(copy);
	return ret;
}

/* Check workdir/rel; a missing one passes. */
static int
trust_part(const char *workdir, const char *rel, mode_t type, char *why, size_t len)
{
	char *path = xasprintf("%s/%s", workdir, rel);
	char reason[128];
	int ret = 0;

	if (trust_at(AT_FDCWD, path, type, reason, sizeof(reason)) == -1 && errno != ENOENT) {
		snprintf(why, len, "%s: %s", path, reason);
		ret = -1;
	}
	free(path);
	return ret;
}

int
trust_agent(const char *workdir, const char *name, const char *version, char *why, size_t len)
{
	char *dot = xasprintf("%s/.version", name);
	char *dir = version ? xasprintf("%s/%s", name, version) : NULL;
	char *ctl = version ? xasprintf("%s/%s/control", name, version) : NULL;
	int ret = -1;

	/* Parents first: each check is only sound when no one else can change
	 * the directories above. */
	if (trust_part(workdir, name, S_IFDIR, why, len) == 0 &&
	    trust_part(workdir, dot, S_IFREG, why, len) == 0 &&
	    (dir == NULL || (trust_part(workdir, dir, S_IFDIR, why, len) == 0 &&
	    trust_part(workdir, ctl, S_IFREG, why, len) == 0)))
		ret = 0;
	free(ctl);
	free(dir);
	free(dot);
	return ret;
}
