/* cfg.json: what the operator decides. Every key has a default but server,
 * which may be "" for a host not configured yet. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

#define CONFIG_SERVERS_MAX 16

struct config {
	char *server;		/* the first of servers; "" = none: not configured */
	char **servers;		/* ops-meta base URLs, scheme included, no trailing
				 * '/'; NULL-terminated, in the config's order */
	size_t nservers;
	char *hostname;		/* as reported; the machine's when the key is empty */
	char *workdir;		/* agents live here; the config's directory by default */
	char *log;		/* log file path */
	char **agents;		/* allow-list; NULL-terminated; empty = all */
	size_t nagents;
	int jitter;		/* max seconds of random sleep before the heartbeat */
	int control_timeout;	/* seconds one control invocation may run */
	int status_wait;	/* seconds to wait for status to follow start/stop */
	int connect_timeout;	/* seconds to connect to a server */
	int heartbeat_timeout;	/* seconds for the whole heartbeat */
	int download_timeout;	/* seconds for one whole download */
	int download_stall;	/* seconds a download may go slower than 1 KiB/s */
	int download_max_mb;	/* MiB one tarball may have */
	int log_max_mb;		/* rotate the log at this size; 0 = never */
	int control_log_max_mb;	/* empty a control-<version>.log at this size; 0 = never */
	int keep_versions;	/* old versions kept besides the current one */
	int unpack_max_mb;	/* MiB one tarball may unpack to */
	int health_wait;	/* seconds a new version must stay started; 0 = off */
	int retry_failed;	/* seconds before a failed version is tried again; 0 = no hold */
	int partial_max_age;	/* seconds a cut download is kept for resuming */
	int download_rate_kbps;	/* KiB/s cap per download; 0 = none */
	int rollout_spread;	/* seconds over which a fleet starts a new version; 0 = off */
	int probation_window;	/* seconds after a commit that deaths count (probation.h); 0 = off */
	int probation_deaths;	/* deaths in that window that fail the version; 0 = off */
	int pass_timeout;	/* seconds a whole pass may take (deadline.h) */
	char *metrics_file;	/* Prometheus textfile to write; "" = none */
	char *proxy;		/* proxy URL for every transfer; "" = environment's */
	char *no_proxy;		/* hosts not to proxy; "" = environment's */
	char *path;		/* children's PATH, where tar and gzip are found:
				 * absolute directories only */
	int verbose;		/* "debug": log bodies, as -v */
	int heartbeat_self;	/* list the updater as one more realAgents entry */
	char *tls_ca_file;	/* tls.ca_file: CA bundle for servers; "" = system's */
	char *tls_cert_file;	/* tls.cert_file: client certificate (PEM) */
	char *tls_key_file;	/* tls.key_file: its key (PEM) */
	int tls_insecure;	/* tls.insecure: do not verify servers */
	char *auth_user;	/* auth.user: HTTP Basic user; "" = none */
	char *auth_password_file; /* auth.password_file */
	char *auth_password;	/* read from it by config_load; never logged */
	char *public_key_file;	/* verify.public_key: Ed25519 PEM; "" = none */
	void *public_key;	/* EVP_PKEY loaded by config_load */
};

/* Parse JSON text into cfg; dir is the config file's directory, against
 * which relative paths are taken. 0, or -1 with a message in err that
 * names the key and begins with the line and column (configpos.h), e.g.
 * "line 3, column 5: jitter: must be ...". Pure: no I/O. */
int config_parse(struct config *cfg, const char *text, const char *dir, char *err, size_t errlen);
/* Is server "" (not configured: a pass does nothing)? */
int config_unconfigured(const struct config *cfg);
/* Does the allow-list admit agent name? */
int config_manages(const struct config *cfg, const char *name);
/* The error idiom of the config rooms: the message into err; -1. */
int config_fail(char *err, size_t errlen, const char *fmt, ...) ATTR_PRINTF(3, 4);
/* The effective configuration to out, as sshd -T prints its: one "key
 * value" line per key (sections as "tls.ca_file"; an empty string as
 * nothing after the space), one server line per URL, the agents on one
 * line. No secret: the password file's path only. */
void config_dump(FILE *out, const struct config *cfg);
/* Release everything cfg holds; the password is wiped. */
void config_free(struct config *cfg);
/* What the transport and release settings of cfg protect against, as one
 * line for people, e.g. "https, CA pinned (tls.ca_file), signed releases
 * (verify.public_key)", into buf (cut at len). Returns buf. Pure. */
const char *config_protection(const struct config *cfg, char *buf, size_t len);

#endif
