/* The evidence against a release: what the server published for it when
 * it failed. A hold stands only while that evidence does: each pass that
 * finds the release held fetches its small check files again and asks
 * the tarball's validators with a HEAD (never its bytes), and the hold
 * ends at once when anything differs (a wrong .md5 fixed, a signature
 * published, a tarball replaced, a publish that was under way when the
 * release was tried).
 *
 * Each check file is kept as "sha256:<hex of its bytes>", "absent" (HTTP
 * 404 or 410) or "" (not seen: never compared); the tarball as its
 * validators ("etag E; last-modified D; length N"), "absent" or "". All of
 * it is printable ASCII, stored and compared as it is. */
#ifndef EVIDENCE_H
#define EVIDENCE_H

#include <stddef.h>

#include "config.h"
#include "fetch.h"
#include "heartbeat.h"
#include "util.h"

#define EVIDENCE_ABSENT "absent"
/* A hold's tarball validators, once they changed while its bytes did not:
 * no evidence for this release, never asked again while it holds. */
#define EVIDENCE_VARIES "varies"
#define EVIDENCE_FILE_MAX 72	/* "sha256:" and 64 hex digits */
#define EVIDENCE_TARBALL_MAX (2 * FETCH_VALIDATOR_MAX + 64)
#define EVIDENCE_CAPS_MAX 64

struct evidence {
	char md5[EVIDENCE_FILE_MAX];	/* the .md5 */
	char sha256[EVIDENCE_FILE_MAX];	/* the .sha256 */
	char sig[EVIDENCE_FILE_MAX];	/* the .sig */
	char tarball[EVIDENCE_TARBALL_MAX];	/* the tarball's validators */
	char caps[EVIDENCE_CAPS_MAX];	/* refused for its size: the caps then
					 * in force (evidence_caps); "" else */
	char received[EVIDENCE_FILE_MAX];	/* a digest mismatch: the digest of
						 * the bytes received ("md5:<hex>" or
						 * "sha256:<hex>"); "" else. Not asked
						 * again: what a new download brings
						 * is compared with it */
};

/* The caps a release's size is refused by, as a hold keeps them:
 * "download_max_mb N, unpack_max_mb M". The operator who raises one has
 * ended the hold's cause. Pure. */
void evidence_caps(char *slot, size_t len, const struct config *cfg);

/* Note into slot (a field of struct evidence) what fetching a check file
 * gave: r 0 and its bytes b, r 1 (an optional file not published), or r -1
 * with the HTTP status of the failure (404 or 410: absent; anything else:
 * not seen). */
void evidence_file(char *slot, int r, long status, const struct buf *b);
/* Note into e the tarball's validators v (200 or 206), or absent when
 * status is 404 or 410; anything else is not seen. */
void evidence_tarball(struct evidence *e, const struct fetch_validators *v, long status);
/* Does e hold anything that can be compared? Pure. */
int evidence_known(const struct evidence *e);
/* Ask the server again, for release d, for what was holds: the check
 * files was saw (GET), and the tarball's validators (HEAD) if was saw
 * them; into now. 0, or -1 when some part could not be had (no answer, a
 * 5xx, a HEAD refused; logged): that part stays "" in now, and only the
 * others can be compared. */
int evidence_gather(const struct desired *d, const struct evidence *was, struct evidence *now);
/* What differs between was and now, as "its .md5", "its .sha256", "its
 * .sig" or "its tarball", into why; NULL when nothing does. Only what both
 * saw is compared, down to each of the tarball's validators. Pure. */
const char *evidence_changed(const struct evidence *was, const struct evidence *now, char *why,
    size_t len);

#endif
