/* gzip and tar never run as root on bytes nobody has verified yet. As
 * systemd's DynamicUser= does, a pass that runs as root takes a uid and
 * gid of its own from SANDBOX_ID_MIN..SANDBOX_ID_MAX: one that no passwd
 * or group entry names, no running process has, and no other pass on the
 * host holds (a lock file per id in SANDBOX_LOCK_DIR, kept until we exit).
 * Its children then drop to it before exec (no supplementary groups, the
 * saved ids too, a setuid(0) that must fail, PR_SET_NO_NEW_PRIVS), with
 * resource limits (file size, descriptors, processes, no core) and, where
 * the kernel lets us, a mount namespace of their own in which every file
 * system is read-only but the staging directory, and network and IPC
 * namespaces of their own: no network, no abstract socket or SysV IPC of
 * the host's (and the SysV IPC objects of the id are removed after the
 * unpack, as systemd's RemoveIPC= does), and a seccomp deny list
 * (seccomp.h). Nothing else on the host
 * runs as that id: nobody can ptrace the children or reach what they
 * write, and what they write is reachable by path only through a
 * root-owned 0700 directory (stage.h). A pass that is not root has no
 * other id to go to: its children run as it does (no escalation), with
 * the same limits. */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>

#define SANDBOX_ID_MIN 61184
#define SANDBOX_ID_MAX 65519
#define SANDBOX_LOCK_DIR "/run/ops-updater"
/* Processes the id may have at once: gzip and tar, so neither can fork
 * a helper that would outlive the unpack. */
#define SANDBOX_NPROC 2
#define SANDBOX_NOFILE 64

struct sandbox {
	uid_t uid;
	gid_t gid;
	int drop;		/* switch to uid and gid (we are root); else run as we are */
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
/* Kill every process left running as sb's id (a helper one of the
 * children forked before the limit, or one that left its process group):
 * nothing may write in staging once the unpack is judged. Then remove the
 * SysV IPC objects the id owns, as systemd's RemoveIPC= does. */
void sandbox_kill(const struct sandbox *sb);

#endif
