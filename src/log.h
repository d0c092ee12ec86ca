/* The log: one line per event with an ISO-8601 UTC time, the pass's pid, a
 * level and the agent concerned. Appended to a file, and to stderr when
 * stderr is a terminal (or when no file is open). Every function keeps errno.
 * Control characters in messages are escaped: names from the network must
 * not forge log lines. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>
#include <time.h>

#include "util.h"

/* Append to path from now on (O_APPEND, created 0640); -1 with errno set.
 * A symbolic link (ELOOP) or anything not a regular file (EINVAL) is
 * refused: root must not append to a file someone points it at. */
int log_open(const char *path);
/* What a failed log_open's errno e means, for the message. */
const char *log_open_strerror(int e);
/* When the open log at path has max bytes or more, rename it to path.1
 * (replacing the previous one) and start a new one. 0, or -1 (logged). */
int log_rotate(const char *path, long long max);
/* Log debug lines (request and response bodies) too. */
void log_set_verbose(int on);
/* Lines that could not be written to the log file (a full disk, a
 * file-size limit): how many since the start, and in *errnum the errno
 * of the last one. The pass goes on; the state and check tell. */
long long log_lost(int *errnum);
/* The log file's descriptor for children's output, or -1. */
int log_fd(void);

/* From now on remember the last error logged for agent (or for no agent:
 * a file chore done for it), forgetting any before; NULL stops. The pass
 * records it as the agent's last error. */
void log_capture(const char *agent);
/* That error, escaped as in the log, without time, pid, level and agent;
 * "" when none was logged since log_capture. */
const char *log_captured(void);
/* Format one log line into line (cap bytes): "TIME [pid] level agent: msg",
 * then ": strerror(errnum)" when errnum is set. level, agent (may be NULL)
 * and msg are escaped with str_vis, the agent cut at 200 bytes with "...".
 * The result is NUL-terminated and, when cap >= 2, ends in its only '\n'.
 * Returns its length, always < cap. Pure. */
size_t log_format(char *line, size_t cap, time_t t, long pid, const char *level,
    const char *agent, int errnum, const char *msg);

/* An error with strerror(errno) appended. agent may be NULL. */
void log_err(const char *agent, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* An error. */
void log_errx(const char *agent, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Something odd that is not a failure. */
void log_warnx(const char *agent, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* What the pass did. */
void log_info(const char *agent, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Detail shown only with -v. */
void log_debug(const char *agent, const char *fmt, ...) ATTR_PRINTF(2, 3);

#endif
