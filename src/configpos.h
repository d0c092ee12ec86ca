/* Where in cfg.json an error lies: the line and column of a syntax error
 * or of the key at fault, so that an operator (or puppet's validate_cmd)
 * is pointed at the spot. */
#ifndef CONFIGPOS_H
#define CONFIGPOS_H

#include <stddef.h>

/* Put "line L, column C: " before the message in err: the position of at
 * (a syntax error, a pointer into text), or when at is NULL of the key
 * the message begins with ("jitter: ...", "tls.ca_file: ...") where text
 * last writes it. err is left as it is when neither is known. Pure. */
void config_position(const char *text, const char *at, char *err, size_t errlen);

#endif
