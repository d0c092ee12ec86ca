/* The decision for one desired agent, pure: from what the server asks,
 * what is on disk, the status the scan saw, the last pass's record, the
 * evidence gathered against a hold and the time, all passed in, what to
 * do (enum action) and what the record says of it before anything is
 * done. Its rules, holds, slots and busy servers among them, stand as one
 * table (decide.c), in the order of ops-updater-fleet(7). No I/O, no
 * clock: gathering the facts and acting on the decision is reconcile.h's
 * and switch.h's; writing it down, record.h's. */
#ifndef DECIDE_H
#define DECIDE_H

#include "config.h"
#include "evidence.h"
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
	int rebooted;			/* the host went down since the last pass: an
					 * agent found down is no death on probation */
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
	ACT_ASK,	/* not decided yet: ask the server for the evidence against
			 * the hold (decide_was), then decide again with it */
};

/* Everything a decision rests on, gathered by the caller. */
struct decide_facts {
	const struct config *cfg;	/* retry_failed, rollout_spread, caps, key, host */
	const struct desired *d;	/* what the server asks */
	/* On disk, as read this pass (nothing of an untrusted agent is). */
	const char *untrusted;		/* why trust_agent refused its files, or NULL */
	char *cur;			/* what .version names, if installed; NULL */
	int installed;			/* is d's version on disk? */
	const char *kept;		/* the version kept after its failure, or NULL */
	const char *status;		/* what the scan's control status said, or NULL */
	/* The last record. */
	const struct agent_state *prev;	/* the last pass's entry for d, or NULL */
	int fresh;			/* no heartbeat of this host answered before */
	/* The evidence against a hold, asked for by ACT_ASK; NULL before. */
	const struct evidence *ev;
	int ev_unknown;			/* part of it could not be had */
	int retry, now_flag;		/* run --retry, run --now */
	long long now;			/* the time, Unix */
};

/* What decide found for one desired agent, and what it rests on. */
struct decision {
	enum action act;
	const char *rule;	/* the row of the table that decided it */
	char *cur;		/* what .version names, if installed (the facts') */
	int installed;		/* for ACT_SWITCH: is the new version on disk? */
	int kept;		/* for ACT_SWITCH: on disk, but kept after it failed:
				 * moved aside and downloaded again */
	const char *why;	/* for ACT_NONE and ACT_REFUSE */
	char untrusted[256];	/* why, when trust_agent refused */
	char dashed[320];	/* why, when a signed version has a '-' */
	const struct agent_state *held;	/* the last pass's entry, when it holds this
					 * version (over or not), or for ACT_BUSY */
	int renewed;		/* the hold's cause is gone: a new release */
	long long slot;		/* for a download with rollout_spread: when, Unix time */
	const char *status;	/* what the scan's control status said, or NULL */
	enum state_result result;	/* the record's verdict, for an action that
					 * is the whole of it (hold, wait, busy,
					 * refuse, none); else what acting decides */
	char note[EVIDENCE_TARBALL_MAX * 2 + 160];	/* a line for the log, or "" */
	int note_warn;		/* the note is a warning, not news */
};

/* One row of the table: when it applies, what it decides. */
struct decide_rule {
	const char *id;		/* "hold-over", ... */
	const char *rule;	/* the rule in words, as the docs have it */
	int (*applies)(const struct decide_facts *f, struct decision *p);
	enum action act;	/* what it decides; ACT_NONE with go_on: nothing */
	int go_on;		/* 1: noted, and the next rows decide */
};

/* The table, in its order: the first row that applies (and does not go
 * on) decides. */
extern const struct decide_rule decide_rules[];
extern const size_t decide_nrules;

/* Decide for f into p: pure. p->cur is f->cur (the caller's to free). */
void decide(const struct decide_facts *f, struct decision *p);
/* The evidence the hold of a keeps (state.h), as evidence.h has it, for
 * the caller to ask the server again with. Pure. */
void decide_was(const struct agent_state *a, struct evidence *e);
/* The status the scan saw for name, or NULL. */
const char *decide_status(const struct real_agent *list, size_t n, const char *name);
/* The version of name kept on disk after its failure, as this pass knows
 * it so far; NULL when none. */
const char *decide_kept(const struct reconcile_state *rs, const char *name);
/* Does the hold of a pin its release by its check files alone, from any
 * tarball prefix? */
int decide_pinned(const struct agent_state *a);

#endif
