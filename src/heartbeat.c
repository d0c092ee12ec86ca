#include "heartbeat.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "log.h"
#include "util.h"

char *
hb_request(const char *hostname, const struct real_agent *list, size_t n, time_t now)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	char *s;
	size_t i;

	if (root == NULL)
		goto oom;
	cJSON_AddStringToObject(root, "hostname", hostname);
	if ((arr = cJSON_AddArrayToObject(root, "realAgents")) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			goto oom;
		cJSON_AddItemToArray(arr, o);
		if (!cJSON_AddStringToObject(o, "name", list[i].name) ||
		    !cJSON_AddStringToObject(o, "version", list[i].version) ||
		    !cJSON_AddStringToObject(o, "status", list[i].status) ||
		    !cJSON_AddNumberToObject(o, "timestamp", (double)now))
			goto oom;
		/* An extra field: ops-meta (Go's encoding/json) ignores what it
		 * does not know, and a newer one can show it. */
		if (list[i].error != NULL && list[i].error[0] != '\0' &&
		    !cJSON_AddStringToObject(o, "error", list[i].error))
			goto oom;
	}
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

int
hb_send(const struct config *cfg, const struct real_agent *list, size_t n, struct hb_response *r)
{
	char *url = xasprintf("%s/heartbeat", cfg->server);
	char *req = hb_request(cfg->hostname, list, n, time(NULL));
	struct buf resp = { 0 };
	char err[128];
	int ret = -1;

	log_debug(NULL, "POST %s: %s", url, req);
	if (fetch_post_json(url, req, HB_RESPONSE_MAX, &resp) == -1)
		goto out;
	log_debug(NULL, "response: %.*s", (int)resp.len, resp.data ? resp.data : "");
	if (hb_parse(resp.data ? resp.data : "", resp.len, r, err, sizeof(err)) == -1) {
		log_errx(NULL, "POST %s: %s", url, err);
		goto out;
	}
	if (r->error_message[0] != '\0') {
		log_errx(NULL, "POST %s: server says: %s; changing nothing this pass", url,
		    r->error_message);
		hb_free(r);
		goto out;
	}
	ret = 0;
out:
	buf_free(&resp);
	free(req);
	free(url);
	return ret;
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
	memset(r, 0, sizeof(*r));
}
