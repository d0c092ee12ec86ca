/* What root may believe or run, as sshd's StrictModes asks of ~/.ssh: the
 * work directory, an agent's directory, its .version, a version directory
 * and its control must each be owned by root or by the user running the
 * pass, writable by neither group nor others, and no symlink. Then only
 * they can change what those paths lead to. Agents may own what lies
 * inside their version directories (logs, data); nothing there is trusted.
 * And so must every directory above them up to "/", as OpenSSH's safe_path
 * asks: whoever can rename an entry of a directory above decides what the
 * path leads to. */
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
/* st as a directory above a trusted path: as trust_stat, but one others
 * may write passes when it is root's and sticky (like /tmp). */
int trust_dir_stat(const struct stat *st, char *why, size_t len);
/* path (relative: to the current directory) and every directory above it,
 * resolved as the kernel would, top down: "/" and each directory on the
 * way pass trust_dir_stat, what path names passes trust_stat with type. A
 * symlink is followed only when the directory holding it passed (and, in
 * a sticky one, when it is root's or ours): nobody else can change where
 * path leads. With resolved non-NULL, the path without symlinks, "." or
 * ".." in *resolved (the caller frees it); open that. 0, or -1 with errno
 * set (ENOENT for a missing one, EPERM for a refused one) and "the path
 * at fault: reason" in why. */
int trust_path(const char *path, mode_t type, char **resolved, char *why, size_t len);
/* The same for a directory whose entries the caller checks in their turn
 * (through a descriptor): path too passes trust_dir_stat, so a sticky
 * directory of root's (/tmp) passes as well. */
int trust_above(const char *path, char **resolved, char *why, size_t len);
/* Agent name of workdir (itself trusted), as far as it exists: its
 * directory, .version and, with version set, that version's directory and
 * control. 0, or -1 with "path: reason" in why. */
int trust_agent(const char *workdir, const char *name, const char *version, char *why, size_t len);

#endif
