#include "tarstream.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NAME_LEN 100
#define SIZE_OFF 124
#define SIZE_LEN 12
#define CHKSUM_OFF 148
#define CHKSUM_LEN 8
#define TYPE_OFF 156
#define MAGIC_OFF 257
#define PREFIX_OFF 345
#define PREFIX_LEN 155

void
tarstream_init(struct tarstream *ts, const unsigned char *key)
{
	memset(ts, 0, sizeof(*ts));
	for (int i = 0; i < 8; i++) {
		ts->k0 |= (uint64_t)key[i] << (8 * i);
		ts->k1 |= (uint64_t)key[8 + i] << (8 * i);
	}
}

void
tarstream_free(struct tarstream *ts)
{
	for (int i = 0; i < TARSTREAM_EXTS; i++) {
		free(ts->ext[i].data);
		ts->ext[i].data = NULL;
		ts->ext[i].left = 0;
	}
	free(ts->set);
	ts->set = NULL;
	ts->set_n = ts->set_cap = 0;
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

/* White space as tar's isspace() sees it, in the C locale it runs in. */
static int
space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The checksum field exactly as GNU tar reads it (from_header, octal
 * only): one leading NUL skipped, then white space; octal digits, or
 * none (0); then the field's end, a NUL or white space. -1 when tar
 * refuses it. */
static long
tar_sum(const unsigned char *f)
{
	size_t i = f[0] == '\0';
	long v = 0;

	while (i < CHKSUM_LEN && space(f[i]))
		i++;
	if (i == CHKSUM_LEN)
		return -1;
	for (; i < CHKSUM_LEN && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (f[i] - '0');
	return i < CHKSUM_LEN && f[i] != '\0' && !space(f[i]) ? -1 : v;
}

/* Could tar take b for a header: does its checksum hold, read as
 * leniently as tar reads it or more (the count's question; ours or tar's
 * reading: a field of NULs is 0 to tar, and a block whose signed sum is 0
 * is a header to it)? And does it exactly as GNU tar reads it (*tar, the
 * walk's question)? The sum is that of the block with the checksum field
 * as spaces, its bytes taken unsigned and, as old tars did, signed (tar
 * accepts either); made only when a field could be a checksum at all. */
static int
candidate(const unsigned char *b, int *tar)
{
	long ours = recorded_sum(b + CHKSUM_OFF), its = tar_sum(b + CHKSUM_OFF), usum = 0, ssum = 0;

	*tar = 0;
	if (ours < 0 && its < 0)
		return 0;
	for (size_t i = 0; i < TARSTREAM_BLOCK; i++) {
		unsigned char c = i >= CHKSUM_OFF && i < CHKSUM_OFF + CHKSUM_LEN ? ' ' : b[i];

		usum += c;
		ssum += (signed char)c;
	}
	*tar = its >= 0 && (its == usum || its == ssum);
	return *tar || (ours >= 0 && (ours == usum || ours == ssum));
}

int
tarstream_tar_header(const unsigned char *b)
{
	int tar;

	candidate(b, &tar);
	return tar;
}

int
tarstream_is_header(const unsigned char *b)
{
	int tar;

	return candidate(b, &tar);
}

/* A member's size as every tar writes it, which tar reads the same: octal
 * digits after one NUL or white space, up to the field's end, a NUL or
 * white space; or base-256 with a first byte of 0x80. 0 with the size in
 * *size, or -1 for any other form: the walk cannot be sure of it. */
static int
plain_size(const unsigned char *f, long long *size)
{
	size_t i = f[0] == '\0';
	long long v = 0;

	if (f[0] == 0x80) {
		for (i = 1; i < SIZE_LEN; i++) {
			if (v > (1LL << 52))
				return -1;
			v = v * 256 + f[i];
		}
		*size = v;
		return 0;
	}
	while (i < SIZE_LEN && space(f[i]))
		i++;
	if (i == SIZE_LEN || f[i] < '0' || f[i] > '7')
		return -1;
	for (; i < SIZE_LEN && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (f[i] - '0');
	if (i < SIZE_LEN && f[i] != '\0' && !space(f[i]))
		return -1;
	*size = v;
	return 0;
}

/* At a header tar reads, of type type: the blocks of data tar takes after
 * it. A hard link takes none (tar sets its size to 0); a file and an
 * extension header their size; anything else none when its size is 0,
 * but with a size, tar may read it as data or not (a symlink it does
 * not): lost. A file whose name ends in '/' is a directory to tar,
 * which reads no data for it: lost too. */
static int
slash_name(const unsigned char *b)
{
	size_t n = strnlen((const char *)b, NAME_LEN);

	/* An empty name (or a ustar prefix alone): not sure either. */
	return n == 0 || b[n - 1] == '/';
}

static void
follow(struct tarstream *ts, const unsigned char *b, unsigned char type)
{
	long long size;

	ts->skip = 0;
	if (type == '1')
		return;
	if (plain_size(b + SIZE_OFF, &size) == -1) {
		ts->lost = 1;
		return;
	}
	switch (type) {
	case '0': case '\0': case '7':
		if (ts->slash || slash_name(b)) {
			ts->lost = 1;
			return;
		}
		ts->slash &= SLASH_GLOBAL;	/* a global path holds for every member */
		/* fall through */
	case 'x': case 'g': case 'X': case 'L': case 'K':
		ts->skip = (size + TARSTREAM_BLOCK - 1) / TARSTREAM_BLOCK;
		break;
	default:
		ts->slash &= SLASH_GLOBAL;
		if (size != 0)
			ts->lost = 1;
	}
}

/* The size field, octal or base-256; anything past TARSTREAM_EXT_MAX (or
 * negative) is TARSTREAM_EXT_MAX + 1: only whether it is too large matters. */
static long long
size_field(const unsigned char *f)
{
	long long v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return TARSTREAM_EXT_MAX + 1;	/* negative */
		for (i = 1, v = f[0] & 0x3f; i < SIZE_LEN; i++) {
			if (v > TARSTREAM_EXT_MAX)
				return TARSTREAM_EXT_MAX + 1;
			v = v * 256 + f[i];
		}
		return v > TARSTREAM_EXT_MAX ? TARSTREAM_EXT_MAX + 1 : v;
	}
	while (i < SIZE_LEN && (f[i] == '\0' || space(f[i])))
		i++;
	for (; i < SIZE_LEN && f[i] >= '0' && f[i] <= '7'; i++) {
		v = v * 8 + (f[i] - '0');
		if (v > TARSTREAM_EXT_MAX)
			return TARSTREAM_EXT_MAX + 1;
	}
	return v;
}

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

/* SipHash-2-4 of the 8 bytes of parent then the n bytes at p: the hash of
 * a directory from its parent's and its own name. */
static uint64_t
siphash(const struct tarstream *ts, uint64_t parent, const unsigned char *p, size_t n)
{
	uint64_t v0 = ts->k0 ^ 0x736f6d6570736575ULL, v1 = ts->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = ts->k0 ^ 0x6c7967656e657261ULL, v3 = ts->k1 ^ 0x7465646279746573ULL;
	uint64_t m, total = 8 + n;
	size_t i;
	int r, k;

	v3 ^= parent;
	for (r = 0; r < 2; r++)
		SIPROUND;
	v0 ^= parent;
	for (i = 0; i + 8 <= n; i += 8) {
		for (m = 0, k = 0; k < 8; k++)
			m |= (uint64_t)p[i + k] << (8 * k);
		v3 ^= m;
		for (r = 0; r < 2; r++)
			SIPROUND;
		v0 ^= m;
	}
	for (m = total << 56, k = 0; i + k < n; k++)
		m |= (uint64_t)p[i + k] << (8 * k);
	v3 ^= m;
	for (r = 0; r < 2; r++)
		SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	for (r = 0; r < 4; r++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Is directory h new? Then remember it; past TARSTREAM_SET_MAX every
 * directory is new (the count only grows, erring on the safe side). */
static int
set_add(struct tarstream *ts, uint64_t h)
{
	size_t i;

	if (h == 0)
		h = 1;
	if (ts->set_n >= TARSTREAM_SET_MAX)
		return 1;
	if (2 * (ts->set_n + 1) > ts->set_cap) {
		size_t cap = ts->set_cap ? 2 * ts->set_cap : 1024;
		uint64_t *old = ts->set, *set = xcalloc(cap, sizeof(*set));

		for (i = 0; i < ts->set_cap; i++)
			if (old[i] != 0) {
				size_t j = old[i] & (cap - 1);

				while (set[j] != 0)
					j = (j + 1) & (cap - 1);
				set[j] = old[i];
			}
		free(old);
		ts->set = set;
		ts->set_cap = cap;
	}
	for (i = h & (ts->set_cap - 1); ts->set[i] != 0; i = (i + 1) & (ts->set_cap - 1))
		if (ts->set[i] == h)
			return 0;
	ts->set[i] = h;
	ts->set_n++;
	return 1;
}

/* Count the directories above the last component of the n-byte name at p
 * (a NUL ends it) that tar would create. */
static void
count_dirs(struct tarstream *ts, const unsigned char *p, size_t n)
{
	const unsigned char *nul = memchr(p, '\0', n), *end;
	uint64_t h = 0;

	if (nul != NULL)
		n = (size_t)(nul - p);
	while (n > 0 && p[n - 1] == '/')	/* "d/" names d itself */
		n--;
	end = p + n;
	while (p < end) {
		const unsigned char *slash = memchr(p, '/', (size_t)(end - p));
		size_t len;

		if (slash == NULL)
			break;	/* the last component: the member, not above it */
		len = (size_t)(slash - p);
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			h = siphash(ts, h, p, len);
			ts->dirs += set_add(ts, h);
		}
		p = slash + 1;
	}
}

/* The name of a member's header: a POSIX ustar prefix, then the name. */
static void
header_dirs(struct tarstream *ts, const unsigned char *b)
{
	unsigned char full[PREFIX_LEN + 1 + NAME_LEN];
	size_t plen, nlen;

	if (memcmp(b + MAGIC_OFF, "ustar\0", 6) != 0 || b[PREFIX_OFF] == '\0') {
		count_dirs(ts, b, NAME_LEN);
		return;
	}
	plen = strnlen((const char *)b + PREFIX_OFF, PREFIX_LEN);
	nlen = strnlen((const char *)b, NAME_LEN);
	memcpy(full, b + PREFIX_OFF, plen);
	full[plen] = '/';
	memcpy(full + plen + 1, b, nlen);
	count_dirs(ts, full, plen + 1 + nlen);
}

/* pax records "LEN KEY=VALUE\n" of a header of type type: the paths
 * (a global one names every member), and, when judged, any sparse key
 * (and a size, which the walk cannot follow). */
static void
pax_records(struct tarstream *ts, char type, const unsigned char *p, size_t n, int judged)
{
	while (n > 0) {
		size_t len = 0, i = 0, k;
		const unsigned char *eq;

		/* As tar reads them: blanks before the length, and one or more
		 * after it. */
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (i < n && p[i] >= '0' && p[i] <= '9' && len <= n)
			len = len * 10 + (p[i++] - '0');
		if (i >= n || (p[i] != ' ' && p[i] != '\t') || len <= i + 1 || len > n)
			return;	/* malformed: tar refuses it, and so we do */
		for (k = i; k < len && (p[k] == ' ' || p[k] == '\t'); k++)
			;
		i = k - 1;
		eq = memchr(p + i + 1, '=', len - i - 1);
		if (eq != NULL) {
			size_t klen = (size_t)(eq - (p + i + 1)), vlen = len - (size_t)(eq + 1 - p) - 1;

			if (klen == 4 && memcmp(p + i + 1, "path", 4) == 0) {
				/* tar's name ends at a NUL */
				size_t vn = strnlen((const char *)eq + 1, vlen);

				count_dirs(ts, eq + 1, vlen);
				if (vn == 0 || eq[vn] == '/')
					ts->slash |= type == 'g' ? SLASH_GLOBAL : SLASH_NEXT;
			}
			else if (judged && klen >= 11 && memcmp(p + i + 1, "GNU.sparse.", 11) == 0)
				ts->sparse = 1;
			else if (judged && klen == 4 && memcmp(p + i + 1, "size", 4) == 0)
				ts->lost = 1;
		}
		p += len;
		n -= len;
	}
}

/* The data of extension header x is complete. */
static void
ext_done(struct tarstream *ts, struct tarstream_ext *x)
{
	if (x->type == 'L') {
		size_t n = strnlen((const char *)x->data, x->len);

		count_dirs(ts, x->data, x->len);
		if (n == 0 || x->data[n - 1] == '/')
			ts->slash |= SLASH_NEXT;
	} else
		pax_records(ts, x->type, x->data, x->len, x->judged);
	x->left = 0;
	x->len = 0;
}

/* A block of the data of every extension header being read. 1 when there
 * was one. */
static int
ext_data(struct tarstream *ts, const unsigned char *b)
{
	int reading = 0;

	for (int i = 0; i < TARSTREAM_EXTS; i++) {
		struct tarstream_ext *x = &ts->ext[i];
		size_t k = x->left < TARSTREAM_BLOCK ? (size_t)x->left : TARSTREAM_BLOCK;

		if (x->left == 0)
			continue;
		reading = 1;
		memcpy(x->data + x->len, b, k);
		x->len += k;
		x->left -= (long long)k;
		if (x->left == 0)
			ext_done(ts, x);
	}
	return reading;
}

/* A header tar could take; judged when tar reads it as one (or the walk
 * is lost), walked when that is where the walk stands. */
static void
header(struct tarstream *ts, const unsigned char *b, int judged, int walked)
{
	unsigned char type = b[TYPE_OFF];
	struct tarstream_ext *x = NULL;
	long long size;

	if (walked)
		follow(ts, b, type);
	/* pax extended ('x', 'g', Solaris 'X') and GNU long-name ('L', 'K')
	 * headers describe the next member; they make none themselves. */
	if (type == '\0' || strchr("xgXLK", type) == NULL) {
		ts->members++;
		if (type == 'S' && judged)
			ts->sparse = 1;
		header_dirs(ts, b);
		return;
	}
	if (type == 'K')
		return;	/* a link's target creates nothing */
	if ((size = size_field(b + SIZE_OFF)) > TARSTREAM_EXT_MAX) {
		if (judged)
			ts->overlong = 1;
		return;
	}
	if (size == 0)
		return;
	/* A free slot: each read ends within TARSTREAM_EXTS - 1 blocks. */
	for (int i = 0; x == NULL && i < TARSTREAM_EXTS; i++)
		if (ts->ext[i].left == 0)
			x = &ts->ext[i];
	if (x == NULL) {
		ts->overlong = 1;	/* cannot happen; refuse if it does */
		return;
	}
	if (x->data == NULL)
		x->data = xcalloc(1, TARSTREAM_EXT_MAX);
	x->type = (char)type;
	x->judged = judged;
	x->left = size;
	x->len = 0;
}

/* One whole block. */
static void
block(struct tarstream *ts, const unsigned char *b)
{
	size_t i;
	/* Is this where tar reads its next header? */
	int at = !ts->lost && !ts->walk_end && ts->skip == 0, tar;
	/* Extension data first; whether it also reads as a header is asked
	 * all the same below: every block that could be one counts. */
	int reading = ext_data(ts, b);

	if (ts->skip > 0)
		ts->skip--;
	for (i = 0; i < TARSTREAM_BLOCK && b[i] == 0; i++)
		;
	if (i == TARSTREAM_BLOCK) {
		if (!reading && ++ts->zeros >= 2)
			ts->ended = 1;
		/* Zeros in a file's data are data; where a header goes, two
		 * in a row end the archive for tar. */
		if (at && ++ts->walk_zeros >= 2)
			ts->walk_end = 1;
		return;
	}
	ts->zeros = 0;
	if (at)
		ts->walk_zeros = 0;
	/* A block tar does not take where it wants a header makes it try the
	 * next block (and fail the archive): the walk stays where it is. */
	if (candidate(b, &tar))
		header(ts, b, tar && (at || ts->lost), at && tar);
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
