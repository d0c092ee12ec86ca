/* Checksum files as md5sum(1) writes them. */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>

/* Parse the first line of an md5sum-style file ("<hex>  <name>", "<hex>
 * *<name>" or a bare "<hex>") holding a digest of n bytes. The hex must be
 * exactly 2n digits followed by white space or the end. 0 and the bytes in
 * out, or -1. */
int digest_parse(const char *text, size_t textlen, unsigned char *out, size_t n);
/* Write n bytes as lowercase hex into hex (2n+1 bytes). */
void digest_hex(const unsigned char *d, size_t n, char *hex);

#endif
