#include "install.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fetch.h"
#include "file.h"
#include "log.h"
#include "tarball.h"
#include "util.h"

#define MD5_FILE_MAX 4096

int
install_present(const char *workdir, const char *name, const char *version)
{
	char *ctl = xasprintf("%s/%s/%s/control", workdir, name, version);
	int ok = file_is_exec(ctl);

	free(ctl);
	return ok;
}

/* The expected MD5 from {md5 or tarball}/{file}.md5 into want; the file's
 * text into text for keeping beside the tarball. */
static int
get_md5(const struct desired *d, const char *file, unsigned char *want, struct buf *text)
{
	char *md5file = xasprintf("%s.md5", file);
	char *url = fetch_url(d->md5[0] ? d->md5 : d->tarball, md5file);
	int ret = -1;

	if (fetch_get(d->name, url, MD5_FILE_MAX, text) == -1)
		goto out;
	if (digest_parse(text->data ? text->data : "", text->len, want, 16) == -1) {
		log_errx(d->name, "GET %s: not an md5sum line", url);
		goto out;
	}
	ret = 0;
out:
	free(url);
	free(md5file);
	return ret;
}

/* Stream the tarball into a new temp file in agentdir; its path in *tmp. */
static int
download(const struct desired *d, const char *agentdir, const char *file,
    const unsigned char *want, char **tmp)
{
	char *url = fetch_url(d->tarball, file);
	unsigned char got[16];
	char hw[33], hg[33];
	long long size = 0;
	int fd, ret = -1;

	*tmp = xasprintf("%s/" INSTALL_TMP_PREFIX "%s.XXXXXX", agentdir, file);
	if ((fd = mkostemp(*tmp, O_CLOEXEC)) == -1) {
		log_err(d->name, "create %s", *tmp);
		goto out;
	}
	log_info(d->name, "downloading %s", url);
	if (fetch_file(d->name, url, fd, got, &size) == -1)
		goto out;
	if (memcmp(got, want, sizeof(got)) != 0) {
		digest_hex(want, 16, hw);
		digest_hex(got, 16, hg);
		log_errx(d->name, "GET %s: MD5 mismatch: expected %s, got %s (%lld bytes)", url, hw, hg, size);
		goto out;
	}
	if (fchmod(fd, 0644) == -1) {
		log_err(d->name, "chmod %s", *tmp);
		goto out;
	}
	ret = 0;
out:
	if (fd != -1 && close(fd) == -1 && ret == 0) {
		log_err(d->name, "close %s", *tmp);
		ret = -1;
	}
	free(url);
	return ret;
}

/* Check, unpack and complete a staging directory; its path in *stage. */
static int
stage_version(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, const char *tmp, const struct buf *md5text, char **stage)
{
	char *ctl = NULL, *kept = NULL, *keptmd5 = NULL;
	int fd, ret = -1;

	*stage = xasprintf("%s/" INSTALL_TMP_PREFIX "%s.XXXXXX", agentdir, d->version);
	if (mkdtemp(*stage) == NULL) {
		log_err(d->name, "create %s", *stage);
		free(*stage);
		*stage = NULL;
		return -1;
	}
	if (chmod(*stage, 0755) == -1) {
		log_err(d->name, "chmod %s", *stage);
		goto out;
	}
	if (tarball_check(d->name, tmp, cfg->download_timeout) == -1 ||
	    tarball_unpack(d->name, tmp, *stage, cfg->download_timeout) == -1)
		goto out;
	ctl = xasprintf("%s/control", *stage);
	if (!file_is_exec(ctl)) {
		log_errx(d->name, "refusing %s: no executable control at its root", file);
		goto out;
	}
	/* Kept beside the agent, as the Go updater did. */
	kept = xasprintf("%s/%s", *stage, file);
	keptmd5 = xasprintf("%s.md5", kept);
	if (rename(tmp, kept) == -1) {
		log_err(d->name, "rename %s to %s", tmp, kept);
		goto out;
	}
	if (file_write_atomic(keptmd5, md5text->data, md5text->len, 0644) == -1)
		goto out;
	/* tar does not fsync: make every unpacked byte durable before the
	 * rename makes the version visible. */
	if ((fd = open(*stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 || syncfs(fd) == -1) {
		log_err(d->name, "sync %s", *stage);
		if (fd != -1)
			close(fd);
		goto out;
	}
	close(fd);
	ret = 0;
out:
	free(ctl);
	free(kept);
	free(keptmd5);
	return ret;
}

/* Make room for a rename onto dir: a leftover without a control (not a
 * version by our rules) is moved aside and removed. */
static int
clear_target(const char *name, const char *agentdir, const char *dir)
{
	char *aside;
	int ret;

	if (!dir_exists(dir))
		return 0;
	aside = xasprintf("%s/" INSTALL_TMP_PREFIX "old.XXXXXX", agentdir);
	if (mkdtemp(aside) == NULL || rename(dir, aside) == -1) {
		log_err(name, "move aside incomplete %s", dir);
		ret = -1;
	} else {
		log_warnx(name, "removed incomplete %s", dir);
		ret = rm_rf(aside);
	}
	free(aside);
	return ret;
}

int
install_version(const struct config *cfg, const struct desired *d)
{
	char *agentdir = xasprintf("%s/%s", cfg->workdir, d->name);
	char *file = xasprintf("%s-%s.tar.gz", d->name, d->version);
	char *final = xasprintf("%s/%s", agentdir, d->version);
	char *tmp = NULL, *stage = NULL;
	struct buf md5text = { 0 };
	unsigned char want[16];
	int created = 0, ret = -1;

	if (mkdir(agentdir, 0755) == 0)
		created = 1;
	else if (errno != EEXIST) {
		log_err(d->name, "create %s", agentdir);
		goto out;
	}
	if (get_md5(d, file, want, &md5text) == -1 ||
	    download(d, agentdir, file, want, &tmp) == -1 ||
	    stage_version(cfg, d, agentdir, file, tmp, &md5text, &stage) == -1 ||
	    clear_target(d->name, agentdir, final) == -1)
		goto out;
	if (rename(stage, final) == -1) {
		log_err(d->name, "rename %s to %s", stage, final);
		goto out;
	}
	if (dir_fsync(agentdir) == -1)
		log_err(d->name, "fsync %s", agentdir);
	log_info(d->name, "installed %s", final);
	ret = 0;
out:
	if (tmp != NULL)
		unlink(tmp);	/* ENOENT once it moved into the stage */
	if (ret == -1 && stage != NULL)
		rm_rf(stage);
	if (ret == -1 && created)
		rmdir(agentdir);
	buf_free(&md5text);
	free(tmp);
	free(stage);
	free(final);
	free(file);
	free(agentdir);
	return ret;
}
