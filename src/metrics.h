/* The last pass for Prometheus: a textfile for node_exporter's textfile
 * collector, in the text exposition format, written at the end of a pass. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#include "scan.h"
#include "state.h"
#include "util.h"

/* Source bytes of one label value kept; a longer one is cut and ends in
 * "...". Values come from the server and from agents' control scripts. */
#define METRICS_LABEL_MAX 200

/* Append src to b as the inside of a quoted label value: '\\', '"' and
 * newline escaped as the format says, other control bytes and bytes that
 * are not valid UTF-8 as '?', at most METRICS_LABEL_MAX bytes of src. */
void metrics_escape(struct buf *b, const char *src);
/* The metrics of the last pass st (NULL: none), of the n agents really
 * on this machine (scan_workdir's list) and of the updater's own version,
 * as a fresh NUL-terminated string. Pure: no I/O. */
char *metrics_format(const struct pass_state *st, const struct real_agent *scanned, size_t n);
/* metrics_format's text to path, atomically (temp file, fsync, rename;
 * mode 0644 so node_exporter may read it). 0, or -1 with the cause logged. */
int metrics_write(const char *path, const struct pass_state *st, const struct real_agent *scanned,
    size_t n);

#endif
