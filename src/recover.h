/* Finishing what a killed pass left half done: the trial of a switch cut
 * short between stopping the old version and the end of the new one's
 * health wait, found in the last pass's state before anything else is
 * done. */
#ifndef RECOVER_H
#define RECOVER_H

#include "config.h"
#include "state.h"

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
int recover(const struct config *cfg, struct pass_state *prev, struct pass_state *next);

#endif
