/* Driving one installed version of an agent through its control script,
 * run with the version directory as working directory (the agent contract). */
#ifndef AGENT_H
#define AGENT_H

#include <stddef.h>

/* Truncate a version's control-<version>.log before a start or stop once
 * it is larger than max bytes (0: never). */
void agent_set_output_max(long long max);
/* Remove agentdir's control-<version>.log (its version is removed), by
 * descriptor, never through a link; logged under name when it fails. */
void agent_output_remove(const char *name, const char *agentdir, const char *version);
/* Remove every control-<version>.log of the agent directory open as fd
 * (named agentdir in messages) whose version directory is gone, never
 * through a link. 0, or -1 when one could not be removed (logged). */
int agent_output_sweep(int fd, const char *agentdir);
/* Run "./control status" in dir; its output, trimmed, goes to buf. 0 when the
 * script ran and exited 0; otherwise -1 and buf says what went wrong. */
int agent_status(const char *dir, int timeout, char *buf, size_t len);
/* Make sure the agent in dir runs: nothing when status says started, else
 * "./control start" (stdout and stderr appended to the agent directory's
 * control-<version>.log) and poll status until started or wait seconds pass.
 * 0, or -1 with the reason logged under name. */
int agent_start(const char *name, const char *dir, int timeout, int wait);
/* After a start: poll status for wait seconds; the agent is healthy when
 * every answer in that time is "started". 0, or -1 with the answer that
 * was not logged under name. */
int agent_health(const char *name, const char *dir, int timeout, int wait);
/* The same for stopping: until status says "stoped" (the protocol's
 * spelling). */
int agent_stop(const char *name, const char *dir, int timeout, int wait);

#endif
