#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

const char *const state_results[] = {
	[STATE_OK] = "ok", [STATE_NOTHING] = "nothing", [STATE_FAILED] = "failed",
	[STATE_HELD] = "held", [STATE_REFUSED] = "refused", [STATE_WAITING] = "waiting",
	[STATE_BUSY] = "busy", [STATE_CUT] = "cut",
};

int
state_result_asked(enum state_result r)
{
	return r == STATE_OK || r == STATE_NOTHING || r == STATE_WAITING;
}

char *
state_path(const char *workdir)
{
	return xasprintf("%s/" STATE_FILE, workdir);
}

char *
state_verdict_text(const struct agent_state *a)
{
	if (state_result_asked(a->result))
		return NULL;
	return xasprintf("%s: %s", state_result_name(a->result), a->error[0] ? a->error : "no error recorded");
}

const char *
state_result_name(enum state_result r)
{
	if ((size_t)r < sizeof(state_results) / sizeof(state_results[0]) && state_results[r] != NULL)
		return state_results[r];
	return "unknown";
}

void
state_set(char **field, const char *s)
{
	char *copy = xstrdup(s ? s : "");

	free(*field);
	*field = copy;
}

void
state_set_outside(char **field, const char *s)
{
	char vis[STATE_STR_MAX + 1];

	str_vis(vis, sizeof(vis), s ? s : "");
	state_set(field, vis);
}

int
state_same_outside(const char *stored, const char *s)
{
	char vis[STATE_STR_MAX + 1];

	str_vis(vis, sizeof(vis), s ? s : "");
	return strcmp(stored, vis) == 0;
}

long long
state_backoff(int base, int n)
{
	long long s = base;

	if (base <= 0)
		return 0;
	while (--n > 0 && s < STATE_HOLD_MAX)
		s *= 2;
	return s < STATE_HOLD_MAX ? s : STATE_HOLD_MAX;
}

long long
state_hold_until(const struct agent_state *a, int base, long long now)
{
	long long most = now + state_backoff(base, a->held_fails > 0 ? a->held_fails : 1);

	return a->retry_after < most ? a->retry_after : most;
}

char *
state_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", t);
	return buf;
}

void
state_free_agent(struct agent_state *a)
{
	free(a->name);
	free(a->version);
	free(a->cmd);
	free(a->done);
	free(a->error);
	free(a->held_version);
	free(a->held_tarball);
	free(a->held_md5);
	free(a->held_sha256);
	free(a->held_sig);
	free(a->held_validators);
	free(a->held_caps);
	free(a->held_received);
	free(a->mismatch_version);
	free(a->mismatch_tarball);
	free(a->trial_version);
	free(a->trial_from);
	free(a->trial_tarball);
	free(a->kept_failed);
	free(a->interrupted_version);
	free(a->seen_version);
	free(a->busy_version);
	free(a->probation_version);
	free(a->probation_from);
	free(a->gone_version);
	memset(a, 0, sizeof(*a));
}

void
state_free(struct pass_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		state_free_agent(&st->agents[i]);
	free(st->agents);
	for (i = 0; i < st->nservers; i++)
		free(st->servers[i].url);
	free(st->servers);
	free(st->server);
	free(st->waits);
	free(st->heartbeat.error);
	free(st->metrics_error);
	free(st->log_error);
	free(st->cut);
	free(st->boot_id);
	memset(st, 0, sizeof(*st));
}

struct agent_state *
state_find(const struct pass_state *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->agents[i].name, name) == 0)
			return &st->agents[i];
	return NULL;
}

/* Fill every string field of a with "" where it is NULL. */
void
state_blank_agent(struct agent_state *a)
{
	char **f[] = { &a->name, &a->version, &a->cmd, &a->done, &a->error,
		&a->held_version, &a->held_tarball, &a->held_md5, &a->held_sha256, &a->held_sig,
		&a->held_validators, &a->held_caps, &a->held_received, &a->mismatch_version, &a->mismatch_tarball, &a->trial_version,
		&a->trial_from, &a->trial_tarball, &a->kept_failed, &a->interrupted_version,
		&a->seen_version, &a->busy_version, &a->probation_version, &a->probation_from,
		&a->gone_version };
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (*f[i] == NULL)
			*f[i] = xstrdup("");
}

struct agent_state *
state_get(struct pass_state *st, const char *name)
{
	struct agent_state *a = state_find(st, name);

	if (a != NULL)
		return a;
	st->agents = xrealloc(st->agents, (st->n + 1) * sizeof(*st->agents));
	a = &st->agents[st->n++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	state_blank_agent(a);
	return a;
}

void
state_copy_agent(struct agent_state *dst, const struct agent_state *src)
{
	struct agent_state c = *src;

	c.name = xstrdup(src->name);
	c.version = xstrdup(src->version);
	c.cmd = xstrdup(src->cmd);
	c.done = xstrdup(src->done);
	c.error = xstrdup(src->error);
	c.held_version = xstrdup(src->held_version);
	c.held_tarball = xstrdup(src->held_tarball);
	c.held_md5 = xstrdup(src->held_md5);
	c.held_sha256 = xstrdup(src->held_sha256);
	c.held_sig = xstrdup(src->held_sig);
	c.held_validators = xstrdup(src->held_validators);
	c.held_caps = xstrdup(src->held_caps);
	c.held_received = xstrdup(src->held_received);
	c.mismatch_version = xstrdup(src->mismatch_version);
	c.mismatch_tarball = xstrdup(src->mismatch_tarball);
	c.trial_version = xstrdup(src->trial_version);
	c.trial_from = xstrdup(src->trial_from);
	c.trial_tarball = xstrdup(src->trial_tarball);
	c.kept_failed = xstrdup(src->kept_failed);
	c.interrupted_version = xstrdup(src->interrupted_version);
	c.seen_version = xstrdup(src->seen_version);
	c.busy_version = xstrdup(src->busy_version);
	c.probation_version = xstrdup(src->probation_version);
	c.probation_from = xstrdup(src->probation_from);
	c.gone_version = xstrdup(src->gone_version);
	state_free_agent(dst);
	*dst = c;
	state_blank_agent(dst);
}

void
state_begin(struct pass_state *next, const struct pass_state *prev)
{
	struct hb_state h = prev->heartbeat;

	size_t i;

	h.error = xstrdup(h.error ? h.error : "");
	free(next->heartbeat.error);
	next->heartbeat = h;
	state_set(&next->metrics_error, prev->metrics_error);
	state_set(&next->cut, "");	/* this pass's own, until it is cut */
	/* Which server answered, which failed, which origins asked us to
	 * wait: kept until this pass learns better. */
	free(next->server);
	next->server = xstrdup(prev->server);
	state_set_servers(next, prev->servers, prev->nservers);
	free(next->waits);
	next->waits = xcalloc(prev->nwaits, sizeof(*next->waits));
	for (i = 0; i < prev->nwaits; i++)
		next->waits[i] = prev->waits[i];
	next->nwaits = prev->nwaits;
}

void
state_set_servers(struct pass_state *st, const struct server_state *list, size_t n)
{
	struct server_state *copy = xcalloc(n, sizeof(*copy));
	size_t i;

	for (i = 0; i < n; i++)
		copy[i] = (struct server_state){ xstrdup(list[i].url), list[i].failed_at, list[i].until };
	for (i = 0; i < st->nservers; i++)
		free(st->servers[i].url);
	free(st->servers);
	st->servers = copy;
	st->nservers = n;
}

void
state_heartbeat(struct pass_state *st, const char *error, long long now)
{
	struct hb_state *h = &st->heartbeat;

	if (error == NULL || error[0] == '\0') {
		state_set(&h->error, "");
		h->fails = 0;
		h->fail_since = 0;
		h->ok_at = now;
		return;
	}
	if (h->fails == 0)
		h->fail_since = now;
	h->fails++;
	state_set(&h->error, error);
}

void
state_carry(struct pass_state *next, const struct pass_state *prev, const char *workdir)
{
	const struct agent_state *a;
	struct stat st;
	char *path;
	size_t i;
	int keep;

	for (i = 0; i < prev->n; i++) {
		a = &prev->agents[i];
		if (state_find(next, a->name) != NULL)
			continue;
		keep = workdir == NULL || a->trial_version[0] != '\0';
		if (!keep) {
			path = xasprintf("%s/%s", workdir, a->name);
			keep = lstat(path, &st) == 0;
			free(path);
		}
		if (keep)
			state_copy_agent(state_get(next, a->name), a);
	}
}

/* *field = s, as the file keeps it: bytes outside printable ASCII (a
 * reason quoting the server's bytes, a file of an older version or edited
 * by hand) escaped as by str_vis, so the file and status --json stay ASCII
 * JSON; cut to max bytes. A string that is clean already is kept as it
 * is: reading and writing it again changes nothing. */
void
state_set_clean(char **field, const char *s, size_t max)
{
	char vis[STATE_STR_MAX + 1];
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p >= 0x20 && *p < 0x7f; p++)
		;
	if (*p != '\0') {
		str_vis(vis, sizeof(vis), s);
		s = vis;
	}
	state_set(field, s);
	if (strlen(*field) > max)
		(*field)[max] = '\0';
}
