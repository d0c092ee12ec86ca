#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG0_LO offsetof(struct seccomp_data, args[0])
#else
#define ARG0_LO (offsetof(struct seccomp_data, args[0]) + 4)
#endif

#define RET(what) BPF_STMT(BPF_RET | BPF_K, (what))
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define EPERM_ SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)
/* The call nr fails with EPERM; any other goes on to the next test. */
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), RET(EPERM_)
/* The call nr is allowed only with its first argument val (the
 * accumulator then no longer holds the number: decide here). */
#define ONLY_ARG0(nr, val) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), LOAD(ARG0_LO), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (val), 1, 0), RET(EPERM_), RET(SECCOMP_RET_ALLOW)
/* The call nr is denied when its first argument has a bit of mask. */
#define NO_ARG0_BITS(nr, mask) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), LOAD(ARG0_LO), \
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (mask), 0, 1), RET(EPERM_), RET(SECCOMP_RET_ALLOW)

/* Flags of clone that make a namespace (CLONE_NEWTIME is an exit signal
 * bit there). */
#define CLONE_NAMESPACES (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	CLONE_NEWPID | CLONE_NEWNET)

#ifdef FILTER_ARCH
static const struct sock_filter filter[] = {
	/* Another architecture's calls (i386's int 0x80 on x86_64) have
	 * other numbers: none of them. */
	LOAD(offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0),
	RET(EPERM_),
	LOAD(offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
	/* x32's calls come with this architecture, their numbers with bit
	 * 30 set: none of them either. */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
	RET(EPERM_),
#endif
	ONLY_ARG0(__NR_socket, AF_UNIX),
	ONLY_ARG0(__NR_socketpair, AF_UNIX),
	DENY(__NR_ptrace),
	DENY(__NR_process_vm_readv),
	DENY(__NR_process_vm_writev),
	DENY(__NR_msgget), DENY(__NR_msgsnd), DENY(__NR_msgrcv), DENY(__NR_msgctl),
	DENY(__NR_semget), DENY(__NR_semop), DENY(__NR_semtimedop), DENY(__NR_semctl),
	DENY(__NR_shmget), DENY(__NR_shmat), DENY(__NR_shmdt), DENY(__NR_shmctl),
	DENY(__NR_unshare),
	DENY(__NR_setns),
	NO_ARG0_BITS(__NR_clone, CLONE_NAMESPACES),
#ifdef __NR_clone3
	/* Its flags are behind a pointer: ENOSYS, on which libc falls back
	 * to clone. */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
	RET(SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
#endif
	DENY(__NR_mount), DENY(__NR_umount2), DENY(__NR_pivot_root),
#ifdef __NR_open_tree
	DENY(__NR_open_tree), DENY(__NR_move_mount), DENY(__NR_fsopen), DENY(__NR_fsconfig),
	DENY(__NR_fsmount), DENY(__NR_fspick),
#endif
#ifdef __NR_mount_setattr
	DENY(__NR_mount_setattr),
#endif
	DENY(__NR_keyctl), DENY(__NR_add_key), DENY(__NR_request_key),
	DENY(__NR_bpf),
	DENY(__NR_perf_event_open),
	DENY(__NR_userfaultfd),
#ifdef __NR_io_uring_setup
	DENY(__NR_io_uring_setup), DENY(__NR_io_uring_enter), DENY(__NR_io_uring_register),
#endif
	RET(SECCOMP_RET_ALLOW),
};
#endif

int
seccomp_known(void)
{
#ifdef FILTER_ARCH
	return 1;
#else
	return 0;
#endif
}

int
seccomp_enter(void)
{
#ifdef FILTER_ARCH
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]),
		.filter = (struct sock_filter *)filter };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0L, 0L);
#else
	errno = ENOSYS;
	return -1;
#endif
}
