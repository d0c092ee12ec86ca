#include "switch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "deadline.h"
#include "file.h"
#include "log.h"
#include "probation.h"
#include "record.h"
#include "release.h"
#include "retain.h"
#include "scan.h"
#include "trust.h"
#include "util.h"

/* Write <workdir>/<name>/.version last of all: it is what says "done". */
int
switch_commit(const struct config *cfg, const char *name, const char *version)
{
	char *path = xasprintf("%s/%s/.version", cfg->workdir, name);
	char *text = xasprintf("%s\n", version);
	int ret = file_write_atomic(path, text, strlen(text), 0644);

	free(text);
	free(path);
	return ret;
}

char *
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
 * leaves this behind for the next pass (recover). */
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
 * the new one, which never ran (recover). */
static void
trial_starting(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d)
{
	record_entry(rs, d->name)->trial_starting = 1;
	if (record_checkpoint(cfg, rs->next, rs->prev) == -1)
		log_errx(d->name, "cannot record in the state that the start of %s begins", d->version);
}

/* The current version of d (in dir), found not running by the scan: a
 * death on probation (probation.h)? Asked again first: only a definite
 * "not running" counts, no answer is the host's trouble as likely.
 * Counted and logged; 1 when it failed its probation (the cause in why),
 * else 0. */
static int
died(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, const char *dir, char *why, size_t len)
{
	struct agent_state *a = record_entry(rs, d->name);
	int deaths;
	enum probation_verdict v = probation_judge(cfg, a, p->cur, p->status, (long long)time(NULL), &deaths);

	if (v == PROBATION_NONE || rs->rebooted || agent_running(dir, cfg->control_timeout) != 0)
		return 0;
	a->probation_deaths = deaths;
	probation_cause(cfg, p->cur, deaths, why, len);
	if (v == PROBATION_DIED) {
		log_warnx(d->name, "%s (rolled back at %d): started again", why, cfg->probation_deaths);
		return 0;
	}
	a->probation_failures++;
	return 1;
}

/* The current version of d (in dir) failed its probation (why): back to
 * the version committed before it, as after a failed health gate: the
 * verdict written down first, the failed one stopped, .version naming
 * the old one (from here the failed one is never started again: a pass
 * killed now leaves the old one for the next to start), the old one
 * started. 0 when there is none to go back to (removed, or never kept):
 * nothing done; else -1. */
static int
probation_back(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, const char *dir, const char *why)
{
	char *from = xstrdup(record_entry(rs, d->name)->probation_from), *olddir = NULL, *done;
	char older[160] = "", none[256] = "";	/* why there is none to go back to */
	int ret = -1;

	if (from[0] == '\0' || !agent_present(cfg->workdir, d->name, from))
		snprintf(none, sizeof(none), "%s%s", from[0] ? from : "it was the first installed",
		    from[0] ? " is gone" : "");
	else if (trust_agent(cfg->workdir, d->name, from, none, sizeof(none)) == 0)
		none[0] = '\0';
	if (none[0] != '\0') {
		log_errx(d->name, "%s; no version kept before it to roll back to (%s): started again", why, none);
		ret = 0;
		goto out;
	}
	record_probation(cfg, rs, d, p->cur, why, older, sizeof(older));
	log_errx(d->name, "%s: rolling back to %s", why, from);
	if (agent_stop(d->name, dir, cfg->control_timeout, cfg->status_wait, NULL) == -1) {
		log_errx(d->name, "%s did not stop: not rolled back; the next pass tries again", p->cur);
		goto out;
	}
	if (switch_commit(cfg, d->name, from) == -1)
		goto out;
	retain_touch(cfg->workdir, d->name, from);
	olddir = switch_dir(cfg, d->name, from);
	if (agent_start(d->name, olddir, cfg->control_timeout, cfg->status_wait, NULL) == -1)
		log_errx(d->name, "rollback: %s did not start again either", from);
	else
		log_info(d->name, "now at %s (was %s): rolled back after its probation", from, p->cur);
	log_info(d->name, "%s kept for its logs (never started again from there): %s, output in %s/%s/control-%s.log",
	    p->cur, dir, cfg->workdir, d->name, p->cur);
	done = xasprintf("back to %s: %s", from, why);
	state_set_outside(&record_entry(rs, d->name)->done, done);
	free(done);
	/* One failed version is kept as evidence: the last. */
	if (older[0] != '\0' && strcmp(older, from) != 0 && agent_present(cfg->workdir, d->name, older))
		drop_kept(cfg, d, older, "a later version failed since");
out:
	free(olddir);
	free(from);
	return ret;
}

/* Start the current version of d (in dir), found not running: a restart,
 * counted, or its probation's end. */
int
switch_start(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, const char *dir, char *why, size_t whylen)
{
	struct agent_outcome o;
	char cause[200];
	int failed = died(cfg, rs, d, p, dir, cause, sizeof(cause));

	if (failed && probation_back(cfg, rs, d, p, dir, cause) == -1) {
		snprintf(why, whylen, "%s", cause);
		return -1;
	}
	if (agent_start(d->name, dir, cfg->control_timeout, cfg->status_wait, &o) == -1)
		return -1;
	if (o.ran)
		record_restart(rs, d, p);
	if (failed) {	/* nothing to roll back to: it runs, but has failed */
		snprintf(why, whylen, "%s; no version kept before it to roll back to", cause);
		return -1;
	}
	return 0;
}

/* A new version held back, waiting for its slot or for a busy server:
 * the current one must still run meanwhile. Found not running, it is
 * started again (and counted) as ACT_START would, or rolled back after
 * its probation. With broken, a current version that cannot run (its
 * start failed, or its probation) is left to the caller, who takes the
 * new one at once: broken says why. 0, or -1 (logged). */
int
switch_keep_current(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, const char *dir, char *broken, size_t len)
{
	struct agent_outcome o;
	char cause[200];
	int failed;

	if (broken != NULL)
		broken[0] = '\0';
	if (dir == NULL || p->status == NULL || strcmp(p->status, "started") == 0)
		return 0;
	failed = died(cfg, rs, d, p, dir, cause, sizeof(cause));
	if (failed && broken != NULL) {
		snprintf(broken, len, "failed its probation: %s", cause);
		return -1;
	}
	if (failed && probation_back(cfg, rs, d, p, dir, cause) == -1)
		return -1;
	if (agent_start(d->name, dir, cfg->control_timeout, cfg->status_wait, &o) == -1) {
		if (broken != NULL && o.result == AGENT_FAILED)
			snprintf(broken, len, "is not running (start failed)");
		return -1;
	}
	if (o.ran)
		record_restart(rs, d, p);
	return 0;
}

/* Past the pass deadline, a trial under way is left as a kill -9 would
 * leave it (the record durable, nothing rolled back): the next pass
 * finds it (recover). 1 when so. */
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

/* .version names a version that decide found no usable directory for
 * (removed by hand?): the switch goes on as if none were installed, but
 * whatever was started from the old copy may still run, and nothing here
 * can stop it (its control is gone). Said, and kept for status and check. */
static void
gone(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d)
{
	char *named = scan_version(cfg->workdir, d->name);
	struct agent_state *a;

	if (named == NULL)
		return;
	log_warnx(d->name, "%s, which .version names, has no usable directory (removed by hand?): %s is installed "
	    "and started without stopping it; processes started from the old copy may still run", named, d->version);
	a = record_entry(rs, d->name);
	state_set(&a->gone_version, named);
	a->gone_at = (long long)time(NULL);
	free(named);
}

/* Install if needed, record the trial, stop the old, start the new, and
 * only then write .version. If the new one never starts (or does not stay
 * up for health_wait), put the old one back. *bad is set when the fault is
 * the new version's: it did not install or did not start; why gets the
 * failure of the start or health gate, which the rollback's cannot hide. */
int
switch_version(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p, int *bad, char *why, size_t whylen, struct install_seen *seen)
{
	const char *cur = p->cur;
	char *newdir = switch_dir(cfg, d->name, d->version);
	char *olddir = cur ? switch_dir(cfg, d->name, cur) : NULL;
	char older[160] = "";
	struct agent_outcome o;
	int ret = -1, gate, installed = p->installed;

	if (cur == NULL)
		gone(cfg, rs, d);
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
	probation_begin(record_entry(rs, d->name), d->version, cur, (long long)time(NULL));
	ret = 0;	/* old versions go in the next pass (reconcile.c) */
	goto out;
keep:
	/* Nothing was switched: the current version must run meanwhile. */
	switch_keep_current(cfg, rs, d, p, olddir, NULL, 0);
out:
	free(olddir);
	free(newdir);
	return ret;
}
