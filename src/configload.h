/* Loading cfg.json for root to believe: the file, and the password file,
 * public key, TLS files and children's PATH it names, each read or used
 * only once it and every directory above it pass trust_path (trust.h),
 * and read from the descriptor that was checked. */
#ifndef CONFIGLOAD_H
#define CONFIGLOAD_H

#include "config.h"

/* Read and parse the file at path, which with every directory above it
 * must pass trust_path (trust.h): "refused: ..." in err otherwise. Nothing
 * else is read: enough for check, which needs no secrets. */
int config_read(struct config *cfg, const char *path, char *err, size_t errlen);
/* config_read, then fill in the hostname and read the password file and
 * public key it names; those and the TLS files must pass trust_path too
 * (the TLS paths are replaced by their resolved ones). */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

#endif
