/* Files that must never be seen half-written, and other file chores. */
#ifndef FILE_H
#define FILE_H

#include <stddef.h>

/* Every temp file and directory we make starts with this: never a valid
 * agent or version name, and swept by the next pass. */
#define TMP_PREFIX ".ops-updater-tmp."

/* Replace path with data atomically and durably: a temp file beside it
 * (O_EXCL|O_NOFOLLOW), write all, fsync, close, rename, fsync the directory.
 * The temp file is removed on any failure. 0, or -1 with the cause logged. */
int file_write_atomic(const char *path, const char *data, size_t len, int mode);
/* Read at most max bytes of path into a fresh NUL-terminated string.
 * NULL with errno set (EFBIG when the file is larger than max). */
char *file_read(const char *path, size_t max);
/* fsync a directory so a rename in it is durable; -1 with errno. */
int dir_fsync(const char *path);
/* Remove path and everything below it, never following symlinks;
 * 0, or -1 with the cause logged. A missing path is success. */
int rm_rf(const char *path);
/* Is path an executable regular file (following no final symlink)? */
int file_is_exec(const char *path);
/* Does path exist as a directory? */
int dir_exists(const char *path);

#endif
