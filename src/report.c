#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "stateread.h"
#include "statewrite.h"
#include "util.h"

#define NAMES_MAX 5		/* agents named in the check line; then "+N more" */
#define NAME_VIS 48		/* bytes of one escaped name in the check line */
#define ERROR_VIS 400		/* bytes of one escaped error in status */
#define CHECK_ERROR_VIS 240	/* bytes of one escaped error in the check line */
/* Heartbeats failed in a row that make check CRITICAL; fewer are a
 * WARNING. One or two are a server restart or a network blip; three
 * passes (15 min with the usual cron line) without the server's word
 * means no release, fix or stop reaches the host. */
#define CHECK_HB_CRITICAL 3

/* s, escaped already, for the text of the plugin's line: there a '|'
 * begins the performance data (the Nagios plugin convention), so one in
 * an outside string (an agent's output, a server's message) would cut the
 * text short and forge values. It is shown as \x7c, as str_vis shows
 * other bytes. Allocated. */
static char *
plugin_text(const char *s)
{
	struct buf b = { 0 };
	size_t n;

	buf_add(&b, "", 0);
	for (; *s != '\0'; s += n) {
		n = strcspn(s, "|");
		buf_add(&b, s, n);
		if (s[n] == '|') {
			buf_add(&b, "\\x7c", 4);
			n++;
		}
	}
	return b.data;
}

static int plugin_line(int, const char *, const char *, va_list) __attribute__((format(printf, 3, 0)));

/* One plugin line, "OPS-UPDATER <word> - <msg>", msg escaped; ret. */
static int
plugin_line(int ret, const char *word, const char *fmt, va_list ap)
{
	char msg[512], vis[512], *text;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	str_vis(vis, sizeof(vis), msg);
	text = plugin_text(vis);
	printf("OPS-UPDATER %s - %s\n", word, text);
	free(text);
	return ret;
}

int
report_unknown(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = plugin_line(CHECK_UNKNOWN, "UNKNOWN", fmt, ap);
	va_end(ap);
	return ret;
}

int
report_critical(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = plugin_line(CHECK_CRITICAL, "CRITICAL", fmt, ap);
	va_end(ap);
	return ret;
}

/* Seconds since the pass of st finished; never negative (clock steps). */
static long long
age_of(const struct pass_state *st, long long now)
{
	long long age = now - (st->started + st->duration_ms / 1000);

	return age < 0 ? 0 : age;
}

/* What cut the pass of st ("cut by pass_timeout (N s)"), or "": printable
 * ASCII, as state_read keeps every string. */
static const char *
cut_of(const struct pass_state *st)
{
	return st->cut != NULL ? st->cut : "";
}

/* Append to b the names of the agents whose result is r: "failed: a, b"
 * with at most NAMES_MAX names, each escaped and bounded; the first failed
 * or held one with its error ("failed: a (why), b"): a monitoring line is
 * often all an operator reads. The count. */
static size_t
add_names(struct buf *b, const struct pass_state *st, enum state_result r)
{
	char vis[NAME_VIS], more[48];
	size_t i, n = 0;

	for (i = 0; i < st->n; i++) {
		if (st->agents[i].result != r)
			continue;
		if (n < NAMES_MAX) {
			if (n > 0)
				buf_add(b, ", ", 2);
			else {
				if (b->len > 0)
					buf_add(b, "; ", 2);
				buf_add(b, state_result_name(r), strlen(state_result_name(r)));
				buf_add(b, ": ", 2);
			}
			str_vis(vis, sizeof(vis), st->agents[i].name);
			buf_add(b, vis, strlen(vis));
			if (n == 0 && r != STATE_OK && r != STATE_NOTHING && st->agents[i].error[0] != '\0') {
				char err[CHECK_ERROR_VIS];
				size_t len = str_vis(err, sizeof(err), st->agents[i].error);

				buf_add(b, " (", 2);
				buf_add(b, err, len);
				buf_add(b, ")", 1);
			}
		}
		n++;
	}
	if (n > NAMES_MAX) {
		snprintf(more, sizeof(more), " and %zu more", n - NAMES_MAX);
		buf_add(b, more, strlen(more));
	}
	return n;
}

/* Append to b the agents the last pass had to start again (restarts in a
 * row), like add_names: "restarted: a (3 in a row)". The count. */
static size_t
add_restarted(struct buf *b, const struct pass_state *st)
{
	char vis[NAME_VIS], more[64];
	size_t i, n = 0;

	for (i = 0; i < st->n; i++) {
		if (st->agents[i].restarts <= 0)
			continue;
		if (n < NAMES_MAX) {
			const char *sep = n > 0 ? ", " : b->len > 0 ? "; restarted: " : "restarted: ";

			buf_add(b, sep, strlen(sep));
			str_vis(vis, sizeof(vis), st->agents[i].name);
			buf_add(b, vis, strlen(vis));
			snprintf(more, sizeof(more), " (%d in a row)", st->agents[i].restarts);
			buf_add(b, more, strlen(more));
		}
		n++;
	}
	if (n > NAMES_MAX) {
		snprintf(more, sizeof(more), " and %zu more", n - NAMES_MAX);
		buf_add(b, more, strlen(more));
	}
	return n;
}

/* Is a's version reinstalled over its removed directory still to be
 * warned of at now (STATE_GONE_WARN)? */
static int
gone_lately(const struct agent_state *a, long long now)
{
	return a->gone_version[0] != '\0' && now - a->gone_at < STATE_GONE_WARN;
}

/* Append to b the agents reinstalled over their removed directory lately,
 * like add_names: "reinstalled: a (1.0.0's directory was gone; ...)". */
static void
add_gone(struct buf *b, const struct pass_state *st, long long now)
{
	char vis[NAME_VIS], what[NAME_VIS + 80];
	const char *sep;
	size_t i, n = 0;

	for (i = 0; i < st->n; i++) {
		if (!gone_lately(&st->agents[i], now))
			continue;
		if (n++ >= NAMES_MAX)
			break;
		sep = n > 1 ? ", " : b->len > 0 ? "; reinstalled: " : "reinstalled: ";
		buf_add(b, sep, strlen(sep));
		str_vis(vis, sizeof(vis), st->agents[i].name);
		buf_add(b, vis, strlen(vis));
		str_vis(vis, sizeof(vis), st->agents[i].gone_version);
		snprintf(what, sizeof(what), " (%s's directory was gone: its old processes may still run)", vis);
		buf_add(b, what, strlen(what));
	}
}

/* How many agents of st had result r. */
static size_t
count(const struct pass_state *st, enum state_result r)
{
	size_t i, n = 0;

	for (i = 0; i < st->n; i++)
		n += st->agents[i].result == r;
	return n;
}

/* " (N waiting for their slot)", for the OK line: a rollout under way is
 * as asked, and worth seeing. */
static const char *
waiting_text(size_t n)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), " (%zu waiting for %s slot)", n, n == 1 ? "its" : "their");
	return buf;
}

/* The last heartbeats, after prefix: "" when the last one worked (or
 * none is recorded), else "failed N passes in a row[ since T0] (last
 * success T): why", why escaped and cut to vislen bytes. */
static void
heartbeat_text(char *line, size_t len, const char *prefix, const struct hb_state *h, size_t vislen,
    int since)
{
	char why[ERROR_VIS], at[32] = "not recorded", from[48] = "";

	line[0] = '\0';
	if (h->fails <= 0)
		return;
	str_vis(why, vislen < sizeof(why) ? vislen : sizeof(why), h->error ? h->error : "");
	if (h->ok_at > 0)
		state_time(h->ok_at, at, sizeof(at));
	if (since) {
		strcpy(from, " since ");
		state_time(h->fail_since, from + 7, sizeof(from) - 7);
	}
	snprintf(line, len, "%sfailed %d pass%s in a row%s (last success %s): %s", prefix, h->fails,
	    h->fails == 1 ? "" : "es", from, at, why);
}

/* "pass in progress: pid N since T (N s)" after prefix into line when a
 * pass holds the lock of workdir, else "". */
static void
in_progress(char *line, size_t len, const char *prefix, const char *workdir, long long now)
{
	char *path = xasprintf("%s/ops-updater.pid", workdir), at[32];
	long long since;
	long pid;

	line[0] = '\0';
	if (lock_holder(path, &pid, &since))
		snprintf(line, len, "%spass in progress: pid %ld since %s (%lld s)", prefix, pid,
		    state_time(since, at, sizeof(at)), now - since < 0 ? 0 : now - since);
	free(path);
}

/* Append to b, each after sep when b holds something, "<word>parked
 * until T by O (HTTP 503 with Retry-After)" for every origin of the
 * heartbeat (a server's) that a Retry-After parks at time now: no
 * heartbeat goes there before T. The count. */
static size_t
add_parked(struct buf *b, const struct pass_state *st, long long now, const char *sep, const char *word)
{
	char o[4 * FETCH_ORIGIN_MAX], at[32], line[sizeof(o) + 128];
	size_t i, n = 0;

	for (i = 0; i < st->nwaits; i++) {
		const struct fetch_backoff *w = &st->waits[i];

		if (!w->heartbeat || w->until <= now)
			continue;
		str_vis(o, sizeof(o), w->origin);
		snprintf(line, sizeof(line), "%s%sparked until %s by %s (HTTP %ld with Retry-After)",
		    b->len > 0 ? sep : "", word, state_time(w->until, at, sizeof(at)), o, w->status);
		buf_add(b, line, strlen(line));
		n++;
	}
	return n;
}

int
report_check(const char *workdir, long long max_age)
{
	struct pass_state st;
	struct buf why = { 0 };
	char err[512], vis[512], hb[512], running[160], *text;
	long long now = (long long)time(NULL), age, ahead;
	size_t failed, held, asked, waiting, parked;
	int r, ret;

	/* A pass under way is no fault: said, whatever the status. */
	in_progress(running, sizeof(running), "; ", workdir, now);
	r = state_read(workdir, &st, err, sizeof(err));
	if (r == 1 || (r == -1 && errno != EACCES && errno != EPERM)) {
		str_vis(vis, sizeof(vis), err);
		text = plugin_text(vis);
		/* U: no value, as the plugin guidelines spell it. */
		printf("OPS-UPDATER CRITICAL - no pass recorded: %s%s | age=U;;%lld\n", text, running, max_age);
		free(text);
		return CHECK_CRITICAL;
	}
	if (r == -1)
		return report_unknown("%s", err);
	age = age_of(&st, now);
	ahead = st.started + st.duration_ms / 1000 - now;
	/* The heartbeat first: with the server gone, nothing else changes. */
	heartbeat_text(hb, sizeof(hb), "heartbeat ", &st.heartbeat, CHECK_ERROR_VIS, 0);
	buf_add(&why, hb, strlen(hb));
	/* Parked by a server's Retry-After: no word from it until then. */
	parked = add_parked(&why, &st, now, "; ", "heartbeat ");
	failed = add_names(&why, &st, STATE_FAILED);
	held = add_names(&why, &st, STATE_HELD);
	/* An entry the server sent that was refused (a reserved or invalid
	 * name, files others could change): named too, with why. */
	failed += add_names(&why, &st, STATE_REFUSED);
	/* Not as asked either, and no hold: the server's fault, or ours. */
	failed += add_names(&why, &st, STATE_BUSY);
	failed += add_names(&why, &st, STATE_CUT);
	waiting = count(&st, STATE_WAITING);
	/* Found down and started again: it runs now, but it had crashed. */
	add_restarted(&why, &st);
	/* Put back over a removed directory: two copies may run now. */
	add_gone(&why, &st, now);
	asked = st.n - failed - held;
	/* The deadline stopped the pass: said once, by the agent it cut or
	 * else here (it cut the scan, or left agents for the next pass). */
	if (cut_of(&st)[0] != '\0' && count(&st, STATE_CUT) == 0) {
		if (why.len > 0)
			buf_add(&why, "; ", 2);
		buf_add(&why, "pass ", 5);
		buf_add(&why, cut_of(&st), strlen(cut_of(&st)));
	}
	/* What the pass could not write is a warning, even when it exits 0. */
	if (st.metrics_error != NULL && st.metrics_error[0] != '\0') {
		str_vis(vis, CHECK_ERROR_VIS, st.metrics_error);
		if (why.len > 0)
			buf_add(&why, "; ", 2);
		buf_add(&why, vis, strlen(vis));
	}
	if (st.log_lost > 0) {
		snprintf(vis, sizeof(vis), "log: %lld line%s lost (%s)", st.log_lost, st.log_lost == 1 ? "" : "s",
		    st.log_error ? st.log_error : "");
		if (why.len > 0)
			buf_add(&why, "; ", 2);
		buf_add(&why, vis, strlen(vis));
	}
	if (r == 2) {	/* salvaged: say what was lost until a pass writes it whole */
		str_vis(vis, sizeof(vis), err);
		if (why.len > 0)
			buf_add(&why, "; ", 2);
		buf_add(&why, "state file damaged: ", 20);
		buf_add(&why, vis, strlen(vis));
	}
	text = plugin_text(why.len ? why.data : "");
	if (ahead > 0) {
		/* The clock went back since: how long ago it ended is unknown,
		 * and a pass recorded in the future must not look fresh. */
		ret = CHECK_CRITICAL;
		printf("OPS-UPDATER CRITICAL - the last pass is recorded %lld s in the future: the clock was set "
		    "back, and no pass has ended since%s%s", ahead, why.len ? "; " : "", text);
	} else if (age > max_age) {
		ret = CHECK_CRITICAL;
		printf("OPS-UPDATER CRITICAL - no pass finished in %lld s: the last one %lld s ago%s%s",
		    max_age, age, why.len ? "; " : "", text);
	} else if (why.len > 0) {
		ret = st.heartbeat.fails >= CHECK_HB_CRITICAL ? CHECK_CRITICAL : CHECK_WARNING;
		printf("OPS-UPDATER %s - %s; last pass %lld s ago", ret == CHECK_CRITICAL ? "CRITICAL" : "WARNING",
		    text, age);
	} else if (st.exit_code != 0) {
		ret = CHECK_WARNING;
		printf("OPS-UPDATER WARNING - last pass %lld s ago exited %d (see the log)", age, st.exit_code);
	} else {
		ret = CHECK_OK;
		printf("OPS-UPDATER OK - %zu agent%s as asked%s, last pass %lld s ago", asked,
		    asked == 1 ? "" : "s", waiting ? waiting_text(waiting) : "", age);
	}
	/* Perfdata: 'label'=value[UOM];[warn];[crit];[min];[max]. */
	printf("%s | age=%llds;;%lld;0 failed=%zu;;;0 held=%zu;;;0 agents=%zu;;;0 duration=%.3fs;;;0 exit=%d"
	    " heartbeat_fails=%d;0;%d;0 heartbeat_parked=%zu;0;;0\n", running,
	    age, max_age, failed, held, st.n, (double)st.duration_ms / 1e3, st.exit_code,
	    st.heartbeat.fails, CHECK_HB_CRITICAL - 1, parked);
	free(text);
	buf_free(&why);
	state_free(&st);
	return ret;
}

/* s of the state, bounded, into buf: state_read made it printable ASCII,
 * outside bytes escaped once as in the log; escaping it again would show
 * "\\x1b" for what the log shows as "\x1b". */
static const char *
shown(char *buf, size_t len, const char *s)
{
	snprintf(buf, len, "%s", s);
	return buf;
}

/* One agent's line after the status table; then, for a version kept
 * after its failure, where its files and logs are, and a note for a
 * version put back over its removed directory lately. */
static void
status_line(FILE *out, const char *workdir, const struct agent_state *a, long long now)
{
	char name[NAME_VIS], what[ERROR_VIS], at[32], next[32], since[32], ver[NAME_VIS];

	shown(name, sizeof(name), a->name);
	switch (a->result) {
	case STATE_CUT:
		shown(what, sizeof(what), a->error);
		fprintf(out, "%-24s %-8s %s\n", name, state_result_name(a->result), what);
		break;
	case STATE_FAILED:
	case STATE_REFUSED:
	case STATE_BUSY:
		shown(what, sizeof(what), a->error);
		fprintf(out, "%-24s %-8s %s (%d in a row since %s)\n", name, state_result_name(a->result),
		    what, a->fails, state_time(a->fail_since, since, sizeof(since)));
		break;
	case STATE_HELD:
		shown(what, sizeof(what), a->error);
		shown(ver, sizeof(ver), a->held_version);
		fprintf(out, "%-24s %-8s %s: failed at %s (%s); next try after %s\n", name, "held", ver,
		    state_time(a->failed_at, at, sizeof(at)), what,
		    state_time(a->retry_after, next, sizeof(next)));
		break;
	case STATE_WAITING:
		shown(ver, sizeof(ver), a->seen_version);
		fprintf(out, "%-24s %-8s %s waits for its slot at %s (rollout_spread)\n", name, "waiting", ver,
		    state_time(a->slot_at, at, sizeof(at)));
		break;
	default:
		shown(what, sizeof(what), a->done);
		fprintf(out, "%-24s %-8s %s\n", name, state_result_name(a->result), what);
	}
	/* Until a later version ran well: then it is no news any more. */
	if (a->kept_failed[0] != '\0' && !a->kept_superseded && name_is_valid(a->name) &&
	    name_is_valid(a->kept_failed)) {
		char *dir = xasprintf("%s/%s/%s", workdir, a->name, a->kept_failed);
		struct stat st;

		if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			fprintf(out, "%-24s %-8s %s failed; kept for its logs: %s (output in %s/%s/control-%s.log)\n",
			    "", "", a->kept_failed, dir, workdir, a->name, a->kept_failed);
		free(dir);
	}
	if (gone_lately(a, now) && name_is_valid(a->gone_version))
		fprintf(out, "%-24s %-8s note: %s had no directory at %s (removed by hand?) and was installed and "
		    "started over it: processes of its old copy may still run\n", "", "", a->gone_version,
		    state_time(a->gone_at, at, sizeof(at)));
}

void
report_status_text(FILE *out, const char *workdir, const struct pass_state *st, long long now)
{
	char when[32], hb[ERROR_VIS + 128];
	struct buf parked = { 0 };
	size_t i;

	in_progress(hb, sizeof(hb), "\n", workdir, now);
	if (hb[0] != '\0')
		fprintf(out, "%s\n", hb);
	if (st == NULL)
		return;
	/* When it ended, as the age (and check's --max-age) counts from. */
	fprintf(out, "\nlast pass: ended %s, %lld s ago, took %.1f s, exit %d%s%s\n",
	    state_time(st->started + st->duration_ms / 1000, when, sizeof(when)), age_of(st, now),
	    (double)st->duration_ms / 1e3, st->exit_code, cut_of(st)[0] ? ", " : "", cut_of(st));
	heartbeat_text(hb, sizeof(hb), "heartbeat: ", &st->heartbeat, ERROR_VIS, 1);
	if (hb[0] != '\0')
		fprintf(out, "%s\n", hb);
	else if (st->heartbeat.ok_at > 0)
		fprintf(out, "heartbeat: ok at %s, %lld s ago\n", state_time(st->heartbeat.ok_at, when, sizeof(when)),
		    now - st->heartbeat.ok_at < 0 ? 0 : now - st->heartbeat.ok_at);
	if (add_parked(&parked, st, now, "\n", "heartbeat: ") > 0)
		fprintf(out, "%.*s\n", (int)parked.len, parked.data);
	buf_free(&parked);
	if (st->metrics_error != NULL && st->metrics_error[0] != '\0') {
		str_vis(hb, sizeof(hb), st->metrics_error);
		fprintf(out, "metrics: %s\n", hb);
	}
	if (st->log_lost > 0)
		fprintf(out, "log: %lld line%s of the last pass could not be written (%s)\n", st->log_lost,
		    st->log_lost == 1 ? "" : "s", st->log_error ? st->log_error : "");
	for (i = 0; i < st->n; i++)
		status_line(out, workdir, &st->agents[i], now);
}

void
report_record_only(FILE *out, const struct pass_state *st, long long now)
{
	char when[32];

	fprintf(out, "agents: not asked: as uid %ld, status runs no control script (they are root's to run)\n",
	    (long)geteuid());
	if (st == NULL)
		fprintf(out, "record: none: no pass recorded yet\n");
	else
		fprintf(out, "record: of the last pass, which ended %s, %lld s ago\n",
		    state_time(st->started + st->duration_ms / 1000, when, sizeof(when)), age_of(st, now));
}

static void
add_str(cJSON *o, const char *key, const char *v)
{
	if (!cJSON_AddStringToObject(o, key, v))
		die_oom();
}

/* The origins of the heartbeat that a Retry-After parks at time now, for
 * status --json: [{"origin", "until", "status"}]. */
static cJSON *
parked_json(const struct pass_state *st, long long now)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	char vis[4 * FETCH_ORIGIN_MAX];
	size_t i;

	if (arr == NULL)
		die_oom();
	for (i = 0; st != NULL && i < st->nwaits; i++) {
		const struct fetch_backoff *w = &st->waits[i];

		if (!w->heartbeat || w->until <= now)
			continue;
		str_vis(vis, sizeof(vis), w->origin);
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "origin", vis) ||
		    !cJSON_AddNumberToObject(o, "until", (double)w->until) ||
		    !cJSON_AddNumberToObject(o, "status", (double)w->status))
			die_oom();
	}
	return arr;
}

char *
report_status_json(const char *protection, const struct real_agent *list, size_t n, int scanned,
    const struct pass_state *st, long long now)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o, *last;
	const struct agent_state *a;
	char *text, vis[4 * sizeof(list->status)];
	size_t i;

	if (root == NULL || !cJSON_AddStringToObject(root, "protection", protection) ||
	    (arr = scanned ? cJSON_AddArrayToObject(root, "agents") : cJSON_AddNullToObject(root, "agents")) == NULL)
		die_oom();
	for (i = 0; i < n; i++) {
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o))
			die_oom();
		add_str(o, "name", list[i].name);
		add_str(o, "version", list[i].version);
		/* What a script printed: escaped as the log shows it. */
		str_vis(vis, sizeof(vis), list[i].status);
		add_str(o, "status", vis);
		if (st != NULL && (a = state_find(st, list[i].name)) != NULL) {
			add_str(o, "result", state_result_name(a->result));
			add_str(o, "error", a->error);
		}
	}
	if (st == NULL)
		last = cJSON_CreateNull();
	else {
		/* The state file's own shape, plus how long ago. */
		text = state_to_json(st, NULL);
		last = cJSON_Parse(text);
		free(text);
		if (last != NULL && !cJSON_AddNumberToObject(last, "age_s", (double)age_of(st, now)))
			die_oom();
	}
	if (last == NULL || !cJSON_AddItemToObject(root, "last_pass", last) ||
	    !cJSON_AddItemToObject(root, "heartbeat_parked", parked_json(st, now)) ||
	    !cJSON_AddStringToObject(root, "version", OPS_UPDATER_VERSION) ||
	    (text = cJSON_Print(root)) == NULL)
		die_oom();
	cJSON_Delete(root);
	return text;
}
