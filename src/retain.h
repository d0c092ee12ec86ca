/* What stays in an agent's directory besides the version that runs, and
 * how the rest goes: old versions pruned (keep_versions), a version
 * removed, what a killed pass left behind swept. Every removal walks by
 * descriptors (rm_rf_at): agents own directories inside their version
 * directories and may swap them for symlinks meanwhile. */
#ifndef RETAIN_H
#define RETAIN_H

/* Remove what a killed pass left behind: TMP_PREFIX entries in workdir and
 * in every agent directory, walking by descriptors (rm_rf_at). A workdir or
 * agent directory that trust.h refuses is left alone. Run under the pass
 * lock only. 0, or -1 when something could not be removed (logged): the
 * pass then fails, so that it does not stay there unseen. */
int retain_sweep(const char *workdir);
/* Keep the current version of agent name, those named in spare
 * (NULL-terminated, not counted: versions the caller still needs) and the
 * keep most recently used others; remove older version directories (by
 * descriptors: agents own directories inside them), but never one whose
 * control status says started (timeout for that), nor one trust.h
 * refuses, whose control is not run. 0, or -1 (logged). */
int retain_prune(const char *workdir, const char *name, const char *current, const char *const *spare,
    int keep, int timeout);
/* Remove <workdir>/<name>/<version>/ (moved aside by one rename first).
 * 0, or -1 (logged). */
int retain_remove(const char *workdir, const char *name, const char *version);
/* Make room for a rename onto dir, in agentdir: a leftover without a
 * control (not a version by our rules) is removed, whatever it is (a
 * symlink is not followed). 0, or -1 (logged under name). */
int retain_clear(const char *name, const char *agentdir, const char *dir);
/* Mark <workdir>/<name>/<version>/ as just used (its mtime), for pruning. */
void retain_touch(const char *workdir, const char *name, const char *version);

#endif
