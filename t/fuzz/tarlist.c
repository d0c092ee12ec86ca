/* libFuzzer target: lines of tar's listing, whose names come from the
 * tarball, and the member rules applied to them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tarball.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), why[512];

	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	tarball_check_line(line, why, sizeof(why));
	tarball_path_ok(line);
	tarball_link_ok(line, line + strlen(line) / 2);
	free(line);
	return 0;
}
