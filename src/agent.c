#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#define STATUS_MAX 4096
#define POLL_MS 200

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

void
agent_output_remove(const char *name, const char *dir)
{
	char *path = output_path(dir);

	if (unlink(path) == -1 && errno != ENOENT)
		log_err(name, "remove %s", path);
	free(path);
}

int
agent_status(const char *dir, int timeout, char *buf, size_t len)
{
	char *argv[] = { "./control", "status", NULL };
	char *path = output_path(dir);
	/* Its stderr goes where start's and stop's output goes, never raw
	 * into the log: what an agent's script prints could forge log lines. */
	struct spawn sp = { .argv = argv, .dir = dir, .timeout = timeout,
		.capture = 1, .out_max = STATUS_MAX, .die_with_us = 1,
		.has_output = 1, .output = output_open(NULL, path) };
	char why[128];
	int ret = spawn_run(&sp);

	if (sp.output != -1)
		close(sp.output);
	free(path);

	if (ret == 0) {
		snprintf(buf, len, "%s", str_trim(sp.out));
		/* Keep the report one short line even if the script rambles. */
		buf[strcspn(buf, "\r\n")] = '\0';
	} else
		snprintf(buf, len, "error: control status %s", spawn_strerror(&sp, why, sizeof(why)));
	spawn_free(&sp);
	return ret;
}

/* Poll status until it prints want or wait seconds pass; 0 when it did. */
static int
wait_for(const char *dir, const char *want, int timeout, int wait, char *last, size_t len)
{
	long long deadline = deadline_clamp(now_ms() + (long long)wait * 1000);

	for (;;) {
		if (agent_status(dir, timeout, last, len) == 0 && strcmp(last, want) == 0)
			return 0;
		if (now_ms() >= deadline)
			return -1;
		sleep_ms(POLL_MS);
	}
}

/* Run "./control verb" with its output in control-<version>.log (never a
 * pipe we wait on: a daemon may keep it open for its whole life; never the
 * log, which rotates away under it), then wait for want. */
static int
control(const char *name, const char *dir, const char *verb, const char *want,
    int timeout, int wait)
{
	char *argv[] = { "./control", (char *)verb, NULL };
	struct spawn sp = { .argv = argv, .dir = dir, .timeout = timeout, .has_output = 1 };
	char status[256], why[128], *path;

	if (agent_status(dir, timeout, status, sizeof(status)) == 0 && strcmp(status, want) == 0)
		return 0;
	path = output_path(dir);
	sp.output = output_open(name, path);
	log_info(name, "%s %s; output in %s", verb, dir, path);
	free(path);
	if (spawn_run(&sp) == -1)
		/* The status decides; a script's exit code is only a hint. */
		log_warnx(name, "control %s in %s %s", verb, dir, spawn_strerror(&sp, why, sizeof(why)));
	spawn_free(&sp);
	if (sp.output != -1)
		close(sp.output);
	if (wait_for(dir, want, timeout, wait, status, sizeof(status)) == -1) {
		log_errx(name, "%s %s: status is '%s', not '%s', after %d s", verb, dir,
		    status, want, wait);
		return -1;
	}
	return 0;
}

int
agent_start(const char *name, const char *dir, int timeout, int wait)
{
	return control(name, dir, "start", "started", timeout, wait);
}

int
agent_health(const char *name, const char *dir, int timeout, int wait)
{
	long long start = now_ms(), want = start + (long long)wait * 1000, deadline = deadline_clamp(want);
	char status[256];
	int r;

	log_info(name, "health: %s must stay started for %d s", dir, wait);
	for (;;) {
		r = agent_status(dir, timeout, status, sizeof(status));
		/* Cut by the pass, not judged: a status cut short says nothing. */
		if (now_ms() >= deadline && deadline < want) {
			log_errx(name, "health: %s: the pass deadline (pass_timeout) came %.1f s into its health wait",
			    dir, (double)(now_ms() - start) / 1e3);
			return -1;
		}
		if (r != 0 || strcmp(status, "started") != 0) {
			log_errx(name, "health: %s said '%s', not 'started', %.1f s after its start",
			    dir, status, (double)(now_ms() - start) / 1e3);
			return -1;
		}
		if (now_ms() >= deadline)
			return 0;
		sleep_ms(POLL_MS);
	}
}

int
agent_stop(const char *name, const char *dir, int timeout, int wait)
{
	return control(name, dir, "stop", "stoped", timeout, wait);
}
