#include "signature.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int
signature_verify_file(const char *agent, void *key, const char *path, const unsigned char *sig)
{
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	void *data = MAP_FAILED;
	int fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		log_err(agent, "open %s", path);
		goto out;
	}
	if (st.st_size == 0 ||
	    (data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		log_err(agent, "map %s", path);
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, (EVP_PKEY *)key) != 1) {
		log_errx(agent, "cannot set up Ed25519 verification");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, SIGNATURE_LEN, data, (size_t)st.st_size) != 1) {
		log_errx(agent, "refusing %s: bad signature", path);
		goto out;
	}
	ret = 0;
out:
	if (data != MAP_FAILED)
		munmap(data, (size_t)st.st_size);
	if (fd != -1)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return ret;
}
