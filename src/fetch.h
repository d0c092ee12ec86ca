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
/* GET url into out, at most max bytes. 0 on HTTP 200, else -1 (logged). */
int fetch_get(const char *agent, const char *url, size_t max, struct buf *out);
/* A download streamed to a file, and what is done with its bytes as they
 * arrive, so the file is never read back for them. */
struct fetch_file {
	/* in */
	int fd;			/* where the bytes go */
	int sha256;		/* compute the SHA-256 too (the MD5 always) */
	/* also hand every chunk to tee (0, or -1 to stop being called) */
	int (*tee)(void *arg, const void *p, size_t n);
	void *tee_arg;
	/* out */
	unsigned char md5[16];
	unsigned char sha256sum[32];
	long long size;
};

/* GET url into f->fd. 0 on HTTP 200 with every byte written, else -1
 * (logged). */
int fetch_file(const char *agent, const char *url, struct fetch_file *f);
/* GET url into out like fetch_get, but a 404 is not an error: 1, quietly.
 * For files a server may or may not publish (.sha256). */
int fetch_get_optional(const char *agent, const char *url, size_t max, struct buf *out);
/* {prefix}/{file}, a trailing '/' of prefix dropped; NULL unless prefix is an
 * http:// or https:// URL without spaces or control characters. */
char *fetch_url(const char *prefix, const char *file);
/* Do URLs a and b have one origin: scheme, host and port (a default port
 * spelt out or not)? 0 when either does not parse. Pure. */
int fetch_same_origin(const char *a, const char *b);

#endif
