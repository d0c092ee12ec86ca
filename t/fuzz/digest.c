/* libFuzzer target: .md5 and .sha256 files from the network. */
#include <stddef.h>
#include <stdint.h>

#include "digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char md5[16], sha256[32];

	digest_parse((const char *)data, size, md5, sizeof(md5));
	digest_parse((const char *)data, size, sha256, sizeof(sha256));
	return 0;
}
