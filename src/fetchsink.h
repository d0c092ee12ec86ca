/* Receiving one response: its bytes, as they arrive, counted against the
 * cap and kept in memory or streamed to a file (hashed, teed, resumed
 * after the bytes kept, which are read back first); its header lines
 * read as outside bytes (validators, ranges, lengths, Retry-After).
 * libcurl's callbacks, set by fetch.c. */
#ifndef FETCHSINK_H
#define FETCHSINK_H

#include <openssl/evp.h>

#include "fetch.h"

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

/* The validator that proves a resumed response's bytes are those kept,
 * from a response's ETag (etag_sent: the header came, even if its value
 * could not be kept), Last-Modified and Date, into dst: a strong ETag, or
 * the date only when no ETag came at all and the file was at least a
 * second old when the response was made. 0, or -1 and "" when there is
 * none: then nothing is resumed. Pure. */
int fetch_resume_validator(const char *etag, int etag_sent, const char *modified, const char *date,
    char *dst, size_t cap);
/* What the response's headers say about the file as a whole (ETag,
 * Last-Modified, length), for a hold's evidence. */
void fetch_seen_validators(const struct sink *s, struct fetch_validators *v);
/* The body of the final response is due (or it is empty): the file
 * brought to where its first byte goes. 0, or -1 to abort. */
int fetch_begin_body(struct sink *s);
/* libcurl's write callback: arg is the struct sink. */
size_t fetch_on_data(char *p, size_t size, size_t nmemb, void *arg);
/* libcurl's header callback: arg is the struct sink. */
size_t fetch_on_header(char *p, size_t size, size_t nitems, void *arg);

#endif
