/* HTTP(S) through libcurl with one set of defaults for every transfer:
 * timeouts, a low-speed limit, http/https only (redirects too), a size cap.
 * Failures are logged under the agent given (NULL for none) with the URL and
 * either the transport error or the HTTP status, never both mixed up. */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>

#include "config.h"
#include "util.h"

/* Call once before anything else here. */
void fetch_init(const struct config *cfg);
/* Release libcurl. */
void fetch_cleanup(void);
/* POST a JSON body to url; the response (at most max bytes) into out.
 * 0 on HTTP 200, else -1 (logged). */
int fetch_post_json(const char *url, const char *body, size_t max, struct buf *out);
/* GET url into out, at most max bytes. 0 on HTTP 200, else -1 (logged).
 * Every request here is refused at once (logged, fetch_last_status 0)
 * while its origin's Retry-After runs; a 429 or 503 with one starts it. */
int fetch_get(const char *agent, const char *url, size_t max, struct buf *out);
/* Longest ETag or Last-Modified kept; a longer one is not used. */
#define FETCH_VALIDATOR_MAX 256
/* What a response said of the file as a whole: its ETag (weak or strong;
 * "" none or unkept), Last-Modified ("" none) and full length (-1 not
 * said). If any differs, the file is not the one seen before. */
struct fetch_validators {
	char etag[FETCH_VALIDATOR_MAX];
	char modified[FETCH_VALIDATOR_MAX];
	long long length;
};

/* What fetch_file tells its mark hook. */
enum fetch_mark {
	FETCH_BODY,	/* the body of this response comes next: keep its validator */
	FETCH_DONE,	/* the file is complete, or not worth resuming */
};

/* A download streamed to a file, and what is done with its bytes as they
 * arrive, so the file is never read back for them. A cut download can be
 * resumed: the caller hands back the bytes and the validator it kept, and
 * the whole stream is still hashed and teed from byte 0, in order. */
struct fetch_file {
	/* in */
	int fd;			/* where the bytes go, opened read-write */
	int md5_too;		/* compute the MD5 */
	int sha256;		/* compute the SHA-256 */
	/* also hand every chunk to tee (0; -1 aborts the download, -2 too
	 * but keeps what came so far to be resumed: not the bytes' fault) */
	int (*tee)(void *arg, const void *p, size_t n);
	void *tee_arg;
	/* fd already holds resume_from bytes of an earlier response whose
	 * validator (fetch_resume_validator) was if_range; 0 and ""
	 * for a download from scratch */
	long long resume_from;
	char if_range[FETCH_VALIDATOR_MAX];
	/* called before the first body byte of the response taken (FETCH_BODY,
	 * validator known), and (FETCH_DONE) when the file is complete or a
	 * local failure (size cap, disk) makes it useless to resume; -1 from
	 * FETCH_BODY aborts. May be NULL. */
	int (*mark)(void *arg, const char *url, const struct fetch_file *f, enum fetch_mark m);
	void *mark_arg;
	/* out */
	char validator[FETCH_VALIDATOR_MAX];	/* of the response taken; "" none */
	struct fetch_validators seen;	/* of the file, by the response taken (200 or
					 * 206); length -1 when none was taken */
	long long resumed;	/* bytes taken from fd instead of the network */
	int tee_failed;		/* the tee said -1: the download was cut there */
	unsigned char md5[16];
	unsigned char sha256sum[32];
	long long size;
};

/* GET url into f->fd, resuming after f->resume_from bytes when the server
 * agrees (206 to Range + If-Range), else from scratch (fd truncated); at
 * most download_rate_kbps. 0 when every byte is in, else -1 (logged). */
int fetch_file(const char *agent, const char *url, struct fetch_file *f);
/* GET url into out like fetch_get, but a 404 is not an error: 1, quietly.
 * For files a server may or may not publish (.sha256). */
int fetch_get_optional(const char *agent, const char *url, size_t max, struct buf *out);
/* HEAD url: what the server says of the file now, into v. 0 on HTTP 200,
 * 1 on 404 (quietly), else -1 (logged). */
int fetch_head(const char *agent, const char *url, struct fetch_validators *v);
/* The HTTP status of the last response judged by the calls above; 0 when
 * the last transfer failed without a whole response (connection, timeout,
 * cut, or a local failure: size cap, disk). Tells a release that is not
 * there (404) from a transient or local failure. */
long fetch_last_status(void);
/* Was the last transfer cut because the response was larger than its cap
 * (download_max_mb for a tarball)? A release too big, not a transient
 * failure. */
int fetch_last_too_big(void);
/* {prefix}/{file}, a trailing '/' of prefix dropped; NULL unless prefix is an
 * http:// or https:// URL of printable ASCII without spaces. */
char *fetch_url(const char *prefix, const char *file);

#endif
