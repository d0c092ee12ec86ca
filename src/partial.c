#include "partial.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "trust.h"
#include "util.h"

#define META_MAX 4096
#define META_EXT ".meta"

/* Read the meta at path (O_NOFOLLOW, a regular file, at most META_MAX
 * bytes) into a fresh string; NULL when there is none fit to use. */
static char *
meta_read(const char *path)
{
	struct stat st;
	char *text = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < META_MAX) {
		text = xcalloc(1, META_MAX + 1);
		while ((n = read(fd, text, META_MAX)) == -1 && errno == EINTR)
			;
		if (n <= 0) {
			free(text);
			text = NULL;
		}
	}
	close(fd);
	return text;
}

/* The value of the line "key value" of text, into dst (cap bytes), when it
 * is there once, is printable ASCII (it goes into a request header) and
 * fits. 0, or -1. */
static int
meta_value(const char *text, const char *key, char *dst, size_t cap)
{
	size_t klen = strlen(key), n;
	const char *p = text, *hit = NULL, *end, *c;

	for (; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			if (hit != NULL)
				return -1;
			hit = p + klen + 1;
			n = (size_t)(end - hit);
			if (n == 0 || n >= cap)
				return -1;
			for (c = hit; c < end; c++)
				if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
					return -1;
			memcpy(dst, hit, n);
			dst[n] = '\0';
		}
	}
	return hit != NULL ? 0 : -1;
}

/* May the size bytes kept with meta be resumed from url? NULL if so (f
 * filled in), else why not. Their age was judged by partial_sweep. */
static const char *
kept_is_good(const char *url, long long size, const char *meta, struct fetch_file *f)
{
	char *text, u[META_MAX];
	const char *why = NULL;

	if ((text = meta_read(meta)) == NULL)
		return "its meta is missing";
	if (meta_value(text, "url", u, sizeof(u)) == -1 ||
	    meta_value(text, "validator", f->if_range, sizeof(f->if_range)) == -1)
		why = "its meta is garbled";
	else if (strcmp(u, url) != 0)
		why = "they came from another URL";
	else
		f->resume_from = size;
	if (why != NULL)
		f->if_range[0] = '\0';
	free(text);
	return why;
}

/* fetch_file's mark hook; arg is the data file's path. The meta says where
 * the bytes come from while they come, and not a moment longer. */
static int
partial_mark(void *arg, const char *url, const struct fetch_file *f, enum fetch_mark m)
{
	char *meta = xasprintf("%s" META_EXT, (const char *)arg), *text = NULL;
	int ret = 0;

	if (m == FETCH_BODY && f->validator[0] != '\0') {
		text = xasprintf("url %s\nvalidator %s\n", url, f->validator);
		if (file_write_atomic(meta, text, strlen(text), 0600) == 0)
			goto out;
	}
	/* No validator, done, or no meta could be written: nothing to
	 * resume, and never with a meta of other bytes. */
	if (unlink(meta) == -1 && errno != ENOENT) {
		log_err(NULL, "remove %s", meta);
		ret = -1;
	}
out:
	free(text);
	free(meta);
	return ret;
}

/* Open path read-write as a regular file of ours, created 0600; whatever
 * else is there (a link, a directory) is removed first. fd or -1. */
static int
open_data(const char *agent, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1)
		return fd;
	if (fd != -1)
		close(fd);
	if (rm_rf(path) == -1)
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		log_err(agent, "create %s", path);
	return fd;
}

/* Remove partial entries of the directory open as dirfd (dir names it)
 * that are not keep's (NULL: all whose data file was last written before
 * cutoff). By descriptor: nothing is reached through a path. */
static void
remove_in(const char *agent, int dirfd, const char *dir, const char *keep, time_t cutoff, const char *why)
{
	size_t plen = strlen(PARTIAL_PREFIX);
	int own = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = own == -1 ? NULL : fdopendir(own);
	struct dirent *de;
	struct stat st;

	if (d == NULL) {
		if (own != -1)
			close(own);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		const char *rest = de->d_name + plen;
		char *data;
		size_t n;

		if (strncmp(de->d_name, PARTIAL_PREFIX, plen) != 0)
			continue;
		n = strlen(rest);
		/* A meta goes with its data file. */
		if (n > strlen(META_EXT) && strcmp(rest + n - strlen(META_EXT), META_EXT) == 0)
			n -= strlen(META_EXT);
		if (keep != NULL && strlen(keep) == n && strncmp(rest, keep, n) == 0)
			continue;
		data = xasprintf("%.*s", (int)(plen + n), de->d_name);
		if (keep != NULL || fstatat(dirfd, data, &st, AT_SYMLINK_NOFOLLOW) == -1 || st.st_mtime < cutoff) {
			if (rm_rf_at(dirfd, dir, de->d_name) == 0)
				log_info(agent, "removed %s/%s: %s", dir, de->d_name, why);
		}
		free(data);
	}
	closedir(d);
}

/* Open agent directory name of the directory open as wfd when it passes
 * trust_at (the scan reports one that does not); -1 when not. */
static int
open_agent(int wfd, const char *name)
{
	char why[128];

	if (trust_at(wfd, name, S_IFDIR, why, sizeof(why)) == -1)
		return -1;
	return openat(wfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
partial_open(const struct config *cfg, const char *agent, const char *agentdir,
    const char *file, const char *url, struct fetch_file *f, char **path)
{
	char *meta;
	const char *why = NULL;
	struct stat st;
	int fd;

	*path = xasprintf("%s/" PARTIAL_PREFIX "%s", agentdir, file);
	meta = xasprintf("%s" META_EXT, *path);
	f->resume_from = 0;
	f->if_range[0] = '\0';
	if ((fd = open_data(agent, *path)) == -1)
		goto out;
	if (fstat(fd, &st) == -1 || fchmod(fd, 0600) == -1) {
		log_err(agent, "stat %s", *path);
		goto fail;
	}
	if (st.st_size > 0 && (why = kept_is_good(url, (long long)st.st_size, meta, f)) != NULL) {
		log_info(agent, "dropping %lld bytes kept of %s: %s", (long long)st.st_size, file, why);
		if (ftruncate(fd, 0) == -1) {
			log_err(agent, "truncate %s", *path);
			goto fail;
		}
	} else if (st.st_size > 0)
		log_info(agent, "found %lld bytes of %s kept by an earlier pass", (long long)st.st_size, file);
	if (f->resume_from == 0 && unlink(meta) == -1 && errno != ENOENT) {
		log_err(agent, "remove %s", meta);
		goto fail;
	}
	/* partial_max_age 0: no meta, so nothing is ever kept. */
	if (cfg->partial_max_age > 0) {
		f->mark = partial_mark;
		f->mark_arg = *path;
	}
	goto out;
fail:
	close(fd);
	fd = -1;
out:
	free(meta);
	return fd;
}

void
partial_end(const char *agent, const char *path, int ok)
{
	char *meta = xasprintf("%s" META_EXT, path);
	struct stat st, sm;

	if (!ok && lstat(meta, &sm) == 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		log_info(agent, "kept %lld bytes of the cut download in %s, to resume", (long long)st.st_size, path);
	else {
		if (unlink(path) == -1 && errno != ENOENT)	/* ENOENT: it moved on */
			log_err(agent, "remove %s", path);
		if (unlink(meta) == -1 && errno != ENOENT)
			log_err(agent, "remove %s", meta);
	}
	free(meta);
}

void
partial_keep_only(const char *workdir, const char *name, const char *version)
{
	char *dir = xasprintf("%s/%s", workdir, name);
	char *file = xasprintf("%s-%s.tar.gz", name, version);
	int wfd = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd;

	if (wfd != -1 && (fd = open_agent(wfd, name)) != -1) {
		remove_in(name, fd, dir, file, 0, "another version is wanted now");
		close(fd);
	}
	if (wfd != -1)
		close(wfd);
	free(file);
	free(dir);
}

void
partial_sweep(const char *workdir, int max_age)
{
	int wfd = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), own, fd;
	DIR *d;
	struct dirent *de;
	struct stat st;
	char why[128];
	/* 0: everything; +1 so that a partial written this second goes too. */
	time_t cutoff = max_age > 0 ? time(NULL) - max_age : time(NULL) + 1;

	/* Like retain_sweep: a work directory the scan would refuse is
	 * not swept, and every agent directory is entered by descriptor
	 * after it passed trust_at. */
	if (wfd == -1 || fstat(wfd, &st) == -1 || trust_stat(&st, S_IFDIR, why, sizeof(why)) == -1)
		goto out;	/* the scan reports it */
	if ((own = openat(wfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out;
	if ((d = fdopendir(own)) == NULL) {
		close(own);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (!name_is_valid(de->d_name) || (fd = open_agent(wfd, de->d_name)) == -1)
			continue;
		path = xasprintf("%s/%s", workdir, de->d_name);
		remove_in(de->d_name, fd, path, NULL, cutoff, "older than partial_max_age");
		close(fd);
		free(path);
	}
	closedir(d);
out:
	if (wfd != -1)
		close(wfd);
}
