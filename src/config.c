#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "configpos.h"
#include "spawn.h"
#include "util.h"

/* Keys live at the top (section NULL) or in one of these objects. */
static const char *const sections[] = { "tls", "auth", "verify" };

struct strkey {
	const char *section, *key;
	size_t off;
	int path;		/* relative to the config's directory */
};

static const struct strkey strkeys[] = {
	{ NULL, "hostname", offsetof(struct config, hostname), 0 },
	{ NULL, "workdir", offsetof(struct config, workdir), 1 },
	{ NULL, "log", offsetof(struct config, log), 1 },
	{ NULL, "metrics_file", offsetof(struct config, metrics_file), 1 },
	{ NULL, "proxy", offsetof(struct config, proxy), 0 },
	{ NULL, "no_proxy", offsetof(struct config, no_proxy), 0 },
	{ NULL, "path", offsetof(struct config, path), 0 },
	{ "tls", "ca_file", offsetof(struct config, tls_ca_file), 1 },
	{ "tls", "cert_file", offsetof(struct config, tls_cert_file), 1 },
	{ "tls", "key_file", offsetof(struct config, tls_key_file), 1 },
	{ "auth", "user", offsetof(struct config, auth_user), 0 },
	{ "auth", "password_file", offsetof(struct config, auth_password_file), 1 },
	{ "verify", "public_key", offsetof(struct config, public_key_file), 1 },
};

struct intkey {
	const char *key;
	size_t off;
	int def, min, max;
};

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
	{ "control_log_max_mb", offsetof(struct config, control_log_max_mb), 10, 0, 1 << 20 },
	{ "keep_versions", offsetof(struct config, keep_versions), 2, 0, 1000 },
	{ "unpack_max_mb", offsetof(struct config, unpack_max_mb), 4096, 1, 1 << 20 },
	{ "health_wait", offsetof(struct config, health_wait), 10, 0, 3600 },
	{ "retry_failed", offsetof(struct config, retry_failed), 3600, 0, 86400 },
	{ "partial_max_age", offsetof(struct config, partial_max_age), 86400, 0, 30 * 86400 },
	{ "download_rate_kbps", offsetof(struct config, download_rate_kbps), 0, 0, 1 << 30 },
	{ "rollout_spread", offsetof(struct config, rollout_spread), 0, 0, 7 * 86400 },
	{ "probation_window", offsetof(struct config, probation_window), 900, 0, 86400 },
	{ "probation_deaths", offsetof(struct config, probation_deaths), 2, 0, 100 },
	{ "pass_timeout", offsetof(struct config, pass_timeout), 1800, 1, 86400 },
};

struct boolkey {
	const char *section, *key;
	size_t off;
};

static const struct boolkey boolkeys[] = {
	{ NULL, "debug", offsetof(struct config, verbose) },
	{ NULL, "heartbeat_self", offsetof(struct config, heartbeat_self) },
	{ "tls", "insecure", offsetof(struct config, tls_insecure) },
};

/* Keys of the Go updater's cfg.json, accepted so old configs still load. */
static const char *const legacy[] = { "interval", "desiredAgent", "http" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
config_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Is key known in section (NULL: the top level)? */
static int
known(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < NELEM(strkeys); i++)
		if (same(section, strkeys[i].section) && strcmp(key, strkeys[i].key) == 0)
			return 1;
	for (i = 0; i < NELEM(boolkeys); i++)
		if (same(section, boolkeys[i].section) && strcmp(key, boolkeys[i].key) == 0)
			return 1;
	if (section != NULL)
		return 0;
	for (i = 0; i < NELEM(intkeys); i++)
		if (strcmp(key, intkeys[i].key) == 0)
			return 1;
	for (i = 0; i < NELEM(legacy); i++)
		if (strcmp(key, legacy[i]) == 0)
			return 1;
	return strcmp(key, "agents") == 0 || strcmp(key, "server") == 0;
}

static int
is_section(const char *key)
{
	size_t i;

	for (i = 0; i < NELEM(sections); i++)
		if (strcmp(key, sections[i]) == 0)
			return 1;
	return 0;
}

/* Every key of obj known and given once; sections are objects. */
static int
check_keys(const cJSON *obj, const char *section, char *err, size_t errlen)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, obj) {
		const char *pre = section ? section : "", *dot = section ? "." : "";

		if (section == NULL && is_section(v->string)) {
			if (!cJSON_IsObject(v))
				return config_fail(err, errlen, "%s: must be an object", v->string);
			if (check_keys(v, v->string, err, errlen) == -1)
				return -1;
		} else if (!known(section, v->string))
			return config_fail(err, errlen, "%s%s%s: unknown key", pre, dot, v->string);
		/* cJSON would silently use the first of two. */
		if (cJSON_GetObjectItemCaseSensitive(obj, v->string) != v)
			return config_fail(err, errlen, "%s%s%s: given twice", pre, dot, v->string);
	}
	return 0;
}

/* The item at section.key, or NULL. */
static const cJSON *
item(const cJSON *root, const char *section, const char *key)
{
	if (section != NULL && (root = cJSON_GetObjectItemCaseSensitive(root, section)) == NULL)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(root, key);
}

static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			return 1;
	return 0;
}

static int
get_str(const cJSON *root, const struct strkey *k, const char *dir, char **out, char *err, size_t errlen)
{
	const cJSON *v = item(root, k->section, k->key);
	const char *pre = k->section ? k->section : "", *dot = k->section ? "." : "";

	if (v == NULL) {
		*out = xstrdup("");
		return 0;
	}
	if (!cJSON_IsString(v))
		return config_fail(err, errlen, "%s%s%s: must be a string", pre, dot, k->key);
	if (has_control(v->valuestring))
		return config_fail(err, errlen, "%s%s%s: must not contain control characters", pre, dot, k->key);
	if (k->path && v->valuestring[0] != '\0' && v->valuestring[0] != '/')
		*out = xasprintf("%s/%s", dir, v->valuestring);
	else
		*out = xstrdup(v->valuestring);
	return 0;
}

static int
get_int(const cJSON *root, const struct intkey *k, int *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, k->key);
	double d;

	if (v == NULL) {
		*out = k->def;
		return 0;
	}
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!(d >= k->min && d <= k->max) || d != (double)(long long)d)
		return config_fail(err, errlen, "%s: must be a whole number from %d to %d", k->key, k->min, k->max);
	*out = (int)d;
	return 0;
}

static int
get_bool(const cJSON *root, const struct boolkey *k, int *out, char *err, size_t errlen)
{
	const cJSON *v = item(root, k->section, k->key);

	if (v != NULL && !cJSON_IsBool(v))
		return config_fail(err, errlen, "%s%s%s: must be true or false", k->section ? k->section : "",
		    k->section ? "." : "", k->key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* One server URL in *s, made canonical: "host:port" means
 * http://host:port, as the Go updater read it; no trailing '/'. */
static int
norm_server(char **s, char *err, size_t errlen)
{
	char *sep;
	size_t n;

	if (**s == '\0')
		return config_fail(err, errlen, "server: must be set (http://host:port)");
	if (strpbrk(*s, " \t\"<>\\^`{|}") != NULL)
		return config_fail(err, errlen, "server: must be a URL without spaces or quotes");
	if ((sep = strstr(*s, "://")) == NULL) {
		sep = xasprintf("http://%s", *s);
		free(*s);
		*s = sep;
	} else if (!(sep - *s == 4 && strncasecmp(*s, "http", 4) == 0) &&
	    !(sep - *s == 5 && strncasecmp(*s, "https", 5) == 0))
		return config_fail(err, errlen, "server: scheme must be http:// or https://");
	else if (sep[3] == '\0' || sep[3] == '/')
		return config_fail(err, errlen, "server: no host in '%s'", *s);
	n = strlen(*s);
	while (n > 0 && (*s)[n - 1] == '/')
		(*s)[--n] = '\0';
	return 0;
}

/* "server": one URL, or a list of them (ops-meta servers to fail over
 * between); cfg->server is the first. */
static int
set_servers(struct config *cfg, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "server"), *e;
	size_t i, j, n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;

	if (v != NULL && !cJSON_IsString(v) && !cJSON_IsArray(v))
		return config_fail(err, errlen, "server: must be a URL or a list of URLs");
	/* Given as "" (the package's cfg.json until an operator sets it), the
	 * host is not configured: see config_unconfigured. Left out, it is a
	 * mistake. */
	if (cJSON_IsString(v) && v->valuestring[0] == '\0') {
		cfg->servers = xcalloc(2, sizeof(char *));
		cfg->servers[0] = xstrdup("");
		cfg->server = cfg->servers[0];
		return 0;
	}
	if (cJSON_IsArray(v) && (n == 0 || n > CONFIG_SERVERS_MAX))
		return config_fail(err, errlen, "server: a list of 1 to %d URLs", CONFIG_SERVERS_MAX);
	cfg->servers = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		e = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, (int)i) : v;
		if (e != NULL && !cJSON_IsString(e))
			return config_fail(err, errlen, "server: entry %zu is not a string", i + 1);
		cfg->servers[i] = xstrdup(e != NULL ? e->valuestring : "");
		cfg->nservers = i + 1;
		if (has_control(cfg->servers[i]))
			return config_fail(err, errlen, "server: must not contain control characters");
		if (norm_server(&cfg->servers[i], err, errlen) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->servers[i], cfg->servers[j]) == 0)
				return config_fail(err, errlen, "server: %s is listed twice", cfg->servers[i]);
	}
	cfg->server = cfg->servers[0];
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
		return config_fail(err, errlen, "agents: must be a list of agent names");
	cfg->nagents = (size_t)cJSON_GetArraySize(list);
	cfg->agents = xcalloc(cfg->nagents + 1, sizeof(char *));
	cJSON_ArrayForEach(v, list) {
		if (!cJSON_IsString(v) || !name_is_valid(v->valuestring))
			return config_fail(err, errlen, "agents: entry %zu is not a valid agent name", i + 1);
		cfg->agents[i++] = xstrdup(v->valuestring);
	}
	return 0;
}

/* Keys that only make sense together. */
static int
check_pairs(const struct config *cfg, char *err, size_t errlen)
{
	if ((*cfg->tls_cert_file == '\0') != (*cfg->tls_key_file == '\0'))
		return config_fail(err, errlen, "tls.cert_file and tls.key_file: set both or neither");
	if ((*cfg->auth_user == '\0') != (*cfg->auth_password_file == '\0'))
		return config_fail(err, errlen, "auth.user and auth.password_file: set both or neither");
	if (strchr(cfg->auth_user, ':') != NULL)
		return config_fail(err, errlen, "auth.user: must not contain ':'");
	return 0;
}

/* An http(s) proxy URL with a host, or "" for the environment's. No
 * credentials: cfg.json is no place for a password (see auth). */
static int
check_proxy(const char *p, char *err, size_t errlen)
{
	const char *host, *end;

	if (*p == '\0')
		return 0;
	if (strncasecmp(p, "http://", 7) == 0)
		host = p + 7;
	else if (strncasecmp(p, "https://", 8) == 0)
		host = p + 8;
	else
		return config_fail(err, errlen, "proxy: must be an http:// or https:// URL (http://host:port)");
	if (strpbrk(p, " \t\"<>\\^`{|}") != NULL)
		return config_fail(err, errlen, "proxy: must be a URL without spaces or quotes");
	end = host + strcspn(host, "/?#");
	if (end == host)
		return config_fail(err, errlen, "proxy: no host in '%s'", p);
	if (memchr(host, '@', (size_t)(end - host)) != NULL)
		return config_fail(err, errlen, "proxy: must not hold credentials (user:password@)");
	return 0;
}

/* The children's PATH: absolute directories only, none empty. A relative
 * one (or an empty one, which means ".") would make root run whatever
 * tar or start-stop-daemon lies in the directory a child runs in. */
static int
check_path(const char *path, char *err, size_t errlen)
{
	const char *p = path, *end;

	if (strlen(path) > 4096)
		return config_fail(err, errlen, "path: longer than 4096 bytes");
	for (;; p = end + 1) {
		end = p + strcspn(p, ":");
		if (*p != '/')
			return config_fail(err, errlen, "path: '%.*s' is not an absolute directory "
			    "(every entry must start with '/'; an empty one means '.')", (int)(end - p > 200 ? 200 : end - p), p);
		if (*end == '\0')
			return 0;
	}
}

int
config_parse(struct config *cfg, const char *text, const char *dir, char *err, size_t errlen)
{
	const char *end = NULL, *at = NULL;	/* at: where it went wrong, when not at a key */
	cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
	size_t i;
	int ret = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (root == NULL) {
		config_fail(err, errlen, "JSON syntax error");
		at = end != NULL ? end : text;
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		config_fail(err, errlen, "not a JSON object");
		at = text + strspn(text, " \t\r\n");
		goto out;
	}
	if (check_keys(root, NULL, err, errlen) == -1)
		goto out;
	for (i = 0; i < NELEM(strkeys); i++)
		if (get_str(root, &strkeys[i], dir, (char **)((char *)cfg + strkeys[i].off), err, errlen) == -1)
			goto out;
	for (i = 0; i < NELEM(intkeys); i++)
		if (get_int(root, &intkeys[i], (int *)((char *)cfg + intkeys[i].off), err, errlen) == -1)
			goto out;
	for (i = 0; i < NELEM(boolkeys); i++)
		if (get_bool(root, &boolkeys[i], (int *)((char *)cfg + boolkeys[i].off), err, errlen) == -1)
			goto out;
	if (set_servers(cfg, root, err, errlen) == -1 || set_agents(cfg, root, err, errlen) == -1 ||
	    check_pairs(cfg, err, errlen) == -1 || check_proxy(cfg->proxy, err, errlen) == -1)
		goto out;
	if (*cfg->path == '\0') {
		free(cfg->path);
		cfg->path = xstrdup(SPAWN_PATH_DEFAULT);
	}
	if (check_path(cfg->path, err, errlen) == -1)
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
	cJSON_Delete(root);
	if (ret == -1) {
		config_position(text, at, err, errlen);
		config_free(cfg);
	}
	return ret;
}

int
config_unconfigured(const struct config *cfg)
{
	return cfg->server[0] == '\0';
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

	for (i = 0; i < NELEM(strkeys); i++)
		free(*(char **)((char *)cfg + strkeys[i].off));
	for (i = 0; cfg->agents && cfg->agents[i]; i++)
		free(cfg->agents[i]);
	for (i = 0; cfg->servers && cfg->servers[i]; i++)
		free(cfg->servers[i]);
	free(cfg->servers);
	free(cfg->agents);
	if (cfg->auth_password != NULL) {
		explicit_bzero(cfg->auth_password, strlen(cfg->auth_password));
		free(cfg->auth_password);
	}
	EVP_PKEY_free(cfg->public_key);
	memset(cfg, 0, sizeof(*cfg));
}

void
config_dump(FILE *out, const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nservers; i++)
		fprintf(out, "server %s\n", cfg->servers[i]);
	if (config_unconfigured(cfg))
		fputs("server \n", out);
	for (i = 0; i < NELEM(strkeys); i++)
		fprintf(out, "%s%s%s %s\n", strkeys[i].section ? strkeys[i].section : "",
		    strkeys[i].section ? "." : "", strkeys[i].key, *(char **)((char *)cfg + strkeys[i].off));
	for (i = 0; i < NELEM(intkeys); i++)
		fprintf(out, "%s %d\n", intkeys[i].key, *(int *)((char *)cfg + intkeys[i].off));
	for (i = 0; i < NELEM(boolkeys); i++)
		fprintf(out, "%s%s%s %s\n", boolkeys[i].section ? boolkeys[i].section : "",
		    boolkeys[i].section ? "." : "", boolkeys[i].key,
		    *(int *)((char *)cfg + boolkeys[i].off) ? "true" : "false");
	fputs("agents", out);
	for (i = 0; i < cfg->nagents; i++)
		fprintf(out, " %s", cfg->agents[i]);
	fputs("\n", out);
}

/* Append ", what" (or "what" first) to buf, cut at len. */
static void
say_also(char *buf, size_t len, const char *what)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", what);
}

const char *
config_protection(const struct config *cfg, char *buf, size_t len)
{
	int https = cfg->nservers > 0, verified;
	size_t i;

	/* The weakest server decides: any plain one is plain http. */
	for (i = 0; i < cfg->nservers; i++)
		https &= strncasecmp(cfg->servers[i], "https://", 8) == 0;
	verified = https && !cfg->tls_insecure;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (config_unconfigured(cfg)) {
		say_also(buf, len, "none: not configured (server is empty), passes do nothing");
		return buf;
	}
	if (!https)
		say_also(buf, len, "plain http");
	else {
		say_also(buf, len, "https");
		if (cfg->tls_insecure)
			say_also(buf, len, "certificates NOT verified");
		else if (*cfg->tls_ca_file)
			say_also(buf, len, "CA pinned (tls.ca_file)");
		else
			say_also(buf, len, "system CAs");
		if (*cfg->tls_cert_file)
			say_also(buf, len, "client certificate");
	}
	/* Over plain http, Basic auth is readable by anyone on the path. */
	if (*cfg->auth_user && !https)
		say_also(buf, len, "password sent in clear");
	if (*cfg->public_key_file)
		say_also(buf, len, "signed releases (verify.public_key)");
	else if (verified)
		say_also(buf, len, "no key: releases as trusted as the server (MD5 from the same origin)");
	else
		say_also(buf, len, "no key: accidental corruption only (MD5 from the same origin)");
	return buf;
}
