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
/* The same for name in the directory open as dirfd (dirpath only names it
 * in messages): temp file by openat O_CREAT|O_EXCL|O_NOFOLLOW, renameat,
 * fsync of dirfd. Nothing goes through a path, so a directory swapped for
 * a symlink after it was opened cannot redirect the write. */
int file_write_atomic_at(int dirfd, const char *dirpath, const char *name, const char *data,
    size_t len, int mode);
/* Read at most max bytes of path (never through a final symlink: ELOOP)
 * into a fresh NUL-terminated string. NULL with errno set (EFBIG when the
 * file is larger than max). */
char *file_read(const char *path, size_t max);
/* The same from an open descriptor, read to its end; fd stays open. */
char *file_read_fd(int fd, size_t max);
/* fsync a directory so a rename in it is durable; -1 with errno. */
int dir_fsync(const char *path);
/* Remove path and everything below it, never following symlinks;
 * 0, or -1 with the cause logged. A missing path is success. */
int rm_rf(const char *path);
/* The same for name in the directory open as dirfd (dirpath only names it
 * in messages). The walk goes by descriptors, never by path: no symlink is
 * followed, no directory swapped in during the walk is entered, no other
 * file system or mount is entered. A directory 256 levels down is moved
 * up into dirfd (a TMP_PREFIX name) and removed from there, so any depth
 * is removed with bounded descriptors and stack. */
int rm_rf_at(int dirfd, const char *dirpath, const char *name);
/* Is path an executable regular file (following no final symlink)? */
int file_is_exec(const char *path);

#endif
