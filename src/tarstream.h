/* The members of a tar stream, counted while it flows to tar(1): a small
 * incremental parser over 512-byte blocks that reads headers and skips
 * data, so that a tarball of a million empty members is cut off at the
 * cap before tar has created them all. When in doubt it skips less than
 * tar would, never more: a block tar reads as a header is never passed
 * over as data, so the count is never below tar's. */
#ifndef TARSTREAM_H
#define TARSTREAM_H

#include <stddef.h>

#define TARSTREAM_BLOCK 512

struct tarstream {
	long long members;	/* out: headers of real members seen (not pax
				 * 'x'/'g'/'X' or GNU 'L'/'K' extension headers) */
	int ended;		/* out: two zero blocks were seen */
	/* inside */
	unsigned char blk[TARSTREAM_BLOCK];
	size_t have;		/* bytes of a header (or sparse) block in blk */
	int state;
	int zeros;		/* zero blocks in a row */
	unsigned long long data, pad;	/* data bytes, then padding, to pass */
	unsigned long long after;	/* data after GNU sparse extension blocks */
	int pax;		/* 'x' or 'g' while reading an extended header's data */
	long long xsize, gsize;	/* pax size of the next member, of all; -1 none */
	/* a pax record being read */
	int rstate;
	unsigned long long rlen, rpos;
	char key[8], val[24];
	size_t klen, vlen;
	int kover, vbad;
};

/* Start counting a new stream. */
void tarstream_init(struct tarstream *ts);
/* Take the next n bytes of the stream (any split). Pure. */
void tarstream_feed(struct tarstream *ts, const void *p, size_t n);

#endif
