/* Installing one version of an agent: nothing half-done is ever visible.
 *
 * The order is what makes a crash at any moment harmless:
 *   1. the .md5, then the tarball into a temp file in <workdir>/<name>/,
 *      hashed as the bytes arrive; compared; nothing else reads it again;
 *   2. every member listed and checked (no absolute paths, no "..", no
 *      links out, no devices) before tar may unpack it;
 *   3. unpacked into a staging directory beside the final one, which must
 *      then hold an executable control; the tarball and .md5 join it;
 *   4. the file system is synced, and one rename makes <version>/ appear.
 * Temp and staging names start with TMP_PREFIX (file.h); a killed pass may
 * leave them behind, they never look like a version, and the next pass
 * removes them (install_sweep). */
#ifndef INSTALL_H
#define INSTALL_H

#include "config.h"
#include "heartbeat.h"

/* Is <workdir>/<name>/<version>/ an installed version (executable control)? */
int install_present(const char *workdir, const char *name, const char *version);
/* Remove what a killed pass left behind: TMP_PREFIX entries in workdir and
 * in every agent directory, walking by descriptors (rm_rf_at). A workdir or
 * agent directory that trust.h refuses is left alone. Run under the pass
 * lock only. */
void install_sweep(const char *workdir);
/* Keep the current version of agent name plus the keep most recently used
 * others; remove older version directories (by descriptors: agents own
 * directories inside them), but never one whose control status says
 * started (timeout for that), nor one trust.h refuses, whose control is
 * not run. 0, or -1 (logged). */
int install_prune(const char *workdir, const char *name, const char *current, int keep, int timeout);
/* Remove <workdir>/<name>/<version>/ (moved aside by one rename first).
 * 0, or -1 (logged). */
int install_remove(const char *workdir, const char *name, const char *version);
/* Mark <workdir>/<name>/<version>/ as just used (its mtime), for pruning. */
void install_touch(const char *workdir, const char *name, const char *version);
/* Download, verify and unpack d into <workdir>/<name>/<version>/.
 * 0, or -1 (logged) with nothing changed on disk. */
int install_version(const struct config *cfg, const struct desired *d);

#endif
