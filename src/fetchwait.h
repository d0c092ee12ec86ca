/* Origins (scheme, host, port) and the ones that asked us to wait: a 429
 * or 503 with a Retry-After parks the origin that answered it until
 * then, in this pass and, through the state, in later ones; nothing is
 * asked of it meanwhile (fetch.h). */
#ifndef FETCHWAIT_H
#define FETCHWAIT_H

#include <stddef.h>

#include "config.h"

/* An origin ("http://host:80") that answered 429 or 503 with a
 * Retry-After, and until when (Unix time) it is left alone. */
#define FETCH_ORIGIN_MAX 300
/* Waits the state keeps: those of the servers' origins always fit, and
 * FETCH_WAITS_FILES of other origins. A wait is never dropped before it
 * ends to make room: when the other origins' part is full of waits still
 * running, a new origin's wait holds for this pass only (said in the log),
 * so that a server listing agents whose tarball URLs name many origins
 * answering 429 cannot push a busy mirror's wait out. */
#define FETCH_WAITS_FILES 32
#define FETCH_BACKOFF_MAX (FETCH_WAITS_FILES + CONFIG_SERVERS_MAX)
struct fetch_backoff {
	char origin[FETCH_ORIGIN_MAX];
	long long until;
	long status;
	int heartbeat;		/* the origin of a server of the config: the heartbeat's */
	int fresh;		/* learnt in this pass (not written) */
};
/* The longest a Retry-After parks the origin of a server of the config
 * (the heartbeat's, whatever request got the answer): 5 minutes. The
 * heartbeat is the control channel: through it come a fix, a stop and
 * the host's report; one answer (a load balancer's maintenance page, a
 * forged 503 on plain http) must not silence a host for longer than a
 * few cron rounds. A server still busy says so again: one request per
 * host every 5 minutes is no load. */
#define FETCH_WAIT_SERVER_MAX 300
/* The longest it parks any other origin (a file server, a mirror): an
 * hour, as long as retry_failed's default. Files can wait; a mirror in
 * a longer maintenance gets one request per host an hour. */
#define FETCH_WAIT_FILES_MAX 3600
/* The origins of the servers of the config (n of them, base URLs), whose
 * waits are the heartbeat's: fetch_init's. */
void fetch_wait_servers(char *const *servers, size_t n);
/* Start from these waits (the last pass's, from the state); past ones,
 * and ones further than their cap (a clock set back, a cap lowered
 * since), are dropped. With ignore (run --now) they are kept, for the
 * state, but not waited for in this pass: only waits learnt in it are. */
void fetch_backoff_load(const struct fetch_backoff *list, size_t n, int ignore);
/* The waits now in force or learnt in this pass, for the state. */
size_t fetch_backoff_list(const struct fetch_backoff **list);
/* The longest wait a Retry-After is read as, seconds: a day (each origin
 * then has a cap of its own, above). */
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
/* The wait that keeps url's origin alone in this pass at time now (not
 * one of the last pass's that run --now ignores), or NULL. */
const struct fetch_backoff *fetch_wait_for(const char *url, long long now);
/* A 429 or 503 for url with Retry-After value v: its origin is left alone
 * until then, at most its cap (logged under agent); without a usable
 * value, nothing. */
void fetch_asked_to_wait(const char *agent, const char *url, long code, const char *v);
/* url's origin answered with anything but 429 or 503 (run --now asked
 * it): it waits no more. */
void fetch_wait_over(const char *url);

#endif
