#include "release.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "deadline.h"
#include "digest.h"
#include "evidence.h"
#include "fetch.h"
#include "file.h"
#include "log.h"
#include "partial.h"
#include "pipeline.h"
#include "signature.h"
#include "stage.h"
#include "tarball.h"
#include "util.h"

#define SUM_FILE_MAX 4096

/* After a failed fetch: is the file not published (404, 410) or larger
 * than its cap, the release's fault? Anything else (no answer, a cut, a
 * 5xx, a local failure) may pass: the next pass tries again, and resumes.
 * A tarball over download_max_mb would be fetched again by every pass, up
 * to the cap when the server sends no length. */
static int
fetch_missing(void)
{
	long st = fetch_last_status();

	return st == 404 || st == 410 || fetch_last_too_big();
}

/* A release refused for its size (capped) is held with the caps then in
 * force: raised, they end the hold (decide.c). */
static void
too_big(const struct config *cfg, struct release *e, int capped)
{
	if (e->bad && capped)
		evidence_caps(e->seen->ev.caps, sizeof(e->seen->ev.caps), cfg);
}

/* Is the file system of dir (nearly) full? Then a failed unpack is the
 * host's fault, not the release's. */
static int
disk_full(const char *dir)
{
	struct statvfs v;

	if (statvfs(dir, &v) == -1)
		return 0;
	return (unsigned long long)v.f_bfree * v.f_frsize < (1ULL << 20) ||
	    (v.f_files > 0 && v.f_ffree == 0);
}

void
release_free(struct release *e)
{
	buf_free(&e->md5text);
	buf_free(&e->sha256text);
	buf_free(&e->sig);
}

/* GET {prefix}/{file}{ext} into b (for an optional file a 404 is 1), and
 * with n set parse it as an md5sum-style line of an n-byte digest into sum.
 * 0, 1 or -1 (logged), *bad set when the release is at fault: the file is
 * not published, or not such a line. What came is noted in slot (evidence.h). */
static int
get_side(const struct desired *d, const char *prefix, const char *file, const char *ext,
    int optional, struct buf *b, unsigned char *sum, size_t n, int *bad, char *slot)
{
	char *name = xasprintf("%s%s", file, ext), *url = fetch_url(prefix, name);
	int r = optional ? fetch_get_optional(d->name, url, SUM_FILE_MAX, b) :
	    fetch_get(d->name, url, SUM_FILE_MAX, b);

	evidence_file(slot, r, fetch_last_status(), b);
	if (r == -1 && fetch_missing())
		*bad = 1;
	if (r == 0 && n > 0 && digest_parse(b->data ? b->data : "", b->len, sum, n) == -1) {
		log_errx(d->name, "GET %s: not %s line", url, n == 16 ? "an md5sum" : "a sha256sum");
		*bad = 1;
		r = -1;
	}
	free(url);
	free(name);
	return r;
}

/* With verify.public_key set, authenticity comes first: the .sha256 and
 * its .sig, both required; the signature over the .sha256's exact bytes;
 * and the line must name this very release, or a signed release could be
 * served as another agent or another version. */
static int
check_signed(const struct config *cfg, const struct desired *d, const char *file, struct release *e)
{
	if (!e->have_sha256)
		e->bad = 1;
	if (!e->have_sha256 ||
	    get_side(d, d->tarball, file, ".sig", 0, &e->sig, NULL, 0, &e->bad, e->seen->ev.sig) != 0) {
		log_errx(d->name, "refusing %s: verify.public_key is set and %s.sha256 or %s.sig cannot be had",
		    file, file, file);
		return -1;
	}
	/* From here on every refusal is the release's. */
	e->bad = 1;
	if (e->sig.len != SIGNATURE_LEN) {
		log_errx(d->name, "refusing %s: %s.sig has %zu bytes, not a %d-byte Ed25519 signature",
		    file, file, e->sig.len, SIGNATURE_LEN);
		return -1;
	}
	if (signature_verify(d->name, cfg->public_key, file, e->sha256text.data, e->sha256text.len,
	    (const unsigned char *)e->sig.data) == -1) {
		e->seen->mismatch = 1;
		return -1;
	}
	if (!signature_names(e->sha256text.data, e->sha256text.len, file)) {
		log_errx(d->name, "refusing %s: its signed .sha256 is not one line naming %s", file, file);
		return -1;
	}
	e->have_sig = 1;
	e->bad = 0;
	return 0;
}

/* {md5 or tarball}/{file}.sha256, checked when published; with a public
 * key it and {tarball}/{file}.sig required and verified before the tarball
 * is fetched, and then they are all there is to check (no .md5); without
 * one {md5 or tarball}/{file}.md5 is required too. */
int
release_expect(const struct config *cfg, const struct desired *d, const char *file, struct release *e)
{
	const char *sums = d->md5[0] ? d->md5 : d->tarball;
	int r;

	if ((r = get_side(d, sums, file, ".sha256", 1, &e->sha256text, e->sha256, 32, &e->bad,
	    e->seen->ev.sha256)) == -1)
		return -1;
	e->have_sha256 = r == 0;
	if (cfg->public_key != NULL)
		return check_signed(cfg, d, file, e);
	if (get_side(d, sums, file, ".md5", 0, &e->md5text, e->md5, 16, &e->bad, e->seen->ev.md5) != 0)
		return -1;
	e->have_md5 = 1;
	return 0;
}

/* The digest of the bytes received, for a hold on a mismatch: the MD5
 * when the .md5 was asked for (without a key), else the SHA-256. */
static void
received(struct evidence *ev, int md5, const unsigned char *md5sum, const unsigned char *sha256sum)
{
	char hex[65];

	digest_hex(md5 ? md5sum : sha256sum, md5 ? 16 : 32, hex);
	snprintf(ev->received, sizeof(ev->received), "%s:%s", md5 ? "md5" : "sha256", hex);
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

/* Stream the tarball into a new temp file in agentdir (path in *tmp) and,
 * from the same bytes as they arrive, unpack it into a new staging
 * directory (path in *stage), in the sandbox; judged only once every byte
 * is in: the digests speak first (wrong bytes make any other verdict
 * moot), then the cap and gzip's and tar's. With a public key too: the
 * sandbox is what keeps unsigned bytes harmless until the streamed
 * SHA-256 is the signed one, and nothing of the tree is adopted before. */
int
release_download(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, struct release *e, char **tmp, char **stage)
{
	char *url = fetch_url(d->tarball, file);
	struct fetch_file got = { .fd = -1, .md5_too = e->have_md5, .sha256 = e->have_sha256 };
	struct stage_unpack u = { .running = 0, .fd = -1 };
	char sums[64];
	int ret = -1, r;

	/* The temp file is a partial download: a cut one is resumed. */
	if ((got.fd = partial_open(cfg, d->name, agentdir, file, url, &got, tmp)) == -1)
		goto out;
	/* First what is fetched, then what is done with it. */
	log_info(d->name, "downloading %s", url);
	if (stage_unpack_start(cfg, d, agentdir, file, "as it arrives", stage, &u) == -1)
		goto out;
	got.tee = stage_unpack_tee;
	got.tee_arg = &u;
	r = fetch_file(d->name, url, &got);
	evidence_tarball(&e->seen->ev, &got.seen, fetch_last_status());
	if (r == -1) {
		/* An unpack that refused the bytes (or hit its cap) stopped the
		 * download early: its verdict says why. */
		if (got.tee_failed) {
			u.running = 0;
			tarball_unpack_finish(d->name, file, &u.pl, cfg->unpack_max_mb);
			e->bad = !u.pl.watched && !tarball_unpack_blameless(&u.pl) && !disk_full(agentdir) &&
			    !deadline_passed();
			/* Kept bytes are suspect only when the bytes were refused. */
			e->spliced = got.resumed > 0 && e->bad;
		} else
			e->bad = fetch_missing();
		too_big(cfg, e, u.pl.capped || fetch_last_too_big());
		goto out;
	}
	if ((e->have_md5 && !same_digest(d->name, url, "MD5", e->md5, got.md5, 16)) ||
	    (e->have_sha256 && !same_digest(d->name, url, "SHA-256", e->sha256, got.sha256sum, 32))) {
		e->bad = e->seen->mismatch = 1;
		e->spliced = got.resumed > 0;
		received(&e->seen->ev, e->have_md5, got.md5, got.sha256sum);
		goto out;
	}
	u.running = 0;
	if (tarball_unpack_finish(d->name, file, &u.pl, cfg->unpack_max_mb) == -1) {
		/* Cut by a full disk, the disk reserve, the pass deadline, a
		 * slow link or host, or gzip or tar not run: not the release. */
		e->bad = !u.pl.watched && !tarball_unpack_blameless(&u.pl) && !disk_full(agentdir) &&
		    !deadline_passed();
		too_big(cfg, e, u.pl.capped);
		goto out;
	}
	if (fchmod(got.fd, 0644) == -1) {
		log_err(d->name, "chmod %s", *tmp);
		goto out;
	}
	snprintf(sums, sizeof(sums), "%s%s%s", e->have_md5 ? "MD5" : "",
	    e->have_md5 && e->have_sha256 ? ", " : "", e->have_sha256 ? "SHA-256" : "");
	log_info(d->name, "verified %s: %lld bytes, %s%s; unpacked %lld with %s", file, got.size, sums,
	    e->have_sig ? ", Ed25519 signature" : "", u.pl.passed, u.pl.a.argv[0]);
	ret = 0;
out:
	if (u.running) {	/* refused early: stop the unpack, quietly */
		pipeline_kill(&u.pl);
		pipeline_finish(&u.pl);
		pipeline_free(&u.pl);
	}
	if (got.fd != -1 && close(got.fd) == -1 && ret == 0) {
		log_err(d->name, "close %s", *tmp);
		ret = -1;
	}
	if (u.fd != -1)
		close(u.fd);
	free(url);
	return ret;
}

int
release_download_again(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, struct release *e, char **tmp, char **stage)
{
	log_warnx(d->name, "%s failed its checks after a resume: dropping the kept bytes, "
	    "downloading it again from byte 0", file);
	partial_end(d->name, *tmp, 1);
	free(*tmp);
	*tmp = NULL;
	if (*stage != NULL) {
		rm_rf(*stage);
		free(*stage);
		*stage = NULL;
	}
	e->bad = e->spliced = e->seen->mismatch = 0;
	return release_download(cfg, d, agentdir, file, e, tmp, stage);
}

/* Open dir/name, a regular file, never through a symlink, as *fdp.
 * 0, or -1 (logged under agent). */
static int
kept_open(const char *agent, const char *dir, const char *name, int *fdp)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		log_err(agent, "open %s", path);
	else if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_errx(agent, "%s: not a regular file", path);
		close(fd);
		fd = -1;
	}
	free(path);
	*fdp = fd;
	return fd == -1 ? -1 : 0;
}

/* All of the open file fd, at most cap bytes, into b. 0, or -1 (logged). */
static int
kept_read(const char *agent, const char *name, int fd, size_t cap, struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b->len + (size_t)n > cap) {
			log_errx(agent, "%s: larger than %zu bytes", name, cap);
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
	if (n == -1) {
		log_err(agent, "read %s", name);
		return -1;
	}
	return 0;
}

/* The SHA-256 of the open file fd, read to its end, into out. */
static int
kept_sha256(const char *agent, const char *name, int fd, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char chunk[65536];
	ssize_t n = -1;
	int ret = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		log_errx(agent, "cannot set up SHA-256");
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1)
			break;
	if (n == -1)
		log_err(agent, "read %s", name);
	else if (n != 0 || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		log_errx(agent, "cannot hash %s", name);
	else
		ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* The kept check files of dir and its tarball file, judged as a download
 * would be: the .sig over the .sha256's exact bytes under the key, the
 * line naming this very file, and the tarball's SHA-256 the one signed. */
static int
kept_verify(const struct config *cfg, const char *agent, const char *dir, const char *file)
{
	char *sumname = xasprintf("%s.sha256", file), *signame = xasprintf("%s.sig", file);
	struct buf text = { 0 }, sig = { 0 };
	unsigned char want[32], got[32];
	int fd = -1, ret = -1;

	if (kept_open(agent, dir, sumname, &fd) == -1 || kept_read(agent, sumname, fd, SUM_FILE_MAX, &text) == -1)
		goto out;
	close(fd);
	if (kept_open(agent, dir, signame, &fd) == -1 || kept_read(agent, signame, fd, SIGNATURE_LEN, &sig) == -1)
		goto out;
	close(fd);
	fd = -1;
	if (sig.len != SIGNATURE_LEN) {
		log_errx(agent, "%s has %zu bytes, not a %d-byte Ed25519 signature", signame, sig.len, SIGNATURE_LEN);
		goto out;
	}
	if (signature_verify(agent, cfg->public_key, file, text.data, text.len,
	    (const unsigned char *)sig.data) == -1)
		goto out;
	if (!signature_names(text.data, text.len, file) || digest_parse(text.data, text.len, want, 32) == -1) {
		log_errx(agent, "its signed %s is not one line naming %s", sumname, file);
		goto out;
	}
	if (kept_open(agent, dir, file, &fd) == -1 || kept_sha256(agent, file, fd, got) == -1)
		goto out;
	if (!same_digest(agent, file, "SHA-256", want, got, 32))
		goto out;
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	buf_free(&text);
	buf_free(&sig);
	free(sumname);
	free(signame);
	return ret;
}

int
release_verify_kept(const struct config *cfg, const char *name, const char *version)
{
	char *dir = xasprintf("%s/%s/%s", cfg->workdir, name, version);
	char *file = xasprintf("%s-%s.tar.gz", name, version);
	int ret = kept_verify(cfg, name, dir, file);

	if (ret == -1)
		log_errx(name, "installed %s has no valid signature for the configured key; "
		    "remove it or publish a new version", version);
	else
		log_info(name, "installed %s: its kept %s verified (SHA-256, Ed25519 signature)", version, file);
	free(file);
	free(dir);
	return ret;
}
