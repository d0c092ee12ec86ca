/* Small helpers shared by every module: memory, strings, names, time. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Report out of memory and exit with EX_OSERR. */
__attribute__((noreturn)) void die_oom(void);
/* calloc that exits on failure. */
void *xcalloc(size_t n, size_t size);
/* realloc that exits on failure. */
void *xrealloc(void *p, size_t n);
/* strdup that exits on failure; NULL stays NULL. */
char *xstrdup(const char *s);
/* asprintf that exits on failure. */
char *xasprintf(const char *fmt, ...) ATTR_PRINTF(1, 2);

/* Is s a safe single path component: [A-Za-z0-9._-]+, not starting with '.',
 * at most 128 bytes? Used for agent names and versions. */
int name_is_valid(const char *s);
/* Copy src into dst (cap bytes, cap > 0) for a log line or a terminal, in
 * the manner of strnvis(3): control bytes, DEL, bytes >= 0x80 and '\\'
 * become \xNN or \\, so an outside string can neither forge a line nor
 * drive a terminal. Truncated to fit, never in the middle of an escape;
 * always NUL-terminated. Returns the length written. */
size_t str_vis(char *dst, size_t cap, const char *src);
/* Strip leading and trailing white space in place; returns s. */
char *str_trim(char *s);
/* Milliseconds of CLOCK_MONOTONIC. */
long long now_ms(void);
/* Sleep for ms milliseconds, resuming after signals. */
void sleep_ms(long long ms);

/* A growable byte buffer, always NUL-terminated when len > 0. */
struct buf {
	char *data;
	size_t len, cap;
};
/* Append n bytes to b. */
void buf_add(struct buf *b, const void *p, size_t n);
/* Release b's memory and reset it. */
void buf_free(struct buf *b);

#endif
