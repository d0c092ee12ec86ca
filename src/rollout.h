/* Spreading a fleet over time and over servers, the same way on every pass
 * of one host and differently from host to host, with nothing to agree on
 * but the host's name: a new release's slot within rollout_spread, and the
 * order in which a host tries its ops-meta servers. Pure. */
#ifndef ROLLOUT_H
#define ROLLOUT_H

#include <stddef.h>

/* Seconds after a release was first seen desired at which hostname starts
 * version of agent name: in [0, spread), uniform over a fleet's hosts, the
 * same for one host, agent and version on every pass; 0 when spread <= 0. */
long long rollout_offset(const char *hostname, const char *name, const char *version, long long spread);
/* The order in which hostname tries n servers: order[0..n-1] is a rotation
 * of 0..n-1 starting at a place that depends on hostname only, so that a
 * fleet's first choices are spread evenly over the servers. */
void rollout_order(const char *hostname, size_t n, size_t *order);

#endif
