/* The pass lock: one pass at a time per work directory. */
#ifndef LOCK_H
#define LOCK_H

/* Take a non-blocking flock on path and write our pid into it. Returns 0;
 * 1 when another pass holds it (its pid is logged); -1 on error (logged).
 * The descriptor is close-on-exec and kept until exit: a daemon started by
 * a control script must never inherit the lock. */
int lock_take(const char *path);

/* Does a pass hold the lock at path? Its pid in *pid and when it took
 * the lock (the file's mtime: the pid is written then) in *since; 1, or 0
 * when none does (or it cannot be told). The holder is the process that
 * /proc/locks names for the file's inode, and the pid the file holds:
 * a pid left in the file by a pass that ended is no holder. Takes no
 * lock, not even a shared one: a pass starting meanwhile must not find
 * the lock busy. */
int lock_holder(const char *path, long *pid, long long *since);

#endif
