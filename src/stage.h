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

/* The unpack that runs beside a download. */
struct stage_unpack {
	struct pipeline pl;
	const char *stage;
	int running;
};

/* A fresh staging directory in agentdir (*stage), and gzip | tar started
 * on it; when says from which bytes, for the log. 0, or -1 (logged). */
int stage_unpack_start(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, const char *when, char **stage, struct stage_unpack *u);
/* fetch_file's tee (arg: a stage_unpack): the bytes as they arrive, to
 * gzip | tar. At the cap both are killed and what they wrote goes at once. */
int stage_unpack_tee(void *arg, const void *p, size_t n);
/* Check the tree unpacked in stage, move the tarball (tmp) and its check
 * files into it, adopt and fsync all of it (tarball_adopt_tree). 0, or -1
 * (logged; e->bad set when the tree was refused). */
int stage_version(const struct config *cfg, const struct desired *d, const char *file, const char *tmp,
    struct release *e, const char *stage);

#endif
