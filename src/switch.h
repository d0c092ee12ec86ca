/* Switching an agent to another version: install it if needed, record
 * the trial durably, stop the old, start the new and watch it for
 * health_wait, write .version last; when the new one fails, roll back to
 * the old. A pass killed on the way leaves the trial for recover.h. */
#ifndef SWITCH_H
#define SWITCH_H

#include "decide.h"
#include "install.h"

/* Switch d's agent from p->cur to d->version. 0, or -1 with *bad set when
 * the fault is the new version's, why its start's or health gate's
 * failure, and what its install saw in *seen. */
int switch_version(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, int *bad, char *why, size_t whylen, struct install_seen *seen);
/* The current version of d (in dir), found not running, is started
 * again (a restart, counted), or rolled back when that death fails its
 * probation (probation.h). 0, or -1 (logged) with why set to the cause
 * of a failed probation. */
int switch_start(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, const char *dir, char *why, size_t whylen);
/* The current version (in dir, or NULL) must run while a new one waits:
 * started (and counted) when found not running, or rolled back after its
 * probation. With broken (len bytes; NULL: none), one that cannot run
 * (its start failed, or its probation) is left as it is and broken says
 * why: its caller takes the new version at once. 0, or -1 (logged). */
int switch_keep_current(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, const char *dir, char *broken, size_t len);
/* Write <workdir>/<name>/.version, durably: what says "done". 0, or -1. */
int switch_commit(const struct config *cfg, const char *name, const char *version);
/* <workdir>/<name>/<version>, to be freed. */
char *switch_dir(const struct config *cfg, const char *name, const char *version);

#endif
