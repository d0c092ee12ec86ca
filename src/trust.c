#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Symlinks followed in one path, as the kernel's limit. */
#define TRUST_LINKS_MAX 40

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

int
trust_dir_stat(const struct stat *st, char *why, size_t len)
{
	/* Like /tmp: in a sticky directory only an entry's owner (or the
	 * directory's, root) may rename or remove it, and the entry below
	 * is checked in its turn. */
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0)
		return 0;
	return trust_stat(st, S_IFDIR, why, len);
}

/* "path: reason" into why; errno EPERM. */
static int
refuse(char *why, size_t len, const char *path, const char *reason)
{
	snprintf(why, len, "%s: %s", path, reason);
	errno = EPERM;
	return -1;
}

/* "path: strerror(errno)" into why; errno kept. */
static int
fail_errno(char *why, size_t len, const char *path)
{
	int e = errno;

	snprintf(why, len, "%s: %s", path, strerror(e));
	errno = e;
	return -1;
}

/* Where trust_path is: the resolved directory so far (all of it checked)
 * and what is left to walk. */
struct walk {
	char cur[PATH_MAX];	/* resolved, absolute, no trailing '/' but "/" */
	char *rest;		/* components still to walk, '/'-separated */
	int sticky;		/* cur is others' to write, passing as sticky */
	int links;
};

/* Take the next component of w->rest into comp (cap bytes): 1, or 0 at
 * the end. */
static int
walk_next(struct walk *w, char *comp, size_t cap)
{
	char *p = w->rest, *end;
	size_t n;

	while (*p == '/')
		p++;
	if (*p == '\0')
		return 0;
	end = p + strcspn(p, "/");
	n = (size_t)(end - p);
	if (n >= cap)
		n = cap - 1;	/* longer than NAME_MAX: lstat says ENAMETOOLONG */
	memcpy(comp, p, n);
	comp[n] = '\0';
	memmove(w->rest, end, strlen(end) + 1);
	return 1;
}

/* Is there a component left? */
static int
walk_more(const struct walk *w)
{
	return w->rest[strspn(w->rest, "/")] != '\0';
}

/* cur's parent: cur is resolved, so ".." is lexical. */
static void
walk_up(struct walk *w)
{
	char *slash = strrchr(w->cur, '/');

	if (slash == w->cur)
		w->cur[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
}

/* cur was checked on the way (or is "/"): is it others' to write,
 * passing as sticky? */
static int
walk_sticky(struct walk *w, char *why, size_t len)
{
	char reason[128];
	struct stat st;

	if (lstat(w->cur, &st) == -1)
		return fail_errno(why, len, w->cur);
	if (trust_dir_stat(&st, reason, sizeof(reason)) == -1)
		return refuse(why, len, w->cur, reason);
	w->sticky = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
	return 0;
}

/* Symlink next, found in cur (which passed): walk its target, then the
 * rest. Others' symlinks are followed only where only they could have
 * put them, which in a sticky directory means nowhere. */
static int
walk_link(struct walk *w, const char *next, const struct stat *st, char *why, size_t len)
{
	char target[PATH_MAX];
	char *rest;
	ssize_t n;

	if (w->sticky && st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(why, len, "%s: a symlink owned by uid %lu in a directory others can write",
		    next, (unsigned long)st->st_uid);
		errno = EPERM;
		return -1;
	}
	if (++w->links > TRUST_LINKS_MAX) {
		errno = ELOOP;
		return fail_errno(why, len, next);
	}
	if ((n = readlink(next, target, sizeof(target) - 1)) == -1)
		return fail_errno(why, len, next);
	target[n] = '\0';
	rest = xasprintf("%s/%s", target, w->rest);
	free(w->rest);
	w->rest = rest;
	if (target[0] == '/') {
		strcpy(w->cur, "/");
		return walk_sticky(w, why, len);
	}
	return 0;
}

/* Start w at "/" (checked) with path, made absolute, to walk. */
static int
walk_start(struct walk *w, const char *path, char *why, size_t len)
{
	char cwd[PATH_MAX];

	memset(w, 0, sizeof(*w));
	if (*path == '\0') {
		errno = ENOENT;
		snprintf(why, len, "empty path");
		return -1;
	}
	if (*path != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		return fail_errno(why, len, "current directory");
	w->rest = *path == '/' ? xstrdup(path) : xasprintf("%s/%s", cwd, path);
	strcpy(w->cur, "/");
	return walk_sticky(w, why, len);
}

/* trust_path, or trust_above when above is set. */
static int
trust_walk(const char *path, mode_t type, int above, char **resolved, char *why, size_t len)
{
	char comp[NAME_MAX + 2], next[PATH_MAX], reason[128];
	struct walk w;
	struct stat st;
	int ret = -1;

	if (resolved != NULL)
		*resolved = NULL;
	if (walk_start(&w, path, why, len) == -1)
		goto out;
	/* Top down: each entry is judged only once the directory holding it
	 * passed, so nobody else can have put it there or can swap it. */
	while (walk_next(&w, comp, sizeof(comp))) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			walk_up(&w);
			if (walk_sticky(&w, why, len) == -1)
				goto out;
			continue;
		}
		if ((size_t)snprintf(next, sizeof(next), "%s%s%s", w.cur, strcmp(w.cur, "/") ? "/" : "",
		    comp) >= sizeof(next)) {
			errno = ENAMETOOLONG;
			fail_errno(why, len, path);
			goto out;
		}
		if (lstat(next, &st) == -1) {
			/* Missing where others may write: anyone could make
			 * it, and it leads wherever they like once there. */
			if (errno == ENOENT && w.sticky)
				refuse(why, len, next, "missing, in a directory others can write: anyone could create it");
			else
				fail_errno(why, len, next);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			if (walk_link(&w, next, &st, why, len) == -1)
				goto out;
			continue;
		}
		if (walk_more(&w)) {
			if (trust_dir_stat(&st, reason, sizeof(reason)) == -1) {
				refuse(why, len, next, reason);
				goto out;
			}
			w.sticky = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
		}
		memcpy(w.cur, next, strlen(next) + 1);
	}
	/* What the path names: no sticky leniency for it, unless it is a
	 * directory above what the caller checks in its turn. */
	if (lstat(w.cur, &st) == -1) {
		fail_errno(why, len, w.cur);
		goto out;
	}
	if ((above ? trust_dir_stat(&st, reason, sizeof(reason)) :
	    trust_stat(&st, type, reason, sizeof(reason))) == -1) {
		refuse(why, len, w.cur, reason);
		goto out;
	}
	if (resolved != NULL)
		*resolved = xstrdup(w.cur);
	ret = 0;
out:
	free(w.rest);
	return ret;
}

int
trust_path(const char *path, mode_t type, char **resolved, char *why, size_t len)
{
	return trust_walk(path, type, 0, resolved, why, len);
}

int
trust_above(const char *path, char **resolved, char *why, size_t len)
{
	return trust_walk(path, S_IFDIR, 1, resolved, why, len);
}
