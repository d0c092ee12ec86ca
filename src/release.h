/* A release as the server publishes it, fetched and verified: its check
 * files first (the .sha256 and, with verify.public_key, its .sig, verified
 * and naming this very release; the .md5), then the tarball, streamed to
 * a temp file (a partial download, resumed when cut) and hashed as its
 * bytes arrive (SHA-256 when published, MD5 without a key), and unpacked
 * into staging (stage.h) from the same bytes, unprivileged. Also the check of a release kept
 * on disk, before a version installed earlier is switched back to. */
#ifndef RELEASE_H
#define RELEASE_H

#include "config.h"
#include "install.h"
#include "heartbeat.h"
#include "util.h"

/* What the server published to check a tarball against: the files as
 * fetched (kept beside the installed version) and the digests they hold. */
struct release {
	unsigned char md5[16], sha256[32];
	int have_md5, have_sha256, have_sig;
	struct buf md5text, sha256text, sig;
	int bad;	/* the failure is the release's: hold it (install.h) */
	int spliced;	/* a resumed download failed its checks: the kept bytes
			 * and the new ones may be of two files */
	struct install_seen *seen;	/* what the server published, for a hold */
};

/* {md5 or tarball}/{file}.sha256, checked when published; with a public
 * key it and {tarball}/{file}.sig required and verified (and no .md5);
 * without, {md5 or tarball}/{file}.md5 required: into e. 0, or -1 (logged; e->bad set when the release is
 * at fault). */
int release_expect(const struct config *cfg, const struct desired *d, const char *file, struct release *e);
/* Stream the tarball file into a temp file in agentdir (*tmp) and unpack
 * it into a new staging directory (*stage), checked against e. 0, or -1
 * (logged; e->bad set when the release is at fault). */
int release_download(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, struct release *e, char **tmp, char **stage);
/* A resumed download failed its checks (e->spliced): a server may change
 * a file and keep the validator that let us resume it. Before the release
 * is blamed, the kept bytes go and the whole file is fetched once more
 * from byte 0, as release_download. */
int release_download_again(const struct config *cfg, const struct desired *d, const char *agentdir,
    const char *file, struct release *e, char **tmp, char **stage);
/* Release what release_expect fetched. */
void release_free(struct release *e);
/* With verify.public_key set, before a version that this pass did not
 * install is started: do its kept <file>.sha256 and <file>.sig verify
 * under the key, name exactly <name>-<version>.tar.gz, and match the kept
 * tarball's SHA-256 (read once)? 0, or -1 (logged): a version installed
 * before the key was set, or altered since, is not run on the key's word. */
int release_verify_kept(const struct config *cfg, const char *name, const char *version);

#endif
