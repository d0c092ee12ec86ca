/* What a pass writes down of each agent, in its entry of the state
 * (state.h): one entry per desired agent, the last pass's copied the
 * first time, then updated by the verdict of a switch, a hold, a
 * failure counted, a restart; written at once (record_checkpoint)
 * where a kill must not lose it. */
#ifndef RECORD_H
#define RECORD_H

#include "decide.h"
#include "install.h"

/* This pass's entry for name: the last pass's, copied, the first time. */
struct agent_state *record_entry(const struct reconcile_state *rs, const char *name);
/* Write the state now, mid-pass: next's entries, prev's for the rest and
 * prev's header. 0, or -1 (logged). */
int record_checkpoint(const struct config *cfg, struct pass_state *next, const struct pass_state *prev);
/* The current version of d was found not running and started again:
 * counted and logged, unless the server had it stopped. */
void record_restart(const struct reconcile_state *rs, const struct desired *d, const struct decision *p);
/* Count one more failure in a row, with its error. */
void record_failure(struct agent_state *a, const char *error, long long now);
/* The pass deadline cut what was under way for a: its verdict is cut,
 * its cause deadline_cause's; no failure counted, no hold. */
void record_cut(struct agent_state *a);
/* Forget a's trial: it is over. */
void record_clear_trial(struct agent_state *a);
/* Forget a's hold and its evidence. */
void record_clear_hold(struct agent_state *a);
/* Forget a's first digest or signature mismatch. */
void record_clear_mismatch(struct agent_state *a);
/* Hold version (asked from prefix tarball) after its failure, with what
 * the server published for it (ev, or NULL: not known). */
void record_hold(const struct config *cfg, struct agent_state *a, const char *version, const char *tarball,
    const struct evidence *ev, long long now);
/* The version on trial for d failed for a fault of its own (why): counted,
 * held and written down before the rollback; older gets the version kept
 * after an earlier failure, now to go (or ""). */
void record_verdict(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const char *why, const struct install_seen *seen, char *older, size_t len);
/* The current version cur of d failed its probation (why): counted,
 * kept for its logs, held when d asks for cur, and written down before
 * the rollback; older as record_verdict's. */
void record_probation(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const char *cur, const char *why, char *older, size_t len);
/* This pass's entry for d, updated by what was done for decision p
 * (failed, bad: the release's fault; why: the failure, when not the last
 * error logged; seen: what its install saw). */
void record(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, int failed, int bad, const char *why, const struct install_seen *seen,
    long long now);

#endif
