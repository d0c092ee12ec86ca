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

/* The hold's evidence: e, or nothing (NULL). */
static void
set_evidence(struct agent_state *a, const struct evidence *e)
{
	state_set(&a->held_md5, e ? e->md5 : "");
	state_set(&a->held_sha256, e ? e->sha256 : "");
	state_set(&a->held_sig, e ? e->sig : "");
	state_set(&a->held_validators, e ? e->tarball : "");
	state_set(&a->held_caps, e ? e->caps : "");
	state_set(&a->held_received, e ? e->received : "");
}

void
record_clear_hold(struct agent_state *a)
{
	state_set(&a->held_version, "");
	state_set(&a->held_tarball, "");
	set_evidence(a, NULL);
	a->failed_at = a->retry_after = 0;
	a->held_fails = 0;
}

void
record_clear_mismatch(struct agent_state *a)
{
	state_set(&a->mismatch_version, "");
	state_set(&a->mismatch_tarball, "");
}

/* Hold version (asked with prefix tarball) back after its failure:
 * retry_failed seconds, doubled per further failure of the same version
 * from the same prefix (or any, for a hold its check files pin), for as
 * long as what the server publishes for it is ev (NULL: not known; then
 * the time alone ends it). */
void
record_hold(const struct config *cfg, struct agent_state *a, const char *version, const char *tarball,
    const struct evidence *ev, long long now)
{
	if (state_same_outside(a->held_version, version) &&
	    (state_same_outside(a->held_tarball, tarball) || decide_pinned(a)))
		a->held_fails++;
	else
		a->held_fails = 1;
	state_set_outside(&a->held_version, version);
	state_set_outside(&a->held_tarball, tarball);
	set_evidence(a, ev);
	a->failed_at = now;
	a->retry_after = now + state_backoff(cfg->retry_failed, a->held_fails);
	record_clear_mismatch(a);
	/* The pass that holds it says so: from this pass on, every view
	 * shows it held, not failed for one pass and held the next. */
	a->result = STATE_HELD;
}

/* The bytes a download of d brought failed their digest as those of the
 * hold was did: the same release, whatever its tarball's validators say.
 * The hold stands, counted once more (its backoff doubles); validators
 * that changed (the hold ended for them: renewed) while the bytes did not
 * are no evidence for it, and are not asked again while it holds. */
static void
same_bytes(const struct config *cfg, struct agent_state *a, const struct desired *d,
    const struct agent_state *was, int renewed, const struct install_seen *seen, long long now)
{
	struct evidence ev = seen->ev;

	if (renewed)
		snprintf(ev.tarball, sizeof(ev.tarball), "%s", EVIDENCE_VARIES);
	if (was != a) {		/* ended for this download: taken up again */
		state_set(&a->held_version, was->held_version);
		state_set(&a->held_tarball, was->held_tarball);
		a->held_fails = was->held_fails;
	}
	record_hold(cfg, a, d->version, d->tarball, &ev, now);
	log_warnx(d->name, "%s is the same release as when it was held (its bytes again: %s)%s: held again, "
	    "%d in a row%s", d->version, ev.received,
	    renewed ? ", although its tarball's validators changed" : "", a->held_fails,
	    renewed ? "; they are no evidence for it now" : "");
}

/* A release of d failed as the release's own fault: hold it, unless it
 * failed a digest or signature check for the first time (bytes hurt on
 * the way, a publish caught half done): that is tried once more on the
 * next pass, and held only if it fails so again. Bytes that failed so
 * before, when it was held, are no first time (same_bytes). */
static void
blame(const struct config *cfg, struct agent_state *a, const struct desired *d, const struct decision *p,
    const struct install_seen *seen, long long now)
{
	const struct agent_state *was = p->renewed ? p->held : a;

	if (seen->mismatch && was != NULL && seen->ev.received[0] != '\0' &&
	    state_same_outside(was->held_version, d->version) &&
	    strcmp(was->held_received, seen->ev.received) == 0) {
		same_bytes(cfg, a, d, was, p->renewed, seen, now);
		return;
	}
	if (seen->mismatch && !(state_same_outside(a->mismatch_version, d->version) &&
	    state_same_outside(a->mismatch_tarball, d->tarball))) {
		state_set_outside(&a->mismatch_version, d->version);
		state_set_outside(&a->mismatch_tarball, d->tarball);
		log_warnx(d->name, "%s failed its checks: it is tried once more on the next pass, "
		    "and held if it fails so again", d->version);
		return;
	}
	record_hold(cfg, a, d->version, d->tarball, &seen->ev, now);
}

/* What the rollout keeps of d: the version first seen desired and when,
 * its slot (decide_slot), and a file server's streak of 5xx or 429 (too
 * many requests, without the Retry-After that fetchwait.c keeps; decide_busy):
 * a switch that failed on one lengthens it, any other end of a switch
 * ends it. */
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
	if (hold && cfg->retry_failed > 0)
		record_hold(cfg, a, version, d->tarball, ev, now);
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
	char *done = say_done(d, p), line[512];
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
			record_clear_hold(a);	/* the server asks for another now */
	} else if (failed) {
		a->result = STATE_FAILED;
		record_failure(a, why[0] ? why : log_captured(), now);
		if (bad && cfg->retry_failed > 0)
			blame(cfg, a, d, p, seen, now);
		else
			record_clear_hold(a);
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
		record_clear_hold(a);
		record_clear_mismatch(a);
	}
}
