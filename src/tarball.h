/* Agent tarballs: checked member by member before tar(1) may unpack them. */
#ifndef TARBALL_H
#define TARBALL_H

#include <stddef.h>

#define TARBALL_MEMBERS_MAX 100000

/* Is name a safe member path: relative, no ".." component, not empty? */
int tarball_path_ok(const char *name);
/* Does a symlink at member path, pointing to target, stay inside the tree? */
int tarball_link_ok(const char *path, const char *target);
/* Check one line of "tar -tv --quoting-style=c --numeric-owner" output.
 * NULL when the member is acceptable, else why not (in buf). Pure. */
const char *tarball_check_line(const char *line, char *buf, size_t len);
/* List path with tar and check every member. 0, or -1 (logged). */
int tarball_check(const char *agent, const char *path, int timeout);
/* Unpack path into dir (which exists) with tar. 0, or -1 (logged). */
int tarball_unpack(const char *agent, const char *path, const char *dir, int timeout);

#endif
