#include "recover.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent.h"
#include "deadline.h"
#include "log.h"
#include "probation.h"
#include "record.h"
#include "retain.h"
#include "scan.h"
#include "switch.h"
#include "trust.h"
#include "util.h"

#define INTERRUPTED_MAX 3	/* trials of a version cut short in a row that hold it */

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
		else if (a->kept_failed[0] != '\0')
			a->kept_superseded = 1;	/* a later one runs well: old news */
		state_set(&a->interrupted_version, "");
		a->interrupted = 0;
		a->result = STATE_OK;
		a->resumed = 1;
		probation_begin(a, a->trial_version, cur, now);
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
		record_cut(a);
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
		a->kept_superseded = 0;
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
recover(const struct config *cfg, struct pass_state *prev, struct pass_state *next)
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
