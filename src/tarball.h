/* Agent tarballs: checked member by member before tar(1) may unpack them. */
#ifndef TARBALL_H
#define TARBALL_H

#include <stddef.h>

#include "spawn.h"

#define TARBALL_MEMBERS_MAX 100000

/* Is name a safe member path: relative, no ".." component, not empty? */
int tarball_path_ok(const char *name);
/* Does a symlink at member path, pointing to target, stay inside the tree? */
int tarball_link_ok(const char *path, const char *target);
/* Check one line of "tar -tv --quoting-style=c --numeric-owner" output.
 * NULL when the member is acceptable, else why not (in buf). Pure. */
const char *tarball_check_line(const char *line, char *buf, size_t len);
/* Start tar listing a tarball whose bytes are then given to
 * tarball_list_feed as they arrive, so the listing is done when the
 * download is. tarball_list_check must follow. */
void tarball_list_start(struct spawn *sp, int timeout);
/* The next bytes of the tarball, for the listing (a fetch_file tee). */
int tarball_list_feed(void *sp, const void *p, size_t n);
/* End of the bytes: wait for the listing and check every member of it.
 * 0, or -1 (logged under agent, naming the tarball as file). */
int tarball_list_check(const char *agent, const char *file, struct spawn *sp);
/* Unpack path into dir (which exists) with tar. 0, or -1 (logged). */
int tarball_unpack(const char *agent, const char *path, const char *dir, int timeout);

#endif
