#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "file.h"
#include "util.h"

#define CONFIG_MAX (1 << 20)

struct intkey {
	const char *key;
	size_t off;
	int def, min, max;
};

/* Every integer key: name, where it goes, default, range. */
static const struct intkey intkeys[] = {
	{ "jitter", offsetof(struct config, jitter), 240, 0, 3600 },
	{ "control_timeout", offsetof(struct config, control_timeout), 30, 1, 3600 },
	{ "status_wait", offsetof(struct config, status_wait), 15, 0, 3600 },
	{ "connect_timeout", offsetof(struct config, connect_timeout), 10, 1, 600 },
	{ "heartbeat_timeout", offsetof(struct config, heartbeat_timeout), 60, 1, 3600 },
	{ "download_timeout", offsetof(struct config, download_timeout), 1800, 1, 86400 },
	{ "download_stall", offsetof(struct config, download_stall), 60, 1, 3600 },
	{ "download_max_mb", offsetof(struct config, download_max_mb), 1024, 1, 1 << 20 },
	{ "log_max_mb", offsetof(struct config, log_max_mb), 10, 0, 1 << 20 },
};

static const char *const strkeys[] = { "server", "hostname", "workdir", "log" };
/* Keys of the Go updater's cfg.json, accepted so old configs still load. */
static const char *const legacy[] = { "debug", "interval", "desiredAgent", "http" };

static int fail(char *err, size_t errlen, const char *fmt, ...) ATTR_PRINTF(3, 4);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
known(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(intkeys) / sizeof(intkeys[0]); i++)
		if (strcmp(key, intkeys[i].key) == 0)
			return 1;
	for (i = 0; i < sizeof(strkeys) / sizeof(strkeys[0]); i++)
		if (strcmp(key, strkeys[i]) == 0)
			return 1;
	for (i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (strcmp(key, legacy[i]) == 0)
			return 1;
	return strcmp(key, "agents") == 0;
}

/* The string at key, or def when absent; -1 when it is not a string. */
static int
get_str(const cJSON *root, const char *key, const char *def, char **out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	const char *p;

	if (v == NULL) {
		*out = xstrdup(def);
		return 0;
	}
	if (!cJSON_IsString(v))
		return fail(err, errlen, "%s: must be a string", key);
	for (p = v->valuestring; *p; p++)
		if ((unsigned char)*p < 0x20)
			return fail(err, errlen, "%s: must not contain control characters", key);
	*out = xstrdup(v->valuestring);
	return 0;
}

static int
get_int(const cJSON *root, const struct intkey *k, long long *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, k->key);
	double d;

	if (v == NULL) {
		*out = k->def;
		return 0;
	}
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!(d >= k->min && d <= k->max) || d != (double)(long long)d)
		return fail(err, errlen, "%s: must be a whole number from %d to %d", k->key, k->min, k->max);
	*out = (long long)d;
	return 0;
}

/* "host:port" means http://host:port, as the Go updater read it. */
static int
set_server(struct config *cfg, char *err, size_t errlen)
{
	char *s = cfg->server, *sep;
	size_t n;

	if (*s == '\0')
		return fail(err, errlen, "server: must be set (http://host:port)");
	if (strpbrk(s, " \t\"<>\\^`{|}") != NULL)
		return fail(err, errlen, "server: must be a URL without spaces or quotes");
	if ((sep = strstr(s, "://")) == NULL) {
		cfg->server = xasprintf("http://%s", s);
		free(s);
	} else if (!(sep - s == 4 && strncasecmp(s, "http", 4) == 0) &&
	    !(sep - s == 5 && strncasecmp(s, "https", 5) == 0))
		return fail(err, errlen, "server: scheme must be http:// or https://");
	else if (sep[3] == '\0' || sep[3] == '/')
		return fail(err, errlen, "server: no host in '%s'", s);
	n = strlen(cfg->server);
	while (n > 0 && cfg->server[n - 1] == '/')
		cfg->server[--n] = '\0';
	return 0;
}

static int
set_agents(struct config *cfg, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "agents"), *v;
	size_t i = 0;

	if (list == NULL || cJSON_IsNull(list)) {
		cfg->agents = xcalloc(1, sizeof(char *));
		return 0;
	}
	if (!cJSON_IsArray(list))
		return fail(err, errlen, "agents: must be a list of agent names");
	cfg->nagents = (size_t)cJSON_GetArraySize(list);
	cfg->agents = xcalloc(cfg->nagents + 1, sizeof(char *));
	cJSON_ArrayForEach(v, list) {
		if (!cJSON_IsString(v) || !name_is_valid(v->valuestring))
			return fail(err, errlen, "agents: entry %zu is not a valid agent name", i + 1);
		cfg->agents[i++] = xstrdup(v->valuestring);
	}
	return 0;
}

int
config_parse(struct config *cfg, const char *text, const char *dir, char *err, size_t errlen)
{
	cJSON *root = cJSON_Parse(text), *v;
	char *strs[4] = { 0 };
	long long n = 0;
	size_t i;
	int ret = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (root == NULL || !cJSON_IsObject(root)) {
		fail(err, errlen, "not a JSON object%s", root ? "" : " (syntax error)");
		goto out;
	}
	cJSON_ArrayForEach(v, root) {
		if (!known(v->string)) {
			fail(err, errlen, "%s: unknown key", v->string);
			goto out;
		}
		/* cJSON would silently use the first of two. */
		if (cJSON_GetObjectItemCaseSensitive(root, v->string) != v) {
			fail(err, errlen, "%s: given twice", v->string);
			goto out;
		}
	}
	for (i = 0; i < 4; i++)
		if (get_str(root, strkeys[i], "", &strs[i], err, errlen) == -1)
			goto out;
	cfg->server = strs[0], cfg->hostname = strs[1], cfg->workdir = strs[2], cfg->log = strs[3];
	memset(strs, 0, sizeof(strs));
	for (i = 0; i < sizeof(intkeys) / sizeof(intkeys[0]); i++) {
		if (get_int(root, &intkeys[i], &n, err, errlen) == -1)
			goto out;
		*(int *)((char *)cfg + intkeys[i].off) = (int)n;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "debug");
	if (v != NULL && !cJSON_IsBool(v)) {
		fail(err, errlen, "debug: must be true or false");
		goto out;
	}
	cfg->verbose = cJSON_IsTrue(v);
	if (set_server(cfg, err, errlen) == -1 || set_agents(cfg, root, err, errlen) == -1)
		goto out;
	if (*cfg->workdir == '\0') {
		free(cfg->workdir);
		cfg->workdir = xstrdup(dir);
	}
	if (*cfg->log == '\0') {
		free(cfg->log);
		cfg->log = xasprintf("%s/ops-updater.log", cfg->workdir);
	}
	ret = 0;
out:
	for (i = 0; i < 4; i++)
		free(strs[i]);
	cJSON_Delete(root);
	if (ret == -1)
		config_free(cfg);
	return ret;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char *text, *copy, host[HOST_NAME_MAX + 1];
	int ret;

	if ((text = file_read(path, CONFIG_MAX)) == NULL)
		return fail(err, errlen, "cannot read: %s", strerror(errno));
	copy = xstrdup(path);
	ret = config_parse(cfg, text, dirname(copy), err, errlen);
	free(copy);
	free(text);
	if (ret == 0 && *cfg->hostname == '\0') {
		if (gethostname(host, sizeof(host)) == -1 || *host == '\0') {
			config_free(cfg);
			return fail(err, errlen, "hostname: empty, and the machine has none");
		}
		host[sizeof(host) - 1] = '\0';
		free(cfg->hostname);
		cfg->hostname = xstrdup(host);
	}
	return ret;
}

int
config_manages(const struct config *cfg, const char *name)
{
	size_t i;

	if (cfg->nagents == 0)
		return 1;
	for (i = 0; i < cfg->nagents; i++)
		if (strcmp(cfg->agents[i], name) == 0)
			return 1;
	return 0;
}

void
config_free(struct config *cfg)
{
	size_t i;

	free(cfg->server);
	free(cfg->hostname);
	free(cfg->workdir);
	free(cfg->log);
	for (i = 0; cfg->agents && cfg->agents[i]; i++)
		free(cfg->agents[i]);
	free(cfg->agents);
	memset(cfg, 0, sizeof(*cfg));
}
