/* libFuzzer target: cfg.json, which a careless deploy tool may mangle. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct config cfg;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_parse(&cfg, text, "/w", err, sizeof(err)) == 0)
		config_free(&cfg);
	free(text);
	return 0;
}
