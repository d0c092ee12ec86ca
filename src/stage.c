#include "stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "file.h"
#include "log.h"
#include "tarball.h"
#include "util.h"

/* A fresh private staging directory in agentdir, for tar to unpack into. */
static int
stage_create(const struct desired *d, const char *agentdir, char **stage)
{
	*stage = xasprintf("%s/" TMP_PREFIX "%s.XXXXXX", agentdir, d->version);
	if (mkdtemp(*stage) == NULL) {	/* mode 0700 */
		log_err(d->name, "create %s", *stage);
		free(*stage);
		*stage = NULL;
		return -1;
	}
	return 0;
}

/* A fresh staging directory, and gzip | tar started on it; when says
 * from which bytes, for the log. */
int
stage_unpack_start(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, const char *when, char **stage, struct stage_unpack *u)
{
	if (stage_create(d, agentdir, stage) == -1)
		return -1;
	log_info(d->name, "unpacking %s %s", file, when);
	u->stage = *stage;
	tarball_unpack_start(&u->pl, *stage, cfg->unpack_max_mb, cfg->download_timeout);
	u->running = 1;
	return 0;
}

/* fetch_file's tee: the bytes as they arrive, to gzip | tar. At the cap
 * both are killed and what they wrote goes at once. */
int
stage_unpack_tee(void *arg, const void *p, size_t n)
{
	struct stage_unpack *u = arg;

	if (pipeline_feed(&u->pl, p, n) == 0)
		return 0;
	if (u->pl.capped || u->pl.crowded) {
		pipeline_finish(&u->pl);	/* reaped: nothing writes there any more */
		rm_rf(u->stage);
	}
	return -1;
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

/* Check the unpacked tree, complete the staging directory and make it
 * durable: every file and directory it holds is synced (tar syncs
 * nothing), not the whole file system. */
int
stage_version(const struct config *cfg, const struct desired *d, const char *file, const char *tmp,
    struct release *e, const char *stage)
{
	char *kept = NULL;
	int ret = -1;

	if (tarball_check_tree(d->name, file, stage, cfg->unpack_max_mb) == -1) {
		e->bad = 1;
		goto out;
	}
	if (chmod(stage, 0755) == -1) {
		log_err(d->name, "chmod %s", stage);
		goto out;
	}
	/* Kept beside the agent, as the Go updater did. */
	kept = xasprintf("%s/%s", stage, file);
	if (rename(tmp, kept) == -1) {
		log_err(d->name, "rename %s to %s", tmp, kept);
		goto out;
	}
	if (keep(kept, ".md5", &e->md5text) == -1 ||
	    (e->have_sha256 && keep(kept, ".sha256", &e->sha256text) == -1) ||
	    (e->have_sig && keep(kept, ".sig", &e->sig) == -1))
		goto out;
	if (tarball_sync_tree(d->name, stage) == -1)
		goto out;
	ret = 0;
out:
	free(kept);
	return ret;
}
