/* Installing one version of an agent: nothing half-done is ever visible.
 *
 * The order is what makes a crash at any moment harmless:
 *   1. the .sha256 (and with verify.public_key its .sig, verified, naming
 *      this very release) and the .md5 (release.h);
 *   2. the tarball into a temp file in <workdir>/<name>/, hashed as the
 *      bytes arrive; without a public key also fed to gzip -dc | tar -x
 *      (counted, cut off at unpack_max_mb; unprivileged, sandbox.h) into
 *      a private staging directory beside the final one; with one, unpacked from the temp
 *      file the same way only after its SHA-256 matched (release.h,
 *      stage.h);
 *   3. nothing in staging is used until the digests matched, gzip and tar
 *      exited 0 without a complaint, and a walk of the staged tree found
 *      only files, directories and links that resolve inside, no hard link
 *      out, no setuid/setgid, and an executable control; the tarball and
 *      its check files join it (stage.h);
 *   4. every file and directory of it is made root's and fsynced, one
 *      rename makes <version>/ appear, and the agent directory is fsynced.
 * Temp and staging names start with TMP_PREFIX (file.h); a killed pass may
 * leave them behind, they never look like a version, and the next pass
 * removes them (retain_sweep). */
#ifndef INSTALL_H
#define INSTALL_H

#include "config.h"
#include "evidence.h"
#include "heartbeat.h"

/* What install_version saw of a release: what the server published (a
 * hold keeps it as its evidence), and whether a digest or signature did
 * not match (the bytes may have been hurt on the way, or the release was
 * being published: tried once more before it is held). */
struct install_seen {
	struct evidence ev;
	int mismatch;
};

/* Download, verify and unpack d into <workdir>/<name>/<version>/.
 * 0, or -1 (logged) with nothing changed on disk, and *bad set when the
 * failure is the release's (a file not published, a digest, signature or
 * name that does not match, an unpack or a staged tree refused: hold it),
 * not when it may pass (no answer, a cut download, a 5xx, a full disk or
 * another local failure: the next pass tries again, and resumes). What
 * the server published, as far as it was seen, goes into *seen. */
int install_version(const struct config *cfg, const struct desired *d, int *bad, struct install_seen *seen);

#endif
