#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadline.h"
#include "evidence.h"
#include "fetch.h"
#include "log.h"
#include "probation.h"
#include "say.h"
#include "state.h"
#include "statewrite.h"
#include "util.h"

/* This pass's entry for name: the last pass's, copied, the first time. */
struct agent_state *
record_entry(const struct reconcile_state *rs, const char *name)
{
	const struct agent_state *old = rs->prev ? state_find(rs->prev, name) : NULL;
	int fresh = state_find(rs->next, name) == NULL;
	struct agent_state *a = state_get(rs->next, name);

	if (fresh && old != NULL)
		state_copy_agent(a, old);
	return a;
}

/* Write the state now, in the middle of a pass: this pass's entries so
 * far, the last pass's for the rest, and the last finished pass's header
 * (check must not take a pass that may yet be killed for one that ended). */
int
record_checkpoint(const struct config *cfg, struct pass_state *next, const struct pass_state *prev)
{
	struct pass_state now = *next;

	state_carry(next, prev, NULL);
	now.agents = next->agents;
	now.n = next->n;
	now.started = prev->started;
	now.duration_ms = prev->duration_ms;
	now.exit_code = prev->exit_code;
	now.log_lost = prev->log_lost;
	now.log_error = prev->log_error;
	now.cut = prev->cut;
	return state_write(cfg->workdir, &now);
}

/* The current version of d was found not running and is started again:
 * a warning, counted (in a row and in all), unless the server had it
 * stopped (its last cmd was stop): then it is only its wish. */
void
record_restart(const struct reconcile_state *rs, const struct desired *d, const struct decision *p)
{
	struct agent_state *a = record_entry(rs, d->name);
	char seen[64];

	if (strcmp(a->cmd, "stop") == 0) {
		log_info(d->name, "%s started again, as the server asks (it had asked for a stop)", p->cur);
		return;
	}
	a->restarts++;
	a->restarts_total++;
	a->restarted_now = 1;
	str_vis(seen, sizeof(seen), p->status ? p->status : "not running");
	log_warnx(d->name, "%s was %s, started again (%d in a row, %lld in all)", p->cur, seen,
	    a->restarts, a->restarts_total);
}

/* Count one more failure in a row, with its error. */
void
record_failure(struct agent_state *a, const char *error, long long now)
{
	if (a->fails == 0)
		a->fail_since = now;
	a->fails++;
	state_set(&a->error, error[0] ? error : "failed (no error line)");
}

/* The pass deadline cut what was under way for a: that is the cause, not
 * what the cut transfer or wait said ("Operation timed out after 4862
 * milliseconds"). Ours, not the version's: no failure counted, no hold. */
void
record_cut(struct agent_state *a)
{
	char why[64];

	a->result = STATE_CUT;
	state_set(&a->error, deadline_cause(why, sizeof(why)));
}

void
record_clear_trial(struct agent_state *a)
{
	state_set(&a->trial_version, "");
	state_set(&a->trial_from, "");
	state_set(&a->trial_tarball, "");
	a->trial_started = 0;
	a->trial_failed = 0;
	a->trial_starting = 0;
	a->trial_cut = 0;
}

/* What the rollout keeps of d: the version first seen desired and when,
 * its slot (decide.c, row slot), and a file server's streak of 5xx or
 * 429 (too many requests, without the Retry-After that fetchwait.c keeps;
 * decide.c, row busy): a switch that failed on one lengthens it, any
 * other end of a switch ends it. */
static void
record_rollout(const struct config *cfg, struct agent_state *a, const struct desired *d,
    const struct decision *p, int failed, int bad, long long now)
{
	long status = fetch_last_status();
	int shift;

	if (strcmp(d->cmd, "start") == 0 &&
	    (strcmp(a->seen_version, d->version) != 0 || a->seen_at > now)) {
		state_set_outside(&a->seen_version, d->version);
		a->seen_at = now;
	}
	a->slot_at = p->slot;
	if (p->act == ACT_BUSY && a->busy_skip > 0)
		a->busy_skip--;
	if (p->act != ACT_SWITCH)
		return;
	if (failed && !bad && ((status >= 500 && status <= 599) || status == 429) && cfg->retry_failed > 0) {
		a->busy_fails = strcmp(a->busy_version, d->version) == 0 ? a->busy_fails + 1 : 1;
		state_set_outside(&a->busy_version, d->version);
		shift = a->busy_fails - 1 < 10 ? a->busy_fails - 1 : 10;
		a->busy_skip = (1 << shift) - 1;
		a->busy_since = now;
	} else {
		state_set(&a->busy_version, "");
		a->busy_fails = a->busy_skip = 0;
		a->busy_since = 0;
	}
}

/* version of d (asked from prefix tarball) failed for a fault of its
 * own (why): counted, kept for its logs and, with hold, held with the
 * evidence ev (NULL: none); older gets the version kept before, now to
 * go (or ""). a's entry, the caller to write it down. */
static struct agent_state *
verdict(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const char *version, const char *why, const struct evidence *ev, int hold, char *older, size_t len)
{
	struct agent_state *a = record_entry(rs, d->name);
	long long now = (long long)time(NULL);

	/* Kept for its logs; the one kept before it (older) is no more. */
	snprintf(older, len, "%s", strcmp(a->kept_failed, version) != 0 ? a->kept_failed : "");
	state_set(&a->kept_failed, version);
	a->kept_superseded = 0;
	state_set(&a->interrupted_version, "");
	a->interrupted = 0;
	a->result = STATE_FAILED;
	record_failure(a, why, now);
	/* Held at once, a start is no transit error. */
	if (hold && cfg->retry_failed > 0) {
		struct decide_failure x = { .cfg = cfg, .version = version, .tarball = d->tarball, .bad = 1,
		    .ev = ev, .now = now };
		char note[512];

		decide_failure(&x, a, note, sizeof(note));
	}
	a->counted = 1;
	return a;
}

/* The version on trial for d failed for a fault of its own (why): count
 * and hold it, and write that down before anything is rolled back, so
 * that a pass killed during the rollback leaves a verdict for the next,
 * which then only finishes the rollback (trial_failed), not an
 * interruption to be blamed again. */
void
record_verdict(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const char *why, const struct install_seen *seen, char *older, size_t len)
{
	struct evidence ev = seen->ev;

	/* Its bytes matched the check files, which so pin the release: the
	 * tarball's validators are no evidence (decide_pinned). Held with
	 * what the server published when this pass installed it, if it did. */
	ev.tarball[0] = '\0';
	verdict(cfg, rs, d, d->version, why, evidence_known(&ev) ? &ev : NULL, 1, older, len)->trial_failed = 1;
	if (record_checkpoint(cfg, rs->next, rs->prev) == -1)
		log_errx(d->name, "cannot record the failure of %s in the state before rolling back", d->version);
}

/* The current version cur of d failed its probation (why): as a failed
 * trial, counted, kept for its logs, held while the server asks for it
 * (a hold is of what the server asks: another version's is not undone),
 * and written down before the rollback. older: as record_verdict's. */
void
record_probation(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const char *cur, const char *why, char *older, size_t len)
{
	struct agent_state *a = verdict(cfg, rs, d, cur, why, NULL, strcmp(d->version, cur) == 0, older, len);

	a->rolled_back = 1;
	if (record_checkpoint(cfg, rs->next, rs->prev) == -1)
		log_errx(d->name, "cannot record the failure of %s in the state before rolling back", cur);
}

/* This pass's entry for d: the last pass's, updated by what act did (why:
 * the failure to record, when not the last error logged). */
void
record(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, int failed, int bad, const char *why, const struct install_seen *seen,
    long long now)
{
	struct agent_state *a = record_entry(rs, d->name);
	char *done = say_done(d, p), line[512], note[512];
	struct decide_failure x;
	int idle = p->act == ACT_NONE || p->act == ACT_IGNORE;

	if (!a->trial_kept)
		record_clear_trial(a);	/* over, either way */
	/* The server's strings, bounded and escaped: one long one must not
	 * make the whole file unreadable to the next pass. */
	state_set_outside(&a->version, d->version);
	state_set_outside(&a->cmd, d->cmd);
	/* What the recovery or a rollback after probation did says more. */
	if (!(idle && a->resumed) && !a->rolled_back)
		state_set_outside(&a->done, done);
	free(done);
	record_rollout(cfg, a, d, p, failed, bad, now);
	probation_expire(cfg, a, now);
	if (a->gone_at > now)
		a->gone_at = now;	/* a clock set back: from now */
	if (a->gone_version[0] != '\0' && now - a->gone_at >= STATE_GONE_WARN)
		state_set(&a->gone_version, "");
	if (a->restarted_now) {
		done = xasprintf("%s: it was not running (restarted %d in a row, %lld in all)", a->done,
		    a->restarts, a->restarts_total);
		state_set(&a->done, done);
		free(done);
	} else if (!failed || (p->status != NULL && strcmp(p->status, "started") == 0))
		a->restarts = 0;	/* found running, or put there on purpose */
	if (p->act == ACT_HOLD) {
		a->result = p->result;		/* held: not tried, nothing new to count */
		/* A clock set back shortens it to its backoff from now: said so. */
		a->retry_after = state_hold_until(a, cfg->retry_failed, now);
		if (a->failed_at > now)
			a->failed_at = now;
	} else if (p->act == ACT_BUSY) {
		say_busy(cfg, d, p->held, line, sizeof(line));
		a->result = p->result;	/* busy: not as asked, but no hold: not the release's fault */
		record_failure(a, line, now);
	} else if (p->act == ACT_REFUSE) {
		a->result = p->result;
		record_failure(a, p->why, now);
	} else if (failed && a->counted) {
		state_set(&a->error, why);	/* by record_verdict, held or failed there */
	} else if (failed && deadline_passed()) {
		record_cut(a);
		if (!state_same_outside(a->held_version, d->version))
			decide_unhold(a);	/* the server asks for another now */
	} else if (failed) {
		a->result = STATE_FAILED;
		record_failure(a, why[0] ? why : log_captured(), now);
		x = (struct decide_failure){ .cfg = cfg, .version = d->version, .tarball = d->tarball, .bad = bad,
		    .mismatch = seen->mismatch, .ev = &seen->ev, .was = p->renewed ? p->held : NULL, .now = now };
		if (decide_failure(&x, a, note, sizeof(note)) != NULL && note[0] != '\0')
			log_warnx(d->name, "%s", note);
	} else if (a->failed_now && idle) {
		/* Its trial was cut short and nothing since proved the agent
		 * well: this pass failed for it all the same. */
	} else {
		if (p->act == ACT_SWITCH && strcmp(a->kept_failed, d->version) == 0)
			state_set(&a->kept_failed, "");	/* it runs now: no evidence of anything */
		else if (p->act == ACT_SWITCH && a->kept_failed[0] != '\0')
			a->kept_superseded = 1;	/* a later one runs well: old news */
		if (p->act == ACT_SWITCH) {	/* a trial that ended well: the row is broken */
			state_set(&a->interrupted_version, "");
			a->interrupted = 0;
		}
		/* As decided (nothing, waiting, ok), unless the recovery
		 * committed its trial: then it changed something. */
		a->result = idle && a->resumed ? STATE_OK : p->result;
		state_set(&a->error, "");
		a->fails = 0;
		a->fail_since = 0;
		decide_unhold(a);
		decide_forget_mismatch(a);
	}
}
