/* Two children joined by us, as in "a | b", with the bytes between them
 * counted and capped: we write a's stdin, read a's stdout into a bounded
 * buffer and write it to b's stdin, all from one poll loop over
 * non-blocking pipe ends, so that no full pipe can deadlock the three of us.
 * Used for gzip -dc | tar -x: the count is the size of the tar stream, and
 * the cap cuts off a gzip bomb while it is being unpacked; the tar headers
 * passing are counted too (tarstream.h), and a cap on members and the
 * directories their names imply cuts off an inode bomb; a sparse member is
 * refused; a watch may stop the flow (a file system at its reserve). */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <stddef.h>

#include "spawn.h"
#include "tarstream.h"

#define PIPELINE_BUF (64u << 10)
#define PIPELINE_PIPE (1 << 20)	/* bytes of each pipe, if the kernel allows */
#define PIPELINE_SAID 160	/* bytes of a's complaint kept */

struct pipeline {
	struct spawn a, b;	/* argv, env, timeout set by the caller; stdin and
				 * stdout pipes are ours (b's stdout may be a capture) */
	long long max;		/* bytes a may pass to b before the cut-off */
	long long members_max;	/* tar members and directories a may pass to b;
				 * 0: not counted */
	/* called as bytes pass, with the bytes and the tar entries passed so
	 * far: -1 stops the flow (both killed, watched set). May be NULL. */
	int (*watch)(void *arg, long long passed, long long entries);
	void *watch_arg;
	int a_warns;		/* an exit status of a that is only a warning
				 * (gzip's 2), not a failure; 0: none */
	/* out */
	long long passed;	/* bytes a passed to b */
	int capped;		/* a wrote more than max: both were killed */
	int crowded;		/* a wrote more than members_max members and
				 * directories: both killed */
	int sparse;		/* a wrote a sparse member: both killed */
	int overlong;		/* a wrote an extension header too large to read */
	int watched;		/* the watch stopped it: both killed */
	int broken;		/* a or b stopped reading early */
	int late;		/* the deadline (a's timeout) passed: both were killed */
	int no_room;		/* b said the file system had no room (its judge's
				 * word, tarball.c: kept once the captures go) */
	pid_t foreign;		/* a process outside the pipeline ran as the
				 * sandbox's id meanwhile (-1: unknown which) */
	char a_said[PIPELINE_SAID];	/* the first line a wrote on stderr, raw
				 * (escape it to show it); "" if none */
	/* inside */
	int finished, result;	/* pipeline_finish ran, and what it said */
	pid_t ours[2];		/* a's and b's pids, once started */
	int a_err;		/* a's stderr: an anonymous file (memfd), or -1 */
	struct tarstream tar;	/* the members passed so far */
	char buf[PIPELINE_BUF];
	size_t off, len;
	long long deadline;
};

/* Start a and b. 0, or -1 when either cannot run (pipeline_finish says). */
int pipeline_start(struct pipeline *pl);
/* Write n bytes to a's stdin, passing its output on to b meanwhile (a
 * fetch_file tee). 0, or -1 once the pipeline is broken, capped or late. */
int pipeline_feed(void *pl, const void *p, size_t n);
/* Kill both children now (they are reaped by pipeline_finish). */
void pipeline_kill(struct pipeline *pl);
/* End of input: pass on the rest, close b's stdin, reap both. 0 when both
 * exited 0 and the caps held; else -1, the reasons in pl->a, pl->b, capped,
 * crowded.
 * Called again, it says the same. */
int pipeline_finish(struct pipeline *pl);
/* Did a exit with its warning status (a_warns), which counts as success? */
int pipeline_a_warned(const struct pipeline *pl);
/* Release the children's captures and a's stderr. */
void pipeline_free(struct pipeline *pl);

#endif
