/* gzip and tar never run as root on bytes nobody has verified yet. A
 * pass that runs as root takes a uid and gid that are its alone while it
 * runs: the package's user SANDBOX_USER, else one of SANDBOX_ID_MIN..
 * SANDBOX_ID_MAX (a range no allocator hands out, below) that no passwd
 * or group entry names, no running process has, and no other pass on the
 * host holds (a lock file per id in SANDBOX_LOCK_DIR, and in systemd's
 * SANDBOX_SYSTEMD_DIR where it exists, kept until we exit).
 * Its children then drop to it before exec (no supplementary groups, the
 * saved ids too, a setuid(0) that must fail, PR_SET_NO_NEW_PRIVS), with
 * resource limits (file size, descriptors, processes, no core) and, where
 * the kernel lets us, a mount namespace of their own in which every file
 * system is read-only but the staging directory, and network and IPC
 * namespaces of their own: no network, no abstract socket or SysV IPC of
 * the host's (and the SysV IPC objects of the id are removed after the
 * unpack, as systemd's RemoveIPC= does), and a seccomp deny list
 * (seccomp.h). A process outside the pass that ran as the id during the
 * unpack (idwatch.h) makes the unpack fail as the host's fault. So nothing
 * else on the host runs as that id: nobody can ptrace the children or
 * reach what they write, and what they write is reachable by path only
 * through a root-owned 0700 directory (stage.h). What the children can
 * still do: read what any user may read, and connect to the Unix sockets
 * on the file system that any user may (D-Bus, syslog); where the kernel
 * forbids namespaces or seccomp, what sandbox_describe says is missing.
 * A pass that is not root has no other id to go to: its children run as
 * it does (no escalation), with the same limits. */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>

/* The package's user for the unpack (debian/ops-updater.postinst makes
 * it, as apt's _apt): used when it exists and no other pass holds it. */
#define SANDBOX_USER "_ops-updater"
/* Else an id from a range that no allocator hands out, per systemd's
 * UIDS-GIDS.md: above adduser's and useradd's regular users (1000-59999,
 * UID_MAX 60000), systemd-homed's (60001-60513) and systemd-nspawn's host
 * users mapped into containers (60514-60577), below systemd's DynamicUser
 * range (61184-65519), which systemd hands out without seeing our locks,
 * and below 65536, so that it maps into a container's 64K user namespace.
 * passwd and group are checked all the same (a site's own allocation). */
#define SANDBOX_ID_MIN 60578
#define SANDBOX_ID_MAX 61183
#define SANDBOX_LOCK_DIR "/run/ops-updater"
/* Where systemd locks the ids of its dynamic users: where it exists, the
 * id is locked there too, as systemd does, in case a systemd's range was
 * built to cover ours. */
#define SANDBOX_SYSTEMD_DIR "/run/systemd/dynamic-uid"
/* Processes the id may have at once: gzip and tar, so neither can fork
 * a helper that would outlive the unpack. */
#define SANDBOX_NPROC 2
#define SANDBOX_NOFILE 64

struct sandbox {
	uid_t uid;
	gid_t gid;
	int drop;		/* switch to uid and gid (we are root); else run as we are */
	int user;		/* the id is SANDBOX_USER's */
	int readonly;		/* a mount namespace, read-only but the child's directory */
	int isolated;		/* network and IPC namespaces of the child's own */
	int filtered;		/* the seccomp deny list (seccomp.h) */
};

/* The pass's sandbox, set up at its first use and kept until we exit.
 * NULL when we are root and no unprivileged id can be had (logged under
 * agent): then nothing may be unpacked. */
const struct sandbox *sandbox_get(const char *agent);
/* Say, for the log, who the children run as: "uid 61184, file systems
 * read-only but staging", "uid 1000, the pass's own (not root)". */
const char *sandbox_describe(const struct sandbox *sb, char *buf, size_t len);
/* In a child between fork and exec, its working directory set: enter sb.
 * With writable set, the working directory (path dir) stays writable in
 * the read-only namespace; fsize_max caps every file it writes (0: none).
 * Only async-signal-safe calls. 0, or -1 with errno. */
int sandbox_enter(const struct sandbox *sb, const char *dir, int writable, long long fsize_max);
/* Before the children start: watch who else takes sb's id (idwatch.h). */
void sandbox_watch(const struct sandbox *sb);
/* Once the children (pids ours[0..n)) are reaped: the pid of a process
 * outside them that ran as sb's id since sandbox_watch (-1: one may have,
 * events were lost), or 0. Then, when there was none, kill every process
 * left running as the id (a helper one of the children forked before the
 * limit, or one that left its process group): nothing may write in
 * staging once the unpack is judged; a process of the host's is not ours
 * to kill. Either way the SysV IPC objects the id owns are removed, as
 * systemd's RemoveIPC= does. */
pid_t sandbox_end(const struct sandbox *sb, const pid_t *ours, size_t n);

#endif
