#include "reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "file.h"
#include "install.h"
#include "log.h"
#include "scan.h"
#include "util.h"

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

/* cmd "stop": the version .version names must not run. */
static int
do_stop(const struct config *cfg, const struct desired *d, const char *cur)
{
	char *dir;
	int ret;

	if (cur == NULL || !install_present(cfg->workdir, d->name, cur)) {
		log_debug(d->name, "not installed: nothing to stop");
		return 0;
	}
	dir = version_dir(cfg, d->name, cur);
	ret = agent_stop(d->name, dir, cfg->control_timeout, cfg->status_wait);
	free(dir);
	return ret;
}

/* cmd "start" with another version (or none) current: install if needed,
 * stop the old, start the new, and only then write .version. If the new
 * one never starts, put the old one back. */
static int
do_switch(const struct config *cfg, const struct desired *d, const char *cur)
{
	char *newdir = version_dir(cfg, d->name, d->version);
	char *olddir = NULL;
	int ret = -1;

	if (cur != NULL && install_present(cfg->workdir, d->name, cur))
		olddir = version_dir(cfg, d->name, cur);
	if (!install_present(cfg->workdir, d->name, d->version) && install_version(cfg, d) == -1)
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
	if (set_version(cfg, d->name, d->version) == -1)
		goto out;
	log_info(d->name, "now at %s (was %s)", d->version, cur ? cur : "not installed");
	ret = 0;
out:
	free(olddir);
	free(newdir);
	return ret;
}

static int
reconcile_one(const struct config *cfg, const struct desired *d)
{
	char *cur = scan_version(cfg->workdir, d->name), *dir;
	int ret = 0;

	if (d->cmd[0] == '\0')
		log_debug(d->name, "no cmd: left alone");
	else if (strcmp(d->cmd, "stop") == 0)
		ret = do_stop(cfg, d, cur);
	else if (strcmp(d->cmd, "start") != 0)
		log_warnx(d->name, "unknown cmd '%.40s': ignored", d->cmd);
	else if (cur != NULL && strcmp(cur, d->version) == 0 &&
	    install_present(cfg->workdir, d->name, cur)) {
		/* Converged: no download, no hashing; only make sure it runs. */
		dir = version_dir(cfg, d->name, cur);
		ret = agent_start(d->name, dir, cfg->control_timeout, cfg->status_wait);
		free(dir);
	} else
		ret = do_switch(cfg, d, cur);
	free(cur);
	return ret;
}

int
reconcile(const struct config *cfg, const struct hb_response *r)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < r->n; i++) {
		const struct desired *d = &r->agents[i];

		if (!config_manages(cfg, d->name)) {
			log_debug(d->name, "not in the agents list of the config: left alone");
			continue;
		}
		if (d->invalid[0] != '\0') {
			log_errx(NULL, "desiredAgents entry %zu skipped: %s", i + 1, d->invalid);
			ret = -1;
		} else if (reconcile_one(cfg, d) == -1)
			ret = -1;
	}
	return ret;
}
