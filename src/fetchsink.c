#include "fetchsink.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define READ_BACK_CHUNK 65536

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
void
fetch_seen_validators(const struct sink *s, struct fetch_validators *v)
{
	snprintf(v->etag, sizeof(v->etag), "%s", s->etag);
	snprintf(v->modified, sizeof(v->modified), "%s", s->last_modified);
	v->length = s->code == 206 ? s->range_total : s->length;
}

/* The body of the final response is due (or it is empty): decide what it
 * is, bring the file to where its first byte goes, and let the caller
 * keep the validator. 0, or -1 to abort the transfer. */
int
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

size_t
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

size_t
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
