#include "deadline.h"

#include <stdio.h>

#include "util.h"

static long long deadline;	/* now_ms time; 0 = none */
static int seconds_set;		/* pass_timeout, for deadline_cause */

void
deadline_set(int seconds)
{
	deadline = seconds > 0 ? now_ms() + (long long)seconds * 1000 : 0;
	seconds_set = seconds;
}

const char *
deadline_cause(char *buf, size_t len)
{
	snprintf(buf, len, "cut by pass_timeout (%d s)", seconds_set);
	return buf;
}

int
deadline_passed(void)
{
	return deadline != 0 && now_ms() >= deadline;
}

long long
deadline_clamp(long long at)
{
	return deadline != 0 && at > deadline ? deadline : at;
}

long long
deadline_left(long long ms)
{
	long long now = now_ms(), end = deadline_clamp(now + ms);

	return end > now ? end - now : 0;
}
