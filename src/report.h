/* What the last pass left (state.h), told to people (status) and to
 * monitoring (check, a Nagios-convention plugin). Local files only: no
 * lock, no network, no control script. */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include "scan.h"
#include "state.h"

/* Plugin exit codes (Nagios plugin guidelines). */
#define CHECK_OK 0
#define CHECK_WARNING 1
#define CHECK_CRITICAL 2
#define CHECK_UNKNOWN 3

/* Print the one plugin line for "something is wrong with the check itself"
 * and return CHECK_UNKNOWN. */
int report_unknown(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a config that cannot be read or parsed: no pass can run,
 * so CHECK_CRITICAL. */
int report_critical(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The check: read the state of workdir, print one line with perfdata to
 * stdout, return CHECK_*. Stale (no pass finished within max_age seconds),
 * no state, or the heartbeat failed 3 passes in a row: critical; an agent
 * failed or held, the heartbeat failed, the metrics not written, or a
 * failed pass: warning. */
int report_check(const char *workdir, long long max_age);
/* The last pass and, per agent, its result and error, after the status
 * table, and the directory of a failed version kept in workdir; nothing
 * when st is NULL (no state). */
void report_status_text(FILE *out, const char *workdir, const struct pass_state *st, long long now);
/* What status shows for a user other than root instead of the table:
 * that no control script was asked, and the age of the record (st; NULL:
 * none) that follows. */
void report_record_only(FILE *out, const struct pass_state *st, long long now);
/* The status --json document: {"protection": "...", "agents": [...],
 * "last_pass": {...}|null, "version": "<ours>"}, each scanned agent with
 * its last result and error when the state has them; "agents" null when
 * not scanned (no control script asked). Allocated text. */
char *report_status_json(const char *protection, const struct real_agent *list, size_t n, int scanned,
    const struct pass_state *st, long long now);

#endif
