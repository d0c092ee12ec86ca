/* The pass lock: one pass at a time per work directory. */
#ifndef LOCK_H
#define LOCK_H

/* Take a non-blocking flock on path and write our pid into it. Returns 0;
 * 1 when another pass holds it (its pid is logged); -1 on error (logged).
 * The descriptor is close-on-exec and kept until exit: a daemon started by
 * a control script must never inherit the lock. */
int lock_take(const char *path);

#endif
