/* Agent tarballs: unpacked once by gzip -dc | tar -x into a private
 * staging directory, the tar stream capped; then the tree tar made is
 * checked for real, through directory descriptors, before anything in it
 * is used: what tar was told is no guide to what it did. */
#ifndef TARBALL_H
#define TARBALL_H

#include <stddef.h>

#include "pipeline.h"
#include "sandbox.h"

#define TARBALL_ENTRIES_MAX 100000
#define TARBALL_LINK_HOPS 40
#define TARBALL_DEPTH_MAX 128

/* One entry of an unpacked tree; path relative to its root, as "bin/x". */
struct tarball_entry {
	char *path;
	char type;		/* 'f' regular file, 'd' directory, 'l' symlink */
	char *target;		/* a symlink's target, else NULL */
};

/* The entries of a tree, sorted by path once complete, for lookups. */
struct tarball_tree {
	struct tarball_entry *e;
	size_t n, cap;
};

/* Add an entry to t (path and target are copied). */
void tarball_tree_add(struct tarball_tree *t, const char *path, char type, const char *target);
/* Sort t for tarball_link_check; after the last add. */
void tarball_tree_sort(struct tarball_tree *t);
/* Release t. */
void tarball_tree_free(struct tarball_tree *t);
/* Resolve the symlink at path (an entry of t), pointing to target, as the
 * kernel would but inside t only: links of t are followed (chains too, at
 * most TARBALL_LINK_HOPS), an absolute target anywhere or a ".." above the
 * root refuses it; past a missing entry or a file the rest is taken
 * lexically, still never above the root. NULL when it stays inside, else
 * why not (in buf). Pure. */
const char *tarball_link_check(const struct tarball_tree *t, const char *path, const char *target,
    char *buf, size_t len);

/* Start igzip -dc (when installed, else gzip -dc) | tar -x into dir
 * (which exists, empty, and is the
 * sandbox's to write), both in sandbox sb, the tar stream cut off past
 * max_mb MiB, TARBALL_ENTRIES_MAX members and directories, a sparse
 * member, an unreadable extension header or watch (pipeline.h, may be
 * NULL), both children killed after timeout seconds. Feed it with
 * pipeline_feed, then judge it with tarball_unpack_finish. */
void tarball_unpack_start(struct pipeline *pl, const char *dir, const struct sandbox *sb, int max_mb,
    int timeout, int (*watch)(void *, long long, long long), void *watch_arg);
/* The end of the compressed bytes: wait for the unpack and judge it (the
 * cap, gzip's and tar's exit status, anything tar complained about).
 * 0, or -1 (logged under agent, naming the tarball as file). */
int tarball_unpack_finish(const char *agent, const char *file, struct pipeline *pl, int max_mb);
/* After tarball_unpack_finish failed: 1 when the bytes are not to blame
 * (cut at its deadline, gzip or tar not run, killed from outside, or tar
 * found no room on the file system: "No space left on device", a quota,
 * a short write), 0 when they are (or the watch stopped it: it says why
 * itself). */
int tarball_unpack_blameless(const struct pipeline *pl);
/* Walk the tree unpacked at dir without following any link and refuse
 * anything but regular files, directories and symlinks that stay inside
 * (tarball_link_check); setuid or setgid files; files hard-linked to
 * something outside the tree; more than max_mb MiB of file sizes or
 * TARBALL_ENTRIES_MAX entries; and a tree without a regular executable
 * control at its root. 0, or -1 (logged). */
int tarball_check_tree(const char *agent, const char *file, const char *dir, int max_mb);
/* Adopt the checked tree at dir, which the sandbox wrote, through
 * directory descriptors only (each file opened O_NOFOLLOW and checked to
 * be the one walked): every file, directory and symlink made ours (root's),
 * setuid, setgid and sticky bits and group and other write dropped, and
 * anything else refused; each file and directory fsynced, the root last,
 * so it is durable before a rename makes it visible (in batches: the
 * writeback of a batch's files is started before the first of their
 * fsyncs). 0, or -1 (logged). */
int tarball_adopt_tree(const char *agent, const char *dir);

#endif
