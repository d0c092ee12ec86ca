#include "configload.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "configpos.h"
#include "file.h"
#include "trust.h"
#include "util.h"

#define CONFIG_MAX (1 << 20)
#define PASSWORD_MAX 4096
#define PUBLIC_KEY_MAX 65536

/* "what: path refused: why" into err, or "refused: why" without what;
 * errno EPERM. */
static int
refused(const char *what, const char *path, const char *why, char *err, size_t errlen)
{
	if (what != NULL)
		config_fail(err, errlen, "%s: %s refused: %s", what, path, why);
	else
		config_fail(err, errlen, "refused: %s", why);
	errno = EPERM;
	return -1;
}

/* Open path for root to believe: it and every directory above it pass
 * trust_path (symlinks are followed only where nobody else could have put
 * them), then the resolved path is opened, never through a link, and what
 * was opened is checked again. The descriptor, or -1 with errno set
 * (EPERM: refused) and the reason in err (see refused; other errors as
 * "what: path: strerror"); with st, the opened file's stat. */
static int
open_trusted(const char *what, const char *path, struct stat *st, char *err, size_t errlen)
{
	char *res = NULL, why[512], at[768];
	int fd = -1, e;

	if (trust_path(path, S_IFREG, &res, why, sizeof(why)) == -1) {
		if (errno == EPERM)
			refused(what, path, why, err, errlen);
		else {
			e = errno;
			config_fail(err, errlen, "%s: %s: %s", what ? what : "config", path, strerror(e));
			errno = e;
		}
		goto out;
	}
	/* O_NONBLOCK: a FIFO put there in between must not hang the pass. */
	if ((fd = open(res, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, st) == -1) {
		e = errno;
		config_fail(err, errlen, "%s: %s: %s", what ? what : "config", path, strerror(e));
		if (fd != -1)
			close(fd);
		fd = -1;
		errno = e;
		goto out;
	}
	if (trust_stat(st, S_IFREG, why, sizeof(why)) == -1) {
		snprintf(at, sizeof(at), "%s: %s", res, why);
		refused(what, path, at, err, errlen);
		close(fd);
		fd = -1;
		errno = EPERM;
	}
out:
	free(res);
	return fd;
}

/* The password, from a file of root or ours that nobody else may read
 * (neither group nor others) nor swap for a symlink: a readable secret
 * is no secret, and ops-updater refuses to pretend otherwise. */
static int
load_password(struct config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->auth_password_file;
	struct stat st;
	int fd, r = -1;

	if (*path == '\0')
		return 0;
	/* The checks are on the file we then read, not on a path someone
	 * could point elsewhere in between. */
	if ((fd = open_trusted("auth.password_file", path, &st, err, errlen)) == -1)
		return -1;
	if (st.st_mode & S_IROTH)
		config_fail(err, errlen, "auth.password_file: %s is readable by others; chmod o-r it", path);
	else if (st.st_mode & S_IRGRP)
		config_fail(err, errlen, "auth.password_file: %s is readable by group; chmod g-r it", path);
	else if ((cfg->auth_password = file_read_fd(fd, PASSWORD_MAX)) == NULL)
		config_fail(err, errlen, "auth.password_file: %s: %s", path, strerror(errno));
	else
		r = 0;
	close(fd);
	if (r == -1)
		return -1;
	cfg->auth_password[strcspn(cfg->auth_password, "\r\n")] = '\0';
	if (*cfg->auth_password == '\0')
		return config_fail(err, errlen, "auth.password_file: %s is empty", path);
	return 0;
}

/* The key, read from the opened and checked descriptor: whoever can
 * change it decides which releases are signed. */
static int
load_public_key(struct config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->public_key_file;
	EVP_PKEY *key = NULL;
	struct stat st;
	char *text;
	BIO *bio;
	int fd;

	if (*path == '\0')
		return 0;
	if ((fd = open_trusted("verify.public_key", path, &st, err, errlen)) == -1)
		return -1;
	text = file_read_fd(fd, PUBLIC_KEY_MAX);
	close(fd);
	if (text == NULL)
		return config_fail(err, errlen, "verify.public_key: %s: %s", path, strerror(errno));
	if ((bio = BIO_new_mem_buf(text, -1)) != NULL)
		key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(text);
	if (key == NULL)
		return config_fail(err, errlen, "verify.public_key: %s: not a PEM public key", path);
	if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(key);
		return config_fail(err, errlen, "verify.public_key: %s: not an Ed25519 key", path);
	}
	cfg->public_key = key;
	return 0;
}

/* curl opens the TLS files by path: each must pass trust_path, and its
 * resolved path (no symlink left) replaces the one given. */
static int
trust_tls_file(const char *what, char **path, char *err, size_t errlen)
{
	char *res = NULL, why[512];

	if (**path == '\0')
		return 0;
	if (trust_path(*path, S_IFREG, &res, why, sizeof(why)) == -1) {
		if (errno == EPERM)
			return config_fail(err, errlen, "%s: %s refused: %s", what, *path, why);
		return config_fail(err, errlen, "%s: %s: %s", what, *path, strerror(errno));
	}
	free(*path);
	*path = res;
	return 0;
}

/* Root runs tar, gzip and what control scripts call from these: every
 * directory of path that exists must pass trust_path, or whoever can
 * write one could put a tar there. A missing one is skipped, as a shell
 * would. */
static int
trust_child_path(const char *path, char *err, size_t errlen)
{
	char *copy = xstrdup(path), *dir, *save = NULL, why[512];
	int ret = 0;

	for (dir = strtok_r(copy, ":", &save); dir && ret == 0; dir = strtok_r(NULL, ":", &save))
		if (trust_path(dir, S_IFDIR, NULL, why, sizeof(why)) == -1 && errno != ENOENT)
			ret = errno == EPERM ? config_fail(err, errlen, "path: %s refused: %s", dir, why) :
			    config_fail(err, errlen, "path: %s: %s", dir, strerror(errno));
	free(copy);
	return ret;
}

/* config_read, with the file's text left in *text for the caller to
 * free (NULL when it could not be read). */
static int
read_text(struct config *cfg, const char *path, char **text, char *err, size_t errlen)
{
	char *copy;
	struct stat st;
	int fd, ret;

	memset(cfg, 0, sizeof(*cfg));
	*text = NULL;
	if ((fd = open_trusted(NULL, path, &st, err, errlen)) == -1) {
		/* Missing or unreadable: said as it always was. */
		if (errno != EPERM)
			config_fail(err, errlen, "cannot read: %s", strerror(errno));
		return -1;
	}
	*text = file_read_fd(fd, CONFIG_MAX);
	close(fd);
	if (*text == NULL)
		return config_fail(err, errlen, "cannot read: %s", strerror(errno));
	copy = xstrdup(path);
	ret = config_parse(cfg, *text, dirname(copy), err, errlen);
	free(copy);
	return ret;
}

int
config_read(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char *text;
	int ret = read_text(cfg, path, &text, err, errlen);

	free(text);
	return ret;
}

/* What config_load adds to config_read: the hostname, and the files the
 * config names. */
static int
load_more(struct config *cfg, char *err, size_t errlen)
{
	char host[HOST_NAME_MAX + 1];

	if (*cfg->hostname == '\0') {
		if (gethostname(host, sizeof(host)) == -1 || *host == '\0')
			return config_fail(err, errlen, "hostname: empty, and the machine has none");
		host[sizeof(host) - 1] = '\0';
		free(cfg->hostname);
		cfg->hostname = xstrdup(host);
	}
	if (trust_child_path(cfg->path, err, errlen) == -1 ||
	    load_password(cfg, err, errlen) == -1 || load_public_key(cfg, err, errlen) == -1 ||
	    trust_tls_file("tls.ca_file", &cfg->tls_ca_file, err, errlen) == -1 ||
	    trust_tls_file("tls.cert_file", &cfg->tls_cert_file, err, errlen) == -1 ||
	    trust_tls_file("tls.key_file", &cfg->tls_key_file, err, errlen) == -1)
		return -1;
	return 0;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char *text;
	int ret;

	if ((ret = read_text(cfg, path, &text, err, errlen)) == 0 && (ret = load_more(cfg, err, errlen)) == -1) {
		/* The key that names the file at fault, where it is written. */
		config_position(text, NULL, err, errlen);
		config_free(cfg);
	}
	free(text);
	return ret;
}
