#include "agent.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "spawn.h"
#include "util.h"

#define STATUS_MAX 4096
#define POLL_MS 200

int
agent_status(const char *dir, int timeout, char *buf, size_t len)
{
	char *argv[] = { "./control", "status", NULL };
	struct spawn sp = { .argv = argv, .dir = dir, .timeout = timeout,
		.capture = 1, .out_max = STATUS_MAX, .die_with_us = 1 };
	char why[128];
	int ret = spawn_run(&sp);

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
	long long deadline = now_ms() + (long long)wait * 1000;

	for (;;) {
		if (agent_status(dir, timeout, last, len) == 0 && strcmp(last, want) == 0)
			return 0;
		if (now_ms() >= deadline)
			return -1;
		sleep_ms(POLL_MS);
	}
}

/* Run "./control verb" with its output in the log (never a pipe we wait
 * on: a daemon may keep it open for its whole life), then wait for want. */
static int
control(const char *name, const char *dir, const char *verb, const char *want,
    int timeout, int wait)
{
	char *argv[] = { "./control", (char *)verb, NULL };
	struct spawn sp = { .argv = argv, .dir = dir, .timeout = timeout };
	char status[256], why[128];

	if (agent_status(dir, timeout, status, sizeof(status)) == 0 && strcmp(status, want) == 0)
		return 0;
	log_info(name, "%s %s", verb, dir);
	if (spawn_run(&sp) == -1)
		/* The status decides; a script's exit code is only a hint. */
		log_warnx(name, "control %s in %s %s", verb, dir, spawn_strerror(&sp, why, sizeof(why)));
	spawn_free(&sp);
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
	long long start = now_ms(), deadline = start + (long long)wait * 1000;
	char status[256];

	log_info(name, "health: %s must stay started for %d s", dir, wait);
	for (;;) {
		if (agent_status(dir, timeout, status, sizeof(status)) != 0 ||
		    strcmp(status, "started") != 0) {
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
