#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>

static int logfd = -1;
static int verbose;
static int to_stderr = -1;	/* unknown until the first line */
static char capture_agent[160];	/* "" = not capturing */
static char captured[1024];
static long long lost;		/* lines the log file did not take */
static int lost_errno;

int
log_open(const char *path)
{
	struct stat st = { 0 };
	int fd, e;

	/* Root appends here: never through a link an agent's user put in our
	 * place, never to a device, and never blocked on a FIFO (O_NONBLOCK,
	 * cleared once we know it is a file). */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd == -1) {
		if (errno == ENXIO)	/* a FIFO without a reader */
			errno = EINVAL;
		return -1;
	}
	if (fstat(fd, &st) == -1 || fcntl(fd, F_SETFL, O_APPEND) == -1 || !S_ISREG(st.st_mode)) {
		e = errno;
		close(fd);
		errno = e;
		if (st.st_mode != 0 && !S_ISREG(st.st_mode))
			errno = EINVAL;
		return -1;
	}
	if (logfd != -1)
		close(logfd);
	logfd = fd;
	to_stderr = isatty(STDERR_FILENO);
	return 0;
}

const char *
log_open_strerror(int e)
{
	/* O_NOFOLLOW says ELOOP for a link; EINVAL is ours for the rest. */
	return e == ELOOP || e == EINVAL ? "not a regular file (a symbolic link, a directory or a device?): refused" :
	    strerror(e);
}

int
log_rotate(const char *path, long long max)
{
	struct stat st;
	char *old;
	int ret = 0;

	if (max <= 0 || logfd == -1 || fstat(logfd, &st) == -1 || st.st_size < max)
		return 0;
	old = xasprintf("%s.1", path);
	/* Under the pass lock, so two passes never rotate at once. rename
	 * replaces a link at path.1 itself, and nothing ever opens path.1.
	 * Children's output has files of its own (agent.c): no daemon holds
	 * the log, so none goes on writing to path.1. */
	if (rename(path, old) == -1 || log_open(path) == -1) {
		log_err(NULL, "rotate log %s to %s", path, old);
		ret = -1;
	} else
		log_info(NULL, "log rotated: the previous one is %s", old);
	free(old);
	return ret;
}

void
log_set_verbose(int on)
{
	verbose = on;
}

long long
log_lost(int *errnum)
{
	*errnum = lost_errno;
	return lost;
}

int
log_fd(void)
{
	return logfd;
}

/* The agent field is a name from the network: a line keeps room for the
 * message however long the name. */
#define AGENT_VIS_MAX 200
/* Room kept for ": strerror" after the message. */
#define ERRNO_ROOM 128

/* snprintf at line + *n, never past lim (the '\n' goes there), counting only
 * what was really written: a truncated write adds what fitted, not what was
 * asked for. */
static void add(char *, size_t *, size_t, const char *, ...) ATTR_PRINTF(4, 5);

static void
add(char *line, size_t *n, size_t lim, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= lim)
		return;
	va_start(ap, fmt);
	r = vsnprintf(line + *n, lim - *n + 1, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n += (size_t)r < lim - *n ? (size_t)r : lim - *n;
}

/* str_vis of s at line + *n, never past lim. */
static void
add_vis(char *line, size_t *n, size_t lim, const char *s)
{
	if (*n < lim)
		*n += str_vis(line + *n, lim - *n + 1, s);
}

/* How many bytes of the source str_vis turned into the escaped text v. */
static size_t
vis_consumed(const char *v)
{
	size_t k = 0;

	for (; *v != '\0'; k++)
		v += v[0] != '\\' ? 1 : v[1] == 'x' ? 4 : 2;
	return k;
}

/* The agent field: escaped, and cut with "..." past AGENT_VIS_MAX bytes. */
static void
add_agent(char *line, size_t *n, size_t lim, const char *agent)
{
	char v[AGENT_VIS_MAX + 1];

	str_vis(v, sizeof(v) - 3, agent);
	add(line, n, lim, " %s%s", v, agent[vis_consumed(v)] != '\0' ? "..." : "");
}

size_t
log_format(char *line, size_t cap, time_t t, long pid, const char *level,
    const char *agent, int errnum, const char *msg)
{
	struct tm tm;
	size_t n = 0, lim, mlim;

	if (cap < 2) {
		if (cap == 1)
			line[0] = '\0';
		return 0;
	}
	lim = cap - 2;	/* then '\n' and NUL */
	if (gmtime_r(&t, &tm) != NULL && lim > 0)
		n = strftime(line, lim + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
	add(line, &n, lim, " [%ld] ", pid);
	add_vis(line, &n, lim, level);
	if (agent != NULL)
		add_agent(line, &n, lim, agent);
	add(line, &n, lim, ": ");
	mlim = errnum && lim > n + ERRNO_ROOM ? lim - ERRNO_ROOM : lim;
	add_vis(line, &n, mlim, msg);
	if (errnum) {
		add(line, &n, lim, ": ");
		add_vis(line, &n, lim, strerror(errnum));
	}
	line[n++] = '\n';
	line[n] = '\0';
	return n;
}

void
log_capture(const char *agent)
{
	snprintf(capture_agent, sizeof(capture_agent), "%s", agent ? agent : "");
	captured[0] = '\0';
}

const char *
log_captured(void)
{
	return captured;
}

static void emit(const char *, const char *, int, const char *, va_list) __attribute__((format(printf, 4, 0)));

static void
emit(const char *level, const char *agent, int errnum, const char *fmt, va_list ap)
{
	char msg[3072], line[4096];
	size_t n;
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = log_format(line, sizeof(line), time(NULL), (long)getpid(), level, agent, errnum, msg);
	/* The agent's last error, as the state file and the heartbeat tell it. */
	/* An error without an agent, logged while one is captured, is of
	 * what is done for it (a file that cannot be written or removed). */
	if (capture_agent[0] != '\0' && strcmp(level, "error") == 0 &&
	    (agent == NULL || strcmp(agent, capture_agent) == 0)) {
		size_t c = str_vis(captured, sizeof(captured), msg);

		if (errnum)
			snprintf(captured + c, sizeof(captured) - c, ": %s", strerror(errnum));
	}

	if (to_stderr == -1)
		to_stderr = isatty(STDERR_FILENO);
	/* One write per line: O_APPEND keeps lines of concurrent writers
	 * whole. A line not written whole is lost: counted, for the state
	 * and check, as a full disk must not make the log silently stop. */
	if (logfd != -1) {
		ssize_t w = write(logfd, line, n);

		if (w != (ssize_t)n) {
			lost++;
			lost_errno = w < 0 ? errno : ENOSPC;
			/* Nowhere better to report it than stderr. */
			to_stderr = 1;
		}
	}
	if (logfd == -1 || to_stderr)
		(void)!write(STDERR_FILENO, line, n);
	errno = saved;
}

void
log_err(const char *agent, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	emit("error", agent, e, fmt, ap);
	va_end(ap);
}

void
log_errx(const char *agent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("error", agent, 0, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *agent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("warning", agent, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *agent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("info", agent, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *agent, const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	emit("debug", agent, 0, fmt, ap);
	va_end(ap);
}
