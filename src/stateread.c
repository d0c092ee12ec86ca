#include "stateread.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define STATE_SERVERS_MAX 64	/* servers remembered */

/* A whole number field in [0, max]; a missing one is 0. -1 (and 0) when
 * it is there but not such a number. */
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

/* A string field; a missing one is "". Cleaned and cut as the writer
 * does, but at STATE_STR_MAX bytes: a long string must not cost every
 * hold and count of the file. -1 (and "") when not a string. */
static int
get_str(const cJSON *o, const char *key, char **v)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);

	if (s == NULL)
		return 0;
	if (!cJSON_IsString(s)) {
		state_set(v, "");
		return -1;
	}
	state_set_clean(v, s->valuestring, STATE_STR_MAX);
	return 0;
}

/* The string fields of an entry, but its name. */
static const struct {
	const char *key;
	size_t off;
} agent_strs[] = {
	{ "version", offsetof(struct agent_state, version) },
	{ "cmd", offsetof(struct agent_state, cmd) },
	{ "done", offsetof(struct agent_state, done) },
	{ "error", offsetof(struct agent_state, error) },
	{ "held_version", offsetof(struct agent_state, held_version) },
	{ "held_tarball", offsetof(struct agent_state, held_tarball) },
	{ "held_md5", offsetof(struct agent_state, held_md5) },
	{ "held_sha256", offsetof(struct agent_state, held_sha256) },
	{ "held_sig", offsetof(struct agent_state, held_sig) },
	{ "held_validators", offsetof(struct agent_state, held_validators) },
	{ "held_caps", offsetof(struct agent_state, held_caps) },
	{ "held_received", offsetof(struct agent_state, held_received) },
	{ "mismatch_version", offsetof(struct agent_state, mismatch_version) },
	{ "mismatch_tarball", offsetof(struct agent_state, mismatch_tarball) },
	{ "trial_version", offsetof(struct agent_state, trial_version) },
	{ "trial_from", offsetof(struct agent_state, trial_from) },
	{ "trial_tarball", offsetof(struct agent_state, trial_tarball) },
	{ "kept_failed", offsetof(struct agent_state, kept_failed) },
	{ "interrupted_version", offsetof(struct agent_state, interrupted_version) },
	{ "seen_version", offsetof(struct agent_state, seen_version) },
	{ "busy_version", offsetof(struct agent_state, busy_version) },
	{ "probation_version", offsetof(struct agent_state, probation_version) },
	{ "probation_from", offsetof(struct agent_state, probation_from) },
	{ "gone_version", offsetof(struct agent_state, gone_version) },
};

/* Its number fields: Unix times (long long) and counts (int). */
static const struct {
	const char *key;
	size_t off;
	int count;
} agent_nums[] = {
	{ "fail_since", offsetof(struct agent_state, fail_since), 0 },
	{ "fails", offsetof(struct agent_state, fails), 1 },
	{ "failed_at", offsetof(struct agent_state, failed_at), 0 },
	{ "retry_after", offsetof(struct agent_state, retry_after), 0 },
	{ "held_fails", offsetof(struct agent_state, held_fails), 1 },
	{ "trial_started", offsetof(struct agent_state, trial_started), 0 },
	{ "trial_failed", offsetof(struct agent_state, trial_failed), 1 },
	{ "trial_starting", offsetof(struct agent_state, trial_starting), 1 },
	{ "trial_cut", offsetof(struct agent_state, trial_cut), 1 },
	{ "interrupted", offsetof(struct agent_state, interrupted), 1 },
	{ "restarts", offsetof(struct agent_state, restarts), 1 },
	{ "kept_superseded", offsetof(struct agent_state, kept_superseded), 1 },
	{ "restarts_total", offsetof(struct agent_state, restarts_total), 0 },
	{ "seen_at", offsetof(struct agent_state, seen_at), 0 },
	{ "slot_at", offsetof(struct agent_state, slot_at), 0 },
	{ "busy_fails", offsetof(struct agent_state, busy_fails), 1 },
	{ "busy_skip", offsetof(struct agent_state, busy_skip), 1 },
	{ "busy_since", offsetof(struct agent_state, busy_since), 0 },
	{ "probation_at", offsetof(struct agent_state, probation_at), 0 },
	{ "probation_deaths", offsetof(struct agent_state, probation_deaths), 1 },
	{ "probation_failures", offsetof(struct agent_state, probation_failures), 0 },
	{ "gone_at", offsetof(struct agent_state, gone_at), 0 },
};

/* One entry of "agents" into a (blank, owned by the state), field by
 * field: a field that is wrong is left empty and the rest kept, so a
 * damaged entry still gives its hold. NULL when it was whole, else what
 * was wrong; *usable is 0 when nothing can be kept (no valid name). */
static const char *
parse_agent(const cJSON *o, struct agent_state *a, int *usable)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "result");
	const char *why = NULL;
	long long v;
	size_t i;

	*usable = 0;
	if (!cJSON_IsObject(o))
		return "an agent entry is not an object";
	if (get_str(o, "name", &a->name) == -1 || !name_is_valid(a->name))
		return "an agent has no valid name";
	*usable = 1;
	for (i = 0; i < sizeof(agent_strs) / sizeof(agent_strs[0]); i++)
		if (get_str(o, agent_strs[i].key, (char **)((char *)a + agent_strs[i].off)) == -1 && why == NULL)
			why = "a string field is not a string";
	for (i = 0; i < sizeof(agent_nums) / sizeof(agent_nums[0]); i++) {
		void *f = (char *)a + agent_nums[i].off;

		if (get_num(o, agent_nums[i].key, agent_nums[i].count ? 1 << 30 : 1LL << 40, &v) == -1 &&
		    why == NULL)
			why = "a number field is not a whole number in range";
		if (agent_nums[i].count)
			*(int *)f = (int)v;
		else
			*(long long *)f = v;
	}
	if ((a->trial_version[0] != '\0' && !name_is_valid(a->trial_version)) ||
	    (a->trial_from[0] != '\0' && !name_is_valid(a->trial_from))) {
		state_set(&a->trial_version, "");
		state_set(&a->trial_from, "");
		if (why == NULL)
			why = "a trial names an invalid version";
	}
	if ((a->kept_failed[0] != '\0' && !name_is_valid(a->kept_failed)) ||
	    (a->interrupted_version[0] != '\0' && !name_is_valid(a->interrupted_version))) {
		state_set(&a->kept_failed, "");
		state_set(&a->interrupted_version, "");
		if (why == NULL)
			why = "kept_failed or interrupted_version names an invalid version";
	}
	/* A probation names versions that are started and stopped. */
	if ((a->probation_version[0] != '\0' && !name_is_valid(a->probation_version)) ||
	    (a->probation_from[0] != '\0' && !name_is_valid(a->probation_from))) {
		state_set(&a->probation_version, "");
		state_set(&a->probation_from, "");
		if (why == NULL)
			why = "a probation names an invalid version";
	}
	if (a->gone_version[0] != '\0' && !name_is_valid(a->gone_version)) {
		state_set(&a->gone_version, "");
		if (why == NULL)
			why = "gone_version names an invalid version";
	}
	if (a->trial_failed > 1)
		a->trial_failed = 1;
	if (a->trial_starting > 1)
		a->trial_starting = 1;
	if (a->trial_cut > 1)
		a->trial_cut = 1;
	a->result = STATE_NOTHING;
	for (i = 0; cJSON_IsString(r) && i < sizeof(state_results) / sizeof(state_results[0]); i++)
		if (strcmp(r->valuestring, state_results[i]) == 0)
			break;
	if (cJSON_IsString(r) && i < sizeof(state_results) / sizeof(state_results[0]))
		a->result = (enum state_result)i;
	else if (why == NULL)
		why = cJSON_IsString(r) ? "an agent has an unknown result" : "an agent has no result";
	return why;
}

/* The pass-level fields of issue 17 (add_fleet). They only make the next
 * pass more polite: an entry that does not parse is dropped, never the
 * file. */
static void
parse_fleet(const cJSON *root, struct pass_state *st)
{
	const cJSON *arr, *o, *v;
	char *url = NULL;
	long long t, code;

	v = cJSON_GetObjectItemCaseSensitive(root, "server");
	if (cJSON_IsString(v) && strlen(v->valuestring) < STATE_STR_MAX)
		st->server = xstrdup(v->valuestring);
	if (!cJSON_IsArray(arr = cJSON_GetObjectItemCaseSensitive(root, "servers")))
		arr = NULL;
	cJSON_ArrayForEach(o, arr) {
		if (st->nservers == STATE_SERVERS_MAX || get_str(o, "url", &url) == -1 || url == NULL ||
		    get_num(o, "failed_at", 1LL << 40, &t) == -1)
			continue;
		/* "until" is newer: without it (0), the fixed time. */
		if (get_num(o, "until", 1LL << 40, &code) == -1)
			code = 0;
		st->servers = xrealloc(st->servers, (st->nservers + 1) * sizeof(*st->servers));
		st->servers[st->nservers++] = (struct server_state){ url, t, code };
		url = NULL;
	}
	free(url);
	if (!cJSON_IsArray(arr = cJSON_GetObjectItemCaseSensitive(root, "waits")))
		arr = NULL;
	cJSON_ArrayForEach(o, arr) {
		v = cJSON_GetObjectItemCaseSensitive(o, "origin");
		if (st->nwaits == FETCH_BACKOFF_MAX || !cJSON_IsString(v) ||
		    strlen(v->valuestring) >= FETCH_ORIGIN_MAX || get_num(o, "until", 1LL << 40, &t) == -1 ||
		    get_num(o, "status", 999, &code) == -1)
			continue;
		st->waits = xrealloc(st->waits, (st->nwaits + 1) * sizeof(*st->waits));
		memset(&st->waits[st->nwaits], 0, sizeof(*st->waits));
		snprintf(st->waits[st->nwaits].origin, FETCH_ORIGIN_MAX, "%s", v->valuestring);
		st->waits[st->nwaits].until = t;
		st->waits[st->nwaits].heartbeat = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "heartbeat"));
		st->waits[st->nwaits++].status = (long)code;
	}
}

/* What a read kept and lost. */
struct salvage {
	size_t lost;		/* entries dropped */
	size_t damaged;		/* entries kept with a field left empty */
	const char *why;	/* the first thing that was wrong */
};

static void
wrong(struct salvage *sv, const char *why)
{
	if (sv->why == NULL)
		sv->why = why;
}

/* Add entry o to st, or count it lost. */
static void
take_agent(struct pass_state *st, const cJSON *o, struct salvage *sv)
{
	struct agent_state a = { 0 };
	const char *why;
	int usable;

	state_blank_agent(&a);
	why = parse_agent(o, &a, &usable);
	if (usable && state_find(st, a.name) != NULL) {
		why = "an agent is listed twice";
		usable = 0;
	}
	if (usable && st->n >= STATE_AGENTS_MAX) {
		why = "more than 10000 agents";
		usable = 0;
	}
	if (why != NULL) {
		wrong(sv, why);
		if (usable)
			sv->damaged++;
		else
			sv->lost++;
	}
	if (!usable) {
		state_free_agent(&a);
		return;
	}
	st->agents = xrealloc(st->agents, (st->n + 1) * sizeof(*st->agents));
	st->agents[st->n++] = a;
}

/* The pass fields of root into st. -1 when it is not a file of ours. */
static int
parse_header(const cJSON *root, struct pass_state *st, struct salvage *sv)
{
	long long v;

	if (!cJSON_IsObject(root)) {
		wrong(sv, "not a JSON object");
		return -1;
	}
	if (get_num(root, "format", 1000, &v) == -1 || v != STATE_FORMAT) {
		wrong(sv, "not format 1");
		return -1;
	}
	if (get_num(root, "started", 1LL << 40, &st->started) == -1 ||
	    get_num(root, "duration_ms", 1LL << 40, &st->duration_ms) == -1 ||
	    get_num(root, "exit_code", 255, &v) == -1)
		wrong(sv, "a number field is not a whole number in range");
	st->exit_code = (int)v;
	/* Files of older passes have no heartbeat fields: "" and zeros. */
	if (get_num(root, "heartbeat_fail_since", 1LL << 40, &st->heartbeat.fail_since) == -1 ||
	    get_num(root, "heartbeat_ok_at", 1LL << 40, &st->heartbeat.ok_at) == -1 ||
	    get_num(root, "heartbeat_fails", 1 << 30, &v) == -1)
		wrong(sv, "a number field is not a whole number in range");
	st->heartbeat.fails = (int)v;
	if (st->heartbeat.error == NULL)
		st->heartbeat.error = xstrdup("");
	if (st->metrics_error == NULL)
		st->metrics_error = xstrdup("");
	if (st->log_error == NULL)
		st->log_error = xstrdup("");
	if (st->boot_id == NULL)
		st->boot_id = xstrdup("");
	if (st->cut == NULL)
		st->cut = xstrdup("");
	if (get_num(root, "log_lines_lost", 1LL << 40, &st->log_lost) == -1)
		wrong(sv, "a number field is not a whole number in range");
	if (get_str(root, "heartbeat_error", &st->heartbeat.error) == -1 ||
	    get_str(root, "metrics_error", &st->metrics_error) == -1 ||
	    get_str(root, "log_error", &st->log_error) == -1 ||
	    get_str(root, "cut", &st->cut) == -1 ||
	    get_str(root, "boot_id", &st->boot_id) == -1)
		wrong(sv, "a string field is not a string");
	parse_fleet(root, st);
	return 0;
}

/* A file that does not parse (cut short by a full disk, too long to read
 * whole, damaged): the pass fields from what comes before "agents", then
 * each entry that is whole, one by one, until the first that is not. */
static void
salvage(const char *text, size_t len, struct pass_state *st, struct salvage *sv)
{
	const char *key = text, *p = NULL, *end = text + len;
	char *head;
	cJSON *o;

	wrong(sv, "not a whole JSON object");
	/* The key "agents", then ':' and '[': inside a string a '"' is
	 * escaped, so the key cannot be mistaken for a value's text. */
	while ((key = memmem(key, (size_t)(end - key), "\"agents\"", 8)) != NULL) {
		for (p = key + 8; p < end && strchr(" \t\r\n", *p) != NULL; p++)
			;
		if (p < end && *p == ':')
			break;
		key += 8;
	}
	if (key == NULL)
		return;
	head = xasprintf("%.*s\"agents\":[]}", (int)(key - text), text);
	if ((o = cJSON_Parse(head)) != NULL)
		parse_header(o, st, sv);
	cJSON_Delete(o);
	free(head);
	for (p++; p < end && strchr(" \t\r\n", *p) != NULL; p++)
		;
	if (p == end || *p++ != '[')
		return;
	for (;;) {
		while (p < end && strchr(" \t\r\n,", *p) != NULL)
			p++;
		if (p == end || *p != '{' ||
		    (o = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &p, 0)) == NULL)
			break;
		take_agent(st, o, sv);
		cJSON_Delete(o);
	}
	/* What follows the last whole entry is lost: how much is unknown. */
	if (p < end && *p != ']')
		sv->lost++;
}

int
state_parse(const char *text, size_t len, struct pass_state *st, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *arr, *o;
	struct salvage sv = { 0 };

	memset(st, 0, sizeof(*st));
	if (root == NULL)
		salvage(text, len, st, &sv);
	else if (parse_header(root, st, &sv) == 0) {
		arr = cJSON_GetObjectItemCaseSensitive(root, "agents");
		if (!cJSON_IsArray(arr))
			wrong(&sv, "agents is not a list");
		cJSON_ArrayForEach(o, arr) {
			take_agent(st, o, &sv);
		}
	}
	cJSON_Delete(root);
	if (sv.why == NULL)
		return 0;
	if (st->n == 0 && st->started == 0) {
		snprintf(err, errlen, "%s", sv.why);
		state_free(st);
		return -1;
	}
	snprintf(err, errlen, "%s: %zu agent%s kept (%zu with a field lost), %s%zu lost", sv.why, st->n,
	    st->n == 1 ? "" : "s", sv.damaged, sv.lost > 0 && root == NULL ? "at least " : "", sv.lost);
	return 1;
}

/* Read at most max bytes of the regular file at path, never through a
 * symlink; *cut set when there was more. NULL with errno set. */
static char *
read_nofollow(const char *path, size_t max, size_t *len, int *cut)
{
	struct buf b = { 0 };
	struct stat sb;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e;

	*cut = 0;
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
			buf_add(&b, chunk, max - b.len);
			*cut = 1;
			break;
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
	char *path = state_path(workdir), *text, why[256];
	size_t len = 0;
	int ret = 0, e = 0, cut, r;

	memset(st, 0, sizeof(*st));
	if ((text = read_nofollow(path, STATE_MAX, &len, &cut)) == NULL) {
		e = errno;
		ret = e == ENOENT ? 1 : -1;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	} else if ((r = state_parse(text, len, st, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "%s: %s%s", path, cut ? "larger than 8 MiB, and " : "", why);
		e = EINVAL;
		ret = -1;
	} else if (r == 1 || cut) {
		/* A larger file never parses whole: its first 8 MiB are salvaged. */
		snprintf(err, errlen, "%s: %s", path, cut && r == 0 ? "larger than 8 MiB" : why);
		ret = 2;
	}
	free(text);
	free(path);
	errno = e;
	return ret;
}
