/* Driving one installed version of an agent through its control script,
 * run with the version directory as working directory (the agent contract). */
#ifndef AGENT_H
#define AGENT_H

#include <stddef.h>

/* Truncate a version's control-<version>.log before a start or stop once
 * it is larger than max bytes (0: never). */
void agent_set_output_max(long long max);
/* Remove agentdir's control-<version>.log (its version is removed), by
 * descriptor, never through a link; logged under name when it fails. */
void agent_output_remove(const char *name, const char *agentdir, const char *version);
/* Remove every control-<version>.log of the agent directory open as fd
 * (named agentdir in messages) whose version directory is gone, never
 * through a link. 0, or -1 when one could not be removed (logged). */
int agent_output_sweep(int fd, const char *agentdir);
/* Run "./control status" in dir; its output, trimmed, goes to buf. 0 when the
 * script ran and exited 0; otherwise -1 and buf says what went wrong. */
int agent_status(const char *dir, int timeout, char *buf, size_t len);
/* Does the agent in dir run: 1 when status says started, 0 when it says
 * another word or its script fails, -1 when it gives no answer (timed out,
 * killed). */
int agent_running(const char *dir, int timeout);
/* Is <workdir>/<name>/<version>/ an installed version (executable control)? */
int agent_present(const char *workdir, const char *name, const char *version);

/* How a start, a stop or a health gate came out. */
enum agent_result {
	AGENT_OK,
	AGENT_FAILED,	/* a definite no: control start/stop failed, or status said
			 * another word (or its script failed) at the end */
	AGENT_UNKNOWN,	/* no answer: control, or the last status asked, timed
			 * out or was killed by SIGKILL: the host's trouble as
			 * likely as the release's */
};

struct agent_outcome {
	enum agent_result result;
	int ran;		/* control start/stop was run (status did not already say so) */
	long long out_from;	/* where that run's output begins in control-<version>.log; -1 */
	char error[2048];	/* the failure as logged (escaped): the command, how it
				 * ended, the last line of its output */
};

/* Make sure the agent in dir runs: nothing when status says started, else
 * "./control start" (stdout and stderr appended to the agent directory's
 * control-<version>.log). A start that exits non-zero fails at once; else
 * status is polled until started or wait seconds pass. 0, or -1 with the
 * reason logged under name. o (may be NULL) gets the outcome. */
int agent_start(const char *name, const char *dir, int timeout, int wait, struct agent_outcome *o);
/* After agent_start's o: poll status for wait seconds; the agent is
 * healthy when no answer in that time is another than "started" and the
 * last is "started" (one that times out is asked again). 0, or -1 with the
 * reason logged under name and in o. */
int agent_health(const char *name, const char *dir, int timeout, int wait, struct agent_outcome *o);
/* The same as agent_start for stopping: until status says "stoped" (the
 * protocol's spelling). */
int agent_stop(const char *name, const char *dir, int timeout, int wait, struct agent_outcome *o);

#endif
