#include "install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "digest.h"
#include "fetch.h"
#include "file.h"
#include "log.h"
#include "signature.h"
#include "tarball.h"
#include "util.h"

#define SUM_FILE_MAX 4096

/* Is dir/file an executable regular file? */
static int
file_is_exec_in(const char *dir, const char *file)
{
	char *path = xasprintf("%s/%s", dir, file);
	int ok = file_is_exec(path);

	free(path);
	return ok;
}

int
install_present(const char *workdir, const char *name, const char *version)
{
	char *dir = xasprintf("%s/%s/%s", workdir, name, version);
	int ok = file_is_exec_in(dir, "control");

	free(dir);
	return ok;
}

/* What the server published to check a tarball against: the files as
 * fetched (kept beside the installed version) and the digests they hold. */
struct expect {
	unsigned char md5[16], sha256[32];
	int have_sha256, have_sig;
	struct buf md5text, sha256text, sig;
};

static void
expect_free(struct expect *e)
{
	buf_free(&e->md5text);
	buf_free(&e->sha256text);
	buf_free(&e->sig);
}

/* GET {prefix}/{file}{ext} into b (for an optional file a 404 is 1), and
 * with n set parse it as an md5sum-style line of an n-byte digest into sum.
 * 0, 1 or -1 (logged). */
static int
get_side(const struct desired *d, const char *prefix, const char *file, const char *ext,
    int optional, struct buf *b, unsigned char *sum, size_t n)
{
	char *name = xasprintf("%s%s", file, ext), *url = fetch_url(prefix, name);
	int r = optional ? fetch_get_optional(d->name, url, SUM_FILE_MAX, b) :
	    fetch_get(d->name, url, SUM_FILE_MAX, b);

	if (r == 0 && n > 0 && digest_parse(b->data ? b->data : "", b->len, sum, n) == -1) {
		log_errx(d->name, "GET %s: not %s line", url, n == 16 ? "an md5sum" : "a sha256sum");
		r = -1;
	}
	free(url);
	free(name);
	return r;
}

/* {md5 or tarball}/{file}.md5, required; .sha256 beside it, checked when
 * published; {tarball}/{file}.sig, required when a public key is set. */
static int
get_expect(const struct config *cfg, const struct desired *d, const char *file, struct expect *e)
{
	const char *sums = d->md5[0] ? d->md5 : d->tarball;
	int r;

	if (get_side(d, sums, file, ".md5", 0, &e->md5text, e->md5, 16) != 0 ||
	    (r = get_side(d, sums, file, ".sha256", 1, &e->sha256text, e->sha256, 32)) == -1)
		return -1;
	e->have_sha256 = r == 0;
	if (cfg->public_key == NULL)
		return 0;
	if (get_side(d, d->tarball, file, ".sig", 0, &e->sig, NULL, 0) != 0) {
		log_errx(d->name, "refusing %s: verify.public_key is set and %s.sig cannot be had", file, file);
		return -1;
	}
	if (e->sig.len != SIGNATURE_LEN) {
		log_errx(d->name, "refusing %s: %s.sig has %zu bytes, not a %d-byte Ed25519 signature",
		    file, file, e->sig.len, SIGNATURE_LEN);
		return -1;
	}
	e->have_sig = 1;
	return 0;
}

/* Compare one digest; log both sides when they differ. */
static int
same_digest(const char *agent, const char *url, const char *what, const unsigned char *want,
    const unsigned char *got, size_t n)
{
	char hw[65], hg[65];

	if (memcmp(want, got, n) == 0)
		return 1;
	digest_hex(want, n, hw);
	digest_hex(got, n, hg);
	log_errx(agent, "GET %s: %s mismatch: expected %s, got %s", url, what, hw, hg);
	return 0;
}

/* Stream the tarball into a new temp file in agentdir (path in *tmp) and
 * check it against e before anything else may look at it. As the bytes
 * arrive they are hashed and fed to tar for the member listing, which so
 * runs beside the download; the checks are judged once it is complete. */
static int
download(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, const struct expect *e, char **tmp)
{
	char *url = fetch_url(d->tarball, file);
	struct fetch_file got = { .fd = -1, .sha256 = e->have_sha256, .tee = tarball_list_feed };
	struct spawn list;
	int ret = -1;

	*tmp = xasprintf("%s/" TMP_PREFIX "%s.XXXXXX", agentdir, file);
	if ((got.fd = mkostemp(*tmp, O_CLOEXEC)) == -1) {
		log_err(d->name, "create %s", *tmp);
		goto out;
	}
	log_info(d->name, "downloading %s", url);
	tarball_list_start(&list, cfg->download_timeout);
	got.tee_arg = &list;
	/* The digests speak first: a listing of the wrong bytes says nothing. */
	if (fetch_file(d->name, url, &got) == -1 || !same_digest(d->name, url, "MD5", e->md5, got.md5, 16) ||
	    (e->have_sha256 && !same_digest(d->name, url, "SHA-256", e->sha256, got.sha256sum, 32))) {
		spawn_finish(&list);	/* tar ends at the end of its input */
		spawn_free(&list);
		goto out;
	}
	if (tarball_list_check(d->name, file, &list) == -1)
		goto out;
	if (e->have_sig &&
	    signature_verify_file(d->name, cfg->public_key, *tmp, (const unsigned char *)e->sig.data) == -1)
		goto out;
	if (fchmod(got.fd, 0644) == -1) {
		log_err(d->name, "chmod %s", *tmp);
		goto out;
	}
	log_info(d->name, "verified %s: %lld bytes, MD5%s%s, members", file, got.size,
	    e->have_sha256 ? ", SHA-256" : "", e->have_sig ? ", Ed25519 signature" : "");
	ret = 0;
out:
	if (got.fd != -1 && close(got.fd) == -1 && ret == 0) {
		log_err(d->name, "close %s", *tmp);
		ret = -1;
	}
	free(url);
	return ret;
}

/* Write one of the check files beside the kept tarball. */
static int
keep(const char *kept, const char *ext, const struct buf *b)
{
	char *path = xasprintf("%s%s", kept, ext);
	int ret = file_write_atomic(path, b->data ? b->data : "", b->len, 0644);

	free(path);
	return ret;
}

/* Check, unpack and complete a staging directory; its path in *stage. */
static int
stage_version(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, const char *tmp, const struct expect *e, char **stage)
{
	char *kept = NULL;
	int fd, ret = -1;

	*stage = xasprintf("%s/" TMP_PREFIX "%s.XXXXXX", agentdir, d->version);
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
	if (tarball_unpack(d->name, tmp, *stage, cfg->download_timeout) == -1)
		goto out;
	if (!file_is_exec_in(*stage, "control")) {
		log_errx(d->name, "refusing %s: no executable control at its root", file);
		goto out;
	}
	/* Kept beside the agent, as the Go updater did. */
	kept = xasprintf("%s/%s", *stage, file);
	if (rename(tmp, kept) == -1) {
		log_err(d->name, "rename %s to %s", tmp, kept);
		goto out;
	}
	if (keep(kept, ".md5", &e->md5text) == -1 ||
	    (e->have_sha256 && keep(kept, ".sha256", &e->sha256text) == -1) ||
	    (e->have_sig && keep(kept, ".sig", &e->sig) == -1))
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
	free(kept);
	return ret;
}

/* Remove a version directory without ever showing it half removed: one
 * rename to a temp name first (a killed pass leaves that to the sweep). */
static int
remove_version(const char *name, const char *agentdir, const char *dir)
{
	char *aside = xasprintf("%s/" TMP_PREFIX "old.XXXXXX", agentdir);
	int ret = -1;

	if (mkdtemp(aside) == NULL || rename(dir, aside) == -1)
		log_err(name, "move %s aside", dir);
	else
		ret = rm_rf(aside);
	free(aside);
	return ret;
}

/* Make room for a rename onto dir: a leftover without a control (not a
 * version by our rules) is removed. */
static int
clear_target(const char *name, const char *agentdir, const char *dir)
{
	if (!dir_exists(dir))
		return 0;
	log_warnx(name, "removing incomplete %s", dir);
	return remove_version(name, agentdir, dir);
}

int
install_version(const struct config *cfg, const struct desired *d)
{
	char *agentdir = xasprintf("%s/%s", cfg->workdir, d->name);
	char *file = xasprintf("%s-%s.tar.gz", d->name, d->version);
	char *final = xasprintf("%s/%s", agentdir, d->version);
	char *tmp = NULL, *stage = NULL;
	struct expect e = { 0 };
	int created = 0, ret = -1;

	if (mkdir(agentdir, 0755) == 0)
		created = 1;
	else if (errno != EEXIST) {
		log_err(d->name, "create %s", agentdir);
		goto out;
	}
	if (get_expect(cfg, d, file, &e) == -1 ||
	    download(cfg, d, agentdir, file, &e, &tmp) == -1 ||
	    stage_version(cfg, d, agentdir, file, tmp, &e, &stage) == -1 ||
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
	expect_free(&e);
	free(tmp);
	free(stage);
	free(final);
	free(file);
	free(agentdir);
	return ret;
}

/* Remove TMP_PREFIX entries of dir. */
static void
sweep_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			char *path = xasprintf("%s/%s", dir, de->d_name);

			if (rm_rf(path) == 0)
				log_info(NULL, "removed %s, left by an interrupted pass", path);
			free(path);
		}
	}
	closedir(d);
}

void
install_sweep(const char *workdir)
{
	DIR *d = opendir(workdir);
	struct dirent *de;

	if (d == NULL)
		return;		/* the scan reports it */
	sweep_dir(workdir);
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (!name_is_valid(de->d_name))
			continue;
		path = xasprintf("%s/%s", workdir, de->d_name);
		if (dir_exists(path))
			sweep_dir(path);
		free(path);
	}
	closedir(d);
}

void
install_touch(const char *workdir, const char *name, const char *version)
{
	char *path = xasprintf("%s/%s/%s", workdir, name, version);

	if (utimensat(AT_FDCWD, path, NULL, 0) == -1)
		log_err(name, "touch %s", path);
	free(path);
}

struct version_dir {
	char *name;
	struct timespec used;
};

static int
newest_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct version_dir *)a)->used;
	const struct timespec *y = &((const struct version_dir *)b)->used;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	return x->tv_nsec < y->tv_nsec ? 1 : (x->tv_nsec > y->tv_nsec ? -1 : 0);
}

int
install_prune(const char *workdir, const char *name, const char *current, int keep, int timeout)
{
	char *agentdir = xasprintf("%s/%s", workdir, name);
	DIR *d = opendir(agentdir);
	struct version_dir *v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0, i;
	int ret = 0;

	if (d == NULL) {
		log_err(name, "open %s", agentdir);
		free(agentdir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *path;

		/* Only version directories; never the current one. */
		if (!name_is_valid(de->d_name) || strcmp(de->d_name, current) == 0)
			continue;
		path = xasprintf("%s/%s", agentdir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n].name = xstrdup(de->d_name);
			v[n++].used = st.st_mtim;
		}
		free(path);
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), newest_first);
	for (i = 0; i < n; i++) {
		if (i >= (size_t)keep) {
			char *path = xasprintf("%s/%s", agentdir, v[i].name);
			char status[256];

			/* Its directory is the only way to stop it. */
			if (file_is_exec_in(path, "control") &&
			    agent_status(path, timeout, status, sizeof(status)) == 0 &&
			    strcmp(status, "started") == 0)
				log_warnx(name, "old version %s still runs: kept", v[i].name);
			else if (remove_version(name, agentdir, path) == -1)
				ret = -1;
			else {
				log_info(name, "removed old version %s", v[i].name);
				agent_output_remove(name, path);
			}
			free(path);
		}
		free(v[i].name);
	}
	free(v);
	free(agentdir);
	return ret;
}
