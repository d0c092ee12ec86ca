/* libFuzzer target: a log line from outside strings (agent names, messages
 * quoting server and script output). Aborts unless the line is one whole
 * line: ends in its only '\n', no other control byte, shorter than cap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, *copy, *agent, *msg, *nul;
	size_t cap, n, i;
	int errnum;

	if (size < 2)
		return 0;
	/* Byte 0: the buffer size (small ones too) and whether there is an
	 * agent; byte 1: errno; the rest: agent NUL message. */
	cap = data[0] < 128 ? 2 + (size_t)data[0] * 3 : 4096;
	errnum = data[1] % 140;
	/* Exactly cap bytes: ASan sees a write past them. */
	line = malloc(cap);
	copy = malloc(size - 2 + 1);
	if (line == NULL || copy == NULL)
		abort();
	memcpy(copy, data + 2, size - 2);
	copy[size - 2] = '\0';
	agent = copy;
	msg = (nul = memchr(copy, '\0', size - 2)) != NULL ? nul + 1 : copy + (size - 2);
	n = log_format(line, cap, (time_t)data[0] * 86400 * 365, (long)size, "info",
	    data[0] & 1 ? NULL : agent, errnum, msg);
	if (n >= cap || n == 0 || line[n - 1] != '\n' || line[n] != '\0')
		abort();
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort();
	free(copy);
	free(line);
	return 0;
}
