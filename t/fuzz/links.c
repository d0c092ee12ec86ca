/* libFuzzer target: link resolution inside an unpacked tree, whose paths
 * and link targets come from the tarball. The input is the tree as
 * "type path [target]" lines (type f, d or l); every link is resolved. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tarball.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *save = NULL, why[512];
	struct tarball_tree t = { 0 };

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line && t.n < 1000; line = strtok_r(NULL, "\n", &save)) {
		char *path = line + (line[0] && line[1] ? 2 : 1), *target = strchr(path, ' ');

		if (target != NULL)
			*target++ = '\0';
		if (strchr("fdl", line[0]) && line[0])
			tarball_tree_add(&t, path, line[0], line[0] == 'l' ? (target ? target : "") : NULL);
	}
	tarball_tree_sort(&t);
	for (size_t i = 0; i < t.n; i++)
		if (t.e[i].type == 'l')
			tarball_link_check(&t, t.e[i].path, t.e[i].target, why, sizeof(why));
	tarball_tree_free(&t);
	free(text);
	return 0;
}
