#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "fetchsink.h"
#include "fetchwait.h"
#include "log.h"
#include "state.h"

#define USER_AGENT "ops-updater/" OPS_UPDATER_VERSION

/* Since 7.83.0 libcurl keeps credentials to the first URL's scheme, host
 * and port on a redirect (CVE-2022-27774); before, to its host name only. */
#if defined(LIBCURL_VERSION_NUM) && LIBCURL_VERSION_NUM < 0x075300	/* cppcheck has no curl.h */
#error "libcurl 7.83.0 or later is needed: older ones leak credentials across ports on a redirect"
#endif

static const struct config *conf;
static long last_status;	/* fetch_last_status */
static int last_too_big;	/* fetch_last_too_big */

void
fetch_init(const struct config *cfg)
{
	conf = cfg;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fetch_wait_servers(cfg->servers, cfg->nservers);
}

void
fetch_cleanup(void)
{
	curl_global_cleanup();
}

/* Is url on the origin of one of the configured servers? Credentials go
 * there and nowhere else. */
static int
server_origin(const char *url)
{
	size_t i;

	for (i = 0; i < conf->nservers; i++)
		if (fetch_same_origin(url, conf->servers[i]))
			return 1;
	return 0;
}

/* s seconds as milliseconds, cut at the pass deadline, at least 1. */
static long long
clamp_ms(long s)
{
	long long ms = deadline_left((long long)s * 1000);

	return ms > 0 ? ms : 1;
}

/* libcurl's TLS options of one peer: the server's or the proxy's. */
struct tls_opts {
	CURLoption verifypeer, verifyhost, cainfo, capath, sslcert, sslkey;
};
static const struct tls_opts server_tls = { CURLOPT_SSL_VERIFYPEER, CURLOPT_SSL_VERIFYHOST,
	CURLOPT_CAINFO, CURLOPT_CAPATH, CURLOPT_SSLCERT, CURLOPT_SSLKEY };
static const struct tls_opts proxy_tls = { CURLOPT_PROXY_SSL_VERIFYPEER, CURLOPT_PROXY_SSL_VERIFYHOST,
	CURLOPT_PROXY_CAINFO, CURLOPT_PROXY_CAPATH, CURLOPT_PROXY_SSLCERT, CURLOPT_PROXY_SSLKEY };

/* The tls section of the configuration, for one peer. Verified unless the
 * operator said otherwise in so many words (and every pass then warns).
 * tls.ca_file pins: its CAs only; libcurl would also trust the system's
 * CAPATH (/etc/ssl/certs on Debian) beside CAINFO. */
static void
set_tls(CURL *c, const struct tls_opts *o)
{
	curl_easy_setopt(c, o->verifypeer, conf->tls_insecure ? 0L : 1L);
	curl_easy_setopt(c, o->verifyhost, conf->tls_insecure ? 0L : 2L);
	if (*conf->tls_ca_file) {
		curl_easy_setopt(c, o->cainfo, conf->tls_ca_file);
		curl_easy_setopt(c, o->capath, NULL);
	}
	if (*conf->tls_cert_file) {
		curl_easy_setopt(c, o->sslcert, conf->tls_cert_file);
		curl_easy_setopt(c, o->sslkey, conf->tls_key_file);
	}
}

/* The one place where transfer defaults are set. */
static CURL *
handle(const char *url, long total, struct sink *s, char *errbuf)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A redirect never downgrades: what was asked over https is had
	 * over https, or not at all. */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
	    strncasecmp(url, "https:", 6) == 0 ? "https" : "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	/* No later than the pass deadline; 0 would mean no limit at all. */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)clamp_ms(conf->connect_timeout));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)clamp_ms(total));
	/* A server that stalls mid-body is given up after download_stall s. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)conf->download_stall);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	set_tls(c, &server_tls);
	/* An https:// proxy (the key's or the environment's) is held to the
	 * same: libcurl keeps its TLS settings apart from the server's, and
	 * would otherwise trust the system's CAs for it, whatever the pin. */
	set_tls(c, &proxy_tls);
	/* Basic auth through libcurl, never a command line or the environment,
	 * and to the server's origin only: a tarball host the server names is
	 * not trusted with it. On a redirect libcurl drops it when the scheme,
	 * host or port changes (UNRESTRICTED_AUTH 0, said here for the reader). */
	curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	if (conf->auth_password != NULL && server_origin(url)) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, conf->auth_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, conf->auth_password);
	}
	/* The keys win over http_proxy & co, which cron often lacks. The
	 * credentials above stay for the server: never proxy credentials. */
	if (*conf->proxy)
		curl_easy_setopt(c, CURLOPT_PROXY, conf->proxy);
	if (*conf->no_proxy)
		curl_easy_setopt(c, CURLOPT_NOPROXY, conf->no_proxy);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fetch_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	errbuf[0] = '\0';
	return c;
}

/* Did the last request of c (after any redirect) go to a server's origin? */
static int
same_origin_as_server(CURL *c)
{
	char *last = NULL;

	return curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &last) == CURLE_OK && last != NULL &&
	    server_origin(last);
}

/* Has url's origin asked us to wait? Then say so (under agent) and 1. */
static int
must_wait(const char *agent, const char *what, const char *url)
{
	const struct fetch_backoff *b;
	char at[32];

	if ((b = fetch_wait_for(url, (long long)time(NULL))) == NULL)
		return 0;
	last_status = last_too_big = 0;
	/* An error: it is why the request, and so the heartbeat or the
	 * agent, failed; the state, status and check show this line. */
	log_errx(agent, "%s %s: not asked: %s answered HTTP %ld with Retry-After, wait until %s", what, url,
	    b->origin, b->status, state_time(b->until, at, sizeof(at)));
	return 1;
}

/* The URL whose server gave c's last answer: after a redirect (ops-meta
 * sending its files to a mirror) the mirror's. A Retry-After parks that
 * origin only, never one that merely redirected, which may be ops-meta
 * itself: its heartbeats would stop for as long as the mirror asked. */
static const char *
answered(CURL *c, const char *url)
{
	char *last = NULL;

	return curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &last) == CURLE_OK && last != NULL ? last : url;
}

/* Report how a transfer went: the transport error, or the HTTP status if
 * not 200 (or, for a file resumed, 206). */
static int
judge(const char *agent, const char *what, const char *url, CURL *c, struct sink *s,
    const char *errbuf, CURLcode rc)
{
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	last_status = rc == CURLE_OK && !s->failed && !s->too_big && !s->write_errno ? code : 0;
	last_too_big = !s->failed && (s->too_big || rc == CURLE_FILESIZE_EXCEEDED);
	if (s->failed)
		return -1;
	if ((s->too_big || rc == CURLE_FILESIZE_EXCEEDED) && s->file != NULL) {
		log_errx(agent, "%s %s: larger than download_max_mb (%lld MiB)", what, url, s->max >> 20);
		return -1;
	}
	if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		log_errx(agent, "%s %s: response larger than %lld bytes", what, url, s->max);
		return -1;
	}
	if (s->write_errno) {
		errno = s->write_errno;
		log_err(agent, "%s %s: write", what, url);
		return -1;
	}
	if (rc != CURLE_OK) {
		log_errx(agent, "%s %s: %s", what, url, *errbuf ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	if (code == 429 || code == 503)
		fetch_asked_to_wait(agent, answered(c, url), code, s->retry_after);
	else
		fetch_wait_over(answered(c, url));	/* asked all the same (--now): not busy now */
	if (code == 404 && s->quiet404)
		return 1;
	if (code == 206 && s->file != NULL && s->ranged && !s->discard)
		return 0;
	if (code != 200) {
		log_errx(agent, "%s %s: HTTP %ld%s", what, url, code, code == 401 &&
		    conf->auth_password != NULL && !same_origin_as_server(c) ?
		    " (auth is sent to the server's origin only)" : "");
		return -1;
	}
	return 0;
}

/* Perform and report. */
static int
perform(const char *agent, const char *what, const char *url, CURL *c, struct sink *s,
    const char *errbuf)
{
	if (must_wait(agent, what, url))
		return -1;
	return judge(agent, what, url, c, s, errbuf, curl_easy_perform(c));
}

long
fetch_last_status(void)
{
	return last_status;
}

int
fetch_last_too_big(void)
{
	return last_too_big;
}

int
fetch_post_json(const char *url, const char *body, size_t max, struct buf *out)
{
	struct sink s = { .mem = out, .max = (long long)max };
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	char errbuf[CURL_ERROR_SIZE];
	CURL *c = handle(url, conf->heartbeat_timeout, &s, errbuf);
	int ret = -1;

	if (c == NULL || hdr == NULL) {
		log_errx(NULL, "POST %s: cannot set up libcurl", url);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	ret = perform(NULL, "POST", url, c, &s, errbuf);
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return ret;
}

static int
get(const char *agent, const char *url, size_t max, struct buf *out, int quiet404)
{
	struct sink s = { .mem = out, .max = (long long)max, .quiet404 = quiet404 };
	char errbuf[CURL_ERROR_SIZE];
	CURL *c = handle(url, conf->download_timeout, &s, errbuf);
	int ret;

	if (c == NULL) {
		log_errx(agent, "GET %s: cannot set up libcurl", url);
		return -1;
	}
	ret = perform(agent, "GET", url, c, &s, errbuf);
	curl_easy_cleanup(c);
	return ret;
}

int
fetch_get(const char *agent, const char *url, size_t max, struct buf *out)
{
	return get(agent, url, max, out, 0);
}

int
fetch_get_optional(const char *agent, const char *url, size_t max, struct buf *out)
{
	return get(agent, url, max, out, 1);
}

int
fetch_head(const char *agent, const char *url, struct fetch_validators *v)
{
	struct buf none = { 0 };
	/* No body comes; the size cap is the download's business. */
	struct sink s = { .mem = &none, .max = LLONG_MAX / 2, .quiet404 = 1, .agent = agent, .url = url,
		.range_start = -1, .range_total = -1, .length = -1 };
	char errbuf[CURL_ERROR_SIZE];
	CURL *c = handle(url, conf->heartbeat_timeout, &s, errbuf);
	int ret;

	memset(v, 0, sizeof(*v));
	v->length = -1;
	if (c == NULL) {
		log_errx(agent, "HEAD %s: cannot set up libcurl", url);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fetch_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	if ((ret = perform(agent, "HEAD", url, c, &s, errbuf)) == 0)
		fetch_seen_validators(&s, v);
	curl_easy_cleanup(c);
	buf_free(&none);
	return ret;
}

/* Back to an empty file and fresh digests, for a request without a range. */
static int
start_over(struct sink *s)
{
	struct fetch_file *f = s->file;

	if (ftruncate(f->fd, 0) == -1 || lseek(f->fd, 0, SEEK_SET) == -1) {
		log_err(s->agent, "GET %s: truncate", s->url);
		return -1;
	}
	if ((s->md5 != NULL && EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) != 1) ||
	    (s->sha256 != NULL && EVP_DigestInit_ex(s->sha256, EVP_sha256(), NULL) != 1)) {
		log_errx(s->agent, "GET %s: digest failed", s->url);
		return -1;
	}
	f->resume_from = 0;
	f->if_range[0] = '\0';
	s->size = 0;
	s->began = s->discard = s->restart = 0;
	return 0;
}

/* One GET of the file, with a range when bytes are kept. */
static CURLcode
get_file(struct sink *s, CURL *c, struct curl_slist **hdr)
{
	struct fetch_file *f = s->file;
	char range[32], *line;
	CURLcode rc;

	s->ranged = f->resume_from > 0 && f->if_range[0] != '\0';
	if (conf->download_rate_kbps > 0)
		curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE,
		    (curl_off_t)conf->download_rate_kbps * 1024);
	if (s->ranged) {
		/* If-Range: the rest if the file is still the one whose start
		 * we kept, else all of it (200), never a splice of two. */
		snprintf(range, sizeof(range), "%lld-", f->resume_from);
		line = xasprintf("If-Range: %s", f->if_range);
		*hdr = curl_slist_append(NULL, line);
		free(line);
		if (*hdr == NULL)
			die_oom();
		curl_easy_setopt(c, CURLOPT_RANGE, range);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdr);
	}
	rc = curl_easy_perform(c);
	/* An empty body calls no write callback. */
	if (rc == CURLE_OK && !s->began && fetch_begin_body(s) == -1)
		rc = CURLE_WRITE_ERROR;
	return rc;
}

/* May a later pass resume what the fd holds? Yes after a cut (network,
 * stall, timeout) and after an error answer (a 503 in a busy rollout):
 * If-Range and the digests still guard the bytes. No after a local
 * failure (size cap, disk, read back). */
static int
may_resume(const struct sink *s, CURLcode rc)
{
	return rc != CURLE_FILESIZE_EXCEEDED && !s->too_big && !s->write_errno && (!s->failed || s->keep);
}

int
fetch_file(const char *agent, const char *url, struct fetch_file *f)
{
	struct sink s = { .file = f, .md5 = f->md5_too ? EVP_MD_CTX_new() : NULL,
		.sha256 = f->sha256 ? EVP_MD_CTX_new() : NULL,
		.max = (long long)conf->download_max_mb << 20, .agent = agent, .url = url };
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE];
	CURL *c = NULL;
	CURLcode rc;
	int ret = -1, again;

	f->resumed = 0;
	f->tee_failed = 0;
	f->validator[0] = '\0';
	memset(&f->seen, 0, sizeof(f->seen));
	f->seen.length = -1;
	if (must_wait(agent, "GET", url))
		goto out;
	if ((f->md5_too && (s.md5 == NULL || EVP_DigestInit_ex(s.md5, EVP_md5(), NULL) != 1)) ||
	    (f->sha256 && (s.sha256 == NULL || EVP_DigestInit_ex(s.sha256, EVP_sha256(), NULL) != 1))) {
		log_errx(agent, "GET %s: cannot set up digests", url);
		goto out;
	}
	do {
		if ((c = handle(url, conf->download_timeout, &s, errbuf)) == NULL) {
			log_errx(agent, "GET %s: cannot set up libcurl", url);
			goto out;
		}
		rc = get_file(&s, c, &hdr);
		/* 416 (nothing after our end: the file shrank) or a range
		 * elsewhere: once more, for all of it. */
		if ((again = s.restart && s.ranged)) {
			log_info(agent, "GET %s: HTTP %ld to a resume at byte %lld: starting again from byte 0",
			    url, s.code, f->resume_from);
			curl_easy_cleanup(c);
			c = NULL;
			curl_slist_free_all(hdr);
			hdr = NULL;
			if (start_over(&s) == -1)
				goto out;
		}
	} while (again);
	if (judge(agent, "GET", url, c, &s, errbuf, rc) != 0) {
		if (!may_resume(&s, rc) && f->mark != NULL)
			f->mark(f->mark_arg, url, f, FETCH_DONE);
		goto out;
	}
	if ((f->md5_too && EVP_DigestFinal_ex(s.md5, f->md5, NULL) != 1) ||
	    (f->sha256 && EVP_DigestFinal_ex(s.sha256, f->sha256sum, NULL) != 1)) {
		log_errx(agent, "GET %s: digest failed", url);
		goto out;
	}
	f->size = s.size;
	if (f->mark != NULL)
		f->mark(f->mark_arg, url, f, FETCH_DONE);
	ret = 0;
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	EVP_MD_CTX_free(s.md5);
	EVP_MD_CTX_free(s.sha256);
	return ret;
}

char *
fetch_url(const char *prefix, const char *file)
{
	size_t n = strlen(prefix);
	const char *p;

	if (strncasecmp(prefix, "http://", 7) != 0 && strncasecmp(prefix, "https://", 8) != 0)
		return NULL;
	for (p = prefix; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			return NULL;
	if (prefix[strcspn(prefix, ":") + 3] == '\0' || prefix[strcspn(prefix, ":") + 3] == '/')
		return NULL;	/* no host */
	if (prefix[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, prefix, file);
}
