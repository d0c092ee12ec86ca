/* The pass deadline (pass_timeout): one moment by which the whole pass
 * ends, whatever hangs. Every wait of the pass is clamped to it (children,
 * transfers, the agents' start, stop and health waits, the jitter), and
 * reconcile takes no new agent past it; the pass then stops as a kill -9
 * would leave it, writes its state and exits 1. Times are CLOCK_MONOTONIC
 * milliseconds (util.h now_ms), which a clock step does not move. */
#ifndef DEADLINE_H
#define DEADLINE_H

#include <stddef.h>

/* The pass must end seconds from now; 0 for no deadline (the default). */
void deadline_set(int seconds);
/* What a pass the deadline cut records as the cause, for itself and
 * for the agent it cut: "cut by pass_timeout (N s)", into buf; returns buf. */
const char *deadline_cause(char *buf, size_t len);
/* Has the deadline passed? */
int deadline_passed(void);
/* The end of a wait, at (now_ms time), moved no later than the deadline. */
long long deadline_clamp(long long at);
/* Milliseconds a wait of ms may take, no later than the deadline (0 when
 * it has passed). */
long long deadline_left(long long ms);

#endif
