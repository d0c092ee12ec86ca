#include "stage.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "sandbox.h"
#include "tarball.h"
#include "util.h"

/* A fresh staging directory in agentdir, root's and private (0700), and in
 * it STAGE_TREE, the sandbox's, for tar to unpack into: only through the
 * private one can anyone but root reach the tree by path, and tar, which
 * gets it as its working directory, needs no path. */
static int
stage_create(const struct desired *d, const char *agentdir, const struct sandbox *sb, char **stage)
{
	int fd = -1, ret = -1;

	*stage = xasprintf("%s/" TMP_PREFIX "%s.XXXXXX", agentdir, d->version);
	if (mkdtemp(*stage) == NULL) {	/* mode 0700 */
		log_err(d->name, "create %s", *stage);
		free(*stage);
		*stage = NULL;
		return -1;
	}
	if ((fd = open(*stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    mkdirat(fd, STAGE_TREE, 0700) == -1 ||
	    (sb->drop && fchownat(fd, STAGE_TREE, sb->uid, sb->gid, AT_SYMLINK_NOFOLLOW) == -1))
		log_err(d->name, "create %s/%s", *stage, STAGE_TREE);
	else
		ret = 0;
	if (fd != -1)
		close(fd);
	return ret;	/* on failure *stage is the caller's to remove */
}

/* STAGE_RESERVE_PCT percent of n blocks or inodes, rounded up: a small
 * file system keeps some too. */
static unsigned long long
reserve(unsigned long long n)
{
	return (n * STAGE_RESERVE_PCT + 99) / 100;
}

/* The pipeline's watch: can tar and the download beside it still have
 * written no more than the room there was above the reserve as the unpack
 * began (each byte of the tar stream at most a byte on disk, each entry at
 * most an inode and a block: known before tar gets them, whatever it has
 * written yet), and is the file system, which others write too, still
 * above its reserve now? */
static int
watch(void *arg, long long passed, long long entries)
{
	struct stage_unpack *u = arg;
	struct statvfs v;

	if (u->fed + passed + entries * (long long)u->bsize > u->room ||
	    (u->inodes >= 0 && entries > u->inodes))
		log_errx(u->agent, "stopped unpacking into %s: it could take the staging file system "
		    "below its %d%% reserve (%lld bytes and %lld entries so far)", u->stage,
		    STAGE_RESERVE_PCT, passed, entries);
	else if (fstatvfs(u->fd, &v) == 0 && (v.f_bavail < reserve(v.f_blocks) ||
	    (v.f_files > 0 && v.f_favail < reserve(v.f_files))))
		log_errx(u->agent, "stopped unpacking into %s: the staging file system is down to its "
		    "%d%% reserve (%llu MiB, %llu inodes free)", u->stage, STAGE_RESERVE_PCT,
		    (unsigned long long)v.f_bavail * v.f_frsize >> 20, (unsigned long long)v.f_favail);
	else
		return 0;
	return -1;
}

/* The room above the reserve of the file system of u->fd, for watch. */
static int
room(const struct desired *d, struct stage_unpack *u)
{
	struct statvfs v;

	if (fstatvfs(u->fd, &v) == -1) {
		log_err(d->name, "statvfs %s", u->stage);
		return -1;
	}
	u->bsize = v.f_frsize;
	u->room = ((long long)v.f_bavail - (long long)reserve(v.f_blocks)) * (long long)v.f_frsize;
	u->inodes = v.f_files == 0 ? -1 :	/* none counted (btrfs) */
	    (long long)v.f_favail - (long long)reserve(v.f_files);
	return 0;
}

/* A fresh staging directory, and gzip | tar started on it, in the pass's
 * sandbox, watched; when says from which bytes, for the log. */
int
stage_unpack_start(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, const char *when, char **stage, struct stage_unpack *u)
{
	const struct sandbox *sb = sandbox_get(d->name);
	char who[160], *tree, *abs;

	u->fd = -1;
	if (sb == NULL || stage_create(d, agentdir, sb, stage) == -1)
		return -1;
	u->stage = *stage;
	u->agent = d->name;
	if ((u->fd = open(*stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_err(d->name, "open %s", *stage);
		return -1;
	}
	if (room(d, u) == -1)
		return -1;
	log_info(d->name, "unpacking %s %s, as %s", file, when, sandbox_describe(sb, who, sizeof(who)));
	/* Absolute: the child binds it on itself after its chdir, in a
	 * namespace of its own (a relative work directory, -c cfg.json, would
	 * name nothing from there). Read by the children's fork only, before
	 * tarball_unpack_start returns. */
	if ((abs = realpath(*stage, NULL)) == NULL) {
		log_err(d->name, "resolve %s", *stage);
		return -1;
	}
	tree = xasprintf("%s/" STAGE_TREE, abs);
	free(abs);
	tarball_unpack_start(&u->pl, tree, sb, cfg->unpack_max_mb, cfg->download_timeout, watch, u);
	free(tree);
	u->running = 1;
	return 0;
}

/* fetch_file's tee: the bytes as they arrive, to gzip | tar. At the cap
 * both are killed and what they wrote goes at once. */
int
stage_unpack_tee(void *arg, const void *p, size_t n)
{
	struct stage_unpack *u = arg;

	u->fed += (long long)n;
	/* Here too: the download lands beside before gzip's output is read. */
	if (watch(u, u->pl.passed, u->pl.tar.members + u->pl.tar.dirs) == -1) {
		u->pl.watched = 1;
		pipeline_kill(&u->pl);
	} else if (pipeline_feed(&u->pl, p, n) == 0)
		return 0;
	if (u->pl.capped || u->pl.crowded || u->pl.sparse || u->pl.overlong || u->pl.watched) {
		pipeline_finish(&u->pl);	/* reaped: nothing writes there any more */
		rm_rf(u->stage);
	}
	/* Cut by the watch or by the deadline (a slow link): the bytes so far
	 * are good to resume from. */
	return u->pl.watched || u->pl.late ? -2 : -1;
}

/* Write one of the check files beside the kept tarball. */
static int
keep(const char *kept, const char *ext, const struct buf *b)
{
	char *path = xasprintf("%s%s", kept, ext);
	int ret = file_write_atomic(path, b->data ? b->data : "", b->len, 0644);

	free(path);
	return ret;
}

/* Check the unpacked tree, complete it and adopt it, durably: every file
 * and directory it holds is made root's and synced (tar syncs nothing),
 * not the whole file system. The check comes first, while nothing is
 * root's yet: a hard link to a file outside the tree is refused before
 * root would chown that file too. Nothing of the sandbox's runs any more
 * (pipeline_finish), and only root can reach the tree. */
int
stage_version(const struct config *cfg, const struct desired *d, const char *file, const char *tmp,
    struct release *e, const char *stage)
{
	char *tree = xasprintf("%s/" STAGE_TREE, stage), *kept = NULL;
	int ret = -1;

	if (tarball_check_tree(d->name, file, tree, cfg->unpack_max_mb) == -1) {
		e->bad = 1;
		goto out;
	}
	if (chmod(tree, 0755) == -1) {
		log_err(d->name, "chmod %s", tree);
		goto out;
	}
	/* Kept beside the agent, as the Go updater did. */
	kept = xasprintf("%s/%s", tree, file);
	if (rename(tmp, kept) == -1) {
		log_err(d->name, "rename %s to %s", tmp, kept);
		goto out;
	}
	if ((e->have_md5 && keep(kept, ".md5", &e->md5text) == -1) ||
	    (e->have_sha256 && keep(kept, ".sha256", &e->sha256text) == -1) ||
	    (e->have_sig && keep(kept, ".sig", &e->sig) == -1))
		goto out;
	if (tarball_adopt_tree(d->name, tree) == -1)
		goto out;
	ret = 0;
out:
	free(kept);
	free(tree);
	return ret;
}
