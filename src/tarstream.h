/* The members of a tar stream, counted while it flows to tar(1), so that a
 * tarball of a million empty members is cut off at the cap before tar has
 * created them all. No header is parsed for sizes and nothing is skipped
 * as data: tar makes a member only from a 512-byte block at a block
 * boundary whose header checksum holds, so every such block is counted
 * (but pax and GNU extension headers, which make no member). A hostile
 * size field, sparse map or pax record cannot hide a header from the
 * count; a tar archive stored uncompressed inside the tarball counts its
 * members too, which only errs on the safe side. */
#ifndef TARSTREAM_H
#define TARSTREAM_H

#include <stddef.h>

#define TARSTREAM_BLOCK 512

struct tarstream {
	long long members;	/* out: blocks tar could take for a member's header */
	int ended;		/* out: two zero blocks in a row were seen (tar stops
				 * there; the count goes on, erring on the safe side) */
	/* inside */
	unsigned char blk[TARSTREAM_BLOCK];
	size_t have;		/* bytes of the block at hand in blk */
	int zeros;		/* zero blocks in a row */
};

/* Start counting a new stream. */
void tarstream_init(struct tarstream *ts);
/* Take the next n bytes of the stream (any split). Pure. */
void tarstream_feed(struct tarstream *ts, const void *p, size_t n);
/* Could tar take the block at b for a header: does its checksum hold, read
 * as leniently as tar reads it or more? Pure. */
int tarstream_is_header(const unsigned char *b);

#endif
