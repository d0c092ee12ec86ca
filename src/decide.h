/* The decision for one desired agent: from what the server asks, what is
 * on disk, the status the scan saw, the last pass's entry, the evidence
 * against a held release and the time, what to do (enum action); the
 * rules of holds, slots and busy servers. Acting on it is switch.h's and
 * reconcile.h's; writing it down, record.h's. */
#ifndef DECIDE_H
#define DECIDE_H

#include "config.h"
#include "heartbeat.h"
#include "scan.h"
#include "state.h"

/* What passes remember of each other (state.h), and how to use it. */
struct reconcile_state {
	const struct pass_state *prev;	/* the last pass's: holds, failures in a row */
	struct pass_state *next;	/* this pass's, one entry per desired agent;
					 * NULL for a plan */
	int retry;			/* run --retry: try held versions now */
	int now;			/* run --now: a new version's slot (rollout_spread)
					 * and a busy server's backoff are not waited for */
};

/* What to do for one desired agent. */
enum action {
	ACT_NONE,	/* as asked already, or nothing asked */
	ACT_IGNORE,	/* a cmd we do not know */
	ACT_START,	/* the current version is installed but not running */
	ACT_STOP,	/* the current version runs and should not */
	ACT_SWITCH,	/* another version: install it if needed, then switch */
	ACT_REFUSE,	/* the entry is invalid */
	ACT_HOLD,	/* ACT_SWITCH to a version that failed lately: not yet */
	ACT_WAIT,	/* ACT_SWITCH before this host's slot (rollout_spread) */
	ACT_BUSY,	/* ACT_SWITCH while its file server answered 5xx or 429 lately */
};

/* What decide found for one desired agent, and what it rests on. */
struct decision {
	enum action act;
	char *cur;		/* what .version names, if installed */
	int installed;		/* for ACT_SWITCH: is the new version on disk? */
	int kept;		/* for ACT_SWITCH: on disk, but kept after it failed:
				 * moved aside and downloaded again */
	const char *why;	/* for ACT_NONE and ACT_REFUSE */
	char untrusted[256];	/* why, when trust_agent refused */
	char dashed[320];	/* why, when a signed version has a '-' */
	const struct agent_state *held;	/* the last pass's entry, when it holds this
					 * version (over or not), or for ACT_BUSY */
	int renewed;		/* the hold's evidence changed: a new release */
	long long slot;		/* for a download with rollout_spread: when, Unix time */
	const char *status;	/* what the scan's control status said, or NULL */
};

/* The status the scan saw for name, or NULL. */
const char *decide_status(const struct real_agent *list, size_t n, const char *name);
/* The version of name kept on disk after its failure, as this pass knows
 * it so far; NULL when none. */
const char *decide_kept(const struct reconcile_state *rs, const char *name);
/* What to do for d, into p (p->cur to be freed); reads .version, runs
 * nothing. status: decide_status's; kept: decide_kept's. */
void decide(const struct config *cfg, const struct desired *d, const char *status, const char *kept,
    struct decision *p);
/* A switch to a version that failed lately becomes ACT_HOLD, until its
 * retry_after (or --retry). */
void decide_hold(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p, long long now);
/* A hold ends at once when what the server publishes for it changed
 * (asked now: the check files, a HEAD for the tarball). */
void decide_evidence(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p);
/* A download from a file server that answered 5xx or 429 lately waits
 * (ACT_BUSY) for passes that double per answer in a row. */
void decide_busy(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p, long long now);
/* With rollout_spread, a download waits for this host's slot (ACT_WAIT). */
void decide_slot(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p, long long now);
/* Does the hold of a pin its release by its check files alone, from any
 * tarball prefix? */
int decide_pinned(const struct agent_state *a);

#endif
