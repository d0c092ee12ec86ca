#include "digest.h"

#include <ctype.h>
#include <string.h>

static int
nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
digest_parse(const char *text, size_t textlen, unsigned char *out, size_t n)
{
	size_t i;

	/* The file name is not checked: md5sum writes whatever path it was
	 * given, and the digest itself is what protects us. */
	if (textlen < 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = nibble((unsigned char)text[2 * i]), lo = nibble((unsigned char)text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	if (textlen > 2 * n && !isspace((unsigned char)text[2 * n]))
		return -1;
	return 0;
}

void
digest_hex(const unsigned char *d, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = '\0';
}
