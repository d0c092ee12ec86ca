#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "idwatch.h"
#include "log.h"
#include "seccomp.h"
#include "trust.h"
#include "util.h"

#define NIDS (SANDBOX_ID_MAX - SANDBOX_ID_MIN + 1)
#define STATUS_MAX 16384

static struct sandbox pass_sb;
static int pass_state;		/* 0 not yet, 1 pass_sb is set up, -1 cannot be */
static int lock_fd = -1;	/* held until we exit: the id is ours */
static int systemd_fd = -1;	/* and systemd's lock for it, where systemd keeps them */
static int said_deaf;		/* the log said we hear no process events */

/* Mark in used the ids of the range that the Uid: or Gid: line (real,
 * effective, saved, file system) of a status text names. */
static void
mark_ids(const char *status, const char *key, unsigned char *used)
{
	const char *p = strstr(status, key);
	char *end;

	if (p == NULL)
		return;
	p += strlen(key);
	for (int i = 0; i < 4; i++) {
		unsigned long id = strtoul(p, &end, 10);

		if (end == p)
			break;
		if (id >= SANDBOX_ID_MIN && id <= SANDBOX_ID_MAX)
			used[id - SANDBOX_ID_MIN] = 1;
		p = end;
	}
}

/* Which ids of the range a running process has, as any of its ids. */
static void
ids_running(unsigned char *used)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[64];

	while (d != NULL && (de = readdir(d)) != NULL) {
		char *status;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/status", de->d_name);
		if ((status = file_read(path, STATUS_MAX)) == NULL)
			continue;	/* gone meanwhile */
		mark_ids(status, "\nUid:", used);
		mark_ids(status, "\nGid:", used);
		free(status);
	}
	if (d != NULL)
		closedir(d);
}

/* A lock directory, root's and not writable by others, open; made (0700)
 * when create is set. -1 (logged) when it is not, or cannot be made so;
 * quietly when it does not exist and may not be made. */
static int
lock_dir(const char *agent, const char *dir, int create)
{
	char why[128];
	struct stat st;
	int fd;

	if (create && mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_err(agent, "create %s", dir);
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (create || errno != ENOENT)
			log_err(agent, "open %s", dir);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_err(agent, "stat %s", dir);
		close(fd);
		return -1;
	}
	if (trust_stat(&st, S_IFDIR, why, sizeof(why)) == -1) {
		log_errx(agent, "%s refused: %s", dir, why);
		close(fd);
		return -1;
	}
	return fd;
}

/* Take id: its lock file in dfd, unless another holds it, as systemd
 * takes the ids of its dynamic users (who, if not NULL, written in it).
 * The fd, or -1. */
static int
take_id(int dfd, unsigned id, const char *who)
{
	char name[16];
	struct stat st;

	snprintf(name, sizeof(name), "%u", id);
	for (int tries = 0; tries < 3; tries++) {
		int fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);

		if (fd == -1)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			close(fd);
			return -1;
		}
		/* Unlinked by its last holder (systemd does so) before we had
		 * the lock: a new file may hold it now. */
		if (fstat(fd, &st) == 0 && st.st_nlink > 0) {
			if (who != NULL && pwrite(fd, who, strlen(who), 0) == (ssize_t)strlen(who))
				(void)!ftruncate(fd, (off_t)strlen(who));
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* The package's user for the unpack (SANDBOX_USER), if there is one, it
 * has a group of its own, no process has either id, and no other pass
 * holds it. 0, or -1: then the range. */
static int
take_user(int dfd, struct sandbox *sb)
{
	struct passwd *pw = getpwnam(SANDBOX_USER);
	struct group *gr;
	uid_t uid;
	gid_t gid;

	if (pw == NULL)
		return -1;
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0 || (gr = getgrnam(SANDBOX_USER)) == NULL || gr->gr_gid != gid) {
		log_warnx(NULL, "%s is root's, or has no group of its own: not used", SANDBOX_USER);
		return -1;
	}
	if (idwatch_scan(uid, NULL, 0) != 0 || idwatch_scan((uid_t)gid, NULL, 0) != 0 ||
	    (lock_fd = take_id(dfd, uid, NULL)) == -1)
		return -1;	/* another pass has it, or a process of the host's */
	sb->uid = uid;
	sb->gid = gid;
	sb->user = 1;
	return 0;
}

/* Take id from the range, in our locks and, where systemd keeps them
 * (sdfd, or -1), in systemd's. 0, or -1. */
static int
take_range_id(int dfd, int sdfd, unsigned id)
{
	if ((lock_fd = take_id(dfd, id, NULL)) == -1)
		return -1;	/* another pass has it */
	if (sdfd != -1 && (systemd_fd = take_id(sdfd, id, "ops-updater\n")) == -1) {
		close(lock_fd);
		lock_fd = -1;
		return -1;	/* systemd has it */
	}
	return 0;
}

/* Pick the package's user, else the lowest free id of the range, and
 * hold it. 0, or -1 (logged). */
static int
pick_id(const char *agent, struct sandbox *sb)
{
	unsigned char *used;
	int dfd, sdfd, ret = -1;

	if ((dfd = lock_dir(agent, SANDBOX_LOCK_DIR, 1)) == -1)
		return -1;
	if (take_user(dfd, sb) == 0) {
		close(dfd);
		return 0;
	}
	used = xcalloc(NIDS, 1);
	sdfd = lock_dir(agent, SANDBOX_SYSTEMD_DIR, 0);
	ids_running(used);
	for (unsigned i = 0; i < NIDS && ret == -1; i++) {
		unsigned id = SANDBOX_ID_MIN + i;

		if (used[i] || getpwuid(id) != NULL || getgrgid(id) != NULL)
			continue;
		if (take_range_id(dfd, sdfd, id) == 0) {
			sb->uid = id;
			sb->gid = id;
			ret = 0;
		}
	}
	if (ret == -1)
		log_errx(agent, "no free id in %d-%d for gzip and tar: every one is in passwd or group, "
		    "run by a process, or held by another pass (%s) or by systemd", SANDBOX_ID_MIN,
		    SANDBOX_ID_MAX, SANDBOX_LOCK_DIR);
	if (sdfd != -1)
		close(sdfd);
	close(dfd);
	free(used);
	return ret;
}

/* A mount namespace of our own in which every mount is read-only, except
 * dir (bound on itself) when writable; then into dir again, on that mount. */
static int
enter_readonly(const char *dir, int writable)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY }, rw = { .attr_clr = MOUNT_ATTR_RDONLY };

	/* Private first: nothing done here may reach the host's mounts. */
	if (unshare(CLONE_NEWNS) == -1 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	if (writable && mount(dir, dir, "none", MS_BIND, NULL) == -1)
		return -1;
	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) == -1)
		return -1;
	if (writable && (mount_setattr(AT_FDCWD, dir, 0, &rw, sizeof(rw)) == -1 || chdir(dir) == -1))
		return -1;
	return 0;
}

/* Network and IPC namespaces of our own: no interface but a loopback
 * that is down, no abstract socket of the host's to connect to, no SysV
 * IPC object or POSIX message queue of anyone else's, and what the
 * children create there goes with them. */
static int
enter_isolated(void)
{
	return unshare(CLONE_NEWNET | CLONE_NEWIPC);
}

/* What the children may be given, if this host lets us. */
enum { READONLY, ISOLATED, FILTERED };

static int
enter(int what)
{
	switch (what) {
	case READONLY:
		return enter_readonly("/", 0);
	case ISOLATED:
		return enter_isolated();
	default:
		return prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == -1 ? -1 : seccomp_enter();
	}
}

/* Can our children have what here? A container may forbid namespaces, a
 * kernel may lack seccomp. Tried once, in a child. */
static int
works(int what)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(enter(what) == 0 ? 0 : 1);
	if (pid == -1)
		return 0;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

const struct sandbox *
sandbox_get(const char *agent)
{
	if (pass_state == 0) {
		pass_state = -1;
		if (geteuid() != 0) {
			pass_sb = (struct sandbox){ .uid = getuid(), .gid = getgid() };
			pass_state = 1;
		} else if (pick_id(agent, &pass_sb) == 0) {
			pass_sb.drop = 1;
			pass_sb.readonly = works(READONLY);
			pass_sb.isolated = works(ISOLATED);
			pass_state = 1;
		}
		if (pass_state == 1)
			pass_sb.filtered = works(FILTERED);
	}
	return pass_state == 1 ? &pass_sb : NULL;
}

const char *
sandbox_describe(const struct sandbox *sb, char *buf, size_t len)
{
	const char *filter = sb->filtered ? ", seccomp deny list" : seccomp_known() ?
	    " (no seccomp here)" : " (no seccomp filter for this architecture)";

	if (!sb->drop)
		snprintf(buf, len, "uid %lu, the pass's own (not root: no other id to drop to)%s",
		    (unsigned long)sb->uid, filter);
	else
		snprintf(buf, len, "uid %lu%s%s%s%s", (unsigned long)sb->uid, sb->user ? " (" SANDBOX_USER ")" : "",
		    sb->readonly ? ", file systems read-only but staging" : " (no mount namespace here: "
		    "it may write where any user can)",
		    sb->isolated ? ", no network, IPC of its own" : " (no network or IPC namespace here: "
		    "it may reach the network and the host's IPC)", filter);
	return buf;
}

/* Lower resource limit r to max (hard and soft), never raise it: the
 * operator's own limits stand. Lowering a hard limit never fails on Linux;
 * valgrind, which runs this part of the child, lets only the soft one
 * change. */
static int
lower(int r, rlim_t max)
{
	struct rlimit now, want;

	if (getrlimit(r, &now) == -1)
		return -1;
	want.rlim_max = now.rlim_max < max ? now.rlim_max : max;
	want.rlim_cur = now.rlim_cur < want.rlim_max ? now.rlim_cur : want.rlim_max;
	if (setrlimit(r, &want) == 0)
		return 0;
	want.rlim_max = now.rlim_max;
	return errno == EPERM ? setrlimit(r, &want) : -1;
}

int
sandbox_enter(const struct sandbox *sb, const char *dir, int writable, long long fsize_max)
{
	umask(022);
	if (sb->isolated && enter_isolated() == -1)
		return -1;
	if (sb->readonly && enter_readonly(dir, writable) == -1)
		return -1;
	if ((fsize_max > 0 && lower(RLIMIT_FSIZE, (rlim_t)fsize_max) == -1) || lower(RLIMIT_CORE, 0) == -1 ||
	    lower(RLIMIT_NOFILE, SANDBOX_NOFILE) == -1)
		return -1;
	if (sb->drop) {
		if (setgroups(0, NULL) == -1 || setresgid(sb->gid, sb->gid, sb->gid) == -1 ||
		    setresuid(sb->uid, sb->uid, sb->uid) == -1)
			return -1;
		/* Gone for good, or not at all. */
		if (setuid(0) != -1 || setgid(0) != -1) {
			errno = EPERM;
			return -1;
		}
		/* After the switch: counted for our id, not root's. */
		if (lower(RLIMIT_NPROC, SANDBOX_NPROC) == -1)
			return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == -1)
		return -1;
	/* Last: the calls above are among those it denies. */
	return sb->filtered ? seccomp_enter() : 0;
}

static int
rm_msg(int id)
{
	return msgctl(id, IPC_RMID, NULL);
}

static int
rm_sem(int id)
{
	return semctl(id, 0, IPC_RMID);
}

static int
rm_shm(int id)
{
	return shmctl(id, IPC_RMID, NULL);
}

/* The column of the table whose header (first line) says name, or -1. */
static int
column(char *header, const char *name)
{
	char *save, *tok = strtok_r(header, " \t\n", &save);

	for (int i = 0; tok != NULL; i++, tok = strtok_r(NULL, " \t\n", &save))
		if (strcmp(tok, name) == 0)
			return i;
	return -1;
}

/* Remove the objects of a /proc/sysvipc table (msg, sem, shm) that uid
 * owns or created, with rm; how many. */
static int
remove_ipc_table(const char *table, uid_t uid, int (*rm)(int))
{
	char path[32], *line = NULL, *save, *tok;
	int cu = -1, cc = -1, n = 0;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", table);
	if ((f = fopen(path, "re")) == NULL)
		return 0;	/* no SysV IPC in this kernel */
	if (getline(&line, &cap, f) > 0) {
		char *copy = xstrdup(line);

		cu = column(line, "uid");
		cc = column(copy, "cuid");
		free(copy);
	}
	while (cu > 0 && cc > 0 && getline(&line, &cap, f) > 0) {
		long long v[16];
		int nv = 0;

		for (tok = strtok_r(line, " \t\n", &save); tok != NULL && nv < 16; tok = strtok_r(NULL, " \t\n", &save))
			v[nv++] = strtoll(tok, NULL, 10);
		/* The id is the second column (the key the first). */
		if (cu < nv && cc < nv && (v[cu] == (long long)uid || v[cc] == (long long)uid) &&
		    rm((int)v[1]) == 0)
			n++;
	}
	free(line);
	fclose(f);
	return n;
}

/* As systemd's RemoveIPC=: the SysV IPC objects of the id go with the
 * unpack. The children's own IPC namespace takes theirs with it; this is
 * for a host where they have none, and for a process outside the pass
 * that ran as the id. */
static void
remove_ipc(const struct sandbox *sb)
{
	int n = remove_ipc_table("msg", sb->uid, rm_msg) + remove_ipc_table("sem", sb->uid, rm_sem) +
	    remove_ipc_table("shm", sb->uid, rm_shm);

	if (n > 0)
		log_warnx(NULL, "removed %d SysV IPC object%s of uid %lu, left after the unpack", n,
		    n == 1 ? "" : "s", (unsigned long)sb->uid);
}

void
sandbox_watch(const struct sandbox *sb)
{
	if (sb->drop && !idwatch_start(sb->uid) && !said_deaf) {
		log_warnx(NULL, "no process events for us here (not root in the host's namespaces): "
		    "a process that runs as uid %lu only between the start and the end of an unpack "
		    "goes unseen", (unsigned long)sb->uid);
		said_deaf = 1;
	}
}

/* As the id itself, kill(-1) reaches exactly its processes. */
static void
kill_all(const struct sandbox *sb)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		if (setgroups(0, NULL) == 0 && setresgid(sb->gid, sb->gid, sb->gid) == 0 &&
		    setresuid(sb->uid, sb->uid, sb->uid) == 0)
			kill(-1, SIGKILL);
		_exit(0);
	}
	if (pid == -1) {
		log_err(NULL, "fork to end the processes of uid %lu", (unsigned long)sb->uid);
		return;
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
}

pid_t
sandbox_end(const struct sandbox *sb, const pid_t *ours, size_t n)
{
	pid_t foreign;

	if (!sb->drop)
		return 0;	/* our own id: kill(-1) would be us */
	/* A process of the host's with the id is not ours to kill. */
	if ((foreign = idwatch_end(sb->uid, ours, n)) == 0)
		kill_all(sb);
	remove_ipc(sb);
	return foreign;
}
