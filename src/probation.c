#include "probation.h"

#include <stdio.h>
#include <string.h>

int
probation_on(const struct config *cfg)
{
	return cfg->probation_window > 0 && cfg->probation_deaths > 0;
}

/* Is the window of a's probation open at now? A commit recorded in the
 * future (a clock set back) is taken as made now. */
static int
window_open(const struct config *cfg, const struct agent_state *a, long long now)
{
	return a->probation_at > now || now - a->probation_at <= cfg->probation_window;
}

enum probation_verdict
probation_judge(const struct config *cfg, const struct agent_state *a, const char *cur, const char *status,
    long long now, int *deaths)
{
	*deaths = a != NULL ? a->probation_deaths : 0;
	/* Stopped by us (the server's last word was stop) is no death: its
	 * start now is the server's wish, not a crash. */
	if (!probation_on(cfg) || a == NULL || cur == NULL || status == NULL || strcmp(status, "started") == 0 ||
	    strcmp(a->cmd, "stop") == 0 || strcmp(a->probation_version, cur) != 0 || !window_open(cfg, a, now))
		return PROBATION_NONE;
	/* Nor is one that a switch of ours stopped: a trial under way, or
	 * one this pass found cut short, resumed or rolled back (a pass
	 * killed between the old one's stop and the new one's gate). Only a
	 * version left running at rest can die on its own. */
	if (a->trial_version[0] != '\0' || a->trial_failed || a->resumed || a->failed_now)
		return PROBATION_NONE;
	*deaths = a->probation_deaths + 1;
	return *deaths >= cfg->probation_deaths ? PROBATION_FAILED : PROBATION_DIED;
}

int
probation_rebooted(const char *was, const char *now)
{
	return was != NULL && now != NULL && was[0] != '\0' && now[0] != '\0' && strcmp(was, now) != 0;
}

void
probation_begin(struct agent_state *a, const char *version, const char *from, long long now)
{
	state_set(&a->probation_version, version);
	state_set(&a->probation_from, from != NULL ? from : "");
	a->probation_at = now;
	a->probation_deaths = 0;
}

void
probation_expire(const struct config *cfg, struct agent_state *a, long long now)
{
	if (a->probation_version[0] == '\0')
		return;
	if (a->probation_at > now)
		a->probation_at = now;
	if (probation_on(cfg) && window_open(cfg, a, now))
		return;
	state_set(&a->probation_version, "");
	state_set(&a->probation_from, "");
	a->probation_at = 0;
	a->probation_deaths = 0;
}

const char *
probation_cause(const struct config *cfg, const char *version, int deaths, char *buf, size_t len)
{
	int w = cfg->probation_window;
	const char *unit = w % 3600 == 0 ? "h" : w % 60 == 0 ? "min" : "s";

	snprintf(buf, len, "%s died %d time%s within %d %s of its commit", version, deaths, deaths == 1 ? "" : "s",
	    w % 3600 == 0 ? w / 3600 : w % 60 == 0 ? w / 60 : w, unit);
	return buf;
}
