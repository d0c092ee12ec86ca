/* libFuzzer target: a tar stream from a hostile tarball, counted as it
 * flows to tar, fed whole and in chunks whose sizes the first byte picks:
 * the count must not depend on the split. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tarstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tarstream whole, split;
	size_t step, off;

	if (size == 0)
		return 0;
	step = (size_t)data[0] % 37 + 1;
	data++, size--;
	tarstream_init(&whole);
	tarstream_feed(&whole, data, size);
	tarstream_init(&split);
	for (off = 0; off < size; off += step)
		tarstream_feed(&split, data + off, size - off < step ? size - off : step);
	if (whole.members != split.members || whole.ended != split.ended || whole.members < 0 ||
	    whole.members > (long long)(size / TARSTREAM_BLOCK))
		abort();
	return 0;
}
