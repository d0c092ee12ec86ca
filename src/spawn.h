/* Running child programs: from an argument vector only (never a shell), in a
 * session of their own, stdin from /dev/null, no inherited descriptors, an
 * environment built from scratch, and a deadline after which the child's
 * whole process group is killed. The environment is the PATH set by
 * spawn_set_path (never ours: cron's or a caller's would decide which tar
 * root runs), HOME and LANG from ours, and sp->env: nothing else leaks by
 * accident. */
#ifndef SPAWN_H
#define SPAWN_H

#include <stddef.h>

#include "sandbox.h"
#include "util.h"

/* The PATH of children until spawn_set_path says otherwise: sudo's
 * secure_path. */
#define SPAWN_PATH_DEFAULT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct spawn {
	/* in */
	char *const *argv;	/* argv[0] is searched on PATH if it has no '/' */
	const char *dir;	/* working directory, or NULL for ours */
	int timeout;		/* seconds before the process group is killed */
	const char *env;	/* one "NAME=value" added to the child's environment, or NULL */
	int die_with_us;	/* killed if the pass dies: for children whose work is
				 * useless without us (status, tar), not start/stop */
	int capture;		/* stdout into out (stderr to the log); else both to the log */
	int has_output;		/* stdout (unless capture) and stderr to output, not the
				 * log: zero keeps the log */
	int output;		/* with has_output: our descriptor, left open; -1 is /dev/null */
	size_t out_max;		/* capture at most this much; the rest is read and dropped */
	int feed;		/* stdin is a non-blocking pipe, infd, the caller writes; else /dev/null */
	int out_pipe;		/* stdout is a non-blocking pipe whose read end (outfd)
				 * the caller reads itself: a stream, not a capture */
	int err_to_out;		/* stderr goes where stdout goes (with capture: into out) */
	const struct sandbox *sandbox;	/* run it there (sandbox.h), or NULL */
	int dir_writable;	/* with sandbox: dir is the one place it may write */
	long long fsize_max;	/* with sandbox: no file it writes grows past this; 0 none */
	/* out */
	char *out;		/* captured stdout, NUL-terminated */
	size_t out_len;
	int truncated;		/* more than out_max was written */
	int status;		/* wait status, valid when ran is set */
	int ran;		/* the child was started and reaped */
	int timed_out;		/* killed at the deadline */
	int exec_errno;		/* the exec failed with this errno */
	/* between spawn_start and spawn_finish */
	int pid, infd, outfd, errfd;
	long long deadline;
	struct buf outbuf;
};

/* Run sp to completion or deadline: spawn_start, then spawn_finish. 0 when
 * it exited with status 0; -1 otherwise, with the reason in sp (see
 * spawn_strerror). Logs nothing. */
int spawn_run(struct spawn *sp);
/* Start sp; its deadline runs from now. 0, or -1 with sp->exec_errno set.
 * Either way spawn_finish must follow. */
int spawn_start(struct spawn *sp);
/* Read what the capture pipe holds now, without waiting, into the capture.
 * 0 once it is at EOF (and closed), else 1. */
int spawn_read(struct spawn *sp);
/* Kill the child's whole process group now; spawn_finish then reaps it. */
void spawn_kill(struct spawn *sp);
/* Close the child's stdin, wait for it until the deadline (then kill its
 * group), collect its output. Returns as spawn_run. */
int spawn_finish(struct spawn *sp);
/* Say how sp ended: "exited 0", "exited 3", "killed by signal 9",
 * "timed out after 30 s", "cannot run: No such file or directory". */
const char *spawn_strerror(const struct spawn *sp, char *buf, size_t len);
/* Release sp->out. */
void spawn_free(struct spawn *sp);
/* From now on, children get PATH=path and spawn_which searches path
 * (copied), not our own PATH. */
void spawn_set_path(const char *path);
/* The PATH children get. */
const char *spawn_path(void);
/* The path of executable prog: prog itself when it has a '/', else found in
 * the children's PATH (spawn_path). NULL when there is none. Free the
 * result. */
char *spawn_which(const char *prog);

#endif
