/* Ed25519 signatures of release tarballs, as made by
 * "openssl pkeyutl -sign -inkey key.pem -rawin -in x.tar.gz -out x.tar.gz.sig". */
#ifndef SIGNATURE_H
#define SIGNATURE_H

#include <stddef.h>

#define SIGNATURE_LEN 64

/* Verify sig (SIGNATURE_LEN bytes) over the bytes of the file at path with
 * the Ed25519 key (an EVP_PKEY). Ed25519 signs the whole message, so this
 * reads the downloaded temp file once, before anything is unpacked.
 * 0 when it verifies, else -1 (logged under agent). */
int signature_verify_file(const char *agent, void *key, const char *path, const unsigned char *sig);

#endif
