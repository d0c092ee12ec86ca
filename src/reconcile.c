#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "file.h"
#include "install.h"
#include "log.h"
#include "util.h"

enum action {
	ACT_NONE,	/* as asked already, or nothing asked */
	ACT_IGNORE,	/* a cmd we do not know */
	ACT_START,	/* the current version is installed but not running */
	ACT_STOP,	/* the current version runs and should not */
	ACT_SWITCH,	/* another version: install it if needed, then switch */
	ACT_REFUSE,	/* the entry is invalid */
};

struct decision {
	enum action act;
	char *cur;		/* what .version names, if installed */
	int installed;		/* for ACT_SWITCH: is the new version on disk? */
	const char *why;	/* for ACT_NONE and ACT_REFUSE */
};

/* The status the scan saw for name, or NULL. */
static const char *
scanned_status(const struct real_agent *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return list[i].status;
	return NULL;
}

/* What to do for d; reads .version, runs nothing. */
static void
decide(const struct config *cfg, const struct desired *d, const char *status, struct decision *p)
{
	memset(p, 0, sizeof(*p));
	if (d->invalid[0] != '\0') {
		p->act = ACT_REFUSE;
		p->why = d->invalid;
		return;
	}
	/* Read again, not taken from the scan: an earlier entry for the same
	 * name in this response may have switched it already. */
	p->cur = scan_version(cfg->workdir, d->name);
	if (p->cur != NULL && !install_present(cfg->workdir, d->name, p->cur)) {
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
	} else {
		p->act = ACT_SWITCH;
		p->installed = install_present(cfg->workdir, d->name, d->version);
	}
}

/* Write <workdir>/<name>/.version last of all: it is what says "done". */
static int
set_version(const struct config *cfg, const char *name, const char *version)
{
	char *path = xasprintf("%s/%s/.version", cfg->workdir, name);
	char *text = xasprintf("%s\n", version);
	int ret = file_write_atomic(path, text, strlen(text), 0644);

	free(text);
	free(path);
	return ret;
}

static char *
version_dir(const struct config *cfg, const char *name, const char *version)
{
	return xasprintf("%s/%s/%s", cfg->workdir, name, version);
}

/* Install if needed, stop the old, start the new, and only then write
 * .version. If the new one never starts, put the old one back. */
static int
do_switch(const struct config *cfg, const struct desired *d, const char *cur, int installed)
{
	char *newdir = version_dir(cfg, d->name, d->version);
	char *olddir = cur ? version_dir(cfg, d->name, cur) : NULL;
	int ret = -1;

	if (!installed && install_version(cfg, d) == -1)
		goto out;
	if (olddir != NULL && agent_stop(d->name, olddir, cfg->control_timeout, cfg->status_wait) == -1) {
		log_errx(d->name, "cannot stop %s; %s not started", cur, d->version);
		goto out;
	}
	if (agent_start(d->name, newdir, cfg->control_timeout, cfg->status_wait) == -1) {
		log_errx(d->name, "%s did not start; rolling back to %s", d->version, cur ? cur : "nothing");
		agent_stop(d->name, newdir, cfg->control_timeout, cfg->status_wait);
		if (olddir != NULL && agent_start(d->name, olddir, cfg->control_timeout, cfg->status_wait) == -1)
			log_errx(d->name, "rollback: %s did not start again either", cur);
		goto out;
	}
	install_touch(cfg->workdir, d->name, d->version);
	if (set_version(cfg, d->name, d->version) == -1)
		goto out;
	log_info(d->name, "now at %s (was %s)", d->version, cur ? cur : "not installed");
	/* Only after a good switch: a failed one keeps everything for study. */
	install_prune(cfg->workdir, d->name, d->version, cfg->keep_versions, cfg->control_timeout);
	ret = 0;
out:
	free(olddir);
	free(newdir);
	return ret;
}

/* Carry out decision p for d; 0 or -1. */
static int
act(const struct config *cfg, const struct desired *d, const struct decision *p, size_t idx)
{
	char *dir = p->cur ? version_dir(cfg, d->name, p->cur) : NULL;
	int ret = 0;

	switch (p->act) {
	case ACT_NONE:
		log_debug(d->name, "nothing to do: %s", p->why);
		break;
	case ACT_IGNORE:
		log_warnx(d->name, "unknown cmd '%.40s': ignored", d->cmd);
		break;
	case ACT_START:
		ret = agent_start(d->name, dir, cfg->control_timeout, cfg->status_wait);
		break;
	case ACT_STOP:
		ret = agent_stop(d->name, dir, cfg->control_timeout, cfg->status_wait);
		break;
	case ACT_SWITCH:
		ret = do_switch(cfg, d, p->cur, p->installed);
		break;
	case ACT_REFUSE:
		log_errx(NULL, "desiredAgents entry %zu skipped: %s", idx + 1, p->why);
		ret = -1;
		break;
	}
	free(dir);
	return ret;
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
static void
say(FILE *out, const struct desired *d, const struct decision *p, size_t idx)
{
	char name[4 * 128 + 1], cur[4 * 128 + 1], ver[4 * 128 + 1], cmd[41], why[4 * 160 + 1];

	vis(name, sizeof(name), d->name);
	vis(cur, sizeof(cur), p->cur ? p->cur : "nothing");
	vis(ver, sizeof(ver), d->version);
	vis(why, sizeof(why), p->why ? p->why : "");
	switch (p->act) {
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
		    p->installed ? "start installed" : "download+install", ver, cur);
		break;
	case ACT_REFUSE:
		/* A hostile name is not printed raw: the reason quotes it. */
		fprintf(out, "entry %-18zu refuse: %s\n", idx + 1, why);
		break;
	}
}

int
reconcile(const struct config *cfg, const struct hb_response *r,
    const struct real_agent *scanned, size_t nscanned, FILE *plan)
{
	struct decision p;
	size_t i;
	int ret = 0;

	for (i = 0; i < r->n; i++) {
		const struct desired *d = &r->agents[i];

		if (!config_manages(cfg, d->name)) {
			log_debug(d->name, "not in the agents list of the config: left alone");
			continue;
		}
		decide(cfg, d, scanned_status(scanned, nscanned, d->name), &p);
		if (p.act == ACT_REFUSE)
			ret |= RECONCILE_FAILED;
		else if (p.act != ACT_NONE && p.act != ACT_IGNORE)
			ret |= RECONCILE_CHANGED;
		if (plan != NULL)
			say(plan, d, &p, i);
		else if (act(cfg, d, &p, i) == -1)
			ret |= RECONCILE_FAILED;
		free(p.cur);
	}
	return ret;
}
