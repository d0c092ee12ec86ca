#include "signature.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <string.h>

#include "log.h"

int
signature_verify(const char *agent, void *key, const char *file, const void *data, size_t n,
    const unsigned char *sig)
{
	EVP_MD_CTX *ctx = NULL;
	int ret = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, (EVP_PKEY *)key) != 1) {
		log_errx(agent, "cannot set up Ed25519 verification");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, SIGNATURE_LEN, data, n) != 1) {
		log_errx(agent, "refusing %s: bad signature: %s.sig does not sign its .sha256 with verify.public_key",
		    file, file);
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int
signature_names(const char *text, size_t n, const char *file)
{
	size_t i, flen = strlen(file);

	if (n < 66 + flen)
		return 0;
	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)text[i]))
			return 0;
	if (text[64] != ' ' || (text[65] != ' ' && text[65] != '*'))
		return 0;
	if (memcmp(text + 66, file, flen) != 0)
		return 0;
	n -= 66 + flen;
	return n == 0 || (n == 1 && text[66 + flen] == '\n');
}
