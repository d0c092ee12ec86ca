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
#include "record.h"
#include "rollout.h"
#include "trust.h"
#include "util.h"

#define INTERRUPTED_MAX 3	/* trials of a version cut short in a row that hold it */

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
