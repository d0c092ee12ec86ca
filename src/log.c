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

int
log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd == -1)
		return -1;
	if (logfd != -1)
		close(logfd);
	logfd = fd;
	to_stderr = isatty(STDERR_FILENO);
	return 0;
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
	/* Under the pass lock, so two passes never rotate at once. A daemon
	 * whose stdout is the log goes on writing to path.1 until restarted. */
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

int
log_fd(void)
{
	return logfd;
}

/* Copy src into dst escaping control bytes, so one event is one line. */
static size_t
escape(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; *src != '\0' && n + 5 < cap; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < 0x20 || c == 0x7f)
			n += snprintf(dst + n, cap - n, "\\x%02x", c);
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
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
	struct tm tm;
	time_t t = time(NULL);
	size_t n, head;
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	gmtime_r(&t, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n += snprintf(line + n, sizeof(line) - n, " [%ld] %s%s%s: ", (long)getpid(),
	    level, agent ? " " : "", agent ? agent : "");
	head = n;
	n += escape(line + n, sizeof(line) - n - 128, msg);
	if (errnum)
		n += snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (agent != NULL && capture_agent[0] != '\0' && strcmp(level, "error") == 0 &&
	    strcmp(agent, capture_agent) == 0)
		snprintf(captured, sizeof(captured), "%.*s", (int)(n - head), line + head);
	line[n++] = '\n';

	if (to_stderr == -1)
		to_stderr = isatty(STDERR_FILENO);
	/* One write per line: O_APPEND keeps lines of concurrent writers whole. */
	if (logfd != -1 && write(logfd, line, n) < 0) {
		/* Nowhere better to report it than stderr. */
		to_stderr = 1;
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
