#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

#define PREFIX "ops_updater_"

/* Length of the valid UTF-8 sequence at s (overlongs, surrogates and code
 * points past U+10FFFF are invalid), or 0. A scraper rejects a whole file
 * over one bad byte. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void
metrics_escape(struct buf *b, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t used = 0, n;

	for (; *s != '\0'; s += n, used += n) {
		n = *s < 0x80 ? 1 : utf8_len(s);
		if (used + (n ? n : 1) > METRICS_LABEL_MAX) {
			buf_add(b, "...", 3);
			return;
		}
		if (*s == '\\' || *s == '"')
			buf_add(b, (const char[]){ '\\', (char)*s }, 2);
		else if (*s == '\n')
			buf_add(b, "\\n", 2);
		else if (n == 0 || *s < 0x20 || *s == 0x7f) {
			buf_add(b, "?", 1);
			n = 1;
		} else
			buf_add(b, s, n);
	}
}

static void printf_add(struct buf *b, const char *fmt, ...) ATTR_PRINTF(2, 3);

static void
printf_add(struct buf *b, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_add(b, line, n < 0 ? 0 : (size_t)n >= sizeof(line) ? sizeof(line) - 1 : (size_t)n);
}

/* HELP and TYPE of one family of type (gauge, counter); its samples
 * follow together. */
static void
family_of(struct buf *b, const char *name, const char *type, const char *help)
{
	printf_add(b, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

static void
family(struct buf *b, const char *name, const char *help)
{
	family_of(b, name, "gauge", help);
}

/* name{k1="v1",...} value: keys and values alternate in kv, NULL-ended. */
static void
sample(struct buf *b, const char *name, const char *const *kv, long long value)
{
	size_t i;

	printf_add(b, PREFIX "%s", name);
	for (i = 0; kv[i] != NULL; i += 2) {
		printf_add(b, "%s%s=\"", i ? "," : "{", kv[i]);
		metrics_escape(b, kv[i + 1]);
		buf_add(b, "\"", 1);
	}
	printf_add(b, "%s %lld\n", i ? "}" : "", value);
}

static const char *
str(const char *s)
{
	return s ? s : "";
}

/* Was the agent name of entry i seen before it? Two samples with the same
 * labels make node_exporter drop the whole file; the first one counts. */
static int
dup_state(const struct pass_state *st, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcmp(str(st->agents[j].name), str(st->agents[i].name)) == 0)
			return 1;
	return 0;
}

static int
dup_real(const struct real_agent *a, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcmp(str(a[j].name), str(a[i].name)) == 0)
			return 1;
	return 0;
}

static void
format_pass(struct buf *b, const struct pass_state *st)
{
	const char *const none[] = { NULL };
	long long ms = st->duration_ms > 0 ? st->duration_ms : 0;

	family(b, "last_pass_timestamp_seconds", "When the last pass began, Unix time.");
	sample(b, "last_pass_timestamp_seconds", none, st->started);
	family(b, "last_pass_duration_seconds", "How long the last pass took.");
	printf_add(b, PREFIX "last_pass_duration_seconds %lld.%03lld\n", ms / 1000, ms % 1000);
	family(b, "last_pass_exit_code", "Exit code of the last pass: 0 all as asked, 1 something failed.");
	sample(b, "last_pass_exit_code", none, st->exit_code);
	family(b, "log_lines_lost", "Lines the last pass could not write to its log (a full disk?).");
	sample(b, "log_lines_lost", none, st->log_lost);
}

static void
format_desired(struct buf *b, const struct pass_state *st)
{
	size_t i;

	family(b, "agent_desired_info", "What the server asked for an agent in the last pass.");
	for (i = 0; i < st->n; i++) {
		const struct agent_state *a = &st->agents[i];
		const char *const kv[] = { "name", str(a->name), "version", str(a->version),
		    "cmd", str(a->cmd), NULL };

		if (!dup_state(st, i))
			sample(b, "agent_desired_info", kv, 1);
	}
	family(b, "agent_failures", "Passes in a row that failed for an agent; 0 after a success.");
	for (i = 0; i < st->n; i++) {
		const char *const kv[] = { "name", str(st->agents[i].name), NULL };

		if (!dup_state(st, i))
			sample(b, "agent_failures", kv, st->agents[i].fails);
	}
	family(b, "agent_slot_timestamp_seconds",
	    "When this host starts the new version it waits for (rollout_spread), Unix time.");
	for (i = 0; i < st->n; i++) {
		const struct agent_state *a = &st->agents[i];
		const char *const kv[] = { "name", str(a->name), "version", str(a->seen_version), NULL };

		if (!dup_state(st, i) && a->result == STATE_WAITING)
			sample(b, "agent_slot_timestamp_seconds", kv, a->slot_at);
	}
	family(b, "agent_verdict", "The last pass's verdict on an agent (ok, nothing, failed, held, refused, "
	    "waiting, busy, cut): 1 for the one it gave.");
	for (i = 0; i < st->n; i++) {
		const struct agent_state *a = &st->agents[i];
		const char *const kv[] = { "name", str(a->name), "version", str(a->version),
		    "verdict", state_result_name(a->result), NULL };

		if (!dup_state(st, i))
			sample(b, "agent_verdict", kv, 1);
	}
	family(b, "agent_held", "1 while a failed version of an agent is held back until its retry time.");
	for (i = 0; i < st->n; i++) {
		const struct agent_state *a = &st->agents[i];
		const char *const kv[] = { "name", str(a->name), "version", str(a->held_version), NULL };

		/* The verdict's, not the hold's fields: one answer everywhere. */
		if (!dup_state(st, i))
			sample(b, "agent_held", kv, a->result == STATE_HELD);
	}
	family(b, "agent_probation_deaths",
	    "Deaths of the version committed last, counted in its probation window (probation_window).");
	for (i = 0; i < st->n; i++) {
		const struct agent_state *a = &st->agents[i];
		const char *const kv[] = { "name", str(a->name), "version", str(a->probation_version), NULL };

		if (!dup_state(st, i) && *str(a->probation_version) != '\0')
			sample(b, "agent_probation_deaths", kv, a->probation_deaths);
	}
	family_of(b, "agent_probation_failures_total", "counter",
	    "Deaths that failed a committed version's probation (probation_deaths in probation_window).");
	for (i = 0; i < st->n; i++) {
		const char *const kv[] = { "name", str(st->agents[i].name), NULL };

		if (!dup_state(st, i))
			sample(b, "agent_probation_failures_total", kv, st->agents[i].probation_failures);
	}
	/* A counter: a crash loop shows as its rate, whatever the scrape
	 * interval and however many passes in between. */
	family_of(b, "agent_restarts_total", "counter",
	    "Times an agent was found not running and started again.");
	for (i = 0; i < st->n; i++) {
		const char *const kv[] = { "name", str(st->agents[i].name), NULL };

		if (!dup_state(st, i))
			sample(b, "agent_restarts_total", kv, st->agents[i].restarts_total);
	}
}

/* The origins of the heartbeat (the servers') that a Retry-After parks
 * as the pass ended: no heartbeat goes there before then. */
static void
format_parked(struct buf *b, const struct pass_state *st)
{
	long long end = st->started + st->duration_ms / 1000;
	size_t i;

	family(b, "heartbeat_parked_until_timestamp_seconds",
	    "Until when an ops-meta origin that answered 429 or 503 with Retry-After gets no heartbeat, Unix time.");
	for (i = 0; i < st->nwaits; i++) {
		const char *const kv[] = { "origin", st->waits[i].origin, NULL };

		if (st->waits[i].heartbeat && st->waits[i].until > end)
			sample(b, "heartbeat_parked_until_timestamp_seconds", kv, st->waits[i].until);
	}
}

/* The heartbeats: a server down or answering nonsense leaves the agents
 * as they were, so the agent series alone would not show it. */
static void
format_heartbeat(struct buf *b, const struct pass_state *st)
{
	const char *const none[] = { NULL };
	const struct hb_state *h = &st->heartbeat;

	family(b, "heartbeat_success", "1 when the last heartbeat was answered well, else 0.");
	sample(b, "heartbeat_success", none, h->fails == 0 && h->ok_at > 0);
	family(b, "heartbeat_last_success_timestamp_seconds",
	    "When a heartbeat was last answered well, Unix time; 0 when not known.");
	sample(b, "heartbeat_last_success_timestamp_seconds", none, h->ok_at);
	family(b, "heartbeat_failures", "Passes in a row whose heartbeat failed; 0 after a good one.");
	sample(b, "heartbeat_failures", none, h->fails);
	format_parked(b, st);
}

char *
metrics_format(const struct pass_state *st, const struct real_agent *scanned, size_t n)
{
	struct buf b = { 0 };
	size_t i;

	if (st != NULL)
		format_pass(&b, st);
	family(&b, "agent_info", "An agent on this machine: its current version and what control status said.");
	for (i = 0; i < n; i++) {
		const char *const kv[] = { "name", str(scanned[i].name), "version", str(scanned[i].version),
		    "status", scanned[i].status, NULL };

		if (!dup_real(scanned, i))
			sample(&b, "agent_info", kv, 1);
	}
	if (st != NULL) {
		format_desired(&b, st);
		format_heartbeat(&b, st);
	}
	/* Which updater runs where: a fleet is upgraded host by host too. */
	family(&b, "build_info", "The ops-updater that wrote this file: its version.");
	sample(&b, "build_info", (const char *const[]){ "version", OPS_UPDATER_VERSION, NULL }, 1);
	return b.data ? b.data : xstrdup("");
}

/* The directory dir of the metrics file path, opened for writing in it:
 * walked from "/" (or the current directory, for a relative dir) one
 * component at a time, each opened O_NOFOLLOW | O_DIRECTORY in the
 * descriptor of the one above, and nothing resolved twice. So a
 * directory of another user on the way (node_exporter's, under
 * /var/lib/prometheus, prometheus's) may choose only which of its own
 * directories the file lands in: it cannot lead root elsewhere through a
 * symlink or a swap, and the file is made there by openat and renameat
 * (file_write_atomic_at). Safe for this file only: the work directory,
 * the log and control scripts keep trust_path. The descriptor, or -1
 * (logged). */
static int
metrics_dir(const char *path, const char *dir)
{
	char *copy = xstrdup(dir), *comp, *save = NULL;
	struct stat st;
	int fd, next;

	if ((fd = open(*dir == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		log_err(NULL, "metrics not written to %s: open %s", path, *dir == '/' ? "/" : ".");
	for (comp = strtok_r(copy, "/", &save); comp != NULL && fd != -1; comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			log_errx(NULL, "metrics not written to %s: refused: '..' in its directory", path);
			next = -1;
		} else if ((next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
			/* O_DIRECTORY says ENOTDIR for a symlink too. */
			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				log_errx(NULL, "metrics not written to %s: %.*s is a symlink: refused (no directory "
				    "on the way to metrics_file may be one)", path, (int)(comp - copy + strlen(comp)), dir);
			else
				log_err(NULL, "metrics not written to %s: open %.*s", path,
				    (int)(comp - copy + strlen(comp)), dir);
		}
		close(fd);
		fd = next;
	}
	free(copy);
	return fd;
}

int
metrics_write(const char *path, const struct pass_state *st, const struct real_agent *scanned, size_t n)
{
	char *copy = xstrdup(path), *base = xstrdup(path), *text;
	const char *dir = dirname(copy);
	int fd, ret = -1;

	if ((fd = metrics_dir(path, dir)) == -1)
		goto out;
	text = metrics_format(st, scanned, n);
	/* With errno's word: this line is what the state (and check) keep. */
	if ((ret = file_write_atomic_at(fd, dir, basename(base), text, strlen(text), 0644)) == -1)
		log_err(NULL, "metrics not written to %s", path);
	free(text);
	close(fd);
out:
	free(base);
	free(copy);
	return ret;
}
