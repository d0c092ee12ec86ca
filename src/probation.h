/* Probation after commit: a version that passed its health gate is still
 * watched for probation_window seconds after its commit. Found dead (not
 * stopped on the server's word) by probation_deaths passes in that time,
 * it has failed as one that failed the gate: the crash loop of a release
 * that outlives a short gate, or of one committed on a starved host. Here:
 * its record in the agent's entry (state.h) and the rules on it, pure;
 * switch.h rolls back, record.h writes the verdict down. */
#ifndef PROBATION_H
#define PROBATION_H

#include <stddef.h>

#include "config.h"
#include "state.h"

/* What a pass makes of the current version of an agent. */
enum probation_verdict {
	PROBATION_NONE,		/* no death on probation: running, stopped on the
				 * server's word, not on probation, or probation off */
	PROBATION_DIED,		/* a death in its window, short of probation_deaths:
				 * counted, and started again as any restart */
	PROBATION_FAILED,	/* the probation_deaths-th death in its window */
};

/* Is probation on (probation_window and probation_deaths both set)? */
int probation_on(const struct config *cfg);
/* The verdict on cur, the version .version names, of the entry a (the
 * last pass's), when the scan saw status (NULL: not seen) at now; *deaths
 * gets the count with this death. Only a status that is not "started"
 * can be a death: the caller asks again before acting on one. Pure. */
enum probation_verdict probation_judge(const struct config *cfg, const struct agent_state *a, const char *cur,
    const char *status, long long now, int *deaths);
/* Did the host go down between the pass that wrote boot id was (the
 * last pass's, "" or NULL: not known) and this one, under boot id now?
 * Then agents found down were taken down with it, not dead on their own. */
int probation_rebooted(const char *was, const char *now);
/* The probation of version begins: committed at now in place of from
 * (NULL or "": nothing), no death yet. */
void probation_begin(struct agent_state *a, const char *version, const char *from, long long now);
/* Forget a's probation once its window has passed at now (a commit in
 * the future, a clock set back, counts from now). */
void probation_expire(const struct config *cfg, struct agent_state *a, long long now);
/* "1.0.1 died 2 times within 10 min of its commit" into buf; returns buf. */
const char *probation_cause(const struct config *cfg, const char *version, int deaths, char *buf, size_t len);

#endif
