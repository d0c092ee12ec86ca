/* The heartbeat: report the real agents to ops-meta, get the desired ones. */
#ifndef HEARTBEAT_H
#define HEARTBEAT_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "scan.h"
#include "state.h"

/* The updater's own name: reserved, so that no agent may take it; with
 * heartbeat_self, the name of one more realAgents entry (its version,
 * status "started"), so that ops-meta's status pages list every host's
 * updater version. Off by default: the Cepave ops-meta acts on how many
 * entries realAgents has (it stops the second desired agent unless there
 * is exactly one), so by default realAgents lists the agents of the work
 * directory only, as the Go updater sends them. */
#define HB_SELF "ops-updater"

#define HB_RESPONSE_MAX (1 << 20)
#define HB_AGENTS_MAX 1000
#define HB_URL_MAX 1024	/* bytes of a tarball or md5 URL prefix */

/* One entry of desiredAgents. Fields are never NULL; a field that was
 * missing or null is "". invalid says why the entry must be skipped. */
struct desired {
	char *name, *version, *tarball, *md5, *cmd;
	char invalid[320];
};

/* A server that failed is tried after the others for this long, s; one
 * that answered 429 or 503 with a Retry-After for as long as it asked
 * (at most FETCH_WAIT_SERVER_MAX). */
#define HB_FAILED_LAST 600

struct hb_response {
	char *server;		/* the base URL of the server that answered */
	struct server_state *failed;	/* per server of the config: when it failed
				 * in this heartbeat (no answer, timeout, 5xx; 0:
				 * not), and until when it goes last (url NULL) */
	char *error_message;
	struct desired *agents;
	size_t n;
};

/* The request body for hostname and the scanned agents at time now, with
 * self, the updater itself (HB_SELF) last, with self_error (NULL: none);
 * an agent's error, when set, goes with it as "error". */
char *hb_request(const char *hostname, const struct real_agent *list, size_t n, int self, const char *self_error,
    time_t now);
/* Parse a response body. -1 with the reason in err when its shape is wrong
 * as a whole; entries with a bad field are kept, marked invalid. Pure. */
int hb_parse(const char *body, size_t len, struct hb_response *r, char *err, size_t errlen);
/* Is name one no agent may take? The updater's own name and every name
 * starting with it (its ops-updater.pid, .state.json and .log), and the
 * entry of the work directory that is, or holds, a file it writes there:
 * the log, its .1, the metrics file (their temp names start with '.', no
 * valid name). 1 with the reason in why, else 0. */
int hb_reserved(const struct config *cfg, const char *name, char *why, size_t len);
/* Send the heartbeat once more, to server, to report what a pass
 * changed (self_error: hb_request's, used with heartbeat_self); the
 * answer is not read. 0 on HTTP 200, else -1 (logged). */
int hb_report(const struct config *cfg, const char *server, const struct real_agent *list, size_t n,
    const char *self_error);
/* Send the heartbeat and parse the answer: to the servers of cfg in the
 * host's order (rollout_order), those that failed lately (recent[i],
 * parallel to cfg->servers; NULL for none) last, the next one tried
 * after anything but an ops-meta answer (errorMessage is one); entries
 * with a reserved name (hb_reserved) are marked invalid; self_error as
 * hb_report's. 0 with r->server set, or -1 (logged, naming every
 * server's answer); either way r->failed says which failed. */
int hb_send(const struct config *cfg, const struct real_agent *list, size_t n, const char *self_error,
    const struct server_state *recent, struct hb_response *r);
/* When each server of cfg failed lately, and until when it goes last, by
 * the state prev (NULL: none), for hb_send. Allocated, parallel to
 * cfg->servers, url NULL. */
struct server_state *hb_recent(const struct config *cfg, const struct pass_state *prev);
/* Keep in next which server answered r and which failed lately (in r, or
 * before as recent says and not well since). */
void hb_remember(const struct config *cfg, const struct hb_response *r, const struct server_state *recent,
    struct pass_state *next);
/* Release r. */
void hb_free(struct hb_response *r);

#endif
