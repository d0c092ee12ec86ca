#include "heartbeat.h"

#include <cjson/cJSON.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline.h"
#include "fetch.h"
#include "fetchwait.h"
#include "log.h"
#include "rollout.h"
#include "util.h"

/* One realAgents entry, added to arr; error may be NULL. */
static cJSON *
add_real(cJSON *arr, const char *name, const char *version, const char *status,
    const char *error, time_t now)
{
	cJSON *o = cJSON_CreateObject();
	char vis[4 * sizeof(((struct real_agent *)0)->status)];

	/* What an agent's script printed, escaped as the log has it: cJSON
	 * passes bytes that are not UTF-8 through, and a body that is not
	 * JSON fails the heartbeat of every agent of the host. */
	str_vis(vis, sizeof(vis), status);
	if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
	    !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "version", version) ||
	    !cJSON_AddStringToObject(o, "status", vis) ||
	    !cJSON_AddNumberToObject(o, "timestamp", (double)now))
		return NULL;
	/* An extra field: ops-meta (Go's encoding/json) ignores what it
	 * does not know, and a newer one can show it. */
	if (error != NULL && error[0] != '\0' && !cJSON_AddStringToObject(o, "error", error))
		return NULL;
	return o;
}

char *
hb_request(const char *hostname, const struct real_agent *list, size_t n, int self, const char *self_error,
    time_t now)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *s;
	size_t i;

	if (root == NULL)
		goto oom;
	cJSON_AddStringToObject(root, "hostname", hostname);
	if ((arr = cJSON_AddArrayToObject(root, "realAgents")) == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		/* A directory of the updater's own name is no agent of ours
		 * (the name is reserved): the server keeps one report per
		 * name, and that one is the updater's. */
		if (strcmp(list[i].name, HB_SELF) != 0 &&
		    add_real(arr, list[i].name, list[i].version, list[i].status, list[i].error, now) == NULL)
			goto oom;
	/* The updater as one more agent, only when asked (heartbeat_self):
	 * the Cepave ops-meta counts the entries of realAgents, and stops a
	 * host's second desired agent unless there is exactly one. */
	if (self && add_real(arr, HB_SELF, OPS_UPDATER_VERSION, "started", self_error, now) == NULL)
		goto oom;
	if ((s = cJSON_PrintUnformatted(root)) == NULL)
		goto oom;
	cJSON_Delete(root);
	return s;
oom:
	die_oom();
}

static void invalid(struct desired *d, const char *fmt, ...) ATTR_PRINTF(2, 3);

static void
invalid(struct desired *d, const char *fmt, ...)
{
	va_list ap;

	if (d->invalid[0] != '\0')
		return;		/* the first reason is the one to tell */
	va_start(ap, fmt);
	vsnprintf(d->invalid, sizeof(d->invalid), fmt, ap);
	va_end(ap);
}

/* A string field of an entry: "" when missing or null. */
static char *
field(struct desired *d, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return xstrdup("");
	if (!cJSON_IsString(v)) {
		invalid(d, "field '%s' is not a string", key);
		return xstrdup("");
	}
	return xstrdup(v->valuestring);
}

static int
url_ok(const char *prefix)
{
	char *url = fetch_url(prefix, "x");

	free(url);
	return url != NULL;
}

/* A URL prefix's bytes: printable ASCII only, as a URL is sent (non-ASCII
 * is percent-encoded), and bounded. The hold, trial and partial of a
 * release store the prefix and compare it with the next answer's: escaped
 * bytes in one and raw ones in the other would never match. 0 when d is
 * refused. */
static int
url_bytes_ok(struct desired *d, const char *key, const char *prefix)
{
	const unsigned char *p;

	if (strlen(prefix) > HB_URL_MAX) {
		invalid(d, "%s is longer than %d bytes", key, HB_URL_MAX);
		return 0;
	}
	for (p = (const unsigned char *)prefix; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e) {
			invalid(d, "%s '%.60s' holds byte 0x%02x, not printable ASCII (percent-encode it)",
			    key, prefix, *p);
			return 0;
		}
	return 1;
}

/* Check an entry against what we will do with it; the reason, if any, goes
 * into d->invalid. */
static void
validate(struct desired *d)
{
	if (!name_is_valid(d->name))
		invalid(d, "name '%.40s' is not a valid name ([A-Za-z0-9._-], no leading '.')", d->name);
	if (strcmp(d->cmd, "start") != 0)
		return;		/* version and URLs are used by start only */
	if (!name_is_valid(d->version))
		invalid(d, "version '%.40s' is not a valid version ([A-Za-z0-9._-], no leading '.')",
		    d->version);
	if (url_bytes_ok(d, "tarball", d->tarball) && !url_ok(d->tarball))
		invalid(d, "tarball '%.60s' is not an http(s) URL", d->tarball);
	if (d->md5[0] != '\0' && url_bytes_ok(d, "md5", d->md5) && !url_ok(d->md5))
		invalid(d, "md5 '%.60s' is not an http(s) URL", d->md5);
}

/* Two entries for one name would make a pass switch that agent twice, every
 * pass: the server's intent is unknown, so every such entry is refused and
 * the agent left as it is. At most HB_AGENTS_MAX entries: n^2 is cheap. */
static void
refuse_duplicates(struct desired *list, size_t n)
{
	size_t i, j, count;

	for (i = 0; i < n; i++) {
		for (count = 0, j = 0; j < n; j++)
			count += strcmp(list[i].name, list[j].name) == 0;
		if (count > 1)
			invalid(&list[i], "name '%.40s' appears %zu times in desiredAgents",
			    list[i].name, count);
	}
}

/* path made absolute (from the working directory) with "", "." and ".."
 * components resolved by their spelling alone; allocated. */
static char *
clean_path(const char *path)
{
	char cwd[PATH_MAX], *in, *tok, *save = NULL, *out;
	size_t n = 0;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	in = xasprintf("%s/%s", cwd, path);
	out = xcalloc(strlen(in) + 2, 1);
	for (tok = strtok_r(in, "/", &save); tok != NULL; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			out[n] = '\0';
			continue;
		}
		n += (size_t)sprintf(out + n, "/%s", tok);
	}
	if (n == 0)
		strcpy(out, "/");
	free(in);
	return out;
}

/* path resolved as the kernel does when it can be (symlinks too), else by
 * its spelling (clean_path): a directory not made yet is compared too. */
static char *
resolve(const char *path)
{
	char *real = realpath(path, NULL);

	return real != NULL ? real : clean_path(path);
}

/* Is file (named suffix appended to file's own name) the entry name of the
 * work directory, or below that entry? */
static int
occupies(const char *workdir, const char *file, const char *suffix, const char *name)
{
	char *copy = xstrdup(file), *base = xstrdup(file);
	char *dir = resolve(dirname(copy)), *root = resolve(workdir);
	char *entry = xasprintf("%s%s", basename(base), suffix);
	size_t len = strlen(root);
	const char *below;
	int ret = 0;

	if (strcmp(dir, root) == 0)
		ret = strcmp(entry, name) == 0;
	else if (strncmp(dir, root, len) == 0 && (dir[len] == '/' || len == 1)) {
		below = dir + len + (len > 1);	/* "a/b" of <root>/a/b */
		ret = strncmp(below, name, strlen(name)) == 0 &&
		    (below[strlen(name)] == '/' || below[strlen(name)] == '\0');
	}
	free(entry);
	free(root);
	free(dir);
	free(base);
	free(copy);
	return ret;
}

int
hb_reserved(const struct config *cfg, const char *name, char *why, size_t len)
{
	if (strcmp(name, HB_SELF) == 0)
		snprintf(why, len, "name '%s' is reserved: it is the updater's own, and the updater is not an agent",
		    HB_SELF);
	else if (strncmp(name, HB_SELF, strlen(HB_SELF)) == 0)
		snprintf(why, len, "name '%.40s' is reserved: names starting with '%s' are the updater's own "
		    "(its files ops-updater.pid, ops-updater.state.json, ops-updater.log)", name, HB_SELF);
	else if (occupies(cfg->workdir, cfg->log, "", name))
		snprintf(why, len, "name '%.40s' is reserved: the updater writes its log there (%.160s)",
		    name, cfg->log);
	else if (occupies(cfg->workdir, cfg->log, ".1", name))
		snprintf(why, len, "name '%.40s' is reserved: the updater rotates its log there (%.160s.1)",
		    name, cfg->log);
	else if (*cfg->metrics_file != '\0' && occupies(cfg->workdir, cfg->metrics_file, "", name))
		snprintf(why, len, "name '%.40s' is reserved: the updater writes its metrics there (%.160s)",
		    name, cfg->metrics_file);
	else
		return 0;
	return 1;
}

/* Mark every entry whose name is reserved (hb_reserved) invalid, before
 * anything is fetched or run for it. */
static void
refuse_reserved(const struct config *cfg, struct hb_response *r)
{
	char why[sizeof(r->agents[0].invalid)];
	size_t i;

	for (i = 0; i < r->n; i++)
		if (name_is_valid(r->agents[i].name) && hb_reserved(cfg, r->agents[i].name, why, sizeof(why)))
			invalid(&r->agents[i], "%s", why);
}

int
hb_parse(const char *body, size_t len, struct hb_response *r, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(body, len), *msg, *list, *o;
	size_t i = 0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (root == NULL || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "response is not a JSON object");
		goto out;
	}
	msg = cJSON_GetObjectItemCaseSensitive(root, "errorMessage");
	if (msg != NULL && !cJSON_IsNull(msg) && !cJSON_IsString(msg)) {
		snprintf(err, errlen, "errorMessage is not a string");
		goto out;
	}
	r->error_message = xstrdup(cJSON_IsString(msg) ? msg->valuestring : "");
	list = cJSON_GetObjectItemCaseSensitive(root, "desiredAgents");
	if (list == NULL || cJSON_IsNull(list)) {
		ret = 0;	/* a Go nil slice: no agents configured */
		goto out;
	}
	if (!cJSON_IsArray(list)) {
		snprintf(err, errlen, "desiredAgents is not a list");
		goto out;
	}
	if (cJSON_GetArraySize(list) > HB_AGENTS_MAX) {
		snprintf(err, errlen, "desiredAgents has more than %d entries", HB_AGENTS_MAX);
		goto out;
	}
	r->agents = xcalloc((size_t)cJSON_GetArraySize(list), sizeof(*r->agents));
	cJSON_ArrayForEach(o, list) {
		struct desired *d = &r->agents[i++];

		if (!cJSON_IsObject(o))
			invalid(d, "entry %zu is not an object", i);
		d->name = field(d, o, "name");
		d->version = field(d, o, "version");
		d->tarball = field(d, o, "tarball");
		d->md5 = field(d, o, "md5");
		d->cmd = field(d, o, "cmd");
		validate(d);
	}
	r->n = i;
	refuse_duplicates(r->agents, r->n);
	ret = 0;
out:
	cJSON_Delete(root);
	if (ret == -1)
		hb_free(r);
	return ret;
}

/* POST req to server's /heartbeat; the answer into resp. 0 on HTTP 200,
 * else -1 (logged). */
static int
post(const char *server, const char *req, struct buf *resp)
{
	char *url = xasprintf("%s/heartbeat", server);
	int ret;

	log_debug(NULL, "POST %s: %s", url, req);
	if ((ret = fetch_post_json(url, req, HB_RESPONSE_MAX, resp)) == 0)
		log_debug(NULL, "response: %.*s", (int)resp->len, resp->data ? resp->data : "");
	free(url);
	return ret;
}

int
hb_report(const struct config *cfg, const char *server, const struct real_agent *list, size_t n,
    const char *self_error)
{
	char *req = hb_request(cfg->hostname, list, n, cfg->heartbeat_self, self_error, time(NULL));
	struct buf resp = { 0 };
	int ret = post(server, req, &resp);

	buf_free(&resp);
	free(req);
	return ret;
}

/* POST the request to one server and parse its answer into r. 0; -1
 * (logged) when no ops-meta answer came from it (no connection, a
 * timeout, any HTTP status but 200, a 200 that is no ops-meta answer):
 * another server may give one, for a redirect, a 401, 403 or 404 says
 * something of that one only (a proxy whose backend moved, a replica with
 * a stale password); -2 (logged) when it answered with an errorMessage:
 * ops-meta's own word, to change nothing this pass. */
static int
hb_post(const char *server, const char *req, struct hb_response *r)
{
	char *url = xasprintf("%s/heartbeat", server);
	struct buf resp = { 0 };
	char err[128];
	int ret = -1;

	if (post(server, req, &resp) == -1)
		goto out;
	if (hb_parse(resp.data ? resp.data : "", resp.len, r, err, sizeof(err)) == -1) {
		/* A proxy's page in front of a server that is down (an
		 * error_page answered 200): no word from ops-meta. */
		log_errx(NULL, "POST %s: %s", url, err);
		goto out;
	}
	if (r->error_message[0] != '\0') {
		log_errx(NULL, "POST %s: server says: %s; changing nothing this pass", url,
		    r->error_message);
		hb_free(r);
		ret = -2;
		goto out;
	}
	ret = 0;
out:
	buf_free(&resp);
	free(url);
	return ret;
}

/* Until when server state f keeps its server after the others: as its
 * Retry-After asked (in until), or HB_FAILED_LAST after its failure when
 * it did not say (or a state from before until was kept). */
static long long
demoted_until(const struct server_state *f)
{
	return f->until > 0 ? f->until : f->failed_at + HB_FAILED_LAST;
}

/* The order in which to try the servers of cfg: the host's own
 * (rollout_order), but servers that failed lately (recent[i]: when, and
 * until when they go last) after the others, so that a dead one does not
 * cost every pass its timeout, and a server back from an outage, or one
 * whose Retry-After ran out, gets its share again. A failure recorded in
 * the future, or an end further than the longest demotion (a clock set
 * back), does not demote. */
static void
hb_order(const struct config *cfg, const struct server_state *recent, long long now, size_t *order)
{
	size_t *own = xcalloc(cfg->nservers, sizeof(*own)), i, k = 0;
	int pass;

	rollout_order(cfg->hostname, cfg->nservers, own);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < cfg->nservers; i++) {
			const struct server_state *f = recent != NULL ? &recent[own[i]] : NULL;
			long long end = f != NULL && f->failed_at != 0 ? demoted_until(f) : 0;
			int failed = end > now && f->failed_at <= now &&
			    end <= now + (HB_FAILED_LAST > FETCH_WAIT_SERVER_MAX ? HB_FAILED_LAST : FETCH_WAIT_SERVER_MAX);

			if (failed == pass)
				order[k++] = own[i];
		}
	free(own);
}

/* Server i of cfg failed at now: it goes last for as long as its
 * Retry-After asked (fetchwait.h keeps it, capped), else (until 0) for
 * HB_FAILED_LAST. */
static void
demote(const struct config *cfg, size_t i, long long now, struct server_state *f)
{
	const struct fetch_backoff *b = fetch_wait_for(cfg->servers[i], now);

	f->failed_at = now;
	f->until = b != NULL ? b->until : 0;
}

int
hb_send(const struct config *cfg, const struct real_agent *list, size_t n, const char *self_error,
    const struct server_state *recent, struct hb_response *r)
{
	char *req = hb_request(cfg->hostname, list, n, cfg->heartbeat_self, self_error, time(NULL));
	size_t *order = xcalloc(cfg->nservers, sizeof(*order)), i;
	struct server_state *failed = xcalloc(cfg->nservers, sizeof(*failed));
	long long now = (long long)time(NULL);
	struct buf why = { 0 };
	int ret = -1;

	memset(r, 0, sizeof(*r));
	hb_order(cfg, recent, now, order);
	for (i = 0; i < cfg->nservers && ret == -1; i++) {
		/* Past the pass deadline a request would time out at once:
		 * the server would be blamed for the pass's time, not its own.
		 * Nor is the first one sent: whether it fits in what is left
		 * of a deadline's last millisecond is chance, and a pass cut
		 * before its heartbeat must say so every time. */
		if (deadline_passed()) {
			log_errx(NULL, "the pass deadline (pass_timeout) has passed: %s and the servers after it "
			    "not tried", cfg->servers[order[i]]);
			break;
		}
		if (i > 0)
			log_info(NULL, "trying the next server, %s", cfg->servers[order[i]]);
		log_capture(HB_SELF);
		if ((ret = hb_post(cfg->servers[order[i]], req, r)) == 0) {
			r->server = xstrdup(cfg->servers[order[i]]);
			refuse_reserved(cfg, r);
		} else if (ret == -1) {
			demote(cfg, order[i], now, &failed[order[i]]);
			if (why.len > 0)
				buf_add(&why, "; ", 2);
			buf_add(&why, log_captured(), strlen(log_captured()));
		}
	}
	/* The failure of the heartbeat names every server's answer, not
	 * only the last one's. */
	if (ret == -1 && i > 1)
		log_errx(NULL, "no server gave an ops-meta answer: %.*s", (int)why.len, why.data);
	buf_free(&why);
	r->failed = failed;
	free(order);
	free(req);
	return ret == 0 ? 0 : -1;
}

struct server_state *
hb_recent(const struct config *cfg, const struct pass_state *prev)
{
	struct server_state *recent = xcalloc(cfg->nservers, sizeof(*recent));
	size_t i, j;

	for (i = 0; prev != NULL && i < cfg->nservers; i++)
		for (j = 0; j < prev->nservers; j++)
			if (strcmp(prev->servers[j].url, cfg->servers[i]) == 0) {
				recent[i].failed_at = prev->servers[j].failed_at;
				recent[i].until = prev->servers[j].until;
			}
	return recent;
}

void
hb_remember(const struct config *cfg, const struct hb_response *r, const struct server_state *recent,
    struct pass_state *next)
{
	struct server_state *failed = xcalloc(cfg->nservers, sizeof(*failed));
	size_t i, n = 0;

	if (r->server != NULL) {
		free(next->server);
		next->server = xstrdup(r->server);
	}
	for (i = 0; i < cfg->nservers; i++) {
		const struct server_state *t = r->failed != NULL && r->failed[i].failed_at ? &r->failed[i] :
		    &recent[i];

		/* One that answered now is well again. */
		if (t->failed_at != 0 && (r->server == NULL || strcmp(r->server, cfg->servers[i]) != 0))
			failed[n++] = (struct server_state){ cfg->servers[i], t->failed_at, t->until };
	}
	state_set_servers(next, failed, n);
	free(failed);
}

void
hb_free(struct hb_response *r)
{
	size_t i;

	for (i = 0; r->agents != NULL && i < r->n; i++) {
		free(r->agents[i].name);
		free(r->agents[i].version);
		free(r->agents[i].tarball);
		free(r->agents[i].md5);
		free(r->agents[i].cmd);
	}
	free(r->agents);
	free(r->error_message);
	free(r->server);
	free(r->failed);
	memset(r, 0, sizeof(*r));
}
