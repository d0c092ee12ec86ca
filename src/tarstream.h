/* The members of a tar stream, counted while it flows to tar(1), so that a
 * tarball of a million empty members is cut off at the cap before tar has
 * created them all. No header is parsed for sizes and nothing is skipped
 * as data: tar makes a member only from a 512-byte block at a block
 * boundary whose header checksum holds, so every such block is counted
 * (but pax and GNU extension headers, which make no member). A hostile
 * size field, sparse map or pax record cannot hide a header from the
 * count; a tar archive stored uncompressed inside the tarball counts its
 * members too, which only errs on the safe side.
 *
 * tar also creates every directory above a member that the archive does
 * not hold: "t1/d/d/.../f" makes a thousand from one header. So every
 * name a header, a GNU long name or a pax path record gives is split, and
 * each distinct directory above its last component counts once (dirs):
 * a tree of 60,000 files 8 levels deep counts its few thousand
 * directories, not 480,000. Distinct by a keyed 64-bit hash (SipHash),
 * in a set bounded by TARSTREAM_SET_MAX: past that, every directory
 * counts as new. The data of extension headers is read for this (at most
 * TARSTREAM_EXT_MAX bytes: a larger one is flagged, as tar would read a
 * path past that; at most TARSTREAM_EXTS at once), and sparse members, whose few stream bytes can claim
 * many disk blocks, are flagged: typeflag 'S' or a GNU.sparse.* record.
 *
 * Those flags refuse a release, so they are raised only where tar reads
 * a header: random bytes in a file's data read as a header about once in
 * 150,000 blocks (a signed checksum of a small value), and one in 80 of
 * those as a sparse or too large extension header, which refused one
 * good 256 MiB release in 25. So the stream is also walked as tar walks
 * it, from header to header over the data it takes; where that is not
 * certain (a size tar may not read, a size written in an unusual way, a
 * pax "size" record, a block tar would not take as a header), the walk is
 * lost and, from there on, every block tar would take is judged. The
 * archives tar, bsdtar and Python write are walked to their end. */
#ifndef TARSTREAM_H
#define TARSTREAM_H

#include <stddef.h>
#include <stdint.h>

#define TARSTREAM_BLOCK 512
#define TARSTREAM_EXT_MAX 16384
/* Extension headers read at once: a block of the data of one may read as
 * another header, which is read too (a fake cannot hide a real one). */
#define TARSTREAM_EXTS (TARSTREAM_EXT_MAX / TARSTREAM_BLOCK + 1)
#define TARSTREAM_SET_MAX 131072
#define TARSTREAM_KEY 16
#define SLASH_NEXT 1
#define SLASH_GLOBAL 2

struct tarstream {
	long long members;	/* out: blocks tar could take for a member's header */
	long long dirs;		/* out: distinct directories above member names */
	int sparse;		/* out: a sparse member was seen */
	int overlong;		/* out: an extension header too large to read */
	int ended;		/* out: two zero blocks in a row were seen (tar stops
				 * there; the count goes on, erring on the safe side) */
	int lost;		/* out: the walk could not follow tar: from there on
				 * every block tar could take was judged */
	/* inside */
	unsigned char blk[TARSTREAM_BLOCK];
	size_t have;		/* bytes of the block at hand in blk */
	int zeros;		/* zero blocks in a row */
	uint64_t k0, k1;	/* the hash key */
	long long skip;		/* blocks of data before tar's next header */
	int walk_zeros;		/* zero blocks in a row where tar reads headers */
	int walk_end;		/* two of them: tar reads no further */
	int slash;		/* a long name or pax path ending in '/' (or empty)
				 * names the next member (SLASH_NEXT), a global pax
				 * path every member (SLASH_GLOBAL): a directory to
				 * tar, whatever its type */
	struct tarstream_ext {	/* extension headers whose data is being read */
		char type;
		int judged;	/* a header tar reads (or the walk is lost) */
		long long left;	/* bytes still to come; 0: a free slot */
		unsigned char *data;
		size_t len;
	} ext[TARSTREAM_EXTS];
	uint64_t *set;		/* hashes of the directories seen; 0 is empty */
	size_t set_n, set_cap;
};

/* Start counting a new stream, with a key of TARSTREAM_KEY random bytes
 * (fixed ones in tests). */
void tarstream_init(struct tarstream *ts, const unsigned char *key);
/* Take the next n bytes of the stream (any split). Pure. */
void tarstream_feed(struct tarstream *ts, const void *p, size_t n);
/* Release what ts holds. */
void tarstream_free(struct tarstream *ts);
/* Could tar take the block at b for a header: does its checksum hold, read
 * as leniently as tar reads it or more? Pure. */
int tarstream_is_header(const unsigned char *b);
/* Does GNU tar take the block at b for a header: its checksum field read
 * exactly as tar reads it? Pure. */
int tarstream_tar_header(const unsigned char *b);

#endif
