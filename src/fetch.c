#include "fetch.h"

#include <ctype.h>
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

#define READ_BACK_CHUNK 65536

/* Where a transfer's bytes go: memory (small bodies) or a file being
 * hashed. Either way the cap is checked as bytes arrive. */
struct sink {
	struct buf *mem;
	struct fetch_file *file;
	EVP_MD_CTX *md5, *sha256;
	long long size, max;
	int too_big, write_errno;
	int quiet404;		/* a 404 is an answer, not a failure */
	/* Files only. What the headers of the latest response said: a
	 * redirect's or a 100's are forgotten when the next one starts. */
	const char *agent, *url;
	long code;
	long long range_start;	/* Content-Range's first byte, or -1 */
	long long range_total;	/* Content-Range's full length, or -1 */
	long long length;	/* Content-Length, or -1 */
	char etag[FETCH_VALIDATOR_MAX], last_modified[FETCH_VALIDATOR_MAX], date[64];
	int etag_sent;		/* an ETag header came, whatever its value */
	char retry_after[64];	/* any transfer: of the latest response */
	int ranged;		/* Range and If-Range were sent */
	int began;		/* the body of the final response has begun */
	int discard;		/* that body is not the file (an error page) */
	int restart;		/* 416, or a 206 elsewhere: ask again for all */
	int failed;		/* aborted for a reason already logged */
	int keep;		/* but what came so far may be resumed */
};

void
fetch_init(const struct config *cfg)
{
	conf = cfg;
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
fetch_cleanup(void)
{
	curl_global_cleanup();
}

/* Bytes of the file, new or read back, in order from byte 0: counted
 * against the cap, hashed, teed. 0, or -1 to abort. */
static int
take(struct sink *s, const char *p, size_t n)
{
	struct fetch_file *f = s->file;
	int r;

	if (s->size + (long long)n > s->max) {
		s->too_big = 1;
		return -1;
	}
	if ((s->md5 != NULL && EVP_DigestUpdate(s->md5, p, n) != 1) ||
	    (s->sha256 != NULL && EVP_DigestUpdate(s->sha256, p, n) != 1)) {
		s->write_errno = EIO;
		return -1;
	}
	/* A tee that fails (an unpack that refused the bytes, or hit its
	 * cap) makes the rest of the download worthless, and what came so
	 * far not worth resuming. Its owner says why. */
	if (f->tee != NULL && (r = f->tee(f->tee_arg, p, n)) < 0) {
		f->tee_failed = s->failed = 1;
		s->keep = r == -2;
		return -1;
	}
	s->size += (long long)n;
	return 0;
}

/* A 206 from where the kept bytes end: read them back once and take them
 * before the first new byte, so that hashes and tee see the whole stream
 * in order; new bytes are then appended. 0, or -1 (logged). */
static int
take_kept(struct sink *s)
{
	struct fetch_file *f = s->file;
	char *chunk = xcalloc(1, READ_BACK_CHUNK);
	long long off = 0;
	int ret = -1;

	while (off < f->resume_from) {
		size_t want = (size_t)(f->resume_from - off < READ_BACK_CHUNK ?
		    f->resume_from - off : READ_BACK_CHUNK);
		ssize_t r = pread(f->fd, chunk, want, (off_t)off);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ENODATA;	/* shorter than it was */
			log_err(s->agent, "GET %s: read back the kept %lld bytes", s->url, f->resume_from);
			s->failed = 1;
			goto out;
		}
		if (take(s, chunk, (size_t)r) == -1)
			goto out;
		off += r;
	}
	if (lseek(f->fd, (off_t)off, SEEK_SET) == -1) {
		s->write_errno = errno;
		goto out;
	}
	f->resumed = off;
	ret = 0;
out:
	free(chunk);
	return ret;
}

int
fetch_resume_validator(const char *etag, int etag_sent, const char *modified, const char *date,
    char *dst, size_t cap)
{
	time_t m, d;

	dst[0] = '\0';
	if (etag[0] == '"') {
		snprintf(dst, cap, "%s", etag);
		return 0;
	}
	/* A weak ETag (or one we could not keep) says the server may serve
	 * other bytes under it: then its date proves nothing either. */
	if (etag_sent || modified[0] == '\0' || date[0] == '\0')
		return -1;
	m = curl_getdate(modified, NULL);
	d = curl_getdate(date, NULL);
	/* A file changed within the second of its date would keep the date. */
	if (m == -1 || d == -1 || m > d - 1)
		return -1;
	snprintf(dst, cap, "%s", modified);
	return 0;
}

/* What the response's headers say about the file as a whole, for a
 * hold's evidence: its ETag (weak or not), Last-Modified and length. */
static void
fetch_seen_validators(const struct sink *s, struct fetch_validators *v)
{
	snprintf(v->etag, sizeof(v->etag), "%s", s->etag);
	snprintf(v->modified, sizeof(v->modified), "%s", s->last_modified);
	v->length = s->code == 206 ? s->range_total : s->length;
}

/* The body of the final response is due (or it is empty): decide what it
 * is, bring the file to where its first byte goes, and let the caller
 * keep the validator. 0, or -1 to abort the transfer. */
static int
fetch_begin_body(struct sink *s)
{
	struct fetch_file *f = s->file;

	s->began = 1;
	if (s->code == 206 && s->ranged && s->range_start == f->resume_from) {
		log_info(s->agent, "resuming %s at byte %lld", s->url, f->resume_from);
		if (take_kept(s) == -1)
			return -1;
	} else if (s->code == 416 || (s->code == 206 && s->ranged)) {
		s->restart = 1;
		s->discard = 1;
		return 0;
	} else if (s->code != 200) {
		s->discard = 1;	/* judged by its status once done */
		return 0;
	} else {
		/* The whole file: the server ignored the range, or If-Range
		 * said the file changed. The kept bytes go. */
		if (s->ranged)
			log_info(s->agent, "GET %s: the server sent the whole file again (the %lld bytes kept are dropped)",
			    s->url, f->resume_from);
		if (ftruncate(f->fd, 0) == -1 || lseek(f->fd, 0, SEEK_SET) == -1) {
			s->write_errno = errno;
			return -1;
		}
		f->resumed = 0;
	}
	fetch_resume_validator(s->etag, s->etag_sent, s->last_modified, s->date, f->validator,
	    sizeof(f->validator));
	fetch_seen_validators(s, &f->seen);
	if (f->resumed > 0 && f->validator[0] == '\0')	/* a 206 that did not repeat it */
		snprintf(f->validator, sizeof(f->validator), "%s", f->if_range);
	if (f->mark != NULL && f->mark(f->mark_arg, s->url, f, FETCH_BODY) == -1) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

static size_t
fetch_on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, done = 0;

	if (s->mem != NULL) {
		if (s->size + (long long)n > s->max) {
			s->too_big = 1;
			return 0;	/* aborts the transfer */
		}
		buf_add(s->mem, p, n);
		s->size += (long long)n;
		return n;
	}
	if (!s->began && fetch_begin_body(s) == -1)
		return 0;
	if (s->discard)
		return n;
	if (take(s, p, n) == -1)
		return 0;
	while (done < n) {
		ssize_t w = write(s->file->fd, p + done, n - done);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			s->write_errno = errno;
			return 0;
		}
		done += (size_t)w;
	}
	return n;
}

/* Copy the value of header line p (n bytes, its name skip bytes long with
 * the colon) into dst when it is printable ASCII and fits; else "". It may
 * go back to the server in If-Range, and into a file. */
static void
header_value(const char *p, size_t n, size_t skip, char *dst, size_t cap)
{
	size_t i;

	dst[0] = '\0';
	p += skip;
	n -= skip;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= cap)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* Is header line p (n bytes) the header name? */
static int
header_is(const char *p, size_t n, const char *name)
{
	size_t len = strlen(name);

	return n > len && strncasecmp(p, name, len) == 0 && p[len] == ':';
}

/* "bytes N-M/T" -> N, or -1. */
static long long
range_first(const char *v)
{
	long long n;
	char *end;

	if (strncasecmp(v, "bytes ", 6) != 0 || !isdigit((unsigned char)v[6]))
		return -1;
	errno = 0;
	n = strtoll(v + 6, &end, 10);
	return errno == 0 && *end == '-' ? n : -1;
}

/* A whole number at s and nothing after it ("bytes N-M/T": T after the
 * '/'), or -1. */
static long long
number(const char *s)
{
	long long n;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' ? n : -1;
}

static size_t
fetch_on_header(char *p, size_t size, size_t nitems, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nitems;
	char v[64];

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp;

		snprintf(v, sizeof(v), "%.*s", (int)(n < sizeof(v) ? n : sizeof(v) - 1), p);
		sp = strchr(v, ' ');
		s->code = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		s->etag[0] = s->last_modified[0] = s->date[0] = s->retry_after[0] = '\0';
		s->etag_sent = 0;
		s->range_start = s->range_total = s->length = -1;
	} else if (header_is(p, n, "ETag")) {
		header_value(p, n, 5, s->etag, sizeof(s->etag));
		s->etag_sent = 1;
	} else if (header_is(p, n, "Date"))
		header_value(p, n, 5, s->date, sizeof(s->date));
	else if (header_is(p, n, "Last-Modified"))
		header_value(p, n, 14, s->last_modified, sizeof(s->last_modified));
	else if (header_is(p, n, "Retry-After"))
		header_value(p, n, 12, s->retry_after, sizeof(s->retry_after));
	else if (header_is(p, n, "Content-Range")) {
		header_value(p, n, 14, v, sizeof(v));
		s->range_start = range_first(v);
		s->range_total = strchr(v, '/') ? number(strchr(v, '/') + 1) : -1;
	} else if (header_is(p, n, "Content-Length")) {
		header_value(p, n, 15, v, sizeof(v));
		s->length = number(v);
	}
	return n;
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
	char o[FETCH_ORIGIN_MAX], at[32];

	if (fetch_origin_of(url, o, sizeof(o)) == -1 || (b = fetch_backoff_find(o)) == NULL ||
	    b->until <= (long long)time(NULL))
		return 0;
	last_status = last_too_big = 0;
	/* An error: it is why the request, and so the heartbeat or the
	 * agent, failed; the state, status and check show this line. */
	log_errx(agent, "%s %s: not asked: %s answered HTTP %ld with Retry-After, wait until %s", what, url,
	    o, b->status, state_time(b->until, at, sizeof(at)));
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
	if (code == 404 && s->quiet404)
		return 1;
	if (code == 429 || code == 503)
		fetch_asked_to_wait(agent, answered(c, url), code, s->retry_after);
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
