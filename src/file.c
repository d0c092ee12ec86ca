#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
dir_fsync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r, e;

	if (fd == -1)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
file_write_atomic(const char *path, const char *data, size_t len, int mode)
{
	char *dir = xstrdup(path), *base = xstrdup(path);
	char *tmp = xasprintf("%s/" TMP_PREFIX "%s.%ld", dirname(dir), basename(base), (long)getpid());
	int fd, ret = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1 && errno == EEXIST) {
		/* A leftover of a killed pass that had our pid: ours to remove. */
		unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	}
	if (fd == -1) {
		log_err(NULL, "create %s", tmp);
		goto out;
	}
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		log_err(NULL, "write %s", tmp);
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		log_err(NULL, "close %s", tmp);
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		log_err(NULL, "rename %s to %s", tmp, path);
		goto fail;
	}
	if (dir_fsync(dir) == -1)
		log_err(NULL, "fsync directory of %s", path);	/* renamed: done */
	ret = 0;
	goto out;
fail:
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	free(base);
	return ret;
}

char *
file_read(const char *path, size_t max)
{
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (b.len + (size_t)n > max) {
			errno = EFBIG;
			goto fail;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (b.data == NULL)
		b.data = xstrdup("");
	return b.data;
fail:
	n = errno;
	close(fd);
	buf_free(&b);
	errno = (int)n;
	return NULL;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 && errno != ENOENT) {
		log_err(NULL, "remove %s", path);
		return -1;
	}
	return 0;
}

int
rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_err(NULL, "stat %s", path);
		return -1;
	}
	/* FTW_PHYS: a symlink in an unpacked tarball must not lead us out. */
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0 ? 0 : -1;
}

int
file_is_exec(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

int
dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
