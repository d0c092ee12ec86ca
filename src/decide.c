#include "decide.h"

#include <stdio.h>
#include <string.h>

#include "rollout.h"
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

void
decide_was(const struct agent_state *a, struct evidence *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->md5, sizeof(e->md5), "%s", a->held_md5);
	snprintf(e->sha256, sizeof(e->sha256), "%s", a->held_sha256);
	snprintf(e->sig, sizeof(e->sig), "%s", a->held_sig);
	/* Validators that changed while the bytes did not are not asked. */
	snprintf(e->tarball, sizeof(e->tarball), "%s",
	    strcmp(a->held_validators, EVIDENCE_VARIES) == 0 ? "" : a->held_validators);
	snprintf(e->caps, sizeof(e->caps), "%s", a->held_caps);
	snprintf(e->received, sizeof(e->received), "%s", a->held_received);
}

/* What the server asks, and how it stands on disk. */

static int
invalid(const struct decide_facts *f, struct decision *p)
{
	return (p->why = f->d->invalid[0] != '\0' ? f->d->invalid : NULL) != NULL;
}

static int
untrusted(const struct decide_facts *f, struct decision *p)
{
	if (f->untrusted == NULL)
		return 0;
	snprintf(p->untrusted, sizeof(p->untrusted), "%s", f->untrusted);
	p->why = p->untrusted;
	return 1;
}

static int
no_cmd(const struct decide_facts *f, struct decision *p)
{
	return (p->why = f->d->cmd[0] == '\0' ? "no cmd" : NULL) != NULL;
}

/* A rule's condition that also says why: sets p->why, is true. */
static int
because(struct decision *p, const char *why)
{
	p->why = why;
	return 1;
}

static int
is_stop(const struct decide_facts *f)
{
	return strcmp(f->d->cmd, "stop") == 0;
}

static int
stop_absent(const struct decide_facts *f, struct decision *p)
{
	return is_stop(f) && f->cur == NULL && because(p, "not installed");
}

static int
stop_stopped(const struct decide_facts *f, struct decision *p)
{
	return is_stop(f) && f->status != NULL && strcmp(f->status, "stoped") == 0 &&
	    because(p, "stopped");
}

static int
stop(const struct decide_facts *f, struct decision *p)
{
	(void)p;
	return is_stop(f);
}

static int
unknown_cmd(const struct decide_facts *f, struct decision *p)
{
	(void)p;
	return strcmp(f->d->cmd, "start") != 0;
}

static int
is_current(const struct decide_facts *f)
{
	return f->cur != NULL && strcmp(f->cur, f->d->version) == 0;
}

static int
running(const struct decide_facts *f, struct decision *p)
{
	return is_current(f) && f->status != NULL && strcmp(f->status, "started") == 0 &&
	    because(p, "running");
}

static int
start(const struct decide_facts *f, struct decision *p)
{
	(void)p;
	return is_current(f);
}

/* With verify.public_key set, may d's version be switched to? The signed
 * .sha256 names {name}-{version}.tar.gz only: with a '-' in versions,
 * nginx at exporter-1.2 and nginx-exporter at 1.2 share one file name, and
 * the signed release of one would install as the other. Without a '-',
 * the file name's last '-' splits it, and no two releases share it. */
static int
dashed(const struct decide_facts *f, struct decision *p)
{
	const struct desired *d = f->d;

	if (f->cfg->public_key == NULL || strchr(d->version, '-') == NULL)
		return 0;
	snprintf(p->dashed, sizeof(p->dashed),
	    "%.40s version '%.40s' has a '-': with verify.public_key set a version may not, "
	    "or the signed name %.40s-%.40s.tar.gz would not say which agent it is (publish 1.0-rc1 as 1.0_rc1)",
	    d->name, d->version, d->name, d->version);
	p->why = p->dashed;
	return 1;
}

/* The holds (ops-updater-fleet(7), Holds and How a hold ends). */

/* Does the last record hold the version asked for: the same version from
 * the same tarball prefix, or any prefix when its check files pin it? */
static const struct agent_state *
hold_of(const struct decide_facts *f)
{
	const struct agent_state *a = f->prev;

	if (f->cfg->retry_failed == 0 || a == NULL || a->held_version[0] == '\0' ||
	    !state_same_outside(a->held_version, f->d->version) ||
	    (!state_same_outside(a->held_tarball, f->d->tarball) && !decide_pinned(a)))
		return NULL;
	return a;
}

/* Is the evidence of the hold worth asking for: while it holds, and for a
 * copy on disk about to be started (what is on disk may not be what the
 * server publishes now)? A download after the hold fetches all anyway. */
static int
evidence_matters(const struct decide_facts *f, const struct decision *p, const struct agent_state *a)
{
	return (f->now < a->retry_after && !f->retry) || p->installed;
}

/* A hold with evidence, whose cause is gone: a new release, downloaded
 * again. Renewed, with why in the note. */
static int
renew(const struct decide_facts *f, struct decision *p, const char *why)
{
	snprintf(p->note, sizeof(p->note), "the hold of %s ends: %s since it failed; trying it again",
	    f->d->version, why);
	p->installed = 0;
	p->renewed = 1;
	return 1;
}

static int
hold_caps(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = hold_of(f);
	char caps[EVIDENCE_CAPS_MAX], why[EVIDENCE_CAPS_MAX + 32];

	if (a == NULL || !evidence_matters(f, p, a) || a->held_caps[0] == '\0')
		return 0;
	evidence_caps(caps, sizeof(caps), f->cfg);
	if (strcmp(a->held_caps, caps) == 0)
		return 0;
	p->held = a;
	snprintf(why, sizeof(why), "the size caps changed (were %s)", a->held_caps);
	return renew(f, p, why);
}

static int
hold_ask(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = hold_of(f);
	struct evidence was;

	if (a == NULL || f->ev != NULL || !evidence_matters(f, p, a))
		return 0;
	decide_was(a, &was);
	p->held = a;
	return evidence_known(&was);
}

static int
hold_changed(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = hold_of(f);
	struct evidence was;
	char why[EVIDENCE_TARBALL_MAX * 2 + 64];

	if (a == NULL || f->ev == NULL || !evidence_matters(f, p, a))
		return 0;
	decide_was(a, &was);
	p->held = a;
	/* What could be had is compared: one part that differs ends it. */
	if (evidence_changed(&was, f->ev, why, sizeof(why)) == NULL)
		return 0;
	return renew(f, p, why);
}

static int
hold_over(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = hold_of(f);

	if (a == NULL || f->now < a->retry_after)
		return 0;
	p->held = a;
	snprintf(p->note, sizeof(p->note), "the hold of %s is over: trying it again", f->d->version);
	return 1;
}

static int
hold_retry(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = hold_of(f);

	if (a == NULL || f->now >= a->retry_after || !f->retry)
		return 0;
	p->held = a;
	snprintf(p->note, sizeof(p->note), "--retry: trying held %s again", f->d->version);
	return 1;
}

static int
hold(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = hold_of(f);

	if (a == NULL || f->now >= a->retry_after || f->retry)
		return 0;
	p->held = a;
	if (f->ev != NULL && f->ev_unknown) {
		snprintf(p->note, sizeof(p->note), "cannot tell whether the files of %s changed since it "
		    "failed: the hold stands", f->d->version);
		p->note_warn = 1;
	}
	return 1;
}

/* A file server that answered 5xx or 429 for this version (without
 * Retry-After, which fetchwait.c keeps per origin) is asked again only
 * after passes that double per answer in a row (0, 1, 3, 7, ... skipped),
 * never longer than retry_failed: a busy server is not made busier by a
 * fleet, and the release is not held for the server's fault. */
static int
busy(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = f->prev;

	if (p->installed || a == NULL || a->busy_skip <= 0 ||
	    !state_same_outside(a->busy_version, f->d->version) || f->retry || f->now_flag ||
	    f->cfg->retry_failed == 0 || f->now >= a->busy_since + f->cfg->retry_failed || a->busy_since > f->now)
		return 0;
	p->held = a;
	return 1;
}

/* With rollout_spread, a new version is downloaded and started only at
 * this host's slot: an offset in [0, spread) (rollout.h) after the first
 * pass that saw it desired, so a fleet's downloads spread over the
 * spread and the first failures show while most hosts still run the old
 * one. A switch to a version on disk (a rollback) downloads nothing and
 * is not spread. A first sighting in the future (a clock set back) counts
 * from now: never longer than the spread. A fresh host (no heartbeat of
 * its own answered before this pass) installs an agent it lacks at once:
 * it is no part of a release's wave. */
static int
slot(const struct decide_facts *f, struct decision *p)
{
	const struct agent_state *a = f->prev;
	long long seen = f->now;

	if (p->installed || f->cfg->rollout_spread == 0 || (f->cur == NULL && f->fresh))
		return 0;
	if (a != NULL && state_same_outside(a->seen_version, f->d->version) && a->seen_at > 0 &&
	    a->seen_at <= f->now)
		seen = a->seen_at;
	p->slot = seen + rollout_offset(f->cfg->hostname, f->d->name, f->d->version, f->cfg->rollout_spread);
	return f->now < p->slot && !f->now_flag;
}

static int
always(const struct decide_facts *f, struct decision *p)
{
	(void)f;
	(void)p;
	return 1;
}

/* The rules, in order; the first that applies decides, unless it goes on.
 * Each line can be checked against ops-updater-fleet(7). */
const struct decide_rule decide_rules[] = {
	{ "refuse-invalid", "an entry of the server's that is not valid is refused", invalid, ACT_REFUSE, 0 },
	{ "refuse-untrusted", "an agent whose files others could change is refused", untrusted, ACT_REFUSE, 0 },
	{ "no-cmd", "no cmd: nothing", no_cmd, ACT_NONE, 0 },
	{ "stop-absent", "stop, not installed: nothing", stop_absent, ACT_NONE, 0 },
	{ "stop-stopped", "stop, status stoped: nothing", stop_stopped, ACT_NONE, 0 },
	{ "stop", "stop: the current version is stopped", stop, ACT_STOP, 0 },
	{ "unknown-cmd", "a cmd other than start or stop is ignored", unknown_cmd, ACT_IGNORE, 0 },
	{ "running", "start, the version asked runs: nothing", running, ACT_NONE, 0 },
	{ "start", "start, the version asked is current but not running: started", start, ACT_START, 0 },
	{ "refuse-dashed", "with verify.public_key, a version with a '-' is refused", dashed, ACT_REFUSE, 0 },
	{ "hold-caps", "a hold for its size ends when a size cap changed", hold_caps, ACT_SWITCH, 0 },
	{ "hold-ask", "while held (or before a copy on disk is started), the server is asked again "
	    "for its check files and a HEAD of its tarball", hold_ask, ACT_ASK, 0 },
	{ "hold-changed", "a hold ends at once when any of that differs", hold_changed, ACT_SWITCH, 0 },
	{ "hold-over", "a hold ends when retry_failed (doubled per failure) has passed", hold_over, ACT_NONE, 1 },
	{ "hold-retry", "run --retry tries a held version now", hold_retry, ACT_NONE, 1 },
	{ "hold", "else a version that failed for a fault of its own is held", hold, ACT_HOLD, 0 },
	{ "busy", "a download from a server that answered 5xx or 429 waits for passes that double",
	    busy, ACT_BUSY, 0 },
	{ "slot", "with rollout_spread, a download waits for this host's slot", slot, ACT_WAIT, 0 },
	{ "switch", "else the version asked is switched to", always, ACT_SWITCH, 0 },
};
const size_t decide_nrules = sizeof(decide_rules) / sizeof(decide_rules[0]);

/* The verdict an action is the whole of; STATE_OK for those acting decides. */
static enum state_result
verdict(enum action act)
{
	switch (act) {
	case ACT_NONE:
	case ACT_IGNORE:
		return STATE_NOTHING;
	case ACT_REFUSE:
		return STATE_REFUSED;
	case ACT_HOLD:
		return STATE_HELD;
	case ACT_WAIT:
		return STATE_WAITING;
	case ACT_BUSY:
		return STATE_BUSY;
	default:
		return STATE_OK;
	}
}

void
decide(const struct decide_facts *f, struct decision *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->status = f->status;
	p->cur = f->cur;
	/* The one rule for failed versions: their directory is kept for its
	 * logs, never started again; the bytes may have been published anew
	 * since. */
	p->installed = f->installed;
	if (p->installed && f->kept != NULL && strcmp(f->kept, f->d->version) == 0) {
		p->installed = 0;
		p->kept = 1;
	}
	for (i = 0; i < decide_nrules; i++) {
		const struct decide_rule *r = &decide_rules[i];

		if (!r->applies(f, p) || r->go_on)
			continue;
		p->act = r->act;
		p->rule = r->id;
		break;
	}
	if (p->act != ACT_SWITCH && p->act != ACT_HOLD && p->act != ACT_BUSY && p->act != ACT_WAIT)
		p->installed = p->kept = 0;
	p->result = verdict(p->act);
}

/* What a failure makes of the record (ops-updater-fleet(7), Holds). */

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
decide_unhold(struct agent_state *a)
{
	state_set(&a->held_version, "");
	state_set(&a->held_tarball, "");
	set_evidence(a, NULL);
	a->failed_at = a->retry_after = 0;
	a->held_fails = 0;
}

void
decide_forget_mismatch(struct agent_state *a)
{
	state_set(&a->mismatch_version, "");
	state_set(&a->mismatch_tarball, "");
}

/* Hold the version of x back: retry_failed seconds, doubled per further
 * failure of the same version from the same prefix (or any, for a hold
 * its check files pin), for as long as what the server publishes for it
 * is ev (NULL: not known; then the time alone ends it). The pass that
 * holds it says so: from this pass on every view shows it held, not
 * failed for one pass and held the next. */
static void
hold_with(const struct decide_failure *x, struct agent_state *a, const struct evidence *ev)
{
	if (state_same_outside(a->held_version, x->version) &&
	    (state_same_outside(a->held_tarball, x->tarball) || decide_pinned(a)))
		a->held_fails++;
	else
		a->held_fails = 1;
	state_set_outside(&a->held_version, x->version);
	state_set_outside(&a->held_tarball, x->tarball);
	set_evidence(a, ev);
	a->failed_at = x->now;
	a->retry_after = x->now + state_backoff(x->cfg->retry_failed, a->held_fails);
	decide_forget_mismatch(a);
	a->result = STATE_HELD;
}

static int
theirs(const struct decide_failure *x, const struct agent_state *a)
{
	(void)a;
	return !x->bad || x->cfg->retry_failed == 0;
}

static void
forget(const struct decide_failure *x, struct agent_state *a, char *note, size_t len)
{
	(void)x;
	(void)note;
	(void)len;
	decide_unhold(a);
}

/* The hold the bytes of x are compared with: the one this try ended, or
 * the record's own (a hold over by time, tried again). */
static const struct agent_state *
hold_before(const struct decide_failure *x, const struct agent_state *a)
{
	return x->was != NULL ? x->was : a;
}

static int
same_bytes(const struct decide_failure *x, const struct agent_state *a)
{
	const struct agent_state *w = hold_before(x, a);

	return x->mismatch && x->ev != NULL && x->ev->received[0] != '\0' &&
	    state_same_outside(w->held_version, x->version) && strcmp(w->held_received, x->ev->received) == 0;
}

/* The bytes it was held for, again: the same release, whatever its
 * tarball's validators say. Validators that changed (the hold ended for
 * them) while the bytes did not are no evidence for it, and are not asked
 * again while it holds. */
static void
held_again(const struct decide_failure *x, struct agent_state *a, char *note, size_t len)
{
	const struct agent_state *w = hold_before(x, a);
	struct evidence ev = *x->ev;

	if (x->was != NULL)
		snprintf(ev.tarball, sizeof(ev.tarball), "%s", EVIDENCE_VARIES);
	if (w != a) {		/* ended for this download: taken up again */
		state_set(&a->held_version, w->held_version);
		state_set(&a->held_tarball, w->held_tarball);
		a->held_fails = w->held_fails;
	}
	hold_with(x, a, &ev);
	snprintf(note, len, "%s is the same release as when it was held (its bytes again: %s)%s: held again, "
	    "%d in a row%s", x->version, ev.received,
	    x->was != NULL ? ", although its tarball's validators changed" : "", a->held_fails,
	    x->was != NULL ? "; they are no evidence for it now" : "");
}

static int
first_mismatch(const struct decide_failure *x, const struct agent_state *a)
{
	return x->mismatch && !(state_same_outside(a->mismatch_version, x->version) &&
	    state_same_outside(a->mismatch_tarball, x->tarball));
}

static void
once_more(const struct decide_failure *x, struct agent_state *a, char *note, size_t len)
{
	state_set_outside(&a->mismatch_version, x->version);
	state_set_outside(&a->mismatch_tarball, x->tarball);
	snprintf(note, len, "%s failed its checks: it is tried once more on the next pass, "
	    "and held if it fails so again", x->version);
}

static int
any(const struct decide_failure *x, const struct agent_state *a)
{
	(void)x;
	(void)a;
	return 1;
}

static void
held(const struct decide_failure *x, struct agent_state *a, char *note, size_t len)
{
	(void)note;
	(void)len;
	hold_with(x, a, x->ev != NULL && evidence_known(x->ev) ? x->ev : NULL);
}

/* The failures, in order; the first row that applies writes the record. */
const struct decide_failure_rule decide_failure_rules[] = {
	{ "fail-theirs", "a failure that may pass (the network's, the host's, a server's, ours), or any with "
	    "retry_failed 0, holds nothing", theirs, forget },
	{ "fail-same-bytes", "the bytes a hold was for, again: the same release, held again, its backoff "
	    "doubled", same_bytes, held_again },
	{ "fail-mismatch-once", "a digest or signature that does not match is tried once more on the next "
	    "pass before it holds", first_mismatch, once_more },
	{ "fail-hold", "else the release's own failure holds it: retry_failed, doubled per failure in a row, "
	    "at most 24 h", any, held },
};
const size_t decide_nfailure_rules = sizeof(decide_failure_rules) / sizeof(decide_failure_rules[0]);

const char *
decide_failure(const struct decide_failure *x, struct agent_state *a, char *note, size_t len)
{
	size_t i;

	note[0] = '\0';
	for (i = 0; i < decide_nfailure_rules; i++)
		if (decide_failure_rules[i].applies(x, a)) {
			decide_failure_rules[i].record(x, a, note, len);
			return decide_failure_rules[i].id;
		}
	return NULL;
}
