#include "fetchwait.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "state.h"
#include "util.h"

static int origin(const char *url, char **scheme, char **host, char **port);

/* Origins that answered 429 or 503 with a Retry-After: not asked again
 * before their time, in this pass or (through the state) later ones. */
static struct fetch_backoff backoffs[FETCH_BACKOFF_MAX];
static size_t nbackoffs;
/* Waits learnt in this pass that the list had no room for: not written,
 * but their origins are not asked again in this pass. */
static struct fetch_backoff *extra;
static size_t nextra;
/* run --now: the last pass's waits are not waited for. */
static int ignore_loaded;
/* The origins of the servers of the config: the heartbeat's. */
static char servers[CONFIG_SERVERS_MAX][FETCH_ORIGIN_MAX];
static size_t nservers;

void
fetch_wait_servers(char *const *list, size_t n)
{
	size_t i;

	for (nservers = 0, i = 0; i < n && nservers < CONFIG_SERVERS_MAX; i++)
		if (fetch_origin_of(list[i], servers[nservers], sizeof(servers[0])) == 0)
			nservers++;
}

/* Is origin o one of the servers', the heartbeat's? */
static int
heartbeat_origin(const char *o)
{
	size_t i;

	for (i = 0; i < nservers; i++)
		if (strcmp(servers[i], o) == 0)
			return 1;
	return 0;
}

/* The longest wait origin o may be parked for. */
static long long
cap(const char *o)
{
	return heartbeat_origin(o) ? FETCH_WAIT_SERVER_MAX : FETCH_WAIT_FILES_MAX;
}

/* The origin of url as "scheme://host:port" (lowercase, the port spelt
 * out) into buf; 0, or -1 when url does not parse. */
int
fetch_origin_of(const char *url, char *buf, size_t len)
{
	char *scheme, *host, *port;
	int ok = origin(url, &scheme, &host, &port) &&
	    (size_t)snprintf(buf, len, "%s://%s:%s", scheme, host, port) < len;
	size_t i;

	for (i = 0; ok && buf[i] != '\0'; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	return ok ? 0 : -1;
}

/* The entry for origin o, or NULL. */
struct fetch_backoff *
fetch_backoff_find(const char *o)
{
	size_t i;

	for (i = 0; i < nbackoffs; i++)
		if (strcmp(backoffs[i].origin, o) == 0)
			return &backoffs[i];
	for (i = 0; i < nextra; i++)
		if (strcmp(extra[i].origin, o) == 0)
			return &extra[i];
	return NULL;
}

/* A fresh entry of the list for origin o's wait at time now, or NULL when
 * it has no room: waits that have ended go first, one still running
 * never. A server's origin always fits (FETCH_BACKOFF_MAX). */
static struct fetch_backoff *
slot(const char *o, long long now)
{
	size_t i, k, files = 0;

	for (i = k = 0; i < nbackoffs; i++)
		if (backoffs[i].until > now)
			backoffs[k++] = backoffs[i];
	nbackoffs = k;
	for (i = 0; i < nbackoffs; i++)
		files += !backoffs[i].heartbeat;
	if ((!heartbeat_origin(o) && files >= FETCH_WAITS_FILES) || nbackoffs == FETCH_BACKOFF_MAX)
		return NULL;
	return &backoffs[nbackoffs++];
}

/* A 429 or 503 for url with Retry-After value v: its origin is left alone
 * until then (logged). Without a usable value nothing is remembered: the
 * caller's own backoff applies. */
void
fetch_asked_to_wait(const char *agent, const char *url, long code, const char *v)
{
	long long now = (long long)time(NULL), wait = v[0] ? fetch_retry_after(v, now) : -1;
	struct fetch_backoff *b;
	char o[FETCH_ORIGIN_MAX], at[32];

	if (wait <= 0 || fetch_origin_of(url, o, sizeof(o)) == -1)
		return;
	if ((b = fetch_backoff_find(o)) == NULL) {
		if ((b = slot(o, now)) == NULL) {
			extra = xrealloc(extra, (nextra + 1) * sizeof(*extra));
			b = &extra[nextra++];
			log_warnx(agent, "the list of waits is full (%d origins besides the servers', each still "
			    "waiting): %s is left alone for this pass only", FETCH_WAITS_FILES, o);
		}
		memset(b, 0, sizeof(*b));
		snprintf(b->origin, sizeof(b->origin), "%s", o);
	}
	b->heartbeat = heartbeat_origin(o);
	b->until = now + (wait < cap(o) ? wait : cap(o));
	b->status = code;
	b->fresh = 1;
	log_warnx(agent, "%s answered HTTP %ld with Retry-After: %s; not asked again before %s%s",
	    o, code, v, state_time(b->until, at, sizeof(at)), wait <= cap(o) ? "" : b->heartbeat ?
	    " (the heartbeat's servers wait 5 minutes at most)" : " (an hour at most)");
}

const struct fetch_backoff *
fetch_wait_for(const char *url, long long now)
{
	const struct fetch_backoff *b;
	char o[FETCH_ORIGIN_MAX];

	if (fetch_origin_of(url, o, sizeof(o)) == -1 || (b = fetch_backoff_find(o)) == NULL ||
	    b->until <= now || (ignore_loaded && !b->fresh))
		return NULL;
	return b;
}

void
fetch_wait_over(const char *url)
{
	struct fetch_backoff *b;
	char o[FETCH_ORIGIN_MAX];

	if (fetch_origin_of(url, o, sizeof(o)) == -1 || (b = fetch_backoff_find(o)) == NULL)
		return;
	if (b >= backoffs && b < backoffs + nbackoffs) {
		memmove(b, b + 1, (size_t)(backoffs + nbackoffs - (b + 1)) * sizeof(*b));
		nbackoffs--;
	} else {
		memmove(b, b + 1, (size_t)(extra + nextra - (b + 1)) * sizeof(*b));
		nextra--;
	}
}

void
fetch_backoff_load(const struct fetch_backoff *list, size_t n, int ignore)
{
	long long now = (long long)time(NULL);
	struct fetch_backoff *b;
	size_t i;

	nbackoffs = nextra = 0;
	ignore_loaded = ignore;
	for (i = 0; i < n; i++)
		/* A date beyond the longest wait is a clock that jumped back,
		 * or a cap lowered since (the heartbeat's, from a day). */
		if (list[i].until > now && list[i].until <= now + cap(list[i].origin) &&
		    fetch_backoff_find(list[i].origin) == NULL && (b = slot(list[i].origin, now)) != NULL) {
			*b = list[i];
			b->heartbeat = heartbeat_origin(b->origin);
			b->fresh = 0;
		}
}

size_t
fetch_backoff_list(const struct fetch_backoff **list)
{
	*list = backoffs;
	return nbackoffs;
}

/* The parts of url that make its origin, each freed by the caller. */
static int
origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	int ok;

	*scheme = *host = *port = NULL;
	ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok;
}

int
fetch_same_origin(const char *a, const char *b)
{
	char *sa, *ha, *pa, *sb, *hb, *pb;
	/* Both parsed first: origin() sets every pointer, NULL on failure. */
	int oka = origin(a, &sa, &ha, &pa), okb = origin(b, &sb, &hb, &pb);
	int same = oka && okb && strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 &&
	    strcmp(pa, pb) == 0;

	curl_free(sa);
	curl_free(ha);
	curl_free(pa);
	curl_free(sb);
	curl_free(hb);
	curl_free(pb);
	return same;
}

long long
fetch_retry_after(const char *value, long long now)
{
	long long v = 0;
	const char *p = value;
	time_t t;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p >= '0' && *p <= '9') {
		/* delay-seconds: digits only (RFC 9110, 10.2.3); no overflow. */
		for (; *p >= '0' && *p <= '9'; p++)
			if ((v = v * 10 + (*p - '0')) > FETCH_RETRY_AFTER_MAX)
				v = FETCH_RETRY_AFTER_MAX;
		while (*p == ' ' || *p == '\t')
			p++;
		return *p == '\0' ? v : -1;
	}
	/* An HTTP-date, in any of the three forms libcurl knows. */
	if (*p == '\0' || (t = curl_getdate(p, NULL)) == -1)
		return -1;
	v = (long long)t - now;
	return v < 0 ? 0 : v > FETCH_RETRY_AFTER_MAX ? FETCH_RETRY_AFTER_MAX : v;
}
