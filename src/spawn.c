#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "util.h"

static char *child_path;	/* spawn_set_path's; NULL: SPAWN_PATH_DEFAULT */
static char *child_envp[5];	/* the children's environment, built once */

void
spawn_set_path(const char *path)
{
	free(child_path);
	child_path = xstrdup(path);
	free(child_envp[0]);
	child_envp[0] = NULL;
}

const char *
spawn_path(void)
{
	return child_path ? child_path : SPAWN_PATH_DEFAULT;
}

/* The whole environment of a child: the PATH we chose (never ours: under
 * cron a control script that calls start-stop-daemon from /usr/sbin would
 * fail, and a caller's PATH could pick the tar root runs), HOME and LANG
 * from ours, and extra. Nothing else of ours, such as a proxy password,
 * leaks by accident. Built before fork. */
static char **
child_env(const char *extra)
{
	const char *v;

	if (child_envp[0] == NULL)
		child_envp[0] = xasprintf("PATH=%s", spawn_path());
	if (child_envp[1] == NULL) {
		child_envp[1] = xasprintf("HOME=%s", (v = getenv("HOME")) && *v ? v : "/");
		child_envp[2] = xasprintf("LANG=%s", (v = getenv("LANG")) && *v ? v : "C");
	}
	child_envp[3] = (char *)extra;
	return child_envp;
}

/* In the child: set up descriptors and exec. Reports a failure's errno on
 * errpipe, whose write end is close-on-exec so a good exec closes it. */
static _Noreturn void
child(const char *prog, const struct spawn *sp, char **env, pid_t parent, int infd,
    int outfd, int errfd, int errpipe)
{
	int nullfd, e;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	/* A session of our own: the timeout kills the whole group, and a
	 * daemon the child leaves behind is not tied to cron's session. */
	if (setsid() == -1)
		goto fail;
	if (sp->die_with_us && (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent))
		goto fail;	/* the pass died before the prctl took hold */
	if (sp->dir != NULL && chdir(sp->dir) == -1)
		goto fail;
	if ((nullfd = open("/dev/null", O_RDWR)) == -1)
		goto fail;
	if (sp->err_to_out)
		errfd = outfd;
	if (dup2(infd == -1 ? nullfd : infd, 0) == -1 || dup2(outfd == -1 ? nullfd : outfd, 1) == -1 ||
	    dup2(errfd == -1 ? nullfd : errfd, 2) == -1)
		goto fail;
	if (errpipe != 3) {
		if (dup3(errpipe, 3, O_CLOEXEC) == -1)
			goto fail;
		errpipe = 3;
	}
	closefrom(4);
	if (sp->sandbox != NULL) {
		if (sandbox_enter(sp->sandbox, sp->dir, sp->dir_writable, sp->fsize_max) == -1)
			goto fail;
		/* A change of ids clears the parent-death signal: again. */
		if (sp->die_with_us && (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent))
			goto fail;
	}
	/* execve, not execvpe: that one would run a file without a valid
	 * header through /bin/sh. */
	execve(prog, sp->argv, env);
fail:
	e = errno;
	(void)!write(errpipe, &e, sizeof(e));
	_exit(127);
}

/* Read what is available on fd into sp; 0 at EOF, 1 when more may come. */
static int
drain(struct spawn *sp, int fd)
{
	char chunk[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n == -1)
			return errno == EINTR || errno == EAGAIN;
		if (sp->outbuf.len + (size_t)n > sp->out_max) {
			buf_add(&sp->outbuf, chunk, sp->out_max - sp->outbuf.len);
			sp->truncated = 1;
		} else
			buf_add(&sp->outbuf, chunk, (size_t)n);
	}
}

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/* Poll revents of the output pipe: read it, close it at EOF. */
static void
read_output(struct spawn *sp, short revents)
{
	if ((revents & (POLLIN | POLLHUP)) && drain(sp, sp->outfd) == 0)
		close_fd(&sp->outfd);
}

/* Wait for the child until the deadline, reading the capture pipe meanwhile. */
static void
supervise(struct spawn *sp)
{
	pid_t pid = sp->pid;
	int pidfd = pidfd_open(pid, 0);

	for (;;) {
		struct pollfd pfd[2];
		long long left = sp->deadline - now_ms();
		int nfd = 0, wait_ms;

		if (waitpid(pid, &sp->status, WNOHANG) == pid) {
			sp->ran = 1;
			break;
		}
		if (left <= 0) {
			/* The whole group: a hung script's children die with it. */
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &sp->status, 0) == -1 && errno == EINTR)
				;
			sp->timed_out = 1;
			break;
		}
		if (pidfd != -1)
			pfd[nfd++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (sp->outfd != -1)
			pfd[nfd++] = (struct pollfd){ .fd = sp->outfd, .events = POLLIN };
		/* Without a pidfd (old kernels, valgrind), look again every 20 ms. */
		wait_ms = pidfd != -1 ? (int)(left > 60000 ? 60000 : left) : (left > 20 ? 20 : (int)left);
		if (poll(pfd, (nfds_t)nfd, wait_ms) > 0 && sp->outfd != -1)
			read_output(sp, pfd[nfd - 1].revents);
	}
	/* What the child wrote before it exited is in the pipe; a grandchild
	 * that still holds the pipe open must not keep us waiting. */
	if (sp->outfd != -1)
		drain(sp, sp->outfd);
	close_fd(&sp->outfd);
	if (pidfd != -1)
		close(pidfd);
}

int
spawn_start(struct spawn *sp)
{
	int cap[2] = { -1, -1 }, in[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int tofd = sp->has_output ? sp->output : log_fd();	/* output and errors */
	char **env = child_env(sp->env);	/* before fork: the child only execs */
	char *prog = spawn_which(sp->argv[0]);
	pid_t parent = getpid();
	int ret = -1;

	memset(&sp->outbuf, 0, sizeof(sp->outbuf));
	sp->out = NULL;
	sp->out_len = 0;
	sp->truncated = sp->ran = sp->timed_out = sp->exec_errno = sp->status = 0;
	sp->pid = 0;
	sp->infd = sp->outfd = sp->errfd = -1;
	sp->deadline = deadline_clamp(now_ms() + (long long)sp->timeout * 1000);
	if (prog == NULL) {
		sp->exec_errno = ENOENT;
		goto out;
	}
	/* Only our ends of the pipes are non-blocking: a child whose stdout
	 * is full must wait for us, not fail its write with EAGAIN. */
	if (pipe2(errp, O_CLOEXEC) == -1 ||
	    ((sp->capture || sp->out_pipe) && pipe2(cap, O_CLOEXEC) == -1) ||
	    ((sp->capture || sp->out_pipe) && fcntl(cap[0], F_SETFL, O_NONBLOCK) == -1) ||
	    (sp->feed && pipe2(in, O_CLOEXEC) == -1) ||
	    (sp->feed && fcntl(in[1], F_SETFL, O_NONBLOCK) == -1) ||
	    (sp->pid = fork()) == -1) {
		sp->exec_errno = errno;
		sp->pid = 0;
		goto out;
	}
	if (sp->pid == 0)
		child(prog, sp, env, parent, in[0], sp->capture || sp->out_pipe ? cap[1] : tofd, tofd,
		    errp[1]);
	sp->errfd = errp[0];
	sp->outfd = cap[0];
	sp->infd = in[1];
	errp[0] = cap[0] = in[1] = -1;	/* now ours to close */
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&errp[i]);
		close_fd(&cap[i]);
		close_fd(&in[i]);
	}
	free(prog);
	return ret;
}

int
spawn_read(struct spawn *sp)
{
	if (sp->outfd != -1 && drain(sp, sp->outfd) == 0)
		close_fd(&sp->outfd);
	return sp->outfd != -1;
}

void
spawn_kill(struct spawn *sp)
{
	if (sp->pid > 0) {
		kill(-sp->pid, SIGKILL);
		kill(sp->pid, SIGKILL);
	}
}

int
spawn_finish(struct spawn *sp)
{
	ssize_t n;

	close_fd(&sp->infd);	/* EOF for a fed child */
	if (sp->out_pipe)
		close_fd(&sp->outfd);	/* the caller's stream: whatever is left is not ours */
	if (sp->pid > 0) {
		supervise(sp);
		while ((n = read(sp->errfd, &sp->exec_errno, sizeof(sp->exec_errno))) == -1 && errno == EINTR)
			;
		if (n != sizeof(sp->exec_errno))
			sp->exec_errno = 0;
		sp->pid = 0;	/* reaped: never to be signalled again */
	}
	close_fd(&sp->errfd);
	close_fd(&sp->outfd);
	sp->out = sp->outbuf.data ? sp->outbuf.data : xstrdup("");
	sp->out_len = sp->outbuf.len;
	memset(&sp->outbuf, 0, sizeof(sp->outbuf));
	if (sp->exec_errno)
		sp->ran = 0;
	return sp->ran && WIFEXITED(sp->status) && WEXITSTATUS(sp->status) == 0 ? 0 : -1;
}

int
spawn_run(struct spawn *sp)
{
	spawn_start(sp);
	return spawn_finish(sp);
}

const char *
spawn_strerror(const struct spawn *sp, char *buf, size_t len)
{
	if (sp->exec_errno)
		snprintf(buf, len, "cannot run: %s", strerror(sp->exec_errno));
	else if (sp->timed_out && deadline_passed())
		snprintf(buf, len, "stopped at the pass deadline (pass_timeout)");
	else if (sp->timed_out)
		snprintf(buf, len, "timed out after %d s", sp->timeout);
	else if (WIFSIGNALED(sp->status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(sp->status));
	else
		snprintf(buf, len, "exited %d", WEXITSTATUS(sp->status));
	return buf;
}

void
spawn_free(struct spawn *sp)
{
	free(sp->out);
	sp->out = NULL;
}

char *
spawn_which(const char *prog)
{
	char *dirs, *dir, *save = NULL, *found = NULL;

	if (strchr(prog, '/'))
		return xstrdup(prog);
	dirs = xstrdup(spawn_path());
	for (dir = strtok_r(dirs, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", *dir ? dir : ".", prog);
		struct stat st;

		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(dirs);
	return found;
}
