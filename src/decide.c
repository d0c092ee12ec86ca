#include "decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "evidence.h"
#include "log.h"
#include "rollout.h"
#include "trust.h"
#include "util.h"

/* The status the scan saw for name, or NULL. */
const char *
decide_status(const struct real_agent *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return list[i].status;
	return NULL;
}

/* With verify.public_key set, may d's version be switched to? The signed
 * .sha256 names {name}-{version}.tar.gz only: with a '-' in versions,
 * nginx at exporter-1.2 and nginx-exporter at 1.2 share one file name, and
 * the signed release of one would install as the other. Without a '-',
 * the file name's last '-' splits it, and no two releases share it. */
static int
dashed_version(const struct config *cfg, const struct desired *d, struct decision *p)
{
	if (cfg->public_key == NULL || strchr(d->version, '-') == NULL)
		return 0;
	snprintf(p->dashed, sizeof(p->dashed),
	    "%.40s version '%.40s' has a '-': with verify.public_key set a version may not, "
	    "or the signed name %.40s-%.40s.tar.gz would not say which agent it is (publish 1.0-rc1 as 1.0_rc1)",
	    d->name, d->version, d->name, d->version);
	p->act = ACT_REFUSE;
	p->why = p->dashed;
	return 1;
}

/* What to do for d; reads .version, runs nothing. kept: the version kept
 * on disk after its failure (state.h), or NULL. */
void
decide(const struct config *cfg, const struct desired *d, const char *status, const char *kept,
    struct decision *p)
{
	memset(p, 0, sizeof(*p));
	p->status = status;
	if (d->invalid[0] != '\0') {
		p->act = ACT_REFUSE;
		p->why = d->invalid;
		return;
	}
	/* Read again, not taken from the scan: an earlier entry for the same
	 * name in this response may have switched it already. Nothing of an
	 * agent whose files others could change is believed or run. */
	if (trust_agent(cfg->workdir, d->name, NULL, p->untrusted, sizeof(p->untrusted)) == -1 ||
	    ((p->cur = scan_version(cfg->workdir, d->name)) != NULL &&
	    trust_agent(cfg->workdir, d->name, p->cur, p->untrusted, sizeof(p->untrusted)) == -1) ||
	    (name_is_valid(d->version) &&
	    trust_agent(cfg->workdir, d->name, d->version, p->untrusted, sizeof(p->untrusted)) == -1)) {
		p->act = ACT_REFUSE;
		p->why = p->untrusted;
		return;
	}
	if (p->cur != NULL && !agent_present(cfg->workdir, d->name, p->cur)) {
		free(p->cur);	/* .version names nothing usable: as if none */
		p->cur = NULL;
	}
	if (d->cmd[0] == '\0')
		p->why = "no cmd";
	else if (strcmp(d->cmd, "stop") == 0) {
		if (p->cur == NULL)
			p->why = "not installed";
		else if (status != NULL && strcmp(status, "stoped") == 0)
			p->why = "stopped";
		else
			p->act = ACT_STOP;
	} else if (strcmp(d->cmd, "start") != 0)
		p->act = ACT_IGNORE;
	else if (p->cur != NULL && strcmp(p->cur, d->version) == 0) {
		if (status != NULL && strcmp(status, "started") == 0)
			p->why = "running";
		else
			p->act = ACT_START;
	} else if (!dashed_version(cfg, d, p)) {
		p->act = ACT_SWITCH;
		p->installed = agent_present(cfg->workdir, d->name, d->version);
		/* The one rule for failed versions: their directory is kept
		 * for its logs, never started again; the bytes may have been
		 * published anew since. */
		if (p->installed && kept != NULL && strcmp(kept, d->version) == 0) {
			p->installed = 0;
			p->kept = 1;
		}
	}
}

/* The version of name kept on disk after its failure, as this pass knows
 * it so far; NULL when none. */
const char *
decide_kept(const struct reconcile_state *rs, const char *name)
{
	const struct agent_state *a = rs->next ? state_find(rs->next, name) : NULL;

	if (a == NULL && rs->prev != NULL)
		a = state_find(rs->prev, name);
	return a != NULL && a->kept_failed[0] != '\0' ? a->kept_failed : NULL;
}

/* Does the hold of a pin its release by the check files alone (its
 * evidence has them, not the tarball's validators)? So it is when the
 * bytes matched them (a failed start or health gate) or one was missing:
 * the same files from another prefix (a mirror, another ops-meta's) are
 * the same release, and the tarball's validators, which differ from one
 * backend of a file server to the next, would say nothing more. */
int
decide_pinned(const struct agent_state *a)
{
	return a->held_validators[0] == '\0' &&
	    (a->held_md5[0] != '\0' || a->held_sha256[0] != '\0' || a->held_sig[0] != '\0');
}

/* Turn a switch to a version that failed lately into a hold, while the
 * server asks for it with the same tarball prefix (any prefix, for a hold
 * its check files pin: decide_evidence compares them) and retry_after has
 * not come: a bad release must not stop and start a fleet's agents every
 * pass. */
void
decide_hold(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p, long long now)
{
	const struct agent_state *a;

	if (p->act != ACT_SWITCH || cfg->retry_failed == 0 || rs->prev == NULL ||
	    (a = state_find(rs->prev, d->name)) == NULL || a->held_version[0] == '\0' ||
	    !state_same_outside(a->held_version, d->version) ||
	    (!state_same_outside(a->held_tarball, d->tarball) && !decide_pinned(a)))
		return;
	p->held = a;
	if (now >= a->retry_after) {
		if (rs->next != NULL)
			log_info(d->name, "the hold of %s is over: trying it again", d->version);
		return;
	}
	if (rs->retry) {
		if (rs->next != NULL)
			log_info(d->name, "--retry: trying held %s again", d->version);
		return;
	}
	p->act = ACT_HOLD;
}

/* With rollout_spread, a new version is downloaded and started only at
 * this host's slot: an offset in [0, spread) (rollout.h) after the first
 * pass that saw it desired, so a fleet's downloads spread over the
 * spread and the first failures show while most hosts still run the old
 * one. A switch to a version on disk (a rollback) downloads nothing and
 * is not spread. A first sighting in the future (a clock set back) counts
 * from now: never longer than the spread. */
void
decide_slot(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p, long long now)
{
	const struct agent_state *a = rs->prev != NULL ? state_find(rs->prev, d->name) : NULL;
	long long seen = now;

	if (p->act != ACT_SWITCH || p->installed || cfg->rollout_spread == 0)
		return;
	/* A fresh host (no heartbeat of its own answered before this pass)
	 * installs an agent it lacks at once: it is no part of a release's
	 * wave, and a new machine would lack its agents for up to the spread,
	 * for versions the fleet has run for days. An agent new to a running
	 * fleet is still spread: its hosts have answered heartbeats. */
	if (p->cur == NULL && (rs->prev == NULL || rs->prev->heartbeat.ok_at == 0))
		return;
	if (a != NULL && state_same_outside(a->seen_version, d->version) && a->seen_at > 0 && a->seen_at <= now)
		seen = a->seen_at;
	p->slot = seen + rollout_offset(cfg->hostname, d->name, d->version, cfg->rollout_spread);
	if (now < p->slot && !rs->now)
		p->act = ACT_WAIT;
}

/* A file server that answered 5xx or 429 for this version (without Retry-After,
 * which fetchwait.c keeps per origin) is asked again only after passes that
 * double per answer in a row (0, 1, 3, 7, ... skipped), never longer than
 * retry_failed: a busy server is not made busier by a fleet, and the
 * release is not held for the server's fault. */
void
decide_busy(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p, long long now)
{
	const struct agent_state *a = rs->prev != NULL ? state_find(rs->prev, d->name) : NULL;

	if (p->act != ACT_SWITCH || p->installed || a == NULL || a->busy_skip <= 0 ||
	    !state_same_outside(a->busy_version, d->version) || rs->retry || rs->now || cfg->retry_failed == 0 ||
	    now >= a->busy_since + cfg->retry_failed || a->busy_since > now)
		return;
	p->act = ACT_BUSY;
	p->held = a;
}

/* The evidence a hold keeps in the state, as evidence.h has it. */
static void
evidence_of(const struct agent_state *a, struct evidence *e)
{
	snprintf(e->md5, sizeof(e->md5), "%s", a->held_md5);
	snprintf(e->sha256, sizeof(e->sha256), "%s", a->held_sha256);
	snprintf(e->sig, sizeof(e->sig), "%s", a->held_sig);
	/* Validators that changed while the bytes did not are not asked. */
	snprintf(e->tarball, sizeof(e->tarball), "%s",
	    strcmp(a->held_validators, EVIDENCE_VARIES) == 0 ? "" : a->held_validators);
	snprintf(e->caps, sizeof(e->caps), "%s", a->held_caps);
}

/* A hold stands only while its evidence does. For a version held, or
 * about to be tried again from a copy on disk, ask the server what it
 * publishes now (the check files, a HEAD for the tarball: never its
 * bytes); if anything differs from what it published when the version
 * failed, the hold ends at once and the release is downloaded again:
 * what is on disk is not what the server publishes now. The one place
 * where that is decided. */
/* Has the cause of a hold with evidence was gone? Its size caps changed
 * (the operator raised one: whatever the server publishes), or what the
 * server publishes differs. 1 with the change in why; 0 (with *unknown
 * set when part of it could not be had). */
static int
cause_gone(const struct config *cfg, const struct desired *d, const struct evidence *was, char *why,
    size_t len, int *unknown)
{
	struct evidence now = { .md5 = "" };
	char caps[EVIDENCE_CAPS_MAX];

	*unknown = 0;
	evidence_caps(caps, sizeof(caps), cfg);
	if (was->caps[0] != '\0' && strcmp(was->caps, caps) != 0) {
		snprintf(why, len, "the size caps changed (were %s)", was->caps);
		return 1;
	}
	if (!evidence_known(was))
		return 0;
	/* What could be had is compared: one part that differs ends it. */
	*unknown = evidence_gather(d, was, &now) == -1;
	return evidence_changed(was, &now, why, len) != NULL;
}

void
decide_evidence(const struct config *cfg, const struct reconcile_state *rs, const struct desired *d,
    struct decision *p)
{
	struct evidence was = { .md5 = "" };
	char why[EVIDENCE_TARBALL_MAX * 2 + 64];
	int unknown;

	if (p->held == NULL || !(p->act == ACT_HOLD || (p->act == ACT_SWITCH && p->installed)))
		return;
	evidence_of(p->held, &was);
	if (!cause_gone(cfg, d, &was, why, sizeof(why), &unknown)) {
		if (unknown && rs->next != NULL && p->act == ACT_HOLD)
			log_warnx(d->name, "cannot tell whether the files of %s changed since it failed: "
			    "the hold stands", d->version);
		return;
	}
	if (rs->next != NULL)
		log_info(d->name, "the hold of %s ends: %s since it failed; trying it again", d->version, why);
	p->act = ACT_SWITCH;
	p->installed = 0;
	p->renewed = 1;
}
