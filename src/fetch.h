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
/* GET url streaming into fd, with the MD5 of the bytes computed as they
 * arrive (md5 gets 16 bytes) and *size the byte count. 0 on HTTP 200 with
 * every byte written, else -1 (logged). */
int fetch_file(const char *agent, const char *url, int fd, unsigned char *md5, long long *size);
/* {prefix}/{file}, a trailing '/' of prefix dropped; NULL unless prefix is an
 * http:// or https:// URL without spaces or control characters. */
char *fetch_url(const char *prefix, const char *file);

#endif
