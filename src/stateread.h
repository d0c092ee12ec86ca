/* Reading the state file, which a full disk, a crash or a person may
 * have damaged: whatever can be kept is kept (an entry with a wrong
 * field keeps the others; of a file cut short, every whole entry before
 * the cut), every field checked as outside bytes, never through a link. */
#ifndef STATEREAD_H
#define STATEREAD_H

#include "state.h"

/* Parse JSON text into st (emptied first), keeping what can be kept: an
 * entry with a wrong field keeps its other fields, one without a valid
 * name is lost, and of a text that does not parse (cut short, damaged)
 * every whole entry before the damage is kept. 0 when all was well; 1
 * when something was lost (what, in err); -1 when nothing could be kept
 * (why in err; st empty). Pure: outside bytes, so every field is checked. */
int state_parse(const char *text, size_t len, struct pass_state *st, char *err, size_t errlen);
/* Read the state file of workdir into st. 0; 1 when there is none; 2 when
 * it was damaged or too long and st holds what could be salvaged (what was
 * lost in err); -1 when it cannot be read or nothing in it could be kept,
 * with the reason in err and errno set (EINVAL when it does not parse). st
 * is always valid (empty unless 0 or 2). Opens with O_NOFOLLOW. Logs
 * nothing. */
int state_read(const char *workdir, struct pass_state *st, char *err, size_t errlen);

#endif
