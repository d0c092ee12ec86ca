#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "file.h"
#include "log.h"
#include "spawn.h"
#include "trust.h"
#include "util.h"

#define STATUS_MAX 4096
#define POLL_MS 200
#define TAIL_READ 4096	/* bytes of a control log read for its last line */
#define TAIL_MAX 160	/* bytes of that line kept */

static long long output_max;	/* bytes; 0: never truncated */

void
agent_set_output_max(long long max)
{
	output_max = max;
}

/* <agentdir>/control-<version>.log for the version directory dir. */
static char *
output_path(const char *dir)
{
	const char *slash = strrchr(dir, '/');

	if (slash == NULL)
		return xasprintf("control-%s.log", dir);
	return xasprintf("%.*s/control-%s.log", (int)(slash - dir), dir, slash + 1);
}

/* Open path for the output of a start or stop: created by us in our agent
 * directory, never through a link, only a regular file. It is never
 * renamed or unlinked while the version may run (a daemon holding a
 * removed file writes where nobody looks): past output_max it is truncated
 * in place, and a daemon's O_APPEND writes go on at the new end. The
 * descriptor, or -1 (logged; the output is then dropped). */
static int
output_open(const char *name, const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd == -1) {
		log_err(name, "open %s; the output of control is dropped", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || fcntl(fd, F_SETFL, O_APPEND) == -1) {
		log_err(name, "%s; the output of control is dropped", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_errx(name, "%s is not a regular file; the output of control is dropped", path);
		goto fail;
	}
	if (output_max > 0 && st.st_size > output_max && ftruncate(fd, 0) == -1)
		log_err(name, "truncate %s", path);	/* it only grows on */
	return fd;
fail:
	close(fd);
	return -1;
}

/* Is entry the control-<version>.log of a valid version? Its version in v. */
static int
output_name(const char *entry, char *v, size_t len)
{
	size_t n = strlen(entry), pre = strlen("control-"), suf = strlen(".log");

	if (n <= pre + suf || strncmp(entry, "control-", pre) != 0 || strcmp(entry + n - suf, ".log") != 0 ||
	    n - pre - suf >= len)
		return 0;
	memcpy(v, entry + pre, n - pre - suf);
	v[n - pre - suf] = '\0';
	return name_is_valid(v);
}

void
agent_output_remove(const char *name, const char *agentdir, const char *version)
{
	char *file = xasprintf("control-%s.log", version);
	int fd = open(agentdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	/* By descriptor: unlinkat removes a link itself, never its target. */
	if (fd == -1)
		log_err(name, "open %s", agentdir);
	else if (unlinkat(fd, file, 0) == -1 && errno != ENOENT)
		log_err(name, "remove %s/%s", agentdir, file);
	if (fd != -1)
		close(fd);
	free(file);
}

int
agent_output_sweep(int fd, const char *agentdir)
{
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;
	DIR *d = own == -1 ? NULL : fdopendir(own);
	struct dirent *de;
	struct stat st;
	char v[160];

	if (d == NULL) {
		log_err(NULL, "open %s", agentdir);
		if (own != -1)
			close(own);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		/* A directory of that name is nobody's output: not ours to remove. */
		if (!output_name(de->d_name, v, sizeof(v)) ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 || S_ISDIR(st.st_mode) ||
		    fstatat(fd, v, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1) {
			log_err(NULL, "remove %s/%s, the output of a version that is gone", agentdir, de->d_name);
			ret = -1;
		} else
			log_info(NULL, "removed %s/%s: its version is gone", agentdir, de->d_name);
	}
	closedir(d);
	return ret;
}

/* May root run the control of version directory dir now: dir and its
 * control still root's (or ours), writable by neither group nor others,
 * no symlinks (trust.h)? The pass checked them before it began with the
 * agent, but a version's own control, run as root since (its start, the
 * rollback), may have given its directory away, e.g. chown -R to the
 * agent's user, who could then put a control of their own there. 0, or
 * -1 with "path: reason" in why. */
static int
untrusted(const char *dir, char *why, size_t len)
{
	char *ctl = xasprintf("%s/control", dir);
	char reason[128];
	int ret = 0;

	if (trust_at(AT_FDCWD, dir, S_IFDIR, reason, sizeof(reason)) == -1) {
		snprintf(why, len, "%s: %s", dir, reason);
		ret = -1;
	} else if (trust_at(AT_FDCWD, ctl, S_IFREG, reason, sizeof(reason)) == -1) {
		snprintf(why, len, "%s: %s", ctl, reason);
		ret = -1;
	}
	free(ctl);
	return ret;
}

/* What one "./control status" came to. */
enum answer {
	ANSWER,		/* it ran and exited 0: its output is the answer */
	BROKEN,		/* a definite failure: it exited non-zero, could not run, crashed */
	NO_ANSWER,	/* none: timed out, or killed (SIGKILL: our timeout, the OOM killer) */
};

/* Did sp end without a word of its own: killed at our deadline, or by
 * SIGKILL, which comes from outside (the OOM killer, an operator)? Then
 * nothing is known of what it would have said; a loaded host, not the
 * release, is the likely cause. */
static int
cut_short(const struct spawn *sp)
{
	return sp->timed_out || (sp->ran && WIFSIGNALED(sp->status) && WTERMSIG(sp->status) == SIGKILL);
}

/* Run "./control status" in dir: its first line, trimmed, or what went
 * wrong, in buf. */
static enum answer
ask(const char *dir, int timeout, char *buf, size_t len)
{
	char *argv[] = { "./control", "status", NULL };
	char *path = output_path(dir);
	/* Its stderr goes where start's and stop's output goes, never raw
	 * into the log: what an agent's script prints could forge log lines. */
	struct spawn sp = { .argv = argv, .dir = dir, .timeout = timeout,
		.capture = 1, .out_max = STATUS_MAX, .die_with_us = 1,
		.has_output = 1, .output = output_open(NULL, path) };
	char why[128], untrust[256];
	enum answer ret = ANSWER;

	if (untrusted(dir, untrust, sizeof(untrust)) == -1) {
		snprintf(buf, len, "error: control status not run: %s", untrust);
		ret = BROKEN;
	} else if (spawn_run(&sp) == 0) {
		snprintf(buf, len, "%s", str_trim(sp.out));
		/* Keep the report one short line even if the script rambles. */
		buf[strcspn(buf, "\r\n")] = '\0';
	} else {
		snprintf(buf, len, "error: control status %s", spawn_strerror(&sp, why, sizeof(why)));
		ret = cut_short(&sp) ? NO_ANSWER : BROKEN;
	}
	if (sp.output != -1)
		close(sp.output);
	free(path);
	spawn_free(&sp);
	return ret;
}

int
agent_status(const char *dir, int timeout, char *buf, size_t len)
{
	return ask(dir, timeout, buf, len) == ANSWER ? 0 : -1;
}

int
agent_running(const char *dir, int timeout)
{
	char status[256];

	switch (ask(dir, timeout, status, sizeof(status))) {
	case ANSWER:
		return strcmp(status, "started") == 0;
	case BROKEN:
		return 0;
	default:
		return -1;
	}
}

/* Is dir/file an executable regular file? */
static int
file_is_exec_in(const char *dir, const char *file)
{
	char *path = xasprintf("%s/%s", dir, file);
	int ok = file_is_exec(path);

	free(path);
	return ok;
}

int
agent_present(const char *workdir, const char *name, const char *version)
{
	char *dir = xasprintf("%s/%s/%s", workdir, name, version);
	int ok = file_is_exec_in(dir, "control");

	free(dir);
	return ok;
}

/* The last line of output in path past offset from (-1: anywhere), within
 * its last TAIL_READ bytes, as " (last output: '...')", or " (no output)":
 * why a start failed is most often there. Read as data, never through a
 * link; the line is raw (the log escapes it), cut at TAIL_MAX bytes. */
static void
output_tail(const char *path, long long from, char *buf, size_t len)
{
	char chunk[TAIL_READ + 1], *line, *end;
	struct stat st;
	long long start;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (from < 0 || from > (long long)st.st_size)
			from = 0;	/* emptied since: all of it is this run's */
		start = (long long)st.st_size - TAIL_READ > from ? (long long)st.st_size - TAIL_READ : from;
		n = pread(fd, chunk, TAIL_READ, (off_t)start);
	}
	if (fd != -1)
		close(fd);
	if (n < 0)
		n = 0;
	for (ssize_t i = 0; i < n; i++)
		if (chunk[i] == '\0')
			chunk[i] = ' ';
	chunk[n] = '\0';
	/* The last line that is not blank. */
	for (end = chunk + n; end > chunk && strchr(" \t\r\n", end[-1]) != NULL; end--)
		;
	*end = '\0';
	for (line = end; line > chunk && line[-1] != '\n' && line[-1] != '\r'; line--)
		;
	line += strspn(line, " \t");
	if (*line == '\0')
		snprintf(buf, len, " (no output)");
	else
		snprintf(buf, len, " (last output: '%.*s%s')", TAIL_MAX, line,
		    strlen(line) > TAIL_MAX ? "..." : "");
}

static int failed(const char *, struct agent_outcome *, enum agent_result, const char *, ...) ATTR_PRINTF(4, 5);

/* Log the failure under name, keep it in o (escaped as the log has it),
 * and return -1. */
static int
failed(const char *name, struct agent_outcome *o, enum agent_result r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_errx(name, "%s", msg);
	str_vis(o->error, sizeof(o->error), msg);
	o->result = r;
	return -1;
}

/* Run "./control verb" with its output in control-<version>.log (never a
 * pipe we wait on: a daemon may keep it open for its whole life; never the
 * log, which rotates away under it). A script that fails says so at once;
 * else status is asked until it says want or wait seconds pass, and the
 * last answer decides: another word is a failure, none (timeouts) leaves
 * it unknown. */
static int
control(const char *name, const char *dir, const char *verb, const char *want,
    int timeout, int wait, struct agent_outcome *o)
{
	char *argv[] = { "./control", (char *)verb, NULL };
	struct spawn sp = { .argv = argv, .dir = dir, .timeout = timeout, .has_output = 1 };
	char status[256], why[256], tail[TAIL_MAX + 64];
	char *path;
	long long deadline, want_end;
	enum answer last;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	o->out_from = -1;
	if (untrusted(dir, why, sizeof(why)) == -1)
		return failed(name, o, AGENT_FAILED, "%s %s: control %s not run: %s", verb, dir, verb, why);
	if ((last = ask(dir, timeout, status, sizeof(status))) == ANSWER && strcmp(status, want) == 0)
		return 0;
	/* No answer is no verdict: the agent may well run, and a start run
	 * on it every pass could start it again and again. */
	if (last == NO_ANSWER && strcmp(verb, "start") == 0)
		return failed(name, o, AGENT_UNKNOWN, "start %s: control start not run: status gives no answer "
		    "('%s'); the agent may run already", dir, status);
	path = output_path(dir);
	sp.output = output_open(name, path);
	if (sp.output != -1)
		o->out_from = (long long)lseek(sp.output, 0, SEEK_END);
	log_info(name, "%s %s; output in %s", verb, dir, path);
	o->ran = 1;
	if (spawn_run(&sp) == -1) {
		/* A script that says it failed has failed: the status it may
		 * print after is no better news, and waiting keeps the old
		 * version down. */
		spawn_strerror(&sp, why, sizeof(why));
		output_tail(path, o->out_from, tail, sizeof(tail));
		ret = failed(name, o, cut_short(&sp) ? AGENT_UNKNOWN : AGENT_FAILED,
		    "%s %s: control %s %s%s", verb, dir, verb, why, tail);
		goto out;
	}
	want_end = now_ms() + (long long)wait * 1000;
	deadline = deadline_clamp(want_end);
	while ((last = ask(dir, timeout, status, sizeof(status))) != ANSWER || strcmp(status, want) != 0) {
		if (now_ms() >= deadline) {
			output_tail(path, o->out_from, tail, sizeof(tail));
			/* Cut by the pass, not judged: no verdict on the release. */
			ret = deadline < want_end ?
			    failed(name, o, AGENT_UNKNOWN, "%s %s: the pass deadline (pass_timeout) came before "
			    "status said '%s' (it said '%s')%s", verb, dir, want, status, tail) :
			    last == NO_ANSWER ?
			    failed(name, o, AGENT_UNKNOWN, "%s %s: no answer: status is '%s', not '%s', after %d s; "
			    "control %s exited 0%s", verb, dir, status, want, wait, verb, tail) :
			    failed(name, o, AGENT_FAILED, "%s %s: did not %s: status is '%s', not '%s', after %d s; "
			    "control %s exited 0%s", verb, dir, verb, status, want, wait, verb, tail);
			break;
		}
		sleep_ms(POLL_MS);
	}
out:
	if (sp.output != -1)
		close(sp.output);
	spawn_free(&sp);
	free(path);
	return ret;
}

int
agent_start(const char *name, const char *dir, int timeout, int wait, struct agent_outcome *o)
{
	struct agent_outcome own;

	return control(name, dir, "start", "started", timeout, wait, o ? o : &own);
}

int
agent_health(const char *name, const char *dir, int timeout, int wait, struct agent_outcome *o)
{
	long long start = now_ms(), want = start + (long long)wait * 1000, deadline = deadline_clamp(want);
	long long from = o->out_from;
	char status[256], tail[TAIL_MAX + 64], *path;
	enum answer a;

	o->result = AGENT_OK;
	o->error[0] = '\0';
	log_info(name, "health: %s must stay started for %d s", dir, wait);
	for (;;) {
		a = ask(dir, timeout, status, sizeof(status));
		/* A status that does not answer is no verdict: ask again. */
		if (a != NO_ANSWER && (a != ANSWER || strcmp(status, "started") != 0))
			break;
		if (now_ms() >= deadline) {
			/* Cut by the pass, not judged: a gate cut short says nothing. */
			if (deadline < want)
				return failed(name, o, AGENT_UNKNOWN, "health: %s: the pass deadline (pass_timeout) "
				    "came %.1f s into its health wait", dir, (double)(now_ms() - start) / 1e3);
			if (a == ANSWER)
				return 0;
			break;
		}
		sleep_ms(POLL_MS);
	}
	path = output_path(dir);
	output_tail(path, from, tail, sizeof(tail));
	free(path);
	if (a == NO_ANSWER)
		return failed(name, o, AGENT_UNKNOWN, "health: %s: no answer at the end of the health gate "
		    "(%d s): status is '%s'%s", dir, wait, status, tail);
	return failed(name, o, AGENT_FAILED, "health: %s failed the health gate after %.1f s: "
	    "status is '%s', not 'started'%s", dir, (double)(now_ms() - start) / 1e3, status, tail);
}

int
agent_stop(const char *name, const char *dir, int timeout, int wait, struct agent_outcome *o)
{
	struct agent_outcome own;

	return control(name, dir, "stop", "stoped", timeout, wait, o ? o : &own);
}
