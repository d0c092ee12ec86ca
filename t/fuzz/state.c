/* libFuzzer target: a state file, which a full disk or a person may have
 * mangled. What is salvaged must write back, parse again whole, and
 * write the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "stateread.h"
#include "statewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pass_state st, back;
	char err[128], *text, *again;

	if (state_parse((const char *)data, size, &st, err, sizeof(err)) == -1)
		return 0;
	text = state_to_json(&st, NULL);
	if (state_parse(text, strlen(text), &back, err, sizeof(err)) != 0)
		abort();
	again = state_to_json(&back, NULL);
	if (strcmp(text, again) != 0)
		abort();
	free(again);
	free(text);
	state_free(&back);
	state_free(&st);
	return 0;
}
