/* libFuzzer target: a heartbeat response body from the network. */
#include <stddef.h>
#include <stdint.h>

#include "heartbeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hb_response r;
	char err[128];

	if (hb_parse((const char *)data, size, &r, err, sizeof(err)) == 0)
		hb_free(&r);
	return 0;
}
