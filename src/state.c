#include "state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "util.h"

#define STATE_FORMAT 1		/* "format" of the file; bump on incompatible change */
#define STATE_AGENTS_MAX 10000
#define STATE_STR_MAX 4096	/* longest string field kept; longer ones are cut */

static const char *const results[] = {
	[STATE_OK] = "ok", [STATE_NOTHING] = "nothing", [STATE_FAILED] = "failed",
	[STATE_HELD] = "held", [STATE_REFUSED] = "refused",
};

char *
state_path(const char *workdir)
{
	return xasprintf("%s/" STATE_FILE, workdir);
}

const char *
state_result_name(enum state_result r)
{
	if ((size_t)r < sizeof(results) / sizeof(results[0]) && results[r] != NULL)
		return results[r];
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

/* The length of s cut to STATE_STR_MAX bytes, never inside a UTF-8
 * sequence: what is written is read back whole, and stays UTF-8. */
static size_t
cut_len(const char *s)
{
	size_t n = strlen(s);

	if (n <= STATE_STR_MAX)
		return n;
	for (n = STATE_STR_MAX; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return n;
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

char *
state_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", t);
	return buf;
}

static void
agent_free(struct agent_state *a)
{
	free(a->name);
	free(a->version);
	free(a->cmd);
	free(a->done);
	free(a->error);
	free(a->held_version);
	free(a->held_tarball);
	free(a->trial_version);
	free(a->trial_from);
	free(a->trial_tarball);
	memset(a, 0, sizeof(*a));
}

void
state_free(struct pass_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		agent_free(&st->agents[i]);
	free(st->agents);
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
static void
agent_blank(struct agent_state *a)
{
	char **f[] = { &a->name, &a->version, &a->cmd, &a->done, &a->error,
		&a->held_version, &a->held_tarball, &a->trial_version, &a->trial_from,
		&a->trial_tarball };
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
	agent_blank(a);
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
	c.trial_version = xstrdup(src->trial_version);
	c.trial_from = xstrdup(src->trial_from);
	c.trial_tarball = xstrdup(src->trial_tarball);
	agent_free(dst);
	*dst = c;
	agent_blank(dst);
}

void
state_carry(struct pass_state *next, const struct pass_state *prev)
{
	size_t i;

	for (i = 0; i < prev->n; i++)
		if (state_find(next, prev->agents[i].name) == NULL)
			state_copy_agent(state_get(next, prev->agents[i].name), &prev->agents[i]);
}

/* A string field, cut so that the reader takes it (get_str). */
static void
add_str(cJSON *o, const char *key, const char *v)
{
	char *cut = NULL;

	if (v == NULL)
		v = "";
	else if (cut_len(v) < strlen(v)) {
		cut = xstrdup(v);
		cut[cut_len(v)] = '\0';
		v = cut;
	}
	if (!cJSON_AddStringToObject(o, key, v))
		die_oom();
	free(cut);
}

static void
add_num(cJSON *o, const char *key, long long v)
{
	if (!cJSON_AddNumberToObject(o, key, (double)v))
		die_oom();
}

char *
state_to_json(const struct pass_state *st)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	char *text;
	size_t i;

	if (root == NULL || (arr = cJSON_CreateArray()) == NULL)
		die_oom();
	add_num(root, "format", STATE_FORMAT);
	add_num(root, "started", st->started);
	add_num(root, "duration_ms", st->duration_ms);
	add_num(root, "exit_code", st->exit_code);
	if (!cJSON_AddItemToObject(root, "agents", arr))
		die_oom();
	for (i = 0; i < st->n; i++) {
		const struct agent_state *a = &st->agents[i];

		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o))
			die_oom();
		add_str(o, "name", a->name);
		add_str(o, "version", a->version);
		add_str(o, "cmd", a->cmd);
		add_str(o, "done", a->done);
		add_str(o, "result", state_result_name(a->result));
		add_str(o, "error", a->error);
		add_num(o, "fail_since", a->fail_since);
		add_num(o, "fails", a->fails);
		add_str(o, "held_version", a->held_version);
		add_str(o, "held_tarball", a->held_tarball);
		add_num(o, "failed_at", a->failed_at);
		add_num(o, "retry_after", a->retry_after);
		add_num(o, "held_fails", a->held_fails);
		/* Only while a trial runs: files of older passes stay as they were. */
		if (a->trial_version != NULL && a->trial_version[0] != '\0') {
			add_str(o, "trial_version", a->trial_version);
			add_str(o, "trial_from", a->trial_from);
			add_str(o, "trial_tarball", a->trial_tarball);
			add_num(o, "trial_started", a->trial_started);
		}
	}
	if ((text = cJSON_Print(root)) == NULL)
		die_oom();
	cJSON_Delete(root);
	return text;
}

/* A whole number field in [0, max]; a missing one is 0. -1 when it is
 * there but not such a number. */
static int
get_num(const cJSON *o, const char *key, long long max, long long *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	*v = 0;
	if (n == NULL)
		return 0;
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > (double)max ||
	    n->valuedouble != (double)(long long)n->valuedouble)
		return -1;
	*v = (long long)n->valuedouble;
	return 0;
}

/* A string field; a missing one is "", a long one cut to STATE_STR_MAX
 * bytes (one long string must not cost every hold and count of the
 * file). -1 when not a string. */
static int
get_str(const cJSON *o, const char *key, char **v)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);

	if (s == NULL)
		return 0;
	if (!cJSON_IsString(s))
		return -1;
	state_set(v, s->valuestring);
	(*v)[cut_len(*v)] = '\0';
	return 0;
}

/* One entry of "agents" into a (blank, owned by the state). */
static const char *
parse_agent(const cJSON *o, struct agent_state *a)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "result");
	long long fails, held_fails;
	size_t i;

	if (!cJSON_IsObject(o))
		return "an agent entry is not an object";
	if (get_str(o, "name", &a->name) == -1 || !name_is_valid(a->name))
		return "an agent has no valid name";
	if (get_str(o, "version", &a->version) == -1 || get_str(o, "cmd", &a->cmd) == -1 ||
	    get_str(o, "done", &a->done) == -1 || get_str(o, "error", &a->error) == -1 ||
	    get_str(o, "held_version", &a->held_version) == -1 ||
	    get_str(o, "held_tarball", &a->held_tarball) == -1 ||
	    get_str(o, "trial_version", &a->trial_version) == -1 ||
	    get_str(o, "trial_from", &a->trial_from) == -1 ||
	    get_str(o, "trial_tarball", &a->trial_tarball) == -1)
		return "a string field is not a string";
	if ((a->trial_version[0] != '\0' && !name_is_valid(a->trial_version)) ||
	    (a->trial_from[0] != '\0' && !name_is_valid(a->trial_from)))
		return "a trial names an invalid version";
	if (get_num(o, "fail_since", 1LL << 40, &a->fail_since) == -1 ||
	    get_num(o, "fails", 1 << 30, &fails) == -1 ||
	    get_num(o, "failed_at", 1LL << 40, &a->failed_at) == -1 ||
	    get_num(o, "retry_after", 1LL << 40, &a->retry_after) == -1 ||
	    get_num(o, "held_fails", 1 << 30, &held_fails) == -1 ||
	    get_num(o, "trial_started", 1LL << 40, &a->trial_started) == -1)
		return "a number field is not a whole number in range";
	a->fails = (int)fails;
	a->held_fails = (int)held_fails;
	if (!cJSON_IsString(r))
		return "an agent has no result";
	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (strcmp(r->valuestring, results[i]) == 0)
			break;
	if (i == sizeof(results) / sizeof(results[0]))
		return "an agent has an unknown result";
	a->result = (enum state_result)i;
	return NULL;
}

int
state_parse(const char *text, size_t len, struct pass_state *st, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *arr, *o;
	const char *why = NULL;
	long long v;

	memset(st, 0, sizeof(*st));
	if (root == NULL || !cJSON_IsObject(root)) {
		why = "not a JSON object";
		goto out;
	}
	if (get_num(root, "format", 1000, &v) == -1 || v != STATE_FORMAT) {
		why = "not format 1";
		goto out;
	}
	if (get_num(root, "started", 1LL << 40, &st->started) == -1 ||
	    get_num(root, "duration_ms", 1LL << 40, &st->duration_ms) == -1 ||
	    get_num(root, "exit_code", 255, &v) == -1) {
		why = "a number field is not a whole number in range";
		goto out;
	}
	st->exit_code = (int)v;
	arr = cJSON_GetObjectItemCaseSensitive(root, "agents");
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > STATE_AGENTS_MAX) {
		why = "agents is not a list of at most 10000";
		goto out;
	}
	cJSON_ArrayForEach(o, arr) {
		struct agent_state a = { 0 };

		agent_blank(&a);
		if ((why = parse_agent(o, &a)) != NULL) {
			agent_free(&a);
			goto out;
		}
		if (state_find(st, a.name) != NULL) {
			agent_free(&a);
			why = "an agent is listed twice";
			goto out;
		}
		st->agents = xrealloc(st->agents, (st->n + 1) * sizeof(*st->agents));
		st->agents[st->n++] = a;
	}
out:
	cJSON_Delete(root);
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		state_free(st);
		return -1;
	}
	return 0;
}

/* Read at most max bytes of the regular file at path, never through a
 * symlink. NULL with errno set. */
static char *
read_nofollow(const char *path, size_t max, size_t *len)
{
	struct buf b = { 0 };
	struct stat sb;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e;

	if (fd == -1)
		return NULL;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (b.len + (size_t)n > max) {
			errno = EFBIG;
			goto fail;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	return b.data ? b.data : xstrdup("");
fail:
	e = errno;
	close(fd);
	buf_free(&b);
	errno = e;
	return NULL;
}

int
state_read(const char *workdir, struct pass_state *st, char *err, size_t errlen)
{
	char *path = state_path(workdir), *text, why[128];
	size_t len = 0;
	int ret = 0, e = 0;

	memset(st, 0, sizeof(*st));
	if ((text = read_nofollow(path, STATE_MAX, &len)) == NULL) {
		e = errno;
		ret = e == ENOENT ? 1 : -1;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	} else if (state_parse(text, len, st, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		e = EINVAL;
		ret = -1;
	}
	free(text);
	free(path);
	errno = e;
	return ret;
}

int
state_write(const char *workdir, const struct pass_state *st)
{
	char *path = state_path(workdir), *text = state_to_json(st);
	int ret = file_write_atomic(path, text, strlen(text), 0644);

	free(text);
	free(path);
	return ret;
}
