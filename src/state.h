/* ops-updater.state.json: what the last pass did, per agent, and which
 * failed versions are held back. Written atomically at the end of every
 * pass (also a failed one), and before each trial of a new version;
 * read at the start of the next pass, by `status` and by `check`. A
 * corrupt or missing file is a warning only. Here: its entries in
 * memory and the rules on them; stateread.h reads the file,
 * statewrite.h writes it. */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>

#include "fetchwait.h"

/* The verdict of a pass on one desired agent: written once, by the pass,
 * with its cause in the entry's error; state, status, check, the metrics
 * and the heartbeat all render it as it is, none decides it again. */
enum state_result {
	STATE_OK,		/* changed as asked */
	STATE_NOTHING,		/* already as asked */
	STATE_FAILED,		/* tried and failed, not held (not the release's
				 * fault, or no retry_failed) */
	STATE_HELD,		/* a failed version held back: by this pass's
				 * failure, or an earlier one's */
	STATE_REFUSED,		/* the entry or the agent's files were refused */
	STATE_WAITING,		/* a new version waits for its slot (rollout_spread) */
	STATE_BUSY,		/* a new version skipped: its file server answered
				 * 5xx or 429 lately */
	STATE_CUT,		/* cut by the pass deadline (pass_timeout): no
				 * verdict on the version */
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
	/* The evidence against it (evidence.h): what the server published
	 * when it failed. The hold ends as soon as the server's differs. */
	char *held_md5;		/* its .md5, .sha256 and .sig: "sha256:<hex>", */
	char *held_sha256;	/* "absent" or "" (not seen) */
	char *held_sig;
	char *held_validators;	/* its tarball's ETag, Last-Modified, length */
	char *held_caps;	/* for a release refused for its size: the caps
				 * then in force (evidence.h); "" = none */
	char *held_received;	/* for a digest mismatch: the digest of the bytes
				 * received ("md5:<hex>"); a download that brings
				 * them again is the same release. "" = none */
	/* A version that failed a digest or signature check once (bytes hurt
	 * on the way, a publish under way): tried once more before it holds. */
	char *mismatch_version;	/* "" = none */
	char *mismatch_tarball;	/* the tarball prefix it was asked with */
	/* The trial: written (durably) before the old version is stopped,
	 * cleared by the pass that finishes the switch. A pass that finds
	 * one was killed, or the host went down, during it (recover.h). */
	char *trial_version;	/* the version being tried; "" = no trial */
	char *trial_from;	/* what .version named then; "" = nothing */
	char *trial_tarball;	/* the tarball prefix it was asked with */
	long long trial_started;	/* Unix time the trial began */
	int trial_failed;	/* the trial failed, counted and held: a pass that
				 * finds it only finishes the rollback */
	int trial_starting;	/* the old version is down, the start of the
				 * new one begun: from here a trial cut short
				 * may be the new version's doing */
	int trial_cut;		/* the pass deadline (pass_timeout) left it: cut
				 * by us, no verdict on the version */
	/* A version whose trial failed, kept on disk for its logs (never
	 * named by .version; pruned by keep_versions like any old one). Its
	 * directory is evidence, not an install: tried again, the version is
	 * downloaded again, the directory moved aside first. "" = none. */
	char *kept_failed;
	int kept_superseded;	/* a later version ran well since kept_failed
				 * failed: status no longer names it (the rule
				 * above stands) */
	/* Trials cut short by a kill or a crash of the host, in a row, of
	 * one version: the third holds it (a release that takes the host
	 * down); fewer are tried again at once. */
	char *interrupted_version;	/* "" = none */
	int interrupted;
	int resumed;		/* this pass committed its trial, resumed (not written) */
	/* An agent found not running (not stopped on the server's word) and
	 * started again: a crash, maybe a crash loop. */
	int restarts;		/* in a row: passes that had to start it; 0 once one
				 * finds it running */
	long long restarts_total;	/* ever, for the metrics' counter */
	int restarted_now;	/* this pass started it again (not written) */
	int failed_now;		/* this pass found its trial interrupted (not
				 * written): its result stays failed */
	int counted;		/* this pass counted its failure already (not written) */
	int trial_kept;		/* the pass deadline came during its trial (not
				 * written): the trial stays for the next pass */
	/* Probation (probation.h): the version committed last, and the
	 * deaths counted against it since, kept until its window passes. */
	char *probation_version;	/* "" = none */
	char *probation_from;	/* what .version named before it; "" = nothing */
	long long probation_at;	/* Unix time of its commit */
	int probation_deaths;	/* passes that found it dead in its window */
	long long probation_failures;	/* versions rolled back after their probation,
					 * ever, for the metrics' counter */
	int rolled_back;	/* this pass rolled it back after its probation
				 * (not written): done says so */
	/* A current version whose directory was gone (removed by hand?),
	 * installed and started again over it while processes of the old
	 * copy may still run: check warns for STATE_GONE_WARN seconds. */
	char *gone_version;	/* "" = none */
	long long gone_at;	/* Unix time it was found gone */
	/* The rollout: when this host first saw the version desired, and the
	 * slot (rollout_spread) at which it starts it. */
	char *seen_version;	/* "" = none yet */
	long long seen_at;	/* Unix time of the first pass that saw it desired */
	long long slot_at;	/* Unix time of its slot; 0 = no spread */
	/* A tarball server that answers 5xx (without Retry-After): the
	 * version is skipped for passes that double per failure. */
	char *busy_version;	/* "" = none */
	int busy_fails;		/* 5xx answers in a row */
	int busy_skip;		/* passes still to skip */
	long long busy_since;	/* Unix time of the last 5xx */
};

/* An ops-meta server of the config, and when it last failed. */
struct server_state {
	char *url;
	long long failed_at;	/* Unix time; 0 = never lately */
	long long until;	/* tried after the others until then (Unix time):
				 * as its Retry-After asked; 0 = not said (a
				 * fixed time, heartbeat.h) */
};

/* The heartbeats of the last passes: a server down or answering nonsense
 * is a failure of its own, told by status, check and the metrics. */
struct hb_state {
	char *error;		/* why the last one failed, as logged; "" = it worked */
	int fails;		/* passes in a row whose heartbeat failed */
	long long fail_since;	/* Unix time the first of them failed; 0 */
	long long ok_at;	/* Unix time the last one worked; 0 = not known */
	int counted;		/* this pass counted its failure already (not written) */
};

struct pass_state {
	long long started;	/* Unix time the pass began */
	long long duration_ms;
	int exit_code;
	struct agent_state *agents;
	size_t n;
	struct hb_state heartbeat;
	char *metrics_error;	/* why the pass could not write metrics_file, as
				 * logged; "" = written, or none asked for */
	long long log_lost;	/* lines the pass could not write to its log */
	char *log_error;	/* why (strerror); "" = none lost */
	char *boot_id;		/* the kernel's boot id under the pass that wrote
				 * the file: another one now means the host went
				 * down since (probation.h); "" = not known */
	char *cut;		/* "cut by pass_timeout (N s)" when the pass
				 * deadline stopped it; "" = not */
	char *server;		/* the server that answered the heartbeat; NULL: none */
	struct server_state *servers;	/* servers that failed lately */
	size_t nservers;
	struct fetch_backoff *waits;	/* origins that asked us to wait */
	size_t nwaits;
};

#define STATE_FILE "ops-updater.state.json"
#define STATE_FORMAT 1		/* "format" of the file; bump on incompatible change */
#define STATE_MAX (8 << 20)	/* bytes of state file read at most; the rest is salvaged */
/* What a file is cut to on write is well within what a read takes, so a
 * file this program wrote is never refused: 2000 entries and 2 MiB
 * written against 10000 and 8 MiB read; an error cut to 1024 bytes and
 * what the server asked to 320 written, any string to 4096 read. */
#define STATE_AGENTS_MAX 10000	/* entries read; those after are lost */
#define STATE_AGENTS_WRITE 2000	/* entries written at most */
#define STATE_WRITE_MAX (2 << 20)	/* bytes written at most */
#define STATE_STR_MAX 4096	/* longest string field kept; longer ones are cut */
#define STATE_TEXT_MAX 1024	/* longest error written */
#define STATE_WORD_MAX 320	/* longest version, cmd or done written */
#define STATE_INDENT_SLACK 256	/* bytes of indentation one entry may take */
#define STATE_HEADER_SLACK 4096	/* bytes of the rest of the file */
#define STATE_HOLD_MAX 86400	/* the longest hold, seconds */
/* How long check warns of a version reinstalled over its removed
 * directory: stray processes do not go away by themselves, and a day
 * gives every shift a look at it; after that it would only be noise. */
#define STATE_GONE_WARN 86400

/* <workdir>/ops-updater.state.json, allocated. */
char *state_path(const char *workdir);
/* The name of r as the state file and status spell it ("ok", ...). */
const char *state_result_name(enum state_result r);
/* The names of enum state_result, as the file spells them ("ok", ...). */
extern const char *const state_results[STATE_CUT + 1];
/* Is r as the server asks (ok, nothing, waiting for its slot)? */
int state_result_asked(enum state_result r);
/* a's verdict as the server's heartbeat carries it in an agent's error:
 * "held: <cause>"; NULL when as asked. Allocated. */
char *state_verdict_text(const struct agent_state *a);
/* The entry for name, or NULL. */
struct agent_state *state_find(const struct pass_state *st, const char *name);
/* The entry for name, added (empty strings, zeros) when missing. */
struct agent_state *state_get(struct pass_state *st, const char *name);
/* Fill every string field of a with "" where it is NULL. */
void state_blank_agent(struct agent_state *a);
/* Release the fields of a and zero it. */
void state_free_agent(struct agent_state *a);
/* Make dst a deep copy of src's fields (dst's old strings freed). */
void state_copy_agent(struct agent_state *dst, const struct agent_state *src);
/* Start this pass's next from the last pass's prev: its heartbeat record,
 * metrics error, servers and waits, kept as they are by a pass (or a
 * checkpoint) that does not get that far. */
void state_begin(struct pass_state *next, const struct pass_state *prev);
/* Make st's list of servers that failed lately a copy of list. */
void state_set_servers(struct pass_state *st, const struct server_state *list, size_t n);
/* Record this pass's heartbeat in st at time now: error "" when it
 * worked, else why it failed (as the log said it: escaped already). */
void state_heartbeat(struct pass_state *st, const char *error, long long now);
/* Add to next a copy of every entry of prev that next lacks: what this
 * pass did not touch (no heartbeat, an agent the server left out this
 * once) keeps its hold, failure count and error. With workdir (the server
 * answered, and the agents it wants are in next), only agents with a
 * trial or a directory in workdir are carried: one the server no longer
 * lists and that has nothing on disk leaves the state. */
void state_carry(struct pass_state *next, const struct pass_state *prev, const char *workdir);
/* Set *field to a copy of s, freeing the old value. */
void state_set(char **field, const char *s);
/* Set *field to s from outside (the server): escaped as by str_vis, so
 * the file stays ASCII, and cut to what the reader keeps. A valid
 * version or URL is stored as it is. */
void state_set_outside(char **field, const char *s);
/* Set *field to s as the file keeps it: printable ASCII (else escaped as
 * by str_vis), cut to max bytes; a clean string is kept as it is. */
void state_set_clean(char **field, const char *s, size_t max);
/* Is stored (a field set by state_set_outside) what s from outside would
 * be stored as? The one comparison of a stored prefix or version with the
 * server's: like with like, whatever bytes s holds. */
int state_same_outside(const char *stored, const char *s);
/* Seconds a version is held after its nth failure in a row (n >= 1):
 * base doubled per further failure, at most STATE_HOLD_MAX. Pure. */
long long state_backoff(int base, int n);
/* When the hold of a may end: its retry_after, but never more than the
 * backoff of its failures (base seconds doubled) from now, so that a
 * clock set back (a failure recorded in the future) or a shorter
 * retry_failed cannot make it last longer. Pure. */
long long state_hold_until(const struct agent_state *a, int base, long long now);
/* t as ISO-8601 UTC ("2026-11-24T18:09:01Z") in buf; returns buf. */
char *state_time(long long t, char *buf, size_t len);
/* Release everything st holds and empty it. */
void state_free(struct pass_state *st);

#endif
