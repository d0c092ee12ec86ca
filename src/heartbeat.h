/* The heartbeat: report the real agents to ops-meta, get the desired ones. */
#ifndef HEARTBEAT_H
#define HEARTBEAT_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "scan.h"

#define HB_RESPONSE_MAX (1 << 20)
#define HB_AGENTS_MAX 1000
#define HB_URL_MAX 1024	/* bytes of a tarball or md5 URL prefix */

/* One entry of desiredAgents. Fields are never NULL; a field that was
 * missing or null is "". invalid says why the entry must be skipped. */
struct desired {
	char *name, *version, *tarball, *md5, *cmd;
	char invalid[160];
};

struct hb_response {
	char *error_message;
	struct desired *agents;
	size_t n;
};

/* The request body for hostname and the scanned agents at time now; an
 * agent's error, when set, goes with it as "error". */
char *hb_request(const char *hostname, const struct real_agent *list, size_t n, time_t now);
/* Parse a response body. -1 with the reason in err when its shape is wrong
 * as a whole; entries with a bad field are kept, marked invalid. Pure. */
int hb_parse(const char *body, size_t len, struct hb_response *r, char *err, size_t errlen);
/* Send the heartbeat and parse the answer. 0, or -1 (logged). */
int hb_send(const struct config *cfg, const struct real_agent *list, size_t n,
    struct hb_response *r);
/* Release r. */
void hb_free(struct hb_response *r);

#endif
