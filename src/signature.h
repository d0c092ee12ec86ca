/* Ed25519 signatures of releases, in the manner of signify: what is signed
 * is the release's .sha256 file, one sha256sum line naming the tarball, as
 * made by "openssl pkeyutl -sign -rawin -inkey KEY -in x.tar.gz.sha256
 * -out x.tar.gz.sig". The signature so binds the digest to a name and
 * version: a signed release cannot be republished as another. */
#ifndef SIGNATURE_H
#define SIGNATURE_H

#include <stddef.h>

#define SIGNATURE_LEN 64

/* Verify sig (SIGNATURE_LEN bytes) over the n bytes at data with the
 * Ed25519 key (an EVP_PKEY). 0 when it verifies, else -1 (logged under
 * agent, naming the tarball as file). */
int signature_verify(const char *agent, void *key, const char *file, const void *data, size_t n,
    const unsigned char *sig);
/* Is text (n bytes) exactly one sha256sum line, "<64 hex>  <file>" or
 * "<64 hex> *<file>", with an optional final newline? Pure. */
int signature_names(const char *text, size_t n, const char *file);

#endif
