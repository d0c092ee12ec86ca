#include "evidence.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "log.h"

#define CHECK_FILE_MAX 4096	/* as install.c fetches them */

void
evidence_file(char *slot, int r, long status, const struct buf *b)
{
	unsigned char sum[32];
	unsigned int n = 0;
	char hex[65];

	slot[0] = '\0';
	if (r == 1 || (r == -1 && (status == 404 || status == 410)))
		snprintf(slot, EVIDENCE_FILE_MAX, "%s", EVIDENCE_ABSENT);
	else if (r == 0 && EVP_Digest(b->data ? b->data : "", b->len, sum, &n, EVP_sha256(), NULL) == 1) {
		digest_hex(sum, n, hex);
		snprintf(slot, EVIDENCE_FILE_MAX, "sha256:%s", hex);
	}
}

void
evidence_tarball(struct evidence *e, const struct fetch_validators *v, long status)
{
	char text[EVIDENCE_TARBALL_MAX];

	e->tarball[0] = '\0';
	if (status == 404 || status == 410)
		snprintf(e->tarball, sizeof(e->tarball), "%s", EVIDENCE_ABSENT);
	else if (v->etag[0] != '\0' || v->modified[0] != '\0' || v->length >= 0) {
		snprintf(text, sizeof(text), "etag %s; last-modified %s; length %lld", v->etag[0] ? v->etag : "-",
		    v->modified[0] ? v->modified : "-", v->length);
		/* Printable ASCII already; escaped all the same, as stored. */
		str_vis(e->tarball, sizeof(e->tarball), text);
	}
}

void
evidence_caps(char *slot, size_t len, const struct config *cfg)
{
	snprintf(slot, len, "download_max_mb %d, unpack_max_mb %d", cfg->download_max_mb, cfg->unpack_max_mb);
}

int
evidence_known(const struct evidence *e)
{
	return e->md5[0] != '\0' || e->sha256[0] != '\0' || e->sig[0] != '\0' || e->tarball[0] != '\0';
}

/* GET {prefix}/{file}{ext} again into slot, when was saw it. */
static int
gather_file(const struct desired *d, const char *prefix, const char *file, const char *ext,
    const char *was, char *slot)
{
	char *name, *url;
	struct buf b = { 0 };
	int r;

	if (was[0] == '\0')
		return 0;
	name = xasprintf("%s%s", file, ext);
	url = fetch_url(prefix, name);
	r = url == NULL ? -1 : fetch_get_optional(d->name, url, CHECK_FILE_MAX, &b);
	evidence_file(slot, r, fetch_last_status(), &b);
	buf_free(&b);
	free(url);
	free(name);
	return slot[0] == '\0' ? -1 : 0;
}

int
evidence_gather(const struct desired *d, const struct evidence *was, struct evidence *now)
{
	const char *sums = d->md5[0] ? d->md5 : d->tarball;
	char *file = xasprintf("%s-%s.tar.gz", d->name, d->version), *url = NULL;
	struct fetch_validators v;
	int ret = 0, r;

	memset(now, 0, sizeof(*now));
	/* Every part is asked for, even after one could not be had: a .md5
	 * fixed must end the hold even where a HEAD is refused (405). */
	ret |= gather_file(d, sums, file, ".md5", was->md5, now->md5);
	ret |= gather_file(d, sums, file, ".sha256", was->sha256, now->sha256);
	ret |= gather_file(d, d->tarball, file, ".sig", was->sig, now->sig);
	if (was->tarball[0] != '\0') {
		if ((url = fetch_url(d->tarball, file)) == NULL ||
		    ((r = fetch_head(d->name, url, &v)) == -1 && fetch_last_status() != 410))
			ret = -1;
		else
			evidence_tarball(now, &v, r == 0 ? 200 : fetch_last_status() == 410 ? 410 : 404);
	}
	free(url);
	free(file);
	return ret;
}

/* One field compared: NULL when the same (or either did not see it). */
static const char *
differs(const char *was, const char *now, const char *what, char *why, size_t len)
{
	if (was[0] == '\0' || now[0] == '\0' || strcmp(was, now) == 0)
		return NULL;
	if (strcmp(was, EVIDENCE_ABSENT) == 0)
		snprintf(why, len, "its %s is published now", what);
	else if (strcmp(now, EVIDENCE_ABSENT) == 0)
		snprintf(why, len, "its %s is gone", what);
	else
		snprintf(why, len, "its %s changed", what);
	return why;
}

/* The field of tarball validators v ("etag E; last-modified D; length
 * N") that follows key ("etag ", "; last-modified ", "; length ") up to
 * the next key (end: NULL for the last), into out. 0, or -1 when v is not
 * so made (then it is compared whole). */
static int
field(const char *v, const char *key, const char *end, char *out, size_t cap)
{
	const char *p = strstr(v, key), *q;

	if (p == NULL)
		return -1;
	p += strlen(key);
	q = end != NULL ? strstr(p, end) : p + strlen(p);
	if (q == NULL || (size_t)(q - p) >= cap)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

/* Do the tarball validators was and now differ in a field that both
 * name? A server's HEAD may leave out what its GET sent (a length, an
 * ETag): what one did not say is not compared, or each pass would end
 * the hold and download the tarball again. */
static int
validators_differ(const char *was, const char *now)
{
	static const char *const keys[] = { "etag ", "; last-modified ", "; length ", NULL };
	static const char *const none[] = { "-", "-", "-1" };
	char a[EVIDENCE_TARBALL_MAX], b[EVIDENCE_TARBALL_MAX];
	size_t i;

	for (i = 0; keys[i] != NULL; i++) {
		if (field(was, keys[i], keys[i + 1], a, sizeof(a)) == -1 ||
		    field(now, keys[i], keys[i + 1], b, sizeof(b)) == -1)
			return strcmp(was, now) != 0;
		/* Last-Modified alone is no evidence of new bytes: a copy, a
		 * touch, a mirror's sync change it, and the fleet would
		 * download a bad release in full each time. */
		if (i == 1)
			continue;
		if (strcmp(a, none[i]) != 0 && strcmp(b, none[i]) != 0 && strcmp(a, b) != 0)
			return 1;
	}
	return 0;
}

const char *
evidence_changed(const struct evidence *was, const struct evidence *now, char *why, size_t len)
{
	const char *r;

	if ((r = differs(was->md5, now->md5, ".md5", why, len)) != NULL ||
	    (r = differs(was->sha256, now->sha256, ".sha256", why, len)) != NULL ||
	    (r = differs(was->sig, now->sig, ".sig", why, len)) != NULL)
		return r;
	if ((r = differs(was->tarball, now->tarball, "tarball", why, len)) != NULL &&
	    strcmp(was->tarball, EVIDENCE_ABSENT) != 0 && strcmp(now->tarball, EVIDENCE_ABSENT) != 0) {
		if (!validators_differ(was->tarball, now->tarball))
			return NULL;
		snprintf(why, len, "its tarball changed (%s, was %s)", now->tarball, was->tarball);
	}
	return r;
}
