/* Downloads cut by a kill, a stall or a network error, kept so that a
 * later pass resumes them instead of starting over (big releases, slow
 * links). In the agent directory:
 *
 *   PARTIAL_PREFIX<file>        the bytes so far; the download's temp file
 *                               itself, which becomes the verified tarball
 *   PARTIAL_PREFIX<file>.meta   "url U" and "validator V" lines
 *
 * The meta is written before the first body byte (a kill -9 leaves no later
 * chance) and removed as soon as the download is complete or can never be
 * resumed: a data file with a meta is a cut download, nothing else. These
 * names are not TMP_PREFIX ones, so retain_sweep leaves them; partial_sweep
 * removes them after partial_max_age, and partial_keep_only when the agent
 * is wanted at another version. Files are 0600 and opened O_NOFOLLOW. */
#ifndef PARTIAL_H
#define PARTIAL_H

#include "config.h"
#include "fetch.h"

#define PARTIAL_PREFIX ".ops-updater-partial."

/* Open the download of file (from url) in agentdir as f->fd, its path in
 * *path (always set; the caller frees it). Bytes kept for the same URL with
 * a readable meta are resumed (f->resume_from, f->if_range), anything else
 * there is dropped; f->mark keeps the meta up to date. The fd, or -1
 * (logged). */
int partial_open(const struct config *cfg, const char *agent, const char *agentdir,
    const char *file, const char *url, struct fetch_file *f, char **path);
/* The download at path is over: kept when it was cut (it has a meta),
 * otherwise it and its meta are removed (ok: it moved on, if anything). */
void partial_end(const char *agent, const char *path, int ok);
/* Agent name is wanted at version: remove partials of its other files. */
void partial_keep_only(const char *workdir, const char *name, const char *version);
/* Remove the partials of every agent of workdir last written more than
 * max_age seconds ago (all of them when max_age is 0). */
void partial_sweep(const char *workdir, int max_age);

#endif
