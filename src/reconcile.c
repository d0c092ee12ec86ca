#include "reconcile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "deadline.h"
#include "decide.h"
#include "install.h"
#include "log.h"
#include "partial.h"
#include "record.h"
#include "retain.h"
#include "say.h"
#include "scan.h"
#include "switch.h"
#include "util.h"

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

/* Old versions beyond keep_versions go when a pass finds d's agent as
 * asked (p: nothing to do, or a start, or a switch that went well), by
 * the rules of retain_prune. Not on the way of a switch: in its own pass
 * the version it replaces is spared and not counted, so the one that the
 * switch makes one too many goes in the next pass, which is most often
 * one with nothing else to do. So removing a big
 * tree (thousands of unlinks, each discarded at once on a file system
 * mounted with discard) never delays a new version, nor the state, the
 * metrics and the heartbeat that report it, nor eats the switching pass's
 * pass_timeout; and a pass killed after the switch leaves nothing to
 * finish: the next one prunes all the same (the count of directories on
 * disk is what says what is due, not a record). What a switch in every
 * pass would pile up still goes, one pass late. A trial left for the next
 * pass (recover) is no time to touch the agent's directory; the version
 * kept after its failure stays as long as its hold. An old version that
 * cannot be removed fails the agent's pass, with the error in the state:
 * check must not say OK over it. 0, or -1 (logged). */
static int
prune(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct decision *p)
{
	/* This pass's entry when act made one, else the last pass's. */
	const struct agent_state *a = rs->next != NULL && state_find(rs->next, d->name) != NULL ?
	    state_find(rs->next, d->name) : state_find(rs->prev, d->name);
	const char *spare[3] = { NULL, NULL, NULL };
	char *cur;
	size_t n = 0;
	int ret = 0;

	if ((p->act != ACT_NONE && p->act != ACT_START && p->act != ACT_SWITCH) ||
	    (a != NULL && (a->trial_kept || (p->act != ACT_SWITCH && a->trial_version[0] != '\0'))) ||
	    (cur = scan_version(cfg->workdir, d->name)) == NULL)
		return 0;
	if (p->act == ACT_SWITCH && p->cur != NULL)
		spare[n++] = p->cur;
	if (a != NULL && a->kept_failed[0] != '\0' && strcmp(a->kept_failed, a->held_version) == 0)
		spare[n++] = a->kept_failed;
	ret = retain_prune(cfg->workdir, d->name, cur, spare, cfg->keep_versions, cfg->control_timeout);
	free(cur);
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
			failed = act(cfg, rs, d, &p, i, &bad, why, sizeof(why), &seen) == -1 ||
			    prune(cfg, rs, d, &p) == -1;
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
