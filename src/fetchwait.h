/* Origins (scheme, host, port) and the ones that asked us to wait: a 429
 * or 503 with a Retry-After parks the origin that answered it until
 * then, in this pass and, through the state, in later ones; nothing is
 * asked of it meanwhile (fetch.h). */
#ifndef FETCHWAIT_H
#define FETCHWAIT_H

#include <stddef.h>

/* An origin ("http://host:80") that answered 429 or 503 with a
 * Retry-After, and until when (Unix time) it is left alone. */
#define FETCH_ORIGIN_MAX 300
#define FETCH_BACKOFF_MAX 32
struct fetch_backoff {
	char origin[FETCH_ORIGIN_MAX];
	long long until;
	long status;
};
/* Start from these waits (the last pass's, from the state); past ones,
 * and ones further than a day (a clock set back), are dropped. */
void fetch_backoff_load(const struct fetch_backoff *list, size_t n);
/* The waits now in force or learnt in this pass, for the state. */
size_t fetch_backoff_list(const struct fetch_backoff **list);
/* The longest wait a Retry-After may ask for, seconds: a day. */
#define FETCH_RETRY_AFTER_MAX 86400
/* The seconds a Retry-After header value asks to wait at Unix time now:
 * delay-seconds or an HTTP-date, cut to FETCH_RETRY_AFTER_MAX; 0 for a
 * date that has passed; -1 when the value is neither. Pure. */
long long fetch_retry_after(const char *value, long long now);
/* Do URLs a and b have one origin: scheme, host and port (a default port
 * spelt out or not)? 0 when either does not parse. Pure. */
int fetch_same_origin(const char *a, const char *b);

/* The origin of url as "scheme://host:port" (lowercase, the port spelt
 * out) into buf; 0, or -1 when url does not parse. */
int fetch_origin_of(const char *url, char *buf, size_t len);
/* The wait in force or learnt for origin o (fetch_origin_of's), or NULL. */
struct fetch_backoff *fetch_backoff_find(const char *o);
/* A 429 or 503 for url with Retry-After value v: its origin is left alone
 * until then (logged under agent); without a usable value, nothing. */
void fetch_asked_to_wait(const char *agent, const char *url, long code, const char *v);

#endif
