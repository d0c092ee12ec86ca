#include "tarstream.h"

#include <string.h>

enum { S_HEAD, S_DATA, S_PAD, S_SPARSE, S_END };
enum { R_LEN, R_KEY, R_VAL, R_BAD };

/* GNU tar's largest sizes are far below this; it keeps sums from overflowing. */
#define NUM_MAX (1ULL << 62)

void
tarstream_init(struct tarstream *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->xsize = ts->gsize = -1;
}

/* A numeric header field as GNU tar reads it: octal after blanks, ended
 * by the field's end, a NUL or a blank; or base-256 when the high bit of
 * its first byte is set. -1 when it is neither, or negative, or huge. */
static long long
number(const unsigned char *f, size_t len)
{
	unsigned long long v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -1;	/* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < len; i++) {
			if (v >= NUM_MAX >> 8)
				return -1;
			v = v << 8 | f[i];
		}
		return (long long)v;
	}
	while (i < len && f[i] == ' ')
		i++;
	if (i == len)
		return -1;	/* blanks only */
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >= NUM_MAX >> 3)
			return -1;
		v = v << 3 | (unsigned)(f[i] - '0');
	}
	if (i < len && f[i] != '\0' && f[i] != ' ')
		return -1;
	return (long long)v;
}

/* Does the block's checksum hold, summed as unsigned or as signed bytes
 * (tar accepts both)? */
static int
sum_ok(const unsigned char *b)
{
	long long want = number(b + 148, 8), u = 0, s = 0;

	for (size_t i = 0; i < TARSTREAM_BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : b[i];

		u += c;
		s += (signed char)c;
	}
	return want != -1 && (want == u || want == s);
}

/* Pass size bytes of data (read as pax records when pax), then the
 * padding up to the next block. */
static void
data(struct tarstream *ts, unsigned long long size, int pax)
{
	ts->data = size;
	ts->pad = (TARSTREAM_BLOCK - (size % TARSTREAM_BLOCK)) % TARSTREAM_BLOCK;
	ts->pax = pax;
	ts->rstate = R_LEN;
	ts->rlen = ts->rpos = ts->klen = ts->vlen = 0;
	ts->kover = ts->vbad = 0;
	ts->state = size ? S_DATA : ts->pad ? S_PAD : S_HEAD;
}

/* A whole header block in ts->blk. */
static void
header(struct tarstream *ts)
{
	const unsigned char *b = ts->blk;
	long long size;
	char type;
	size_t i;

	for (i = 0; i < TARSTREAM_BLOCK && b[i] == 0; i++)
		;
	if (i == TARSTREAM_BLOCK) {
		if (++ts->zeros == 2) {
			ts->state = S_END;
			ts->ended = 1;
		}
		return;
	}
	ts->zeros = 0;
	/* Not a header: tar says so and looks for one in the next block. */
	if (!sum_ok(b))
		return;
	type = (char)b[156];
	if ((size = number(b + 124, 12)) == -1)
		size = 0;	/* tar fails it; skip as little as we can */
	switch (type) {
	case 'x': case 'X': case 'g':	/* pax extended headers */
		data(ts, (unsigned long long)size, type == 'g' ? 'g' : 'x');
		return;
	case 'L': case 'K':		/* GNU long name and link name */
		data(ts, (unsigned long long)size, 0);
		return;
	}
	ts->members++;
	if (ts->xsize >= 0)
		size = ts->xsize;
	else if (ts->gsize >= 0)
		size = ts->gsize;
	ts->xsize = -1;
	if (type == '1' || type == '5')
		size = 0;	/* tar reads no data for hard links and directories */
	if (type == 'S' && b[482]) {	/* GNU sparse: extension blocks first */
		ts->after = (unsigned long long)size;
		ts->state = S_SPARSE;
		return;
	}
	data(ts, (unsigned long long)size, 0);
}

/* A record of a pax extended header is done: keep its size, if that. */
static void
record(struct tarstream *ts)
{
	long long v = 0;

	if (ts->kover || ts->klen != 4 || memcmp(ts->key, "size", 4) != 0 || ts->vbad || ts->vlen == 0)
		return;
	for (size_t i = 0; i < ts->vlen; i++)
		v = v * 10 + (ts->val[i] - '0');
	if (ts->pax == 'g')
		ts->gsize = v;
	else
		ts->xsize = v;
}

/* One byte of a pax extended header: "<len> <key>=<value>\n" records. A
 * malformed one makes tar fail the archive; the rest is ignored here. */
static void
pax_byte(struct tarstream *ts, unsigned char c)
{
	if (ts->rstate == R_BAD)
		return;
	ts->rpos++;
	switch (ts->rstate) {
	case R_LEN:
		if (c >= '0' && c <= '9' && ts->rlen < (1ULL << 40))
			ts->rlen = ts->rlen * 10 + (c - '0');
		else if (c == ' ' && ts->rpos > 1 && ts->rpos < ts->rlen)
			ts->rstate = R_KEY;
		else
			ts->rstate = R_BAD;
		break;
	case R_KEY:
		if (ts->rpos >= ts->rlen)
			ts->rstate = R_BAD;
		else if (c == '=')
			ts->rstate = R_VAL;
		else if (ts->klen < sizeof(ts->key))
			ts->key[ts->klen++] = (char)c;
		else
			ts->kover = 1;
		break;
	case R_VAL:
		if (ts->rpos < ts->rlen) {
			if (c < '0' || c > '9' || ts->vlen == 18)
				ts->vbad = 1;	/* not a size we take */
			else
				ts->val[ts->vlen++] = (char)c;
			break;
		}
		if (c != '\n') {
			ts->rstate = R_BAD;
			break;
		}
		record(ts);
		ts->rstate = R_LEN;
		ts->rlen = ts->rpos = ts->klen = ts->vlen = 0;
		ts->kover = ts->vbad = 0;
		break;
	}
}

void
tarstream_feed(struct tarstream *ts, const void *p, size_t n)
{
	const unsigned char *in = p;
	size_t k;

	while (n > 0 && ts->state != S_END) {
		switch (ts->state) {
		case S_HEAD:
		case S_SPARSE:
			k = TARSTREAM_BLOCK - ts->have < n ? TARSTREAM_BLOCK - ts->have : n;
			memcpy(ts->blk + ts->have, in, k);
			ts->have += k;
			if (ts->have == TARSTREAM_BLOCK) {
				ts->have = 0;
				if (ts->state == S_HEAD)
					header(ts);
				else if (ts->blk[504] == 0)	/* the last extension block */
					data(ts, ts->after, 0);
			}
			break;
		case S_DATA:
			k = ts->data < n ? (size_t)ts->data : n;
			if (ts->pax)
				for (size_t i = 0; i < k; i++)
					pax_byte(ts, in[i]);
			ts->data -= k;
			if (ts->data == 0)
				ts->state = ts->pad ? S_PAD : S_HEAD;
			break;
		default:	/* S_PAD */
			k = ts->pad < n ? (size_t)ts->pad : n;
			ts->pad -= k;
			if (ts->pad == 0)
				ts->state = S_HEAD;
			break;
		}
		in += k;
		n -= k;
	}
}
