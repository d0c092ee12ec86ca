#include "tarball.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spawn.h"
#include "util.h"

#define LISTING_MAX (32u << 20)

int
tarball_path_ok(const char *name)
{
	const char *p = name;

	if (*name == '\0' || *name == '/')
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += n;
		p += *p == '/';
	}
	return 1;
}

int
tarball_link_ok(const char *path, const char *target)
{
	const char *p;
	long depth = 0;

	if (*target == '\0' || *target == '/')
		return 0;
	/* Depth of the directory holding the link, "." and empty parts aside. */
	for (p = path; *p;) {
		size_t n = strcspn(p, "/");

		if (p[n] == '/' && !(n == 0 || (n == 1 && p[0] == '.')))
			depth++;
		p += n;
		p += *p == '/';
	}
	/* Walk the target lexically; it must never climb above the root. GNU
	 * tar defers creating links with ".." until the end of extraction, so
	 * nothing is written through one while unpacking. */
	for (p = target; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (!(n == 0 || (n == 1 && p[0] == '.')))
			depth++;
		p += n;
		p += *p == '/';
	}
	return 1;
}

/* Decode a C-quoted string at *pp ("..." with \ escapes) into out. */
static int
unquote(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p++ != '"')
		return -1;
	for (; *p != '"'; p++) {
		char c = *p;

		if (c == '\0' || n + 1 >= cap)
			return -1;
		if (c == '\\') {
			c = *++p;
			if (c >= '0' && c <= '7') {
				int v = 0, i;

				for (i = 0; i < 3 && *p >= '0' && *p <= '7'; i++)
					v = v * 8 + (*p++ - '0');
				p--;
				c = (char)v;
			} else if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == '\0')
				return -1;
			/* \\ and \" stand for themselves; other escapes
			 * (\a \b \f \r \v) are control bytes: refused below. */
			else if (strchr("\\\"", c) == NULL)
				c = '\001';
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*pp = p + 1;
	return 0;
}

const char *
tarball_check_line(const char *line, char *buf, size_t len)
{
	char name[4096], target[4096];
	const char *p = line;
	char type = line[0];
	int i;

	/* Fields before the name: mode, uid/gid, size, date, time. */
	for (i = 0; i < 5; i++) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	if (unquote(&p, name, sizeof(name)) == -1) {
		snprintf(buf, len, "unreadable listing line '%.80s'", line);
		return buf;
	}
	if (strchr("-dlh", type) == NULL || type == '\0') {
		snprintf(buf, len, "member '%.200s' is of type '%c': only files, directories and links are allowed",
		    name, type);
		return buf;
	}
	if (!tarball_path_ok(name)) {
		snprintf(buf, len, "member '%.200s' has an absolute path or a '..'", name);
		return buf;
	}
	if (type == 'l' || type == 'h') {
		const char *sep = type == 'l' ? " -> " : " link to ";

		if (strncmp(p, sep, strlen(sep)) != 0) {
			snprintf(buf, len, "unreadable link in listing line '%.80s'", line);
			return buf;
		}
		p += strlen(sep);
		if (unquote(&p, target, sizeof(target)) == -1) {
			snprintf(buf, len, "unreadable link in listing line '%.80s'", line);
			return buf;
		}
		if (type == 'l' ? !tarball_link_ok(name, target) : !tarball_path_ok(target)) {
			snprintf(buf, len, "link '%.200s' points out of the tarball, to '%.200s'", name, target);
			return buf;
		}
	}
	if (*p != '\0') {
		snprintf(buf, len, "unreadable listing line '%.80s'", line);
		return buf;
	}
	return NULL;
}

/* A stable listing format, whatever the operator's locale. */
#define TAR_ENV "LC_ALL=C"

/* -P only here, when listing: tar must show names as they are in the
 * archive instead of silently stripping "/" and "../" from them. */
static char *const list_argv[] = { "tar", "-P", "--numeric-owner", "--quoting-style=c", "-tvzf", "-", NULL };

void
tarball_list_start(struct spawn *sp, int timeout)
{
	memset(sp, 0, sizeof(*sp));
	sp->argv = list_argv;
	sp->timeout = timeout;
	sp->env = TAR_ENV;
	sp->capture = 1;
	sp->out_max = LISTING_MAX;
	sp->die_with_us = 1;
	sp->feed = 1;
	spawn_start(sp);	/* a failure shows in tarball_list_check */
}

int
tarball_list_feed(void *sp, const void *p, size_t n)
{
	return spawn_feed(sp, p, n);
}

int
tarball_list_check(const char *agent, const char *file, struct spawn *sp)
{
	char why[512], *line, *save = NULL;
	size_t members = 0;
	int ret = -1;

	if (spawn_finish(sp) == -1) {
		log_errx(agent, "refusing %s: tar cannot list it: %s", file, spawn_strerror(sp, why, sizeof(why)));
		goto out;
	}
	if (sp->truncated) {
		log_errx(agent, "refusing %s: listing larger than %u bytes", file, LISTING_MAX);
		goto out;
	}
	for (line = strtok_r(sp->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *bad = tarball_check_line(line, why, sizeof(why));

		if (bad != NULL) {
			log_errx(agent, "refusing %s: %s", file, bad);
			goto out;
		}
		if (++members > TARBALL_MEMBERS_MAX) {
			log_errx(agent, "refusing %s: more than %d members", file, TARBALL_MEMBERS_MAX);
			goto out;
		}
	}
	if (members == 0) {
		log_errx(agent, "refusing %s: no members", file);
		goto out;
	}
	ret = 0;
out:
	spawn_free(sp);
	return ret;
}

int
tarball_unpack(const char *agent, const char *path, const char *dir, int timeout)
{
	/* Never -P; files owned by us, not by whatever uid the archive says. */
	char *argv[] = { "tar", "--no-same-owner", "--no-same-permissions", "--no-overwrite-dir",
		"-xzf", (char *)path, "-C", (char *)dir, NULL };
	struct spawn sp = { .argv = argv, .timeout = timeout, .env = TAR_ENV, .die_with_us = 1 };
	char why[128];
	int ret;

	if ((ret = spawn_run(&sp)) == -1)
		log_errx(agent, "unpack %s into %s: tar %s", path, dir, spawn_strerror(&sp, why, sizeof(why)));
	spawn_free(&sp);
	return ret;
}
