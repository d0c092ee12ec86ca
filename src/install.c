#include "install.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "partial.h"
#include "release.h"
#include "retain.h"
#include "stage.h"
#include "util.h"

int
install_version(const struct config *cfg, const struct desired *d, int *bad, struct install_seen *seen)
{
	char *agentdir = xasprintf("%s/%s", cfg->workdir, d->name);
	char *file = xasprintf("%s-%s.tar.gz", d->name, d->version);
	char *final = xasprintf("%s/%s", agentdir, d->version);
	char *tmp = NULL, *stage = NULL, *tree = NULL;
	struct release e = { .seen = seen };
	int created = 0, ret = -1;

	memset(seen, 0, sizeof(*seen));
	if (mkdir(agentdir, 0755) == 0)
		created = 1;
	else if (errno != EEXIST) {
		log_err(d->name, "create %s", agentdir);
		goto out;
	}
	if (release_expect(cfg, d, file, &e) == -1 ||
	    (release_download(cfg, d, agentdir, file, &e, &tmp, &stage) == -1 &&
	    (!e.spliced || release_download_again(cfg, d, agentdir, file, &e, &tmp, &stage) == -1)) ||
	    stage_version(cfg, d, file, tmp, &e, stage) == -1 ||
	    retain_clear(d->name, agentdir, final) == -1)
		goto out;
	tree = xasprintf("%s/" STAGE_TREE, stage);
	if (rename(tree, final) == -1) {
		log_err(d->name, "rename %s to %s", tree, final);
		goto out;
	}
	rmdir(stage);	/* empty now; a failure leaves it to the sweep */
	/* The rename itself, durable. */
	if (dir_fsync(agentdir) == -1)
		log_err(d->name, "fsync %s", agentdir);
	log_info(d->name, "installed %s", final);
	ret = 0;
out:
	if (tmp != NULL)
		partial_end(d->name, tmp, ret == 0);	/* kept when cut, to resume */
	if (ret == -1 && stage != NULL)
		rm_rf(stage);
	if (ret == -1 && created)
		rmdir(agentdir);
	*bad = ret == -1 && e.bad;
	if (!*bad)
		seen->mismatch = 0;
	release_free(&e);
	free(tmp);
	free(stage);
	free(tree);
	free(final);
	free(file);
	free(agentdir);
	return ret;
}
