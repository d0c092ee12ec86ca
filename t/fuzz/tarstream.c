/* libFuzzer target: a tar stream from a hostile tarball, counted as it
 * flows to tar, fed whole and in chunks whose sizes the first byte picks:
 * the counts and flags must not depend on the split. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tarstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[TARSTREAM_KEY] = "fuzz-fuzz-fuzz!";
	struct tarstream whole, split;
	size_t step, off;

	if (size == 0)
		return 0;
	step = (size_t)data[0] % 37 + 1;
	data++, size--;
	tarstream_init(&whole, key);
	tarstream_feed(&whole, data, size);
	tarstream_init(&split, key);
	for (off = 0; off < size; off += step)
		tarstream_feed(&split, data + off, size - off < step ? size - off : step);
	if (whole.members != split.members || whole.ended != split.ended || whole.members < 0 ||
	    whole.members > (long long)(size / TARSTREAM_BLOCK) || whole.dirs != split.dirs ||
	    whole.sparse != split.sparse || whole.overlong != split.overlong || whole.dirs < 0 ||
	    whole.lost != split.lost || whole.skip != split.skip)
		abort();
	tarstream_free(&whole);
	tarstream_free(&split);
	return 0;
}
