#include "fetch.h"

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

/* Where a transfer's bytes go: memory (small bodies) or a file being
 * hashed. Either way the cap is checked as bytes arrive. */
struct sink {
	struct buf *mem;
	struct fetch_file *file;
	EVP_MD_CTX *md5, *sha256;
	long long size, max;
	int too_big, write_errno;
	int quiet404;		/* a 404 is an answer, not a failure */
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

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, done = 0;

	if (s->size + (long long)n > s->max) {
		s->too_big = 1;
		return 0;	/* aborts the transfer */
	}
	if (s->mem != NULL)
		buf_add(s->mem, p, n);
	else {
		struct fetch_file *f = s->file;

		if (EVP_DigestUpdate(s->md5, p, n) != 1 ||
		    (s->sha256 != NULL && EVP_DigestUpdate(s->sha256, p, n) != 1)) {
			s->write_errno = EIO;
			return 0;
		}
		/* A tee that fails is not called again; its owner says why. */
		if (f->tee != NULL && f->tee(f->tee_arg, p, n) == -1)
			f->tee = NULL;
		while (done < n) {
			ssize_t w = write(f->fd, p + done, n - done);

			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1) {
				s->write_errno = errno;
				return 0;
			}
			done += (size_t)w;
		}
	}
	s->size += (long long)n;
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
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
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

/* Perform and report: the transport error, or the HTTP status if not 200. */
static int
perform(const char *agent, const char *what, const char *url, CURL *c, struct sink *s,
    const char *errbuf)
{
	CURLcode rc = curl_easy_perform(c);
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
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
	if (code != 200) {
		log_errx(agent, "%s %s: HTTP %ld%s", what, url, code, code == 401 &&
		    conf->auth_password != NULL && !same_origin_as_server(c) ?
		    " (auth is sent to the server's origin only)" : "");
		return -1;
	}
	return 0;
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
fetch_file(const char *agent, const char *url, struct fetch_file *f)
{
	struct sink s = { .file = f, .md5 = EVP_MD_CTX_new(),
		.sha256 = f->sha256 ? EVP_MD_CTX_new() : NULL,
		.max = (long long)conf->download_max_mb << 20 };
	char errbuf[CURL_ERROR_SIZE];
	CURL *c = NULL;
	int ret = -1;

	if (s.md5 == NULL || EVP_DigestInit_ex(s.md5, EVP_md5(), NULL) != 1 ||
	    (f->sha256 && (s.sha256 == NULL || EVP_DigestInit_ex(s.sha256, EVP_sha256(), NULL) != 1)) ||
	    (c = handle(url, conf->download_timeout, &s, errbuf)) == NULL) {
		log_errx(agent, "GET %s: cannot set up libcurl or digests", url);
		goto out;
	}
	if (perform(agent, "GET", url, c, &s, errbuf) != 0)
		goto out;
	if (EVP_DigestFinal_ex(s.md5, f->md5, NULL) != 1 ||
	    (f->sha256 && EVP_DigestFinal_ex(s.sha256, f->sha256sum, NULL) != 1)) {
		log_errx(agent, "GET %s: digest failed", url);
		goto out;
	}
	f->size = s.size;
	ret = 0;
out:
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
