/* A seccomp filter for gzip and tar: a deny list of what they never need
 * and an exploited one would want (sockets but AF_UNIX ones, ptrace,
 * reading or writing another process's memory, SysV IPC, new namespaces,
 * mounts, keyrings, bpf, perf events, io_uring, which runs socket calls
 * behind the filter's back). A deny list, so that a newer tar using calls
 * we never heard of keeps working; each denied call fails with EPERM, as
 * on a kernel that forbade it, rather than killing the process. Raw
 * classic BPF, as OpenSSH's sandbox-seccomp-filter.c, no library. */
#ifndef SECCOMP_H
#define SECCOMP_H

/* Is there a filter for the architecture we were built for? */
int seccomp_known(void);
/* Install the filter on the calling process, whose no_new_privs is set.
 * 0, or -1 with errno (ENOSYS: no filter for this architecture; EINVAL: a
 * kernel without seccomp filters). Async-signal-safe. */
int seccomp_enter(void);

#endif
