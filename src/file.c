#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* A hostile tree can be deep: the walk holds one descriptor (and one
 * stack frame) per level, so a directory this deep is first moved up,
 * beside the top of the walk, and removed from there. */
#define RM_DEPTH_MAX 256
/* Moves up per walk: a tree that grows as fast as it is removed must not
 * keep the pass forever. */
#define RM_MOVES_MAX 100000

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
file_write_atomic_at(int dirfd, const char *dirpath, const char *name, const char *data, size_t len,
    int mode)
{
	char *tmpname = xasprintf(TMP_PREFIX "%s.%ld", name, (long)getpid());
	char *tmp = xasprintf("%s/%s", dirpath, tmpname);
	int fd, ret = -1;

	/* O_EXCL|O_NOFOLLOW: a new file of ours, whatever the directory's
	 * owner put there; renameat replaces a link at name, never follows it. */
	fd = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1 && errno == EEXIST) {
		/* A leftover of a killed pass that had our pid: ours to remove. */
		unlinkat(dirfd, tmpname, 0);
		fd = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
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
	if (renameat(dirfd, tmpname, dirfd, name) == -1) {
		log_err(NULL, "rename %s to %s/%s", tmp, dirpath, name);
		goto fail;
	}
	if (fsync(dirfd) == -1)
		log_err(NULL, "fsync directory %s", dirpath);	/* renamed: done */
	ret = 0;
	goto out;
fail:
	unlinkat(dirfd, tmpname, 0);
out:
	free(tmp);
	free(tmpname);
	return ret;
}

int
file_write_atomic(const char *path, const char *data, size_t len, int mode)
{
	char *dir = xstrdup(path), *base = xstrdup(path);
	const char *parent = dirname(dir);
	int dfd, ret = -1;

	if ((dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_err(NULL, "create %s/" TMP_PREFIX "%s: open %s", parent, basename(base), parent);
		goto out;
	}
	ret = file_write_atomic_at(dfd, parent, basename(base), data, len, mode);
	close(dfd);
out:
	free(dir);
	free(base);
	return ret;
}

char *
file_read_fd(int fd, size_t max)
{
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;

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
	if (b.data == NULL)
		b.data = xstrdup("");
	return b.data;
fail:
	n = errno;
	buf_free(&b);
	errno = (int)n;
	return NULL;
}

/* O_NONBLOCK: a FIFO put where a file was expected must not hang the pass. */
char *
file_read(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), e;
	char *s;

	if (fd == -1)
		return NULL;
	s = file_read_fd(fd, max);
	e = errno;
	close(fd);
	errno = e;
	return s;
}

/* The mount a descriptor is on: a bind mount of the same file system has
 * the same st_dev, so st_dev alone does not find every mount point. 0 when
 * the kernel cannot say (before Linux 5.8). */
static unsigned long long
mount_id(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) == -1 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/* Where a walk started, which it never leaves, and the directories it
 * moved up there to remove them later. */
struct rm_top {
	dev_t dev;
	unsigned long long mnt;
	int fd;			/* the directory the walk started in */
	char **moved;		/* names in it of the directories moved up */
	size_t n, cap;
	unsigned long moves;
};

static int rm_entry(int dirfd, const char *dirpath, const char *name, struct rm_top *top,
    int depth);

/* Remove every entry of the directory open as fd (closed here); path only
 * names it in messages. */
static int
rm_children(int fd, const char *path, struct rm_top *top, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	if (d == NULL) {
		log_err(NULL, "open %s", path);
		close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_entry(dirfd(d), path, de->d_name, top, depth) == -1)
			ret = -1;
	}
	if (errno != 0) {
		log_err(NULL, "read %s", path);
		ret = -1;
	}
	closedir(d);
	return ret;
}

/* Open the directory name of dirfd that fstatat saw as *st, and make sure
 * it is that one: not a symlink or another directory put there since, and
 * on the file system and mount the walk started on. -1 when not (logged). */
static int
rm_open_dir(int dirfd, const char *path, const char *name, const struct stat *st,
    const struct rm_top *top)
{
	struct stat now;
	int fd;

	if (st->st_dev != top->dev) {
		log_errx(NULL, "%s/%s is on another file system: not removed", path, name);
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		log_err(NULL, "open %s/%s", path, name);
		return -1;
	}
	if (fstat(fd, &now) == -1 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		log_errx(NULL, "%s/%s was replaced while being removed: not followed", path, name);
		goto fail;
	}
	if (top->mnt != 0 && mount_id(fd) != top->mnt) {
		log_errx(NULL, "%s/%s is a mount point: not removed", path, name);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Move directory name of dirfd, which fstatat saw as *st, RM_DEPTH_MAX
 * levels down, up into the directory the walk started in under a fresh
 * TMP_PREFIX name (never replacing anything), to be removed from there:
 * removal needs no more descriptors or stack than that depth, however
 * deep the tree. rename moves a symlink swapped in meanwhile, never what
 * it points to; a mount point cannot be moved (EBUSY). A pass killed
 * before the removal leaves it to the next sweep. */
static int
rm_move_up(int dirfd, const char *dirpath, const char *name, const struct stat *st,
    struct rm_top *top)
{
	static unsigned long seq;
	char to[64];

	if (st->st_dev != top->dev) {
		log_errx(NULL, "%s/%s is on another file system: not removed", dirpath, name);
		return -1;
	}
	if (top->moves >= RM_MOVES_MAX) {
		log_errx(NULL, "%s/%s: more than %d directories deep, %d times over: not removed",
		    dirpath, name, RM_DEPTH_MAX, RM_MOVES_MAX);
		return -1;
	}
	for (;;) {
		snprintf(to, sizeof(to), TMP_PREFIX "deep.%ld.%lu", (long)getpid(), ++seq);
		if (renameat2(dirfd, name, top->fd, to, RENAME_NOREPLACE) == 0)
			break;
		if (errno != EEXIST) {
			log_err(NULL, "move %s/%s up to be removed", dirpath, name);
			return -1;
		}
	}
	log_debug(NULL, "moved %s/%s up to %s, %d levels deep", dirpath, name, to, RM_DEPTH_MAX);
	top->moves++;
	if (top->n == top->cap) {
		top->cap = top->cap ? 2 * top->cap : 8;
		top->moved = xrealloc(top->moved, top->cap * sizeof(*top->moved));
	}
	top->moved[top->n++] = xstrdup(to);
	return 0;
}

/* Remove name of dirfd and, for a directory, all below it first, depth
 * levels below the top. Nothing is ever reached through a path string:
 * each directory is searched through the descriptor it was opened as, so
 * a symlink swapped in for a directory at any moment leads nowhere. */
static int
rm_entry(int dirfd, const char *dirpath, const char *name, struct rm_top *top, int depth)
{
	struct stat st;
	char *path;
	int fd, ret = -1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		log_err(NULL, "stat %s/%s", dirpath, name);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT) {
			log_err(NULL, "remove %s/%s", dirpath, name);
			return -1;
		}
		return 0;
	}
	if (depth >= RM_DEPTH_MAX)
		return rm_move_up(dirfd, dirpath, name, &st, top);
	if ((fd = rm_open_dir(dirfd, dirpath, name, &st, top)) == -1)
		return -1;
	path = xasprintf("%s/%s", dirpath, name);
	if (rm_children(fd, path, top, depth + 1) == 0) {
		/* A symlink swapped in since is not a directory: ENOTDIR. */
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
			log_err(NULL, "remove %s", path);
		else
			ret = 0;
	}
	free(path);
	return ret;
}

int
rm_rf_at(int dirfd, const char *dirpath, const char *name)
{
	struct rm_top top = { .fd = dirfd };
	struct stat st;
	int ret;

	if (fstat(dirfd, &st) == -1) {
		log_err(NULL, "stat %s", dirpath);
		return -1;
	}
	top.dev = st.st_dev;
	top.mnt = mount_id(dirfd);
	ret = rm_entry(dirfd, dirpath, name, &top, 0);
	/* What was moved up, each walked afresh (and may move more up). */
	while (top.n > 0) {
		char *m = top.moved[--top.n];

		if (rm_entry(dirfd, dirpath, m, &top, 0) == -1)
			ret = -1;
		free(m);
	}
	free(top.moved);
	return ret;
}

int
rm_rf(const char *path)
{
	char *dir = xstrdup(path), *base = xstrdup(path);
	const char *parent = dirname(dir);
	int fd, ret = -1;

	/* The parent is the caller's to trust; below it, nothing is followed. */
	if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			ret = 0;
		else
			log_err(NULL, "open %s", parent);
		goto out;
	}
	ret = rm_rf_at(fd, parent, basename(base));
	close(fd);
out:
	free(dir);
	free(base);
	return ret;
}

int
file_is_exec(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}
