/* Writing the state file: the passes' record as JSON text, bounded in
 * entries and bytes (the entries that matter most kept first), every
 * string printable ASCII; written atomically (file.h). */
#ifndef STATEWRITE_H
#define STATEWRITE_H

#include "state.h"

/* The state as JSON text (allocated), bounded: at most STATE_AGENTS_WRITE
 * entries in STATE_WRITE_MAX bytes, the entries with a trial, a hold or
 * failures kept first, free text cut, every string printable ASCII; the
 * count of entries left out in *left_out (may be NULL). Pure. */
char *state_to_json(const struct pass_state *st, size_t *left_out);
/* Write st as the state file of workdir, atomically. 0, or -1 (logged). */
int state_write(const char *workdir, const struct pass_state *st);

#endif
