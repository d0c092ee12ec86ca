#include "say.h"

#include <stdio.h>
#include <time.h>

#include "state.h"
#include "util.h"

/* The line of log and plan for ACT_BUSY. */
void
say_busy(const struct config *cfg, const struct desired *d, const struct agent_state *a, char *buf,
    size_t len)
{
	char at[32];

	snprintf(buf, len, "skipping %s this pass: its server answered HTTP 5xx or 429 %d time%s in a row; "
	    "next try in %d pass%s or after %s", d->version, a->busy_fails, a->busy_fails == 1 ? "" : "s",
	    a->busy_skip, a->busy_skip == 1 ? "" : "es", state_time(a->busy_since + cfg->retry_failed, at, sizeof(at)));
}

/* The line of log, plan and state for ACT_WAIT; returns buf. */
const char *
say_slot(const struct desired *d, const struct decision *p, char *buf, size_t len)
{
	char at[32];

	snprintf(buf, len, "%s waits for its slot at %s (rollout_spread)", d->version,
	    state_time(p->slot, at, sizeof(at)));
	return buf;
}

/* The hold line of log and plan: "holding X: failed at T (why); next try
 * after T2", the error bounded (the state holds it escaped already). */
void
say_hold(const struct config *cfg, const struct desired *d, const struct agent_state *a, char *buf,
    size_t len)
{
	char at[32], next[32], why[256];
	long long now = (long long)time(NULL);

	snprintf(why, sizeof(why), "%s", a->error[0] ? a->error : "no error recorded");
	snprintf(buf, len, "holding %s: failed at %s (%s); next try after %s", d->version,
	    state_time(a->failed_at < now ? a->failed_at : now, at, sizeof(at)), why,
	    state_time(state_hold_until(a, cfg->retry_failed, now), next, sizeof(next)));
}

/* s escaped with str_vis into buf: for printing outside strings. */
static const char *
vis(char *buf, size_t len, const char *s)
{
	str_vis(buf, len, s);
	return buf;
}

/* One line of the plan for d. Names, versions, cmd and reasons come from
 * the server or the disk: escaped, so none can drive the terminal. */
void
say(FILE *out, const struct config *cfg, const struct desired *d, const struct decision *p, size_t idx)
{
	char name[4 * 128 + 1], cur[4 * 128 + 1], ver[4 * 128 + 1], cmd[41], why[4 * 160 + 1];
	char line[512];

	vis(name, sizeof(name), d->name);
	vis(cur, sizeof(cur), p->cur ? p->cur : "nothing");
	vis(ver, sizeof(ver), d->version);
	vis(why, sizeof(why), p->why ? p->why : "");
	switch (p->act) {
	case ACT_ASK:	/* decided again with the evidence: never here */
	case ACT_NONE:
		fprintf(out, "%-24s nothing: %s%s%s\n", name, why,
		    p->cur ? " " : "", p->cur ? cur : "");
		break;
	case ACT_IGNORE:
		fprintf(out, "%-24s nothing: unknown cmd '%s' ignored\n", name, vis(cmd, sizeof(cmd), d->cmd));
		break;
	case ACT_START:
		fprintf(out, "%-24s start %s\n", name, cur);
		break;
	case ACT_STOP:
		fprintf(out, "%-24s stop %s\n", name, cur);
		break;
	case ACT_SWITCH:
		fprintf(out, "%-24s %s %s, replacing %s\n", name,
		    p->installed ? "start installed" : p->kept ? "download+install again" : "download+install",
		    ver, cur);
		break;
	case ACT_REFUSE:
		/* A hostile name is not printed raw: the reason quotes it. */
		fprintf(out, "entry %-18zu refuse: %s\n", idx + 1, why);
		break;
	case ACT_HOLD:
		say_hold(cfg, d, p->held, line, sizeof(line));
		fprintf(out, "%-24s %s\n", name, line);
		break;
	case ACT_WAIT:
		fprintf(out, "%-24s %s\n", name, say_slot(d, p, line, sizeof(line)));
		break;
	case ACT_BUSY:
		say_busy(cfg, d, p->held, line, sizeof(line));
		fprintf(out, "%-24s %s\n", name, line);
		break;
	}
}

/* What the pass did for d, in words, for the state. */
char *
say_done(const struct desired *d, const struct decision *p)
{
	const char *cur = p->cur ? p->cur : "nothing";
	char line[160];

	switch (p->act) {
	case ACT_START:
		return xasprintf("start %s", p->cur);
	case ACT_STOP:
		return xasprintf("stop %s", p->cur);
	case ACT_SWITCH:
		return xasprintf("%s %s, replacing %s", p->installed ? "start installed" :
		    p->kept ? "install again" : "install", d->version, cur);
	case ACT_HOLD:
		return xasprintf("hold %s", d->version);
	case ACT_WAIT:
		return xstrdup(say_slot(d, p, line, sizeof(line)));
	case ACT_BUSY:
		return xasprintf("skip %s: its server is busy", d->version);
	case ACT_REFUSE:
		return xstrdup("refuse");
	case ACT_IGNORE:
		return xstrdup("nothing: unknown cmd");
	case ACT_ASK:
	case ACT_NONE:
		break;
	}
	return xstrdup("nothing");
}
