/* The staging directory of a version being installed: a fresh private
 * directory (TMP_PREFIX, root's, mode 0700) beside the final one, holding
 * STAGE_TREE, the one place the sandbox (sandbox.h) may write, into which
 * gzip | tar, run there, unpack the tarball as the bytes are handed over;
 * then the tree tar made is checked (tarball.h), completed with the
 * tarball and its check files, adopted by root through descriptors and
 * made durable, ready for the one rename that makes it the version
 * directory (install.h). */
#ifndef STAGE_H
#define STAGE_H

#include "config.h"
#include "heartbeat.h"
#include "pipeline.h"
#include "release.h"

/* The tree in a staging directory. */
#define STAGE_TREE "tree"

/* Of the staging file system, STAGE_RESERVE_PCT percent of its blocks and
 * of its inodes stay free for the host: an unpack that could go below is
 * stopped. */
#define STAGE_RESERVE_PCT 5

/* The unpack that runs beside a download. */
struct stage_unpack {
	struct pipeline pl;
	const char *stage;
	int running;
	const char *agent;
	int fd;			/* the staging directory, for statvfs */
	/* what tar may take without going below the reserve, as the unpack
	 * began: bytes, inodes (-1: not counted), and a block's size */
	long long room, inodes;
	unsigned long bsize;
	long long fed;		/* bytes of the download, which lands beside */
};

/* A fresh staging directory in agentdir (*stage), and gzip | tar started
 * on it; when says from which bytes, for the log. 0, or -1 (logged). */
int stage_unpack_start(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, const char *when, char **stage, struct stage_unpack *u);
/* fetch_file's tee (arg: a stage_unpack): the bytes as they arrive, to
 * gzip | tar. At a cap, or at the reserve, both are killed and what they
 * wrote goes at once; -2 at the reserve: the bytes are not at fault, keep
 * them to resume. */
int stage_unpack_tee(void *arg, const void *p, size_t n);
/* Check the tree unpacked in stage, move the tarball (tmp) and its check
 * files into it, adopt and fsync all of it (tarball_adopt_tree). 0, or -1
 * (logged; e->bad set when the tree was refused). */
int stage_version(const struct config *cfg, const struct desired *d, const char *file, const char *tmp,
    struct release *e, const char *stage);

#endif
