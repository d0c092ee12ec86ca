/* One decision in words: the plan's line for an agent, and the lines of
 * log and state for a hold, a slot to wait for, a busy server and what
 * the pass did. Outside strings are escaped (str_vis) where printed. */
#ifndef SAY_H
#define SAY_H

#include <stdio.h>

#include "decide.h"

/* One line of the plan for d (entry idx of the response) to out. */
void say(FILE *out, const struct config *cfg, const struct desired *d, const struct decision *p, size_t idx);
/* What the pass did for d, in words, for the state; to be freed. */
char *say_done(const struct desired *d, const struct decision *p);
/* The line of log and plan for ACT_HOLD (a: the entry that holds it). */
void say_hold(const struct config *cfg, const struct desired *d, const struct agent_state *a, char *buf,
    size_t len);
/* The line of log and plan for ACT_BUSY (a: the entry that counts it). */
void say_busy(const struct config *cfg, const struct desired *d, const struct agent_state *a, char *buf,
    size_t len);
/* The line of log, plan and state for ACT_WAIT; returns buf. */
const char *say_slot(const struct desired *d, const struct decision *p, char *buf, size_t len);

#endif
