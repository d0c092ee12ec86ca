#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "util.h"

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

int
pipeline_start(struct pipeline *pl)
{
	pl->a.feed = 1;
	pl->a.out_pipe = 1;
	pl->a.die_with_us = pl->b.die_with_us = 1;
	pl->b.feed = 1;
	unsigned char key[TARSTREAM_KEY] = { 0 };

	/* The key keeps directory names from being made to collide; without
	 * randomness they could be, which costs no more than a miscount. */
	if (getrandom(key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key))
		log_warnx(NULL, "getrandom: no key for the tar directory count");
	pl->passed = 0;
	tarstream_init(&pl->tar, key);
	pl->capped = pl->crowded = pl->sparse = pl->overlong = pl->watched = 0;
	pl->broken = pl->late = pl->no_room = pl->finished = 0;
	pl->foreign = pl->ours[0] = pl->ours[1] = 0;
	pl->off = pl->len = 0;
	pl->deadline = deadline_clamp(now_ms() + (long long)pl->a.timeout * 1000);
	pl->a_said[0] = '\0';
	/* a's complaints (gzip's "not in gzip format") name the refusal's
	 * cause; in a file of our own, not raw in the log. It is written
	 * through the descriptor alone: no path for anyone, and
	 * RLIMIT_FSIZE bounds it in the sandbox. Without it, /dev/null. */
	pl->a_err = memfd_create("pipeline-stderr", MFD_CLOEXEC);
	pl->a.has_output = 1;
	pl->a.output = pl->a_err;
	if (pl->b.sandbox != NULL)
		sandbox_watch(pl->b.sandbox);
	if (spawn_start(&pl->a) == -1) {
		pl->b.pid = 0;
		pl->b.infd = pl->b.outfd = pl->b.errfd = -1;
		pl->broken = 1;
		return -1;
	}
	pl->ours[0] = pl->a.pid;
	if (spawn_start(&pl->b) == -1) {
		pl->broken = 1;
		return -1;
	}
	pl->ours[1] = pl->b.pid;
	/* Bigger pipes, fewer wake-ups of the three of us per MiB. Best
	 * effort: the default size works too. */
	(void)fcntl(pl->a.infd, F_SETPIPE_SZ, PIPELINE_PIPE);
	(void)fcntl(pl->a.outfd, F_SETPIPE_SZ, PIPELINE_PIPE);
	(void)fcntl(pl->b.infd, F_SETPIPE_SZ, PIPELINE_PIPE);
	return 0;
}

/* Stop the flow: our ends closed, so each child sees EOF or EPIPE and ends
 * on its own, with an exit status that says what went wrong. */
static void
stop(struct pipeline *pl)
{
	pl->broken = 1;
	close_fd(&pl->a.infd);
	close_fd(&pl->a.outfd);
	close_fd(&pl->b.infd);
}

void
pipeline_kill(struct pipeline *pl)
{
	spawn_kill(&pl->a);
	spawn_kill(&pl->b);
	stop(pl);
}

/* Read a's output into the free part of the buffer; -1 at the cap. */
static int
take(struct pipeline *pl)
{
	ssize_t n;

	n = read(pl->a.outfd, pl->buf + pl->len, sizeof(pl->buf) - pl->len);
	if (n == 0)
		close_fd(&pl->a.outfd);		/* a is done */
	else if (n > 0) {
		pl->passed += n;
		pl->len += (size_t)n;
		if (pl->passed > pl->max) {
			pl->capped = 1;
			pipeline_kill(pl);
			return -1;
		}
		/* Counted before b sees them: b never gets the member past the cap. */
		if (pl->members_max > 0) {
			tarstream_feed(&pl->tar, pl->buf + pl->len - n, (size_t)n);
			pl->crowded = pl->tar.members + pl->tar.dirs > pl->members_max;
			pl->sparse = pl->tar.sparse;
			pl->overlong = pl->tar.overlong;
		}
		if (!pl->crowded && !pl->sparse && !pl->overlong && pl->watch != NULL &&
		    pl->watch(pl->watch_arg, pl->passed, pl->tar.members + pl->tar.dirs) == -1)
			pl->watched = 1;
		if (pl->crowded || pl->sparse || pl->overlong || pl->watched) {
			pipeline_kill(pl);
			return -1;
		}
	} else if (errno != EAGAIN && errno != EINTR)
		close_fd(&pl->a.outfd);
	return 0;
}

/* Write what the buffer holds to b; -1 when b stopped reading. */
static int
give(struct pipeline *pl)
{
	ssize_t n = write(pl->b.infd, pl->buf + pl->off, pl->len - pl->off);

	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;	/* EPIPE: SIGPIPE is ignored */
	pl->off += (size_t)n;
	if (pl->off == pl->len)
		pl->off = pl->len = 0;	/* all given: the whole buffer is free again */
	return 0;
}

/* One round of the loop: wait for any end that can move, move it. Input
 * (in, *n) goes to a's stdin when given. -1 once the flow is stopped. */
static int
pump(struct pipeline *pl, const char **in, size_t *n)
{
	struct pollfd pfd[4];
	int ia = -1, oa = -1, ib = -1, ob = -1, nfd = 0;
	long long left = pl->deadline - now_ms();
	ssize_t w;

	if (pl->broken)
		return -1;
	if (left <= 0) {
		pl->late = 1;
		pipeline_kill(pl);
		return -1;
	}
	if (*n > 0 && pl->a.infd != -1)
		pfd[ia = nfd++] = (struct pollfd){ .fd = pl->a.infd, .events = POLLOUT };
	if (pl->a.outfd != -1 && pl->len < sizeof(pl->buf))
		pfd[oa = nfd++] = (struct pollfd){ .fd = pl->a.outfd, .events = POLLIN };
	if (pl->off < pl->len)
		pfd[ib = nfd++] = (struct pollfd){ .fd = pl->b.infd, .events = POLLOUT };
	if (pl->b.outfd != -1)
		pfd[ob = nfd++] = (struct pollfd){ .fd = pl->b.outfd, .events = POLLIN };
	if (poll(pfd, (nfds_t)nfd, (int)(left > 1000 ? 1000 : left)) <= 0)
		return 0;
	if (ob != -1 && pfd[ob].revents)
		spawn_read(&pl->b);	/* b's complaints, bounded by its out_max */
	if (ib != -1 && (pfd[ib].revents & (POLLOUT | POLLERR | POLLHUP)) && give(pl) == -1) {
		stop(pl);
		return -1;
	}
	if (oa != -1 && (pfd[oa].revents & (POLLIN | POLLHUP | POLLERR)) && take(pl) == -1)
		return -1;
	if (ia != -1 && (pfd[ia].revents & (POLLOUT | POLLERR | POLLHUP))) {
		if ((w = write(pl->a.infd, *in, *n)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			stop(pl);
			return -1;
		}
		*in += w;
		*n -= (size_t)w;
	}
	return 0;
}

int
pipeline_feed(void *arg, const void *p, size_t n)
{
	struct pipeline *pl = arg;
	const char *in = p;

	while (n > 0)
		if (pump(pl, &in, &n) == -1 || pl->a.infd == -1) {
			stop(pl);
			return -1;
		}
	return 0;
}

int
pipeline_a_warned(const struct pipeline *pl)
{
	return pl->a_warns != 0 && pl->a.ran && WIFEXITED(pl->a.status) &&
	    WEXITSTATUS(pl->a.status) == pl->a_warns;
}

/* The first line that is not empty of what a wrote on stderr, bounded,
 * into a_said (gzip begins with a newline). */
static void
said(struct pipeline *pl)
{
	char buf[PIPELINE_SAID * 2];
	ssize_t n;
	size_t skip;

	if (pl->a_err == -1 || (n = pread(pl->a_err, buf, sizeof(buf) - 1, 0)) <= 0)
		n = 0;
	buf[n] = '\0';
	skip = strspn(buf, "\n");
	buf[skip + strcspn(buf + skip, "\n")] = '\0';
	snprintf(pl->a_said, sizeof(pl->a_said), "%s", buf + skip);
}

int
pipeline_finish(struct pipeline *pl)
{
	const char *none = NULL;
	size_t zero = 0;
	int ra, rb;

	if (pl->finished)
		return pl->result;
	close_fd(&pl->a.infd);	/* EOF: a flushes and ends */
	while (!pl->broken && (pl->a.outfd != -1 || pl->off < pl->len))
		if (pump(pl, &none, &zero) == -1)
			break;
	close_fd(&pl->b.infd);	/* EOF for b */
	ra = spawn_finish(&pl->a);
	rb = spawn_finish(&pl->b);
	said(pl);
	/* Nothing of theirs may write on once they are judged: a helper
	 * either forked is ended too. And nobody else may have had the id. */
	if (pl->b.sandbox != NULL)
		pl->foreign = sandbox_end(pl->b.sandbox, pl->ours, 2);
	pl->finished = 1;
	if (ra != 0 && pipeline_a_warned(pl))
		ra = 0;
	pl->result = ra == 0 && rb == 0 && !pl->capped && !pl->crowded && !pl->sparse &&
	    !pl->overlong && !pl->watched && !pl->broken && pl->foreign == 0 ? 0 : -1;
	return pl->result;
}

void
pipeline_free(struct pipeline *pl)
{
	close_fd(&pl->a_err);
	spawn_free(&pl->a);
	spawn_free(&pl->b);
	tarstream_free(&pl->tar);
}
