/* Making disk and processes match what the server asked for: for each
 * desired agent, decide what to do from .version and the scanned status,
 * then do it (run) or only say it (plan). */
#ifndef RECONCILE_H
#define RECONCILE_H

#include <stdio.h>

#include "config.h"
#include "decide.h"
#include "heartbeat.h"
#include "scan.h"
#include "state.h"

/* What reconcile found: bits of these. */
#define RECONCILE_CHANGED 1	/* something was (or would be) changed */
#define RECONCILE_FAILED 2	/* some agent failed (or would be refused) */

/* Act on every desired agent the allow-list admits, given the scan the
 * heartbeat reported. With plan set, write what a pass would do to plan,
 * one line per agent, and change nothing. One agent's failure never stops
 * the others. A version that failed to install or start is held back for a
 * while (retry_failed) as long as the server asks for it with the same
 * tarball prefix; rs->next records what was done for each agent. */
int reconcile(const struct config *cfg, const struct hb_response *r,
    const struct real_agent *scanned, size_t nscanned, FILE *plan,
    const struct reconcile_state *rs);

#endif
