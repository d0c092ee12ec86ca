#include "reconcile.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent.h"
#include "deadline.h"
#include "decide.h"
#include "evidence.h"
#include "file.h"
#include "install.h"
#include "release.h"
#include "retain.h"
#include "say.h"
#include "log.h"
#include "partial.h"
#include "rollout.h"
#include "trust.h"
#include "util.h"

#define INTERRUPTED_MAX 3	/* trials of a version cut short in a row that hold it */

/* A hold stands only while its evidence does. For a version held, or
 * about to be tried again from a copy on disk, ask the server what it
 * publishes now (the check files, a HEAD for the tarball: never its
 * bytes); if anything differs from what it published when the version
 * failed, the hold ends at once and the release is downloaded again:
 * what is on disk is not what the server publishes now. The one place
 * where that is decided. */
/* Write <workdir>/<name>/.version last of all: it is what says "done". */
static int
switch_commit(const struct config *cfg, const char *name, const char *version)
{
	char *path = xasprintf("%s/%s/.version", cfg->workdir, name);
	char *text = xasprintf("%s\n", version);
	int ret = file_write_atomic(path, text, strlen(text), 0644);

	free(text);
	free(path);
	return ret;
}

static char *
switch_dir(const struct config *cfg, const char *name, const char *version)
{
	return xasprintf("%s/%s/%s", cfg->workdir, name, version);
}

/* Start the new version and, with health_wait, watch that it stays up.
 * 0, or -1 with the outcome in o and *gate set when the health gate
 * failed it (it had started). */
static int
start_new(const struct config *cfg, const struct desired *d, const char *newdir,
    struct agent_outcome *o, int *gate)
{
	*gate = 0;
	if (agent_start(d->name, newdir, cfg->control_timeout, cfg->status_wait, o) == -1)
		return -1;
	*gate = 1;
	if (cfg->health_wait > 0 &&
	    agent_health(d->name, newdir, cfg->control_timeout, cfg->health_wait, o) == -1)
		return -1;
	return 0;
}

/* The new version in newdir did not run well (o, gate: start_new's
 * outcome): stop it, start the old one again. Its directory stays, with
 * its logs, for whoever wants to know why. */
static void
roll_back(const struct config *cfg, const struct desired *d, const char *cur,
    const char *olddir, const char *newdir, const struct agent_outcome *o, int gate)
{
	const char *what = o->result == AGENT_UNKNOWN ? "gave no answer (a slow or loaded host?): not held" :
	    gate ? "failed the health gate" : "did not start";

	log_warnx(d->name, "%s %s; rolling back to %s", d->version, what, cur ? cur : "nothing");
	agent_stop(d->name, newdir, cfg->control_timeout, cfg->status_wait, NULL);
	if (olddir != NULL && agent_start(d->name, olddir, cfg->control_timeout, cfg->status_wait, NULL) == -1)
		log_errx(d->name, "rollback: %s did not start again either", cur);
	if (o->result == AGENT_FAILED)
		log_info(d->name, "%s kept for its logs (never started again from there): %s, output in %s/%s/control-%s.log",
		    d->version, newdir, cfg->workdir, d->name, d->version);
}

/* Remove version of d's agent, kept after its failure (why: what makes it
 * go now), unless it still runs and will not stop. 0, or -1 (logged). */
static int
drop_kept(const struct config *cfg, const struct desired *d, const char *version, const char *why)
{
	char *dir = switch_dir(cfg, d->name, version);
	int ret = -1;

	log_info(d->name, "removing %s, kept after its failure: %s", dir, why);
	if (agent_stop(d->name, dir, cfg->control_timeout, cfg->status_wait, NULL) == -1)
		log_errx(d->name, "%s did not stop: not removed", dir);
	else
		ret = retain_remove(cfg->workdir, d->name, version);
	free(dir);
	return ret;
}

/* This pass's entry for name: the last pass's, copied, the first time. */
static struct agent_state *
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
static int
record_checkpoint(const struct config *cfg, struct pass_state *next, const struct pass_state *prev)
{
	struct pass_state now = *next;

	state_carry(next, prev, NULL);
	now.agents = next->agents;
	now.n = next->n;
	now.started = prev->started;
	now.duration_ms = prev->duration_ms;
	now.exit_code = prev->exit_code;
	return state_write(cfg->workdir, &now);
}

/* Record, durably, that d's version is about to be tried in place of cur:
 * a pass killed from here until the trial's end (or a host that goes down)
 * leaves this behind for the next pass (reconcile_recover). */
static int
trial_begin(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const char *cur)
{
	struct agent_state *a = record_entry(rs, d->name);

	state_set(&a->trial_version, d->version);
	state_set(&a->trial_from, cur ? cur : "");
	state_set_outside(&a->trial_tarball, d->tarball);
	a->trial_started = (long long)time(NULL);
	if (record_checkpoint(cfg, rs->next, rs->prev) == -1) {
		log_errx(d->name, "cannot record the trial of %s in the state: %s not stopped, %s not started",
		    d->version, cur ? cur : "nothing", d->version);
		return -1;
	}
	return 0;
}

/* The old version is down; the new one's start begins: recorded
 * durably first, for from here on a trial cut short (the new version not
 * running when the next pass looks) may be the new version's doing. A
 * pass killed before, while the old version stopped, is no verdict on
 * the new one, which never ran (reconcile_recover). */
static void
trial_starting(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d)
{
	record_entry(rs, d->name)->trial_starting = 1;
	if (record_checkpoint(cfg, rs->next, rs->prev) == -1)
		log_errx(d->name, "cannot record in the state that the start of %s begins", d->version);
}

static void record_verdict(const struct config *, const struct reconcile_state *, const struct desired *,
    const char *, const struct install_seen *, char *, size_t);

/* The current version of d was found not running and is started again:
 * a warning, counted (in a row and in all), unless the server had it
 * stopped (its last cmd was stop): then it is only its wish. */
static void
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

/* A new version held back, waiting for its slot or for a busy server:
 * the current one must still run meanwhile. Found not running, it is
 * started again (and counted) as ACT_START would. 0, or -1 (logged). */
static int
switch_keep_current(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, const char *dir)
{
	struct agent_outcome o;

	if (dir == NULL || p->status == NULL || strcmp(p->status, "started") == 0)
		return 0;
	if (agent_start(d->name, dir, cfg->control_timeout, cfg->status_wait, &o) == -1)
		return -1;
	if (o.ran)
		record_restart(rs, d, p);
	return 0;
}

/* Past the pass deadline, a trial under way is left as a kill -9 would
 * leave it (the record durable, nothing rolled back): the next pass
 * finds it (reconcile_recover). 1 when so. */
static int
leave_trial(const struct reconcile_state *rs, const struct desired *d)
{
	struct agent_state *a;

	if (!deadline_passed())
		return 0;
	log_errx(d->name, "the pass deadline (pass_timeout) came during the trial of %s: "
	    "left as it is for the next pass", d->version);
	a = record_entry(rs, d->name);
	a->trial_kept = 1;
	a->trial_cut = 1;	/* cut by us: no verdict on the version */
	return 1;
}

/* Install if needed, record the trial, stop the old, start the new, and
 * only then write .version. If the new one never starts (or does not stay
 * up for health_wait), put the old one back. *bad is set when the fault is
 * the new version's: it did not install or did not start; why gets the
 * failure of the start or health gate, which the rollback's cannot hide. */
static int
switch_version(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, int *bad, char *why, size_t whylen, struct install_seen *seen)
{
	const char *cur = p->cur;
	char *newdir = switch_dir(cfg, d->name, d->version);
	char *olddir = cur ? switch_dir(cfg, d->name, cur) : NULL;
	char older[160] = "";
	struct agent_outcome o;
	int ret = -1, gate, installed = p->installed;

	/* A copy on disk that is not to be started (kept after its failure,
	 * or its files changed on the server since) goes first. */
	if (!installed && agent_present(cfg->workdir, d->name, d->version) &&
	    drop_kept(cfg, d, d->version, p->renewed ? "its files changed on the server since it failed" :
	    "it is downloaded again") == -1)
		goto keep;
	if (!installed && install_version(cfg, d, bad, seen) == -1)
		goto keep;
	/* Installed earlier, maybe before the key was set: its own kept
	 * signature must vouch for it (a hold when not, like any other). */
	if (installed && cfg->public_key != NULL &&
	    release_verify_kept(cfg, d->name, d->version) == -1) {
		*bad = 1;
		goto keep;
	}
	if (trial_begin(cfg, rs, d, cur) == -1)
		goto keep;
	if (olddir != NULL && agent_stop(d->name, olddir, cfg->control_timeout, cfg->status_wait, NULL) == -1) {
		if (leave_trial(rs, d))
			goto out;
		log_warnx(d->name, "cannot stop %s; %s not started", cur, d->version);
		goto out;
	}
	trial_starting(cfg, rs, d);
	if (start_new(cfg, d, newdir, &o, &gate) == -1) {
		if (leave_trial(rs, d))
			goto out;
		snprintf(why, whylen, "%s", o.error);
		/* Only a definite no is the release's fault; no answer is the
		 * host's as likely: rolled back, tried again next pass. */
		if (o.result == AGENT_FAILED) {
			*bad = 1;
			record_verdict(cfg, rs, d, why, seen, older, sizeof(older));
		}
		roll_back(cfg, d, cur, olddir, newdir, &o, gate);
		/* Cut by the deadline, the rollback may have left the new
		 * version up and the old one down: the trial stays, as a
		 * kill leaves it, and the next pass finishes the rollback. */
		if (leave_trial(rs, d))
			goto out;
		/* One failed version is kept as evidence: the last. */
		if (older[0] != '\0' && (cur == NULL || strcmp(older, cur) != 0) &&
		    agent_present(cfg->workdir, d->name, older))
			drop_kept(cfg, d, older, "a later version failed since");
		goto out;
	}
	retain_touch(cfg->workdir, d->name, d->version);
	if (switch_commit(cfg, d->name, d->version) == -1)
		goto out;
	log_info(d->name, "now at %s (was %s)", d->version, cur ? cur : "not installed");
	/* Only after a good switch: a failed one keeps everything for study.
	 * An old version that cannot be removed fails the agent's pass, with
	 * the error in the state: check must not say OK over it. */
	ret = retain_prune(cfg->workdir, d->name, d->version, cfg->keep_versions, cfg->control_timeout);
	goto out;
keep:
	/* Nothing was switched: the current version must run meanwhile. */
	switch_keep_current(cfg, rs, d, p, olddir);
out:
	free(olddir);
	free(newdir);
	return ret;
}

/* Carry out decision p for d; 0 or -1, with *bad set when a new version
 * failed to install or to start, why set when the failure to record is
 * not the last error logged, and what its install saw in *seen. */
static int
act(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, size_t idx, int *bad, char *why, size_t whylen, struct install_seen *seen)
{
	char line[512];
	char *dir = p->cur ? switch_dir(cfg, d->name, p->cur) : NULL;
	struct agent_outcome o;
	int ret = 0;

	switch (p->act) {
	case ACT_NONE:
		log_debug(d->name, "nothing to do: %s", p->why);
		break;
	case ACT_IGNORE:
		log_warnx(d->name, "unknown cmd '%.40s': ignored", d->cmd);
		break;
	case ACT_START:
		ret = agent_start(d->name, dir, cfg->control_timeout, cfg->status_wait, &o);
		if (ret == 0 && o.ran)
			record_restart(rs, d, p);
		break;
	case ACT_STOP:
		ret = agent_stop(d->name, dir, cfg->control_timeout, cfg->status_wait, NULL);
		break;
	case ACT_SWITCH:
		ret = switch_version(cfg, rs, d, p, bad, why, whylen, seen);
		break;
	case ACT_HOLD:
		say_hold(cfg, d, p->held, line, sizeof(line));
		log_warnx(d->name, "%s", line);
		switch_keep_current(cfg, rs, d, p, dir);
		ret = -1;
		break;
	case ACT_WAIT:
		log_info(d->name, "%s", say_slot(d, p, line, sizeof(line)));
		ret = switch_keep_current(cfg, rs, d, p, dir);
		break;
	case ACT_BUSY:
		say_busy(cfg, d, p->held, line, sizeof(line));
		log_warnx(d->name, "%s", line);
		switch_keep_current(cfg, rs, d, p, dir);
		ret = -1;
		break;
	case ACT_REFUSE:
		log_errx(NULL, "desiredAgents entry %zu skipped: %s", idx + 1, p->why);
		ret = -1;
		break;
	}
	free(dir);
	return ret;
}

/* Count one more failure in a row, with its error. */
static void
record_failure(struct agent_state *a, const char *error, long long now)
{
	if (a->fails == 0)
		a->fail_since = now;
	a->fails++;
	state_set(&a->error, error[0] ? error : "failed (no error line)");
}

static void
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
}

static void
record_clear_hold(struct agent_state *a)
{
	state_set(&a->held_version, "");
	state_set(&a->held_tarball, "");
	set_evidence(a, NULL);
	a->failed_at = a->retry_after = 0;
	a->held_fails = 0;
}

static void
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
static void
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
}

/* A release of d failed as the release's own fault: hold it, unless it
 * failed a digest or signature check for the first time (bytes hurt on
 * the way, a publish caught half done): that is tried once more on the
 * next pass, and held only if it fails so again. */
static void
blame(const struct config *cfg, struct agent_state *a, const struct desired *d,
    const struct install_seen *seen, long long now)
{
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
 * many requests, without the Retry-After that fetch.c keeps; decide_busy):
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

/* The version on trial for d failed for a fault of its own (why): count
 * and hold it, and write that down before anything is rolled back, so
 * that a pass killed during the rollback leaves a verdict for the next,
 * which then only finishes the rollback (trial_failed), not an
 * interruption to be blamed again. */
static void
record_verdict(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const char *why, const struct install_seen *seen, char *older, size_t len)
{
	struct agent_state *a = record_entry(rs, d->name);
	long long now = (long long)time(NULL);
	struct evidence ev = seen->ev;

	/* Its bytes matched the check files, which so pin the release: the
	 * tarball's validators are no evidence (decide_pinned). */
	ev.tarball[0] = '\0';
	/* Kept for its logs; the one kept before it (older) is no more. */
	snprintf(older, len, "%s", strcmp(a->kept_failed, d->version) != 0 ? a->kept_failed : "");
	state_set(&a->kept_failed, d->version);
	state_set(&a->interrupted_version, "");
	a->interrupted = 0;
	a->result = STATE_FAILED;
	record_failure(a, why, now);
	/* Held at once, a start is no transit error; with what the server
	 * published when this pass installed it, if it did. */
	if (cfg->retry_failed > 0)
		record_hold(cfg, a, d->version, d->tarball, evidence_known(&ev) ? &ev : NULL, now);
	a->trial_failed = 1;
	a->counted = 1;
	if (record_checkpoint(cfg, rs->next, rs->prev) == -1)
		log_errx(d->name, "cannot record the failure of %s in the state before rolling back", d->version);
}

/* This pass's entry for d: the last pass's, updated by what act did (why:
 * the failure to record, when not the last error logged). */
static void
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
	if (!(idle && a->resumed))	/* what the recovery did says more */
		state_set_outside(&a->done, done);
	free(done);
	record_rollout(cfg, a, d, p, failed, bad, now);
	if (a->restarted_now) {
		done = xasprintf("%s: it was not running (restarted %d in a row, %lld in all)", a->done,
		    a->restarts, a->restarts_total);
		state_set(&a->done, done);
		free(done);
	} else if (!failed || (p->status != NULL && strcmp(p->status, "started") == 0))
		a->restarts = 0;	/* found running, or put there on purpose */
	if (p->act == ACT_HOLD) {
		a->result = STATE_HELD;		/* not tried: nothing new to count */
		/* A clock set back shortens it to its backoff from now: said so. */
		a->retry_after = state_hold_until(a, cfg->retry_failed, now);
		if (a->failed_at > now)
			a->failed_at = now;
	} else if (p->act == ACT_BUSY) {
		say_busy(cfg, d, p->held, line, sizeof(line));
		a->result = STATE_FAILED;	/* not as asked, but no hold: not the release's fault */
		record_failure(a, line, now);
	} else if (p->act == ACT_REFUSE) {
		a->result = STATE_REFUSED;
		record_failure(a, p->why, now);
	} else if (failed) {
		a->result = STATE_FAILED;
		if (a->counted)		/* by verdict, with its hold */
			state_set(&a->error, why);
		else {
			record_failure(a, why[0] ? why : log_captured(), now);
			if (bad && cfg->retry_failed > 0)
				blame(cfg, a, d, seen, now);
			else
				record_clear_hold(a);
		}
	} else if (a->failed_now && idle) {
		/* Its trial was cut short and nothing since proved the agent
		 * well: this pass failed for it all the same. */
	} else {
		if (p->act == ACT_SWITCH && strcmp(a->kept_failed, d->version) == 0)
			state_set(&a->kept_failed, "");	/* it runs now: no evidence of anything */
		if (p->act == ACT_SWITCH) {	/* a trial that ended well: the row is broken */
			state_set(&a->interrupted_version, "");
			a->interrupted = 0;
		}
		a->result = idle && !a->resumed ? STATE_NOTHING :
		    p->act == ACT_WAIT ? STATE_WAITING : STATE_OK;
		state_set(&a->error, "");
		a->fails = 0;
		a->fail_since = 0;
		record_clear_hold(a);
		record_clear_mismatch(a);
	}
}

/* Past the pass deadline no agent is taken: entries i and on of r are
 * left for the next pass, each keeping what the last pass knew of it. */
static void
not_reached(const struct reconcile_state *rs, const struct hb_response *r, size_t i)
{
	size_t n = 0;

	for (; i < r->n; i++, n++)
		if (rs->next != NULL && rs->prev != NULL && name_is_valid(r->agents[i].name) &&
		    state_find(rs->prev, r->agents[i].name) != NULL)
			record_entry(rs, r->agents[i].name);
	log_errx(NULL, "the pass deadline (pass_timeout) has passed: %zu agent%s not reached, left for the "
	    "next pass", n, n == 1 ? "" : "s");
}

int
reconcile(const struct config *cfg, const struct hb_response *r,
    const struct real_agent *scanned, size_t nscanned, FILE *plan,
    const struct reconcile_state *rs)
{
	const struct agent_state *a;
	struct install_seen seen;
	struct decision p;
	long long now = (long long)time(NULL);
	char why[sizeof(((struct agent_outcome *)0)->error)];
	size_t i;
	int ret = 0, failed, bad;

	for (i = 0; i < r->n; i++) {
		const struct desired *d = &r->agents[i];

		if (!config_manages(cfg, d->name)) {
			log_debug(d->name, "not in the agents list of the config: left alone");
			continue;
		}
		if (plan == NULL && deadline_passed()) {
			not_reached(rs, r, i);
			ret |= RECONCILE_FAILED;
			break;
		}
		decide(cfg, d, decide_status(scanned, nscanned, d->name), decide_kept(rs, d->name), &p);
		decide_hold(cfg, rs, d, &p, now);
		decide_evidence(cfg, rs, d, &p);
		decide_busy(cfg, rs, d, &p, now);
		decide_slot(cfg, rs, d, &p, now);
		if (p.act == ACT_REFUSE || p.act == ACT_HOLD || p.act == ACT_BUSY)
			ret |= RECONCILE_FAILED;
		else if (p.act != ACT_NONE && p.act != ACT_IGNORE && p.act != ACT_WAIT)
			ret |= RECONCILE_CHANGED;
		/* A download cut for another version of it is of no use now. */
		if (plan == NULL && p.act != ACT_REFUSE && strcmp(d->cmd, "start") == 0)
			partial_keep_only(cfg->workdir, d->name, d->version);
		if (plan != NULL)
			say(plan, cfg, d, &p, i);
		else {
			bad = 0;
			why[0] = '\0';
			memset(&seen, 0, sizeof(seen));
			/* A hold whose files changed: a new release, a fresh count
			 * (before act: a failed start records its hold there). */
			if (p.renewed && rs->next != NULL) {
				record_clear_hold(record_entry(rs, d->name));
				record_clear_mismatch(record_entry(rs, d->name));
			}
			log_capture(d->name);
			failed = act(cfg, rs, d, &p, i, &bad, why, sizeof(why), &seen) == -1;
			if (failed)
				ret |= RECONCILE_FAILED;
			/* A name that is not valid has no place in the state. */
			if (rs->next != NULL && name_is_valid(d->name))
				record(cfg, rs, d, &p, failed, bad, why, &seen, (long long)time(NULL));
			if (rs->next != NULL && (a = state_find(rs->next, d->name)) != NULL &&
			    a->failed_now && a->result == STATE_FAILED)
				ret |= RECONCILE_FAILED;
			log_capture(NULL);
		}
		free(p.cur);
	}
	return ret;
}

/* Put the agent of a, whose trial a killed pass left unfinished, back as
 * .version says (cur): the trial version stopped (nothing is run when its
 * status says stoped already), cur started. Nothing is run for an agent
 * whose files trust.h refuses. */
static void
recover_processes(const struct config *cfg, const struct agent_state *a, const char *cur)
{
	char why[256];
	char *dir = switch_dir(cfg, a->name, a->trial_version);

	if (trust_agent(cfg->workdir, a->name, a->trial_version, why, sizeof(why)) == -1 ||
	    (cur != NULL && trust_agent(cfg->workdir, a->name, cur, why, sizeof(why)) == -1)) {
		log_errx(a->name, "not recovered from the interrupted trial: %s", why);
		goto out;
	}
	if (agent_present(cfg->workdir, a->name, a->trial_version))
		agent_stop(a->name, dir, cfg->control_timeout, cfg->status_wait, NULL);
	free(dir);
	dir = NULL;
	if (cur != NULL && agent_present(cfg->workdir, a->name, cur)) {
		dir = switch_dir(cfg, a->name, cur);
		agent_start(a->name, dir, cfg->control_timeout, cfg->status_wait, NULL);
	}
out:
	free(dir);
}

/* The entry of name in next, after a checkpoint: the write may have added
 * entries, and moved them. */
static struct agent_state *
durable(const struct config *cfg, struct pass_state *next, const struct pass_state *prev, const char *name)
{
	if (record_checkpoint(cfg, next, prev) == -1)
		log_errx(name, "cannot record the outcome of the resumed trial in the state before rolling back");
	return state_find(next, name);
}

/* The trial of a (next's entry), cut short, runs: its health gate again,
 * from the start, and the version committed when it passes. Else it is
 * rolled back; the failure is counted, and held when it was the release's
 * (recorded before the rollback, as in a switch). 0 when committed, 1
 * when it failed for good, -1 when no answer came. a may move (durable). */
static int
resume(const struct config *cfg, const struct pass_state *prev, struct pass_state *next,
    struct agent_state *a, const char *cur, long long now)
{
	const char *name = a->name;
	char *dir = switch_dir(cfg, a->name, a->trial_version);
	char *olddir = cur ? switch_dir(cfg, a->name, cur) : NULL, *done;
	struct agent_outcome o = { .result = AGENT_OK, .out_from = -1 };
	int ret = -1;

	log_warnx(name, "the trial of %s was interrupted, and it runs: its health gate again, from the start",
	    a->trial_version);
	/* Never two versions running: the old one is down, as the trial
	 * left it, or is stopped now. That is no fault of the new one. */
	if (olddir != NULL && agent_stop(name, olddir, cfg->control_timeout, cfg->status_wait, &o) == -1)
		o.result = AGENT_UNKNOWN;
	else if (cfg->health_wait > 0)
		agent_health(name, dir, cfg->control_timeout, cfg->health_wait, &o);
	if (o.result == AGENT_OK && switch_commit(cfg, name, a->trial_version) == -1) {
		o.result = AGENT_UNKNOWN;	/* ours, not the release's */
		snprintf(o.error, sizeof(o.error), "%s passed its resumed trial, but %s/%s/.version "
		    "could not be written (see the log)", a->trial_version, cfg->workdir, name);
	}
	if (o.result == AGENT_OK) {
		retain_touch(cfg->workdir, name, a->trial_version);
		log_info(name, "now at %s (was %s): its trial, resumed, passed", a->trial_version,
		    cur ? cur : "not installed");
		done = xasprintf("commit %s: its trial, cut short, resumed", a->trial_version);
		state_set_outside(&a->done, done);
		free(done);
		if (strcmp(a->kept_failed, a->trial_version) == 0)
			state_set(&a->kept_failed, "");
		state_set(&a->interrupted_version, "");
		a->interrupted = 0;
		a->result = STATE_OK;
		a->resumed = 1;
		retain_prune(cfg->workdir, name, a->trial_version, cfg->keep_versions, cfg->control_timeout);
		record_clear_trial(a);
		ret = 0;
		goto out;
	}
	if (o.result == AGENT_UNKNOWN && deadline_passed()) {
		/* Cut by the pass: no verdict, and no rollback that the
		 * deadline would cut in turn. Left as a kill leaves it. */
		log_errx(name, "the pass deadline (pass_timeout) came during the resumed trial of %s: "
		    "left as it is for the next pass", a->trial_version);
		a->trial_cut = 1;
		goto out;
	}
	a->result = STATE_FAILED;
	a->failed_now = 1;
	record_failure(a, o.error, now);
	if (o.result == AGENT_FAILED) {
		ret = 1;
		if (cfg->retry_failed > 0)
			record_hold(cfg, a, a->trial_version, a->trial_tarball, NULL, now);
		state_set(&a->kept_failed, a->trial_version);
		state_set(&a->interrupted_version, "");
		a->interrupted = 0;
		a->trial_failed = 1;
		a = durable(cfg, next, prev, name);
	}
	log_warnx(name, "%s %s; rolling back to %s", a->trial_version,
	    o.result == AGENT_FAILED ? "failed the health gate" : "gave no answer: not held", cur ? cur : "nothing");
	recover_processes(cfg, a, cur);
	record_clear_trial(a);
out:
	free(olddir);
	free(dir);
	return ret;
}

/* One trial left unfinished in a (next's entry, a copy of the last
 * pass's): 1 when it failed for good (counted; held), else 0. A trial that
 * .version shows committed had ended well; one that failed (trial_failed)
 * only needs its rollback finished; one whose version runs is resumed;
 * otherwise the version never got going: back to .version's, and only the
 * INTERRUPTED_MAX-th such trial of a version in a row is its failure. */
static int
recover_one(const struct config *cfg, const struct pass_state *prev, struct pass_state *next,
    struct agent_state *a, long long now)
{
	char why[512], at[32], *dir = NULL;
	char *cur = scan_version(cfg->workdir, a->name), *done;
	int runs = 0, ret = 0;

	if (cur != NULL && strcmp(cur, a->trial_version) == 0) {
		log_info(a->name, "the trial of %s had ended well: .version names it", a->trial_version);
		record_clear_trial(a);
		goto out;
	}
	if (a->trial_failed) {
		/* Its failure is counted and held already: only the
		 * rollback, cut short, is finished. */
		log_warnx(a->name, "the rollback from failed %s was interrupted; back to %s", a->trial_version,
		    cur ? cur : "nothing");
		recover_processes(cfg, a, cur);
		record_clear_trial(a);
		goto out;
	}
	if (trust_agent(cfg->workdir, a->name, a->trial_version, why, sizeof(why)) == 0 &&
	    (cur == NULL || trust_agent(cfg->workdir, a->name, cur, why, sizeof(why)) == 0) &&
	    agent_present(cfg->workdir, a->name, a->trial_version)) {
		dir = switch_dir(cfg, a->name, a->trial_version);
		runs = agent_running(dir, cfg->control_timeout);
	}
	if (runs == 1) {
		ret = resume(cfg, prev, next, a, cur, now) == 1;	/* a may have moved */
		goto out;
	}
	snprintf(why, sizeof(why), a->trial_cut ? "trial of %s cut by the pass deadline (pass_timeout), after %s" :
	    "trial of %s interrupted (the pass was killed, or the host went down, after %s)",
	    a->trial_version, state_time(a->trial_started, at, sizeof(at)));
	recover_processes(cfg, a, cur);
	if (runs == -1)
		/* No word from it: nothing to count against it. */
		log_warnx(a->name, "%s; its status gives no answer; back to %s", why, cur ? cur : "nothing");
	else if (!a->trial_starting)
		/* Cut while the old version stopped: the new one never ran. */
		log_warnx(a->name, "%s, before %s was started: nothing counted against it; back to %s", why,
		    a->trial_version, cur ? cur : "nothing");
	else if (a->trial_cut)
		log_warnx(a->name, "%s: no verdict on it; back to %s", why, cur ? cur : "nothing");
	else {
		if (strcmp(a->interrupted_version, a->trial_version) == 0)
			a->interrupted++;
		else {
			state_set(&a->interrupted_version, a->trial_version);
			a->interrupted = 1;
		}
		if (a->interrupted < INTERRUPTED_MAX)
			log_warnx(a->name, "%s; back to %s; to be tried again (%d of %d in a row)", why,
			    cur ? cur : "nothing", a->interrupted, INTERRUPTED_MAX);
		else {
			/* A release that takes the host down, again and again. */
			snprintf(why, sizeof(why), "trial of %s interrupted %d times in a row (the pass was killed, "
			    "or the host went down, each time; the last after %s)", a->trial_version,
			    a->interrupted, state_time(a->trial_started, at, sizeof(at)));
			log_errx(a->name, "%s; back to %s", why, cur ? cur : "nothing");
			a->result = STATE_FAILED;
			a->failed_now = 1;
			record_failure(a, why, now);
			if (cfg->retry_failed > 0)
				record_hold(cfg, a, a->trial_version, a->trial_tarball, NULL, now);
			state_set(&a->interrupted_version, "");
			a->interrupted = 0;
			ret = 1;
		}
	}
	done = xasprintf("back to %s: the trial of %s was interrupted", cur ? cur : "nothing", a->trial_version);
	state_set_outside(&a->done, done);
	free(done);
	record_clear_trial(a);
out:
	free(dir);
	free(cur);
	return ret;
}

int
reconcile_recover(const struct config *cfg, struct pass_state *prev, struct pass_state *next)
{
	char why[128];
	size_t i;
	int found = 0, failed = 0;

	/* A work directory others could write is not acted on (the scan
	 * fails the pass); the trials wait for a pass that may act. */
	if (trust_at(AT_FDCWD, cfg->workdir, S_IFDIR, why, sizeof(why)) == -1)
		return 0;
	for (i = 0; i < prev->n; i++) {
		struct agent_state *a = &prev->agents[i], *n;
		const char *name = a->name;

		if (a->trial_version[0] == '\0')
			continue;
		found = 1;
		n = state_get(next, name);
		state_copy_agent(n, a);
		failed += recover_one(cfg, prev, next, n, (long long)time(NULL));
		/* What the pass goes on from (its holds) is what was found. */
		state_copy_agent(a, state_find(next, name));
	}
	/* Recorded at once: a pass killed now must not count it twice. */
	if (found)
		record_checkpoint(cfg, next, prev);
	return failed;
}
