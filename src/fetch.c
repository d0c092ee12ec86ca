#include "fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#define USER_AGENT "ops-updater/" OPS_UPDATER_VERSION

/* Since 7.83.0 libcurl keeps credentials to the first URL's scheme, host
 * and port on a redirect (CVE-2022-27774); before, to its host name only. */
#if defined(LIBCURL_VERSION_NUM) && LIBCURL_VERSION_NUM < 0x075300	/* cppcheck has no curl.h */
#error "libcurl 7.83.0 or later is needed: older ones leak credentials across ports on a redirect"
#endif

static const struct config *conf;
static long last_status;	/* fetch_last_status */

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
	char etag[FETCH_VALIDATOR_MAX], last_modified[FETCH_VALIDATOR_MAX];
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

/* The validator to resume this response with: If-Range takes a strong
 * ETag only (RFC 9110, 13.1.5), else the Last-Modified date. */
static void
pick_validator(const struct sink *s, char *dst, size_t cap)
{
	if (s->etag[0] == '"')
		snprintf(dst, cap, "%s", s->etag);
	else
		snprintf(dst, cap, "%s", s->last_modified);
}

/* The body of the final response is due (or it is empty): decide what it
 * is, bring the file to where its first byte goes, and let the caller
 * keep the validator. 0, or -1 to abort the transfer. */
static int
begin(struct sink *s)
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
	pick_validator(s, f->validator, sizeof(f->validator));
	if (f->resumed > 0 && f->validator[0] == '\0')	/* a 206 that did not repeat it */
		snprintf(f->validator, sizeof(f->validator), "%s", f->if_range);
	if (f->mark != NULL && f->mark(f->mark_arg, s->url, f, FETCH_BODY) == -1) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
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
	if (!s->began && begin(s) == -1)
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

static size_t
on_header(char *p, size_t size, size_t nitems, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nitems;
	char v[64];

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp;

		snprintf(v, sizeof(v), "%.*s", (int)(n < sizeof(v) ? n : sizeof(v) - 1), p);
		sp = strchr(v, ' ');
		s->code = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		s->etag[0] = s->last_modified[0] = '\0';
		s->range_start = -1;
	} else if (header_is(p, n, "ETag"))
		header_value(p, n, 5, s->etag, sizeof(s->etag));
	else if (header_is(p, n, "Last-Modified"))
		header_value(p, n, 14, s->last_modified, sizeof(s->last_modified));
	else if (header_is(p, n, "Content-Range")) {
		header_value(p, n, 14, v, sizeof(v));
		s->range_start = range_first(v);
	}
	return n;
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
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)conf->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, total);
	/* A server that stalls mid-body is given up after download_stall s. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)conf->download_stall);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	/* Verified unless the operator said otherwise in so many words (and
	 * every pass then warns). */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, conf->tls_insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, conf->tls_insecure ? 0L : 2L);
	/* tls.ca_file pins: its CAs only. libcurl would also trust the
	 * system's CAPATH (/etc/ssl/certs on Debian) beside CAINFO. */
	if (*conf->tls_ca_file) {
		curl_easy_setopt(c, CURLOPT_CAINFO, conf->tls_ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	if (*conf->tls_cert_file) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, conf->tls_cert_file);
		curl_easy_setopt(c, CURLOPT_SSLKEY, conf->tls_key_file);
	}
	/* An https:// proxy (the key's or the environment's) is held to the
	 * same: libcurl keeps its TLS settings apart from the server's, and
	 * would otherwise trust the system's CAs for it, whatever the pin. */
	curl_easy_setopt(c, CURLOPT_PROXY_SSL_VERIFYPEER, conf->tls_insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_PROXY_SSL_VERIFYHOST, conf->tls_insecure ? 0L : 2L);
	if (*conf->tls_ca_file) {
		curl_easy_setopt(c, CURLOPT_PROXY_CAINFO, conf->tls_ca_file);
		curl_easy_setopt(c, CURLOPT_PROXY_CAPATH, NULL);
	}
	if (*conf->tls_cert_file) {
		curl_easy_setopt(c, CURLOPT_PROXY_SSLCERT, conf->tls_cert_file);
		curl_easy_setopt(c, CURLOPT_PROXY_SSLKEY, conf->tls_key_file);
	}
	/* Basic auth through libcurl, never a command line or the environment,
	 * and to the server's origin only: a tarball host the server names is
	 * not trusted with it. On a redirect libcurl drops it when the scheme,
	 * host or port changes (UNRESTRICTED_AUTH 0, said here for the reader). */
	curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	if (conf->auth_password != NULL && fetch_same_origin(url, conf->server)) {
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
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	errbuf[0] = '\0';
	return c;
}

/* Did the last request of c (after any redirect) go to the server's origin? */
static int
same_origin_as_server(CURL *c)
{
	char *last = NULL;

	return curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &last) == CURLE_OK && last != NULL &&
	    fetch_same_origin(last, conf->server);
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
	if (s->failed)
		return -1;
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
	return judge(agent, what, url, c, s, errbuf, curl_easy_perform(c));
}

long
fetch_last_status(void)
{
	return last_status;
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
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
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
	if (rc == CURLE_OK && !s->began && begin(s) == -1)
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
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("\"<>\\^`{|}", *p))
			return NULL;
	if (prefix[strcspn(prefix, ":") + 3] == '\0' || prefix[strcspn(prefix, ":") + 3] == '/')
		return NULL;	/* no host */
	if (prefix[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, prefix, file);
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
