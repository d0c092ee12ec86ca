#include "tarstream.h"

#include <string.h>

#define CHKSUM_OFF 148
#define CHKSUM_LEN 8
#define TYPE_OFF 156

void
tarstream_init(struct tarstream *ts)
{
	memset(ts, 0, sizeof(*ts));
}

/* The checksum field as tar reads it (octal, leading NULs and white space
 * skipped, anything after the digits ignored: a superset of what GNU tar
 * takes); -1 when it holds no digit. */
static long
recorded_sum(const unsigned char *f)
{
	size_t i = 0;
	long v = 0;
	int digits = 0;

	while (i < CHKSUM_LEN && (f[i] == '\0' || f[i] == ' ' || (f[i] >= '\t' && f[i] <= '\r')))
		i++;
	for (; i < CHKSUM_LEN && f[i] >= '0' && f[i] <= '7'; i++, digits++)
		v = v * 8 + (f[i] - '0');
	return digits ? v : -1;
}

int
tarstream_is_header(const unsigned char *b)
{
	long want = recorded_sum(b + CHKSUM_OFF), usum = 0, ssum = 0;
	size_t i;

	if (want < 0)
		return 0;
	/* The sum of the block with the checksum field as spaces, taking the
	 * bytes unsigned and, as old tars did, signed: tar accepts either. */
	for (i = 0; i < TARSTREAM_BLOCK; i++) {
		unsigned char c = i >= CHKSUM_OFF && i < CHKSUM_OFF + CHKSUM_LEN ? ' ' : b[i];

		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || want == ssum;
}

/* One whole block. */
static void
block(struct tarstream *ts, const unsigned char *b)
{
	size_t i;

	for (i = 0; i < TARSTREAM_BLOCK && b[i] == 0; i++)
		;
	if (i == TARSTREAM_BLOCK) {
		if (++ts->zeros >= 2)
			ts->ended = 1;
		return;
	}
	ts->zeros = 0;
	if (!tarstream_is_header(b))
		return;
	/* pax extended ('x', 'g', Solaris 'X') and GNU long-name ('L', 'K')
	 * headers describe the next member; they make none themselves. */
	if (strchr("xgXLK", b[TYPE_OFF]) == NULL || b[TYPE_OFF] == '\0')
		ts->members++;
}

void
tarstream_feed(struct tarstream *ts, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		size_t k;

		if (ts->have == 0 && n >= TARSTREAM_BLOCK) {
			block(ts, c);	/* no copy for the blocks a chunk holds whole */
			c += TARSTREAM_BLOCK;
			n -= TARSTREAM_BLOCK;
			continue;
		}
		k = TARSTREAM_BLOCK - ts->have < n ? TARSTREAM_BLOCK - ts->have : n;
		memcpy(ts->blk + ts->have, c, k);
		ts->have += k;
		c += k;
		n -= k;
		if (ts->have == TARSTREAM_BLOCK) {
			block(ts, ts->blk);
			ts->have = 0;
		}
	}
}
