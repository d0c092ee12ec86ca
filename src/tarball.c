#include "tarball.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "util.h"

/* tar's complaints we keep, to refuse the tarball with the first of them. */
#define COMPLAINTS_MAX 4096

void
tarball_tree_add(struct tarball_tree *t, const char *path, char type, const char *target)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->e = xrealloc(t->e, t->cap * sizeof(*t->e));
	}
	t->e[t->n].path = xstrdup(path);
	t->e[t->n].type = type;
	t->e[t->n++].target = xstrdup(target);
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct tarball_entry *)a)->path, ((const struct tarball_entry *)b)->path);
}

void
tarball_tree_sort(struct tarball_tree *t)
{
	if (t->n > 1)
		qsort(t->e, t->n, sizeof(*t->e), by_path);
}

void
tarball_tree_free(struct tarball_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].path);
		free(t->e[i].target);
	}
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static const struct tarball_entry *
lookup(const struct tarball_tree *t, const char *path)
{
	struct tarball_entry key = { .path = (char *)path };

	return t->n ? bsearch(&key, t->e, t->n, sizeof(*t->e), by_path) : NULL;
}

/* Drop the last component of dir ("" is the root). */
static void
up(char *dir)
{
	char *slash = strrchr(dir, '/');

	if (slash != NULL)
		*slash = '\0';
	else
		*dir = '\0';
}

const char *
tarball_link_check(const struct tarball_tree *t, const char *path, const char *target,
    char *buf, size_t len)
{
	char dir[PATH_MAX], rest[PATH_MAX], next[PATH_MAX];
	const char *p;
	int hops = 0, lexical = 0;

	if (*target == '\0' || *target == '/') {
		snprintf(buf, len, "link '%.200s' points to '%.200s': %s", path, target,
		    *target ? "an absolute path" : "nothing");
		return buf;
	}
	if (strlen(path) >= sizeof(dir) || strlen(target) >= sizeof(rest)) {
		snprintf(buf, len, "link '%.200s': path or target too long", path);
		return buf;
	}
	/* The directory holding the link, which the walk reached through
	 * real directories only; then the target, component by component. */
	strcpy(dir, path);
	up(dir);
	strcpy(rest, target);
	for (p = rest; *p;) {
		size_t n = strcspn(p, "/"), dl = strlen(dir);
		const struct tarball_entry *e;
		const char *comp = p;

		p += n;
		p += strspn(p, "/");
		if (n == 0 || (n == 1 && comp[0] == '.'))
			continue;
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			if (*dir == '\0') {
				snprintf(buf, len, "link '%.200s' -> '%.200s' climbs above the version directory",
				    path, target);
				return buf;
			}
			up(dir);
			continue;
		}
		if (dl + 1 + n >= sizeof(dir)) {
			snprintf(buf, len, "link '%.200s' resolves to a path too long", path);
			return buf;
		}
		if (dl > 0)
			dir[dl++] = '/';
		memcpy(dir + dl, comp, n);
		dir[dl + n] = '\0';
		/* Past something that is no directory the kernel would stop;
		 * whatever may be put there later, the rest must not climb out. */
		if (lexical || (e = lookup(t, dir)) == NULL || e->type == 'f') {
			lexical = 1;
			continue;
		}
		if (e->type == 'd')
			continue;
		/* A link of the tree: its target takes its place, from the
		 * directory that holds it. */
		if (++hops > TARBALL_LINK_HOPS) {
			snprintf(buf, len, "link '%.200s' -> '%.200s': more than %d links to follow",
			    path, target, TARBALL_LINK_HOPS);
			return buf;
		}
		if (e->target == NULL || *e->target == '/' || *e->target == '\0') {
			snprintf(buf, len, "link '%.200s' -> '%.200s' goes through '%.200s', which points out",
			    path, target, e->path);
			return buf;
		}
		if (snprintf(next, sizeof(next), "%s/%s", e->target, p) >= (int)sizeof(next)) {
			snprintf(buf, len, "link '%.200s' resolves to a path too long", path);
			return buf;
		}
		strcpy(rest, next);
		p = rest;
		up(dir);
	}
	return NULL;
}

/* A stable message language, whatever the operator's locale. */
#define TAR_ENV "LC_ALL=C"

void
tarball_unpack_start(struct pipeline *pl, const char *dir, const struct sandbox *sb, int max_mb,
    int timeout, int (*watch)(void *, long long, long long), void *watch_arg)
{
	/* igzip (Intel ISA-L, Debian's isal) decompresses the same streams
	 * several times faster than gzip, which is the unpack's bound. */
	static char *igzip_argv[] = { "igzip", "-dc", NULL }, *gzip_argv[] = { "gzip", "-dc", NULL };
	char *igzip = spawn_which("igzip");
	/* From stdin only, never -P, into its working directory (dir: the
	 * sandbox may not reach it by path). Ours, not the archive's: owners,
	 * modes (umask applied), the existing root's metadata, ACLs, xattrs
	 * and SELinux labels. Harmless warnings silenced, so that anything tar
	 * still says is a reason to refuse (it strips a leading "/" or "../"
	 * with only a warning). */
	static char *tar_argv[] = { "tar", "-x", "-f", "-", "-C", ".", "--no-same-owner",
		"--no-same-permissions", "--no-overwrite-dir", "--no-acls", "--no-xattrs", "--no-selinux",
		"--warning=no-timestamp", "--warning=no-unknown-keyword", NULL };
	long long max = (long long)max_mb << 20;

	memset(pl, 0, sizeof(*pl));
	/* gzip writes to its stdout only: no writable place at all. */
	pl->a = (struct spawn){ .argv = igzip != NULL ? igzip_argv : gzip_argv, .timeout = timeout,
		.env = TAR_ENV, .dir = "/", .sandbox = sb, .fsize_max = max };
	/* gzip exits 2 for a warning: bytes after the last member ("trailing
	 * garbage ignored"), which never reach tar and which igzip skips
	 * silently. A release must unpack alike on hosts with and without
	 * igzip, and its digests covered those bytes: said, not refused. */
	pl->a_warns = igzip != NULL ? 0 : 2;
	free(igzip);
	pl->b = (struct spawn){ .argv = tar_argv, .timeout = timeout, .env = TAR_ENV, .capture = 1,
		.err_to_out = 1, .out_max = COMPLAINTS_MAX, .dir = dir, .sandbox = sb,
		.dir_writable = 1, .fsize_max = max };
	pl->max = max;
	/* Cut off while tar creates them, not after: a small gzip of a
	 * million empty members, or of members a thousand directories deep,
	 * would fill the file system's inodes. */
	pl->members_max = TARBALL_ENTRIES_MAX;
	pl->watch = watch;
	pl->watch_arg = watch_arg;
	pipeline_start(pl);	/* a failure shows in tarball_unpack_finish */
}

/* Did sp end for a reason of the host's, not of the bytes it was fed:
 * never run (fork or exec failed: memory, limits, a path the sandbox
 * cannot reach), cut at its deadline, or killed by a SIGKILL that was not
 * ours (the OOM killer, an admin)? */
static int
host_ended(const struct pipeline *pl, const struct spawn *sp)
{
	return sp->exec_errno != 0 || sp->timed_out ||
	    (sp->ran && WIFSIGNALED(sp->status) && WTERMSIG(sp->status) == SIGKILL && !pl->late);
}

/* The line of tar's complaints (its length in *len) that says the file
 * system had no room for what it wrote, or NULL: full (another process
 * filled it between two of our looks at it), a quota, or a short write,
 * which in a fresh staging directory only a lack of room gives (past
 * fsize_max SIGXFSZ ends tar instead). The errno text ends tar's line
 * ("tar: NAME: Cannot write: ERR"), and a member name cannot forge a
 * line's end: tar escapes control bytes in names (LC_ALL=C, its default
 * quoting). */
static const char *
no_room(const struct pipeline *pl, int *len)
{
	static const char *const errs[] = { ": No space left on device", ": Disk quota exceeded" };
	const char *p = pl->b.out, *end, *w;
	unsigned long got, want;
	size_t i, n;
	int tail;

	if (p == NULL || !pl->b.ran || !WIFEXITED(pl->b.status) || WEXITSTATUS(pl->b.status) == 0)
		return NULL;
	for (; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		n = (size_t)(end - p);
		*len = (int)n;
		for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
			if (n >= strlen(errs[i]) && memcmp(end - strlen(errs[i]), errs[i], strlen(errs[i])) == 0)
				return p;
		/* "tar: NAME: Wrote only N of M bytes" */
		for (w = end; w > p && w[-1] != ':'; w--)
			;
		tail = -1;
		if (w > p && sscanf(w, " Wrote only %lu of %lu bytes%n", &got, &want, &tail) == 2 &&
		    w + tail == end && got < want)
			return p;
	}
	return NULL;
}

int
tarball_unpack_blameless(const struct pipeline *pl)
{
	/* Our own verdicts on the bytes come first: we killed both then. */
	if (pl->capped || pl->crowded || pl->sparse || pl->overlong || pl->watched)
		return 0;
	return pl->foreign != 0 || pl->late || host_ended(pl, &pl->a) || host_ended(pl, &pl->b) || pl->no_room;
}

int
tarball_unpack_finish(const char *agent, const char *file, struct pipeline *pl, int max_mb)
{
	char why[128];
	int r = pipeline_finish(pl), ret = -1, len = 0;
	const char *room;
	/* The child a fault of the host ended, if one did: gzip's first. */
	const struct spawn *gone = host_ended(pl, &pl->a) ? &pl->a : host_ended(pl, &pl->b) ? &pl->b : NULL;

	/* Kept for tarball_unpack_blameless: the captures go below. */
	room = no_room(pl, &len);
	pl->no_room = room != NULL;
	if (pl->capped)
		log_errx(agent, "refusing %s: unpacks to more than %d MiB", file, max_mb);
	else if (pl->crowded)
		log_errx(agent, "refusing %s: more than %d members and directories", file, TARBALL_ENTRIES_MAX);
	else if (pl->sparse)
		log_errx(agent, "refusing %s: it holds a sparse member, whose few bytes would claim many "
		    "disk blocks", file);
	else if (pl->overlong)
		log_errx(agent, "refusing %s: a pax or long-name header of more than %d bytes", file,
		    TARSTREAM_EXT_MAX);
	else if (pl->watched)
		;	/* the watch said why */
	else if (pl->foreign != 0) {
		if (pl->foreign > 0)
			snprintf(why, sizeof(why), "a process outside this pass (pid %ld)", (long)pl->foreign);
		else
			snprintf(why, sizeof(why), "maybe a process outside this pass (process events were lost)");
		log_errx(agent, "cannot unpack %s: %s ran as uid %lu, the sandbox's, during the unpack and "
		    "could have changed what tar wrote: a fault of this host (the id is not ours alone), "
		    "no verdict on the release", file, why, (unsigned long)pl->b.sandbox->uid);
	}
	else if ((pl->late || pl->a.timed_out || pl->b.timed_out) && deadline_passed())
		log_errx(agent, "%s not unpacked: cut at the pass deadline (pass_timeout), "
		    "no verdict on the release", file);
	else if (pl->late || pl->a.timed_out || pl->b.timed_out)
		log_errx(agent, "%s not downloaded and unpacked within %d s (download_timeout): "
		    "a slow link or host, no verdict on the release", file, pl->a.timeout);
	else if (gone != NULL)
		log_errx(agent, "cannot unpack %s: %s %s: a fault of this host, no verdict on the release",
		    file, gone == &pl->a ? pl->a.argv[0] : "tar", spawn_strerror(gone, why, sizeof(why)));
	else if (room != NULL)
		log_errx(agent, "host: no space left on device while unpacking %s (tar: '%.*s'): a fault of "
		    "this host, no verdict on the release", file, len, room);
	else if (pl->a.ran && WIFEXITED(pl->a.status) && WEXITSTATUS(pl->a.status) != 0 &&
	    !pipeline_a_warned(pl) &&
	    pl->a_said[0] != '\0')	/* not gzip: tar's complaint follows from it */
		log_errx(agent, "refusing %s: %s says '%s' (%s)", file, pl->a.argv[0], pl->a_said,
		    spawn_strerror(&pl->a, why, sizeof(why)));
	else if (pl->b.out_len > 0)
		log_errx(agent, "refusing %s: tar says '%.*s' (%s)", file, (int)strcspn(pl->b.out, "\n"),
		    pl->b.out, spawn_strerror(&pl->b, why, sizeof(why)));
	else if (r == -1 && (pl->a.exec_errno || !pl->a.ran ||
	    (pl->a.status != 0 && !pipeline_a_warned(pl))))
		log_errx(agent, "refusing %s: %s %s", file, pl->a.argv[0], spawn_strerror(&pl->a, why, sizeof(why)));
	else if (r == -1)
		log_errx(agent, "refusing %s: tar %s", file, spawn_strerror(&pl->b, why, sizeof(why)));
	else {
		if (pipeline_a_warned(pl))
			log_warnx(agent, "%s: %s says '%s' (exited %d: a warning); unpacked all the same", file,
			    pl->a.argv[0], pl->a_said, pl->a_warns);
		ret = 0;
	}
	pipeline_free(pl);
	return ret;
}

/* Descriptors the adoption holds, their writeback started, until it
 * fsyncs them: bounded, well below any descriptor limit. */
#define WALK_PENDING 64

/* One walk over a staged tree, through directory descriptors only. */
struct walk {
	const char *agent, *file;
	int sync;		/* fsync everything instead of checking */
	struct pending {	/* sync mode: adopted, not yet fsynced */
		int fd;
		char *path;
	} pending[WALK_PENDING];
	size_t npending;
	struct tarball_tree tree;
	struct inode {
		dev_t dev;
		ino_t ino;
		nlink_t nlink;
		size_t entry;
	} *files;
	size_t nfiles, capfiles;
	long long bytes, max;
	char path[PATH_MAX];	/* of the entry at hand, from the root */
};

static int
refuse(const struct walk *w, const char *why)
{
	log_errx(w->agent, "refusing %s: '%.300s' %s", w->file, w->path, why);
	return -1;
}

/* fsync the pending descriptors (unless sync is 0: after a failure), in
 * the order they came (what a directory holds before it); close them. */
static int
pending_sync(struct walk *w, int sync)
{
	int ret = 0;

	for (size_t i = 0; i < w->npending; i++) {
		if (sync && ret == 0 && fsync(w->pending[i].fd) == -1) {
			log_err(w->agent, "fsync %s", w->pending[i].path);
			ret = -1;
		}
		close(w->pending[i].fd);
		free(w->pending[i].path);
	}
	w->npending = 0;
	return ret;
}

/* Adopt what fd is open on (the walk's sync mode): ours (root's when we
 * are root), no setuid, setgid or sticky bit, writable by neither group
 * nor others. Through the descriptor only: nothing is looked up again by
 * path. Then its fsync is left pending on a copy of fd, with its data's
 * writeback started now: by the time the batch is fsynced its writes are
 * in flight together, instead of one file's after the other's. */
static int
sync_fd(struct walk *w, int fd)
{
	const char *path = *w->path ? w->path : ".";
	uid_t uid = geteuid();
	gid_t gid = getegid();
	struct stat st;
	int keep;

	if (fstat(fd, &st) == -1) {
		log_err(w->agent, "stat %s", path);
		return -1;
	}
	if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) == -1) {
		log_err(w->agent, "chown %s", path);
		return -1;
	}
	/* After the chown, which may clear setuid and setgid by itself. */
	if ((st.st_mode & 07777) != (st.st_mode & 0755) && fchmod(fd, st.st_mode & 0755) == -1) {
		log_err(w->agent, "chmod %s", path);
		return -1;
	}
	/* Only a hint, and the fsync waits for the same writes anyway:
	 * whatever it says, the fsync's own result is the one that counts. */
	if (S_ISREG(st.st_mode))
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if ((keep = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_err(w->agent, "dup %s", path);
		return -1;
	}
	w->pending[w->npending].fd = keep;
	w->pending[w->npending++].path = xstrdup(path);
	return w->npending == WALK_PENDING ? pending_sync(w, 1) : 0;
}

static int walk_dir(struct walk *w, int dfd, int depth);

/* A regular file: no setuid or setgid, its names counted for hard links. */
static int
walk_file(struct walk *w, int dfd, const char *name, const struct stat *st)
{
	int fd, ret;

	if (w->sync) {
		struct stat fst;

		if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) == -1) {
			log_err(w->agent, "open %s", w->path);
			return -1;
		}
		if (fstat(fd, &fst) == -1 || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev ||
		    !S_ISREG(fst.st_mode))
			ret = refuse(w, "was replaced while being adopted");
		else
			ret = sync_fd(w, fd);
		close(fd);
		return ret;
	}
	if (st->st_mode & (S_ISUID | S_ISGID))
		return refuse(w, "is setuid or setgid");
	if ((w->bytes += st->st_size) > w->max)
		return refuse(w, "brings the unpacked size over unpack_max_mb");
	if (w->nfiles == w->capfiles) {
		w->capfiles = w->capfiles ? 2 * w->capfiles : 64;
		w->files = xrealloc(w->files, w->capfiles * sizeof(*w->files));
	}
	w->files[w->nfiles++] = (struct inode){ st->st_dev, st->st_ino, st->st_nlink, w->tree.n };
	tarball_tree_add(&w->tree, w->path, 'f', NULL);
	return 0;
}

/* A directory: opened without following a link, then walked. */
static int
walk_subdir(struct walk *w, int dfd, const char *name, const struct stat *st, int depth)
{
	struct stat fst;
	int fd, ret;

	if (depth >= TARBALL_DEPTH_MAX)
		return refuse(w, "is nested too deep");
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &fst) == -1 || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev) {
		log_err(w->agent, "open %s", w->path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!w->sync)
		tarball_tree_add(&w->tree, w->path, 'd', NULL);
	ret = walk_dir(w, fd, depth + 1);
	close(fd);
	return ret;
}

/* One entry of a directory; its path in w->path. */
static int
walk_entry(struct walk *w, int dfd, const char *name, int depth)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		log_err(w->agent, "stat %s", w->path);
		return -1;
	}
	if (!w->sync && w->tree.n >= TARBALL_ENTRIES_MAX)
		return refuse(w, "is one entry too many");
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return walk_file(w, dfd, name, &st);
	case S_IFDIR:
		return walk_subdir(w, dfd, name, &st, depth);
	case S_IFLNK:
		if (w->sync) {
			if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
			    fchownat(dfd, name, geteuid(), getegid(), AT_SYMLINK_NOFOLLOW) == -1) {
				log_err(w->agent, "chown %s", w->path);
				return -1;
			}
			return 0;
		}
		if ((n = readlinkat(dfd, name, target, sizeof(target))) == -1 || n == sizeof(target)) {
			log_err(w->agent, "readlink %s", w->path);
			return -1;
		}
		target[n] = '\0';
		tarball_tree_add(&w->tree, w->path, 'l', target);
		return 0;
	case S_IFCHR:
		return refuse(w, "is a character device");
	case S_IFBLK:
		return refuse(w, "is a block device");
	case S_IFIFO:
		return refuse(w, "is a FIFO");
	case S_IFSOCK:
		return refuse(w, "is a socket");
	}
	return refuse(w, "is of an unknown type");
}

static int
walk_dir(struct walk *w, int dfd, int depth)
{
	size_t plen = strlen(w->path);
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if ((fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_err(w->agent, "open %s", *w->path ? w->path : ".");
		if (fd != -1)
			close(fd);
		return -1;
	}
	while (ret == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s", plen ? "/" : "",
		    de->d_name) >= sizeof(w->path) - plen) {
			w->path[plen] = '\0';
			ret = refuse(w, "holds a path too long");
			break;
		}
		ret = walk_entry(w, dfd, de->d_name, depth);
		w->path[plen] = '\0';
	}
	if (ret == 0 && errno != 0) {
		log_err(w->agent, "read directory %s", *w->path ? w->path : ".");
		ret = -1;
	}
	closedir(d);
	/* A directory after what it holds: its entries point to them. */
	if (ret == 0 && w->sync)
		ret = sync_fd(w, dfd);
	return ret;
}

static int
by_inode(const void *a, const void *b)
{
	const struct inode *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : (x->ino > y->ino);
}

/* Every link of a regular file must be one of its names in the tree:
 * one more is a hard link to a file outside, which writing the agent's
 * copy would write. */
static int
check_hardlinks(struct walk *w)
{
	size_t i, j;

	if (w->nfiles > 1)
		qsort(w->files, w->nfiles, sizeof(*w->files), by_inode);
	for (i = 0; i < w->nfiles; i = j) {
		for (j = i + 1; j < w->nfiles && by_inode(&w->files[i], &w->files[j]) == 0; j++)
			;
		if (w->files[i].nlink > j - i) {
			snprintf(w->path, sizeof(w->path), "%s", w->tree.e[w->files[i].entry].path);
			return refuse(w, "is a hard link to a file outside the tarball");
		}
	}
	return 0;
}

static int
check_links(struct walk *w)
{
	char why[1024];

	tarball_tree_sort(&w->tree);
	for (size_t i = 0; i < w->tree.n; i++) {
		const struct tarball_entry *e = &w->tree.e[i];

		if (e->type == 'l' && tarball_link_check(&w->tree, e->path, e->target, why, sizeof(why))) {
			log_errx(w->agent, "refusing %s: %s", w->file, why);
			return -1;
		}
	}
	return 0;
}

static int
check_control(struct walk *w, int root)
{
	struct stat st;

	if (fstatat(root, "control", &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & 0111)) {
		log_errx(w->agent, "refusing %s: no executable control at its root", w->file);
		return -1;
	}
	return 0;
}

/* Walk the tree at dir in the given mode. */
static int
walk_tree(struct walk *w, const char *dir)
{
	int root, ret;

	if ((root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_err(w->agent, "open %s", dir);
		return -1;
	}
	ret = walk_dir(w, root, 0);
	if (ret == 0 && !w->sync && (check_links(w) == -1 || check_hardlinks(w) == -1 ||
	    check_control(w, root) == -1))
		ret = -1;
	/* The last batch, the root last of all; after a failure only closed. */
	if (pending_sync(w, ret == 0) == -1)
		ret = -1;
	close(root);
	tarball_tree_free(&w->tree);
	free(w->files);
	return ret;
}

int
tarball_check_tree(const char *agent, const char *file, const char *dir, int max_mb)
{
	struct walk w = { .agent = agent, .file = file, .max = (long long)max_mb << 20 };

	return walk_tree(&w, dir);
}

int
tarball_adopt_tree(const char *agent, const char *dir)
{
	struct walk w = { .agent = agent, .file = dir, .sync = 1 };

	return walk_tree(&w, dir);
}
