/* ops-updater.state.json: what the last pass did, per agent, and which
 * failed versions are held back. Written atomically at the end of every
 * pass (also a failed one), and before each trial of a new version;
 * read at the start of the next pass, by `status` and by `check`. A
 * corrupt or missing file is a warning only. */
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
	int held_fails;		/* failures of the held version: the backoff doubles */
	/* The trial: written (durably) before the old version is stopped,
	 * cleared by the pass that finishes the switch. A pass that finds
	 * one was killed, or the host went down, during it (reconcile.h). */
	char *trial_version;	/* the version being tried; "" = no trial */
	char *trial_from;	/* what .version named then; "" = nothing */
	char *trial_tarball;	/* the tarball prefix it was asked with */
	long long trial_started;	/* Unix time the trial began */
	int failed_now;		/* this pass found its trial interrupted (not
				 * written): its result stays failed */
};

struct pass_state {
	long long started;	/* Unix time the pass began */
	long long duration_ms;
	int exit_code;
	struct agent_state *agents;
	size_t n;
};

#define STATE_FILE "ops-updater.state.json"
#define STATE_MAX (4 << 20)	/* bytes of state file read at most */
#define STATE_HOLD_MAX 86400	/* the longest hold, seconds */

/* <workdir>/ops-updater.state.json, allocated. */
char *state_path(const char *workdir);
/* The name of r as the state file and status spell it ("ok", ...). */
const char *state_result_name(enum state_result r);
/* The state as JSON text (allocated). Pure. */
char *state_to_json(const struct pass_state *st);
/* Parse JSON text into st (emptied first). 0, or -1 with the reason in err
 * and st empty. Pure: outside bytes, so every field is checked. */
int state_parse(const char *text, size_t len, struct pass_state *st, char *err, size_t errlen);
/* Read the state file of workdir into st. 0; 1 when there is none; -1 when
 * it cannot be read or parsed, with the reason in err and errno set (EINVAL
 * when it does not parse). st is always valid (empty unless 0). Opens with
 * O_NOFOLLOW. Logs nothing. */
int state_read(const char *workdir, struct pass_state *st, char *err, size_t errlen);
/* Write st as the state file of workdir, atomically. 0, or -1 (logged). */
int state_write(const char *workdir, const struct pass_state *st);
/* The entry for name, or NULL. */
struct agent_state *state_find(const struct pass_state *st, const char *name);
/* The entry for name, added (empty strings, zeros) when missing. */
struct agent_state *state_get(struct pass_state *st, const char *name);
/* Make dst a deep copy of src's fields (dst's old strings freed). */
void state_copy_agent(struct agent_state *dst, const struct agent_state *src);
/* Add to next a copy of every entry of prev that next lacks: what this
 * pass did not touch (no heartbeat, an agent the server left out this
 * once) keeps its hold, failure count and error. */
void state_carry(struct pass_state *next, const struct pass_state *prev);
/* Set *field to a copy of s, freeing the old value. */
void state_set(char **field, const char *s);
/* Set *field to s from outside (the server): escaped as by str_vis, so
 * the file stays ASCII, and cut to what the reader keeps. A valid
 * version or URL is stored as it is. */
void state_set_outside(char **field, const char *s);
/* Is stored (a field set by state_set_outside) what s from outside would
 * be stored as? The one comparison of a stored prefix or version with the
 * server's: like with like, whatever bytes s holds. */
int state_same_outside(const char *stored, const char *s);
/* Seconds a version is held after its nth failure in a row (n >= 1):
 * base doubled per further failure, at most STATE_HOLD_MAX. Pure. */
long long state_backoff(int base, int n);
/* t as ISO-8601 UTC ("2026-11-24T18:09:01Z") in buf; returns buf. */
char *state_time(long long t, char *buf, size_t len);
/* Release everything st holds and empty it. */
void state_free(struct pass_state *st);

#endif
