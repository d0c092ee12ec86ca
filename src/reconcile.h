/* Making disk and processes match what the server asked for. */
#ifndef RECONCILE_H
#define RECONCILE_H

#include "config.h"
#include "heartbeat.h"

/* Act on every desired agent the allow-list admits. One agent's failure
 * never stops the others. 0 when every one is as asked, else -1. */
int reconcile(const struct config *cfg, const struct hb_response *r);

#endif
