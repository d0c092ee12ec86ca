/* Who else runs as the sandbox's id while gzip and tar do: a process
 * outside the pass that has the id (another allocator handed it out, an
 * admin ran something as it) could reach the staging tree through
 * /proc/<tar>/cwd and rewrite it while the digests still match. Heard
 * from the kernel's process events (the proc connector, filtered to
 * changes to the id), where we may listen (root in the host's network,
 * PID and user namespaces); everywhere, /proc is scanned as the unpack
 * starts and ends. Without the events a process that took the id and left
 * between the two scans goes unseen: the log says so. */
#ifndef IDWATCH_H
#define IDWATCH_H

#include <sys/types.h>

/* Start watching id, before the children start. 1 when the kernel's
 * process events are heard, 0 when only the scans are. */
int idwatch_start(uid_t id);
/* Stop watching id: the pid of a process that ran as it since
 * idwatch_start and is none of ours[0..n), or 0; -1 when events were lost
 * (who then is unknown). */
pid_t idwatch_end(uid_t id, const pid_t *ours, size_t n);
/* A running process that has id as any of its uids or gids and is none
 * of ours[0..n), or 0. */
pid_t idwatch_scan(uid_t id, const pid_t *ours, size_t n);

#endif
