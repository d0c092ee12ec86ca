/* What root may believe or run, as sshd's StrictModes asks of ~/.ssh: the
 * work directory, an agent's directory, its .version, a version directory
 * and its control must each be owned by root or by the user running the
 * pass, writable by neither group nor others, and no symlink. Then only
 * they can change what those paths lead to. Agents may own what lies
 * inside their version directories (logs, data); nothing there is trusted. */
#ifndef TRUST_H
#define TRUST_H

#include <stddef.h>
#include <sys/stat.h>

/* Does st pass, and is it of type (S_IFDIR, S_IFREG; 0 for any)? 0, or -1
 * with the reason in why, e.g. "owned by uid 65534, not root or uid 0". */
int trust_stat(const struct stat *st, mode_t type, char *why, size_t len);
/* The same for name under dirfd (AT_FDCWD: a path), never following a final
 * symlink ("is a symlink"). -1 with errno ENOENT when there is none. */
int trust_at(int dirfd, const char *name, mode_t type, char *why, size_t len);
/* Agent name of workdir (itself trusted), as far as it exists: its
 * directory, .version and, with version set, that version's directory and
 * control. 0, or -1 with "path: reason" in why. */
int trust_agent(const char *workdir, const char *name, const char *version, char *why, size_t len);

#endif
