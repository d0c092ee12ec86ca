/* ops-updater.state.json: what the last pass did, per agent, and which
 * failed versions are held back. Written atomically at the end of every
 * pass (also a failed one); read at the start of the next pass, by
 * `status` and by `check`. A corrupt or missing file is a warning only. */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>

/* The result of the last pass for one desired agent. */
enum state_result {
	STATE_OK,		/* changed as asked */
	STATE_NOTHING,		/* already as asked */
	STATE_FAILED,		/* tried and failed */
	STATE_HELD,		/* a failed version, not tried again yet */
	STATE_REFUSED,		/* the entry or the agent's files were refused */
};

struct agent_state {
	char *name;
	char *version;		/* desired version ("" when none) */
	char *cmd;		/* desired cmd */
	char *done;		/* what the pass did: "nothing", "start", "stop",
				 * "install 1.0.1, replacing 1.0.0", ... */
	enum state_result result;
	char *error;		/* last error, as logged (what/where/why); "" = none */
	long long fail_since;	/* Unix time the current run of failures began; 0 */
	int fails;		/* failures in a row */
	/* The hold: a version that failed to install or to start. */
	char *held_version;	/* "" = no hold */
	char *held_tarball;	/* the tarball prefix it was asked with */
	long long failed_at;	/* Unix time of its last failure */
	long long retry_after;	/* Unix time it may be tried again */
};

struct pass_state {
	long long started;	/* Unix time the pass began */
	long long duration_ms;
	int exit_code;
	struct agent_state *agents;
	size_t n;
};

#endif
