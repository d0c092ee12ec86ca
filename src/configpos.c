#include "configpos.h"

#include <stdio.h>
#include <string.h>

/* Longest key or section name looked for (the longest key is shorter). */
#define KEY_MAX 64

/* The end of the JSON string that begins at the quote s: the byte after
 * its closing quote, or the NUL that cut it short. */
static const char *
string_end(const char *s)
{
	for (s++; *s != '\0' && *s != '"'; s++)
		if (*s == '\\' && s[1] != '\0')
			s++;
	return *s == '"' ? s + 1 : s;
}

/* Is the string at s (quotes included, up to end) exactly "name"? */
static int
is_name(const char *s, const char *end, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(end - s) == n + 2 && strncmp(s + 1, name, n) == 0;
}

/* Where key is written in text, in the object of top-level key section
 * (NULL: at the top level): its opening quote, the last time it is, or
 * NULL. A scan of the tokens that matter: strings are skipped whole, so a
 * value that looks like a key is none; depth counts brackets outside them. */
static const char *
key_at(const char *text, const char *section, const char *key)
{
	const char *p = text, *end, *q, *found = NULL;
	int depth = 0, in_section = 0;

	while (*p != '\0') {
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		if (*p != '"') {
			p++;
			continue;
		}
		end = string_end(p);
		for (q = end; *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'; q++)
			;
		if (*q == ':' && depth == 1) {
			in_section = section != NULL && is_name(p, end, section);
			if (section == NULL && is_name(p, end, key))
				found = p;
		} else if (*q == ':' && depth == 2 && in_section && is_name(p, end, key))
			found = p;
		p = end;
	}
	return found;
}

/* The key the message in err begins with ("tls.ca_file: ...", "auth.user
 * and ..."), split at its '.' into section and key. 0, or -1 when err
 * does not begin with a word that could be one. */
static int
message_key(const char *err, char *section, char *key)
{
	size_t n = strcspn(err, ": "), dot;

	if (n == 0 || n >= KEY_MAX || err[n] == '\0')
		return -1;
	dot = strcspn(err, ".");
	section[0] = '\0';
	if (dot < n) {
		snprintf(section, KEY_MAX, "%.*s", (int)dot, err);
		err += dot + 1;
		n -= dot + 1;
	}
	snprintf(key, KEY_MAX, "%.*s", (int)n, err);
	return 0;
}

void
config_position(const char *text, const char *at, char *err, size_t errlen)
{
	char section[KEY_MAX], key[KEY_MAX], msg[1024];
	const char *p;
	long line = 1, col = 1;

	if (at == NULL && message_key(err, section, key) == 0)
		at = key_at(text, *section ? section : NULL, key);
	if (at == NULL)
		return;
	/* Columns count characters: UTF-8 continuation bytes add none. */
	for (p = text; p < at && *p != '\0'; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80)
			col++;
	}
	snprintf(msg, sizeof(msg), "%s", err);
	snprintf(err, errlen, "line %ld, column %ld: %s", line, col, msg);
}
