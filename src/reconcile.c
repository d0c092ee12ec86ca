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
#include "evidence.h"
#include "trust.h"
#include "record.h"
#include "retain.h"
#include "say.h"
#include "scan.h"
#include "switch.h"
#include "util.h"

/* What is on disk for d, into f: read here, nothing run. Read again, not
 * taken from the scan: an earlier entry for the same name in this
 * response may have switched it already. Nothing of an agent whose files
 * others could change is believed (f->untrusted says why). */
static void
on_disk(const struct config *cfg, const struct desired *d, struct decide_facts *f, char *why, size_t len)
{
	if (d->invalid[0] != '\0')
		return;		/* refused before anything is read */
	if (trust_agent(cfg->workdir, d->name, NULL, why, len) == -1 ||
	    ((f->cur = scan_version(cfg->workdir, d->name)) != NULL &&
	    trust_agent(cfg->workdir, d->name, f->cur, why, len) == -1) ||
	    (name_is_valid(d->version) && trust_agent(cfg->workdir, d->name, d->version, why, len) == -1)) {
		f->untrusted = why;
		return;
	}
	if (f->cur != NULL && !agent_present(cfg->workdir, d->name, f->cur)) {
		free(f->cur);	/* .version names nothing usable: as if none */
		f->cur = NULL;
	}
	f->installed = agent_present(cfg->workdir, d->name, d->version);
}

/* Decide for d (decide.h): the facts gathered, then the decision, and
 * once more with the evidence against a hold when it asks for it (the
 * check files and a HEAD of the tarball: never its bytes). Its note is
 * logged by a real pass. p->cur is to be freed. */
static void
decide_for(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    const struct real_agent *scanned, size_t nscanned, long long now, struct decision *p)
{
	struct decide_facts f = { .cfg = cfg, .d = d, .retry = rs->retry, .now_flag = rs->now, .now = now };
	struct evidence was, got;
	char why[sizeof(p->untrusted)];

	f.status = decide_status(scanned, nscanned, d->name);
	f.kept = decide_kept(rs, d->name);
	f.prev = rs->prev != NULL ? state_find(rs->prev, d->name) : NULL;
	f.fresh = rs->prev == NULL || rs->prev->heartbeat.ok_at == 0;
	on_disk(cfg, d, &f, why, sizeof(why));
	decide(&f, p);
	if (p->act == ACT_ASK) {
		decide_was(p->held, &was);
		f.ev_unknown = evidence_gather(d, &was, &got) == -1;
		f.ev = &got;
		decide(&f, p);
	}
	if (p->note[0] != '\0' && rs->next != NULL) {
		if (p->note_warn)
			log_warnx(d->name, "%s", p->note);
		else
			log_info(d->name, "%s", p->note);
	}
}

/* Carry out decision p for d; 0 or -1, with *bad set when a new version
 * failed to install or to start, why set when the failure to record is
 * not the last error logged, and what its install saw in *seen. */
static int
act(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p, size_t idx, int *bad, char *why, size_t whylen, struct install_seen *seen)
{
	char line[512], broken[256];
	char *dir = p->cur ? switch_dir(cfg, d->name, p->cur) : NULL;
	int ret = 0;

	switch (p->act) {
	case ACT_ASK:	/* decided again with the evidence: never here */
	case ACT_NONE:
		log_debug(d->name, "nothing to do: %s", p->why);
		break;
	case ACT_IGNORE:
		log_warnx(d->name, "unknown cmd '%.40s': ignored", d->cmd);
		break;
	case ACT_START:
		ret = switch_start(cfg, rs, d, p, dir, why, whylen);
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
		switch_keep_current(cfg, rs, d, p, dir, NULL, 0);
		ret = -1;
		break;
	case ACT_WAIT:
		ret = switch_keep_current(cfg, rs, d, p, dir, broken, sizeof(broken));
		if (broken[0] == '\0') {
			log_info(d->name, "%s", say_slot(d, p, line, sizeof(line)));
			break;
		}
		/* The spread protects a host that runs well; this one has
		 * nothing to protect. */
		log_warnx(d->name, "%s: taken now, not at its slot: the current version %s %s", d->version, p->cur,
		    broken);
		p->act = ACT_SWITCH;
		p->result = STATE_OK;	/* a switch's verdict, as decide gives it */
		ret = switch_version(cfg, rs, d, p, bad, why, whylen, seen);
		break;
	case ACT_BUSY:
		say_busy(cfg, d, p->held, line, sizeof(line));
		log_warnx(d->name, "%s", line);
		switch_keep_current(cfg, rs, d, p, dir, NULL, 0);
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
		decide_for(cfg, rs, d, scanned, nscanned, now, &p);
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
			if (p.act == ACT_SWITCH)	/* a wait may have been taken now */
				ret |= RECONCILE_CHANGED;
			/* A name that is not valid has no place in the state. */
			if (rs->next != NULL && name_is_valid(d->name))
				record(cfg, rs, d, &p, failed, bad, why, &seen, (long long)time(NULL));
			if (rs->next != NULL && (a = state_find(rs->next, d->name)) != NULL &&
			    a->failed_now && !state_result_asked(a->result))
				ret |= RECONCILE_FAILED;
			log_capture(NULL);
		}
		free(p.cur);
	}
	return ret;
}
