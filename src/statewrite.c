#include "statewrite.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "log.h"
#include "util.h"

/* A string field, clean and cut to max bytes (state_set_clean). */
static void
add_str_max(cJSON *o, const char *key, const char *v, size_t max)
{
	char *clean = NULL;

	state_set_clean(&clean, v ? v : "", max);
	if (!cJSON_AddStringToObject(o, key, clean))
		die_oom();
	free(clean);
}

/* A string field the pass's code or the server named (a name, a held
 * version, a prefix): bounded where it came in, cut only at what the
 * reader takes. */
static void
add_str(cJSON *o, const char *key, const char *v)
{
	add_str_max(o, key, v, STATE_STR_MAX);
}

static void
add_num(cJSON *o, const char *key, long long v)
{
	if (!cJSON_AddNumberToObject(o, key, (double)v))
		die_oom();
}

/* One entry of "agents". */
static cJSON *
agent_json(const struct agent_state *a)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		die_oom();
	add_str(o, "name", a->name);
	/* What the server asked, and free text: cut shorter, so that one
	 * answer of long junk cannot blow up the file. */
	add_str_max(o, "version", a->version, STATE_WORD_MAX);
	add_str_max(o, "cmd", a->cmd, STATE_WORD_MAX);
	add_str_max(o, "done", a->done, STATE_WORD_MAX);
	add_str(o, "result", state_result_name(a->result));
	add_str_max(o, "error", a->error, STATE_TEXT_MAX);
	add_num(o, "fail_since", a->fail_since);
	add_num(o, "fails", a->fails);
	add_str(o, "held_version", a->held_version);
	add_str(o, "held_tarball", a->held_tarball);
	add_num(o, "failed_at", a->failed_at);
	add_num(o, "retry_after", a->retry_after);
	add_num(o, "held_fails", a->held_fails);
	/* Only with a hold, or a check failed once: files of older passes
	 * stay as they were. */
	if (a->held_version[0] != '\0') {
		add_str(o, "held_md5", a->held_md5);
		add_str(o, "held_sha256", a->held_sha256);
		add_str(o, "held_sig", a->held_sig);
		add_str(o, "held_validators", a->held_validators);
		if (a->held_caps[0] != '\0')
			add_str(o, "held_caps", a->held_caps);
		if (a->held_received[0] != '\0')
			add_str(o, "held_received", a->held_received);
	}
	if (a->mismatch_version[0] != '\0') {
		add_str(o, "mismatch_version", a->mismatch_version);
		add_str(o, "mismatch_tarball", a->mismatch_tarball);
	}
	/* Only while a trial runs: files of older passes stay as they were. */
	if (a->trial_version != NULL && a->trial_version[0] != '\0') {
		add_str(o, "trial_version", a->trial_version);
		add_str(o, "trial_from", a->trial_from);
		add_str(o, "trial_tarball", a->trial_tarball);
		add_num(o, "trial_started", a->trial_started);
		add_num(o, "trial_failed", a->trial_failed);
		add_num(o, "trial_starting", a->trial_starting);
		add_num(o, "trial_cut", a->trial_cut);
	}
	add_num(o, "restarts", a->restarts);
	add_num(o, "restarts_total", a->restarts_total);
	if (a->kept_failed[0] != '\0') {
		add_str(o, "kept_failed", a->kept_failed);
		if (a->kept_superseded)
			add_num(o, "kept_superseded", 1);
	}
	if (a->interrupted_version[0] != '\0') {
		add_str(o, "interrupted_version", a->interrupted_version);
		add_num(o, "interrupted", a->interrupted);
	}
	/* Only while on probation, or once one failed. */
	if (a->probation_version[0] != '\0') {
		add_str(o, "probation_version", a->probation_version);
		add_str(o, "probation_from", a->probation_from);
		add_num(o, "probation_at", a->probation_at);
		add_num(o, "probation_deaths", a->probation_deaths);
	}
	if (a->probation_failures > 0)
		add_num(o, "probation_failures", a->probation_failures);
	if (a->gone_version[0] != '\0') {
		add_str(o, "gone_version", a->gone_version);
		add_num(o, "gone_at", a->gone_at);
	}
	add_str(o, "seen_version", a->seen_version);
	add_num(o, "seen_at", a->seen_at);
	add_num(o, "slot_at", a->slot_at);
	if (a->busy_version[0] != '\0') {
		add_str(o, "busy_version", a->busy_version);
		add_num(o, "busy_fails", a->busy_fails);
		add_num(o, "busy_skip", a->busy_skip);
		add_num(o, "busy_since", a->busy_since);
	}
	return o;
}

/* What losing entry a would cost: a trial (processes to put back) most,
 * then a hold (a bad release tried again), then a count of failures or
 * of deaths on probation. */
static int
worth(const struct agent_state *a)
{
	if (a->trial_version[0] != '\0')
		return 3;
	if (a->held_version[0] != '\0')
		return 2;
	return a->fails > 0 || a->probation_deaths > 0;
}

/* Which entries of st fit in the file: at most STATE_AGENTS_WRITE, their
 * text at most STATE_WRITE_MAX bytes, the most worth first (in the order
 * of st among equals). keep[i] is set for each; the count of the others. */
static size_t
choose(const struct pass_state *st, char *keep)
{
	size_t i, kept = 0, used = 0, len;
	char *text;
	int w;

	memset(keep, 0, st->n);
	for (w = 3; w >= 0; w--)
		for (i = 0; i < st->n; i++) {
			cJSON *o;

			if (worth(&st->agents[i]) != w)
				continue;
			if ((o = agent_json(&st->agents[i])) == NULL ||
			    (text = cJSON_PrintUnformatted(o)) == NULL)
				die_oom();
			/* The file is indented: a few bytes more per field. */
			len = strlen(text) + STATE_INDENT_SLACK;
			free(text);
			cJSON_Delete(o);
			if (kept < STATE_AGENTS_WRITE && used + len <= STATE_WRITE_MAX - STATE_HEADER_SLACK) {
				keep[i] = 1;
				kept++;
				used += len;
			}
		}
	return st->n - kept;
}

/* The pass-level fields of issue 17: the server that answered, servers
 * that failed lately, origins that asked us to wait. */
static void
add_fleet(cJSON *root, const struct pass_state *st)
{
	cJSON *arr, *o;
	size_t i;

	if (st->server != NULL)
		add_str(root, "server", st->server);
	if ((arr = cJSON_AddArrayToObject(root, "servers")) == NULL)
		die_oom();
	for (i = 0; i < st->nservers; i++) {
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o))
			die_oom();
		add_str(o, "url", st->servers[i].url);
		add_num(o, "failed_at", st->servers[i].failed_at);
		if (st->servers[i].until > 0)
			add_num(o, "until", st->servers[i].until);
	}
	if ((arr = cJSON_AddArrayToObject(root, "waits")) == NULL)
		die_oom();
	for (i = 0; i < st->nwaits; i++) {
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o))
			die_oom();
		add_str(o, "origin", st->waits[i].origin);
		add_num(o, "until", st->waits[i].until);
		add_num(o, "status", st->waits[i].status);
		if (!cJSON_AddBoolToObject(o, "heartbeat", st->waits[i].heartbeat))
			die_oom();
	}
}

char *
state_to_json(const struct pass_state *st, size_t *left_out)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *text, *keep = xcalloc(st->n ? st->n : 1, 1);
	size_t i, out = choose(st, keep);

	if (root == NULL || (arr = cJSON_CreateArray()) == NULL)
		die_oom();
	add_num(root, "format", STATE_FORMAT);
	add_num(root, "started", st->started);
	add_num(root, "duration_ms", st->duration_ms);
	add_num(root, "exit_code", st->exit_code);
	add_str_max(root, "heartbeat_error", st->heartbeat.error, STATE_TEXT_MAX);
	add_num(root, "heartbeat_fails", st->heartbeat.fails);
	add_num(root, "heartbeat_fail_since", st->heartbeat.fail_since);
	add_num(root, "heartbeat_ok_at", st->heartbeat.ok_at);
	add_str_max(root, "metrics_error", st->metrics_error, STATE_TEXT_MAX);
	add_num(root, "log_lines_lost", st->log_lost);
	add_str_max(root, "log_error", st->log_error ? st->log_error : "", STATE_TEXT_MAX);
	add_str_max(root, "cut", st->cut ? st->cut : "", STATE_TEXT_MAX);
	add_str_max(root, "boot_id", st->boot_id ? st->boot_id : "", STATE_TEXT_MAX);
	if (!cJSON_AddItemToObject(root, "agents", arr))
		die_oom();
	for (i = 0; i < st->n; i++)
		if (keep[i] && !cJSON_AddItemToArray(arr, agent_json(&st->agents[i])))
			die_oom();
	add_fleet(root, st);
	if ((text = cJSON_Print(root)) == NULL)
		die_oom();
	cJSON_Delete(root);
	free(keep);
	if (left_out != NULL)
		*left_out = out;
	return text;
}

int
state_write(const char *workdir, const struct pass_state *st)
{
	size_t out;
	char *path = state_path(workdir), *text = state_to_json(st, &out);
	int ret = file_write_atomic(path, text, strlen(text), 0644);

	if (out > 0)
		log_warnx(NULL, "state: %zu of %zu agents left out of %s to keep it within %d entries and %d MiB "
		    "(those with no trial, hold or failure first)", out, st->n, path, STATE_AGENTS_WRITE,
		    STATE_WRITE_MAX >> 20);
	free(text);
	free(path);
	return ret;
}
