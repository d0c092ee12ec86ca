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

/* Before the heartbeat of a pass (under the lock): finish every trial of a
 * switch that the last state shows unfinished (a pass killed, or the host
 * down, between stopping the old version and the end of the new one's
 * health wait). A trial .version names had ended well; one recorded as
 * failed only has its rollback finished. Otherwise the trial version's
 * status decides: running, its health gate runs again from the start and
 * it is committed, or held when it fails; not running, the version
 * .version names is started again and the interruption counted: the
 * INTERRUPTED_MAX-th of one version in a row is its failure, held (the
 * entry, updated in prev too, goes to next marked failed_now: the pass
 * fails for the agent unless it then switches or starts it well). The
 * state is written at once. The count of trials that failed so. */
int reconcile_recover(const struct config *cfg, struct pass_state *prev, struct pass_state *next);

#endif
