#include "rollout.h"

#include <string.h>

/* FNV-1a over the strings, each with its NUL (so "ab","c" differs from
 * "a","bc"), then splitmix64's finalizer: FNV alone leaves the low bits of
 * near-identical names (web-0001, web-0002, ...) too alike for a modulo. */
static unsigned long long
hash(const char *const *s, size_t n)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)s[i];

		do {
			h ^= *p;
			h *= 0x100000001b3ULL;
		} while (*p++ != '\0');
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

long long
rollout_offset(const char *hostname, const char *name, const char *version, long long spread)
{
	const char *s[] = { hostname, name, version };

	if (spread <= 0)
		return 0;
	return (long long)(hash(s, 3) % (unsigned long long)spread);
}

void
rollout_order(const char *hostname, size_t n, size_t *order)
{
	const char *s[] = { "server-order", hostname };
	size_t first, i;

	if (n == 0)
		return;
	first = (size_t)(hash(s, 2) % n);
	for (i = 0; i < n; i++)
		order[i] = (first + i) % n;
}
