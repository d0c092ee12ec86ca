#include "idwatch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "file.h"
#include "util.h"

#define STATUS_MAX 16384
/* How long the kernel may take to answer our listen request. */
#define ACK_MS 1000

static int nl = -1;	/* the listener while watching, or -1 */
static int deaf;	/* the kernel would not let us listen: not asked again */
static pid_t before;	/* a process that had the id when we began to listen */

/* Offsets in a process event message: a netlink header, a connector
 * header, then the event. */
#define EV (NLMSG_LENGTH(0) + offsetof(struct cn_msg, data))
#define EV_WHAT (EV + offsetof(struct proc_event, what))
#define EV_RUID (EV + offsetof(struct proc_event, event_data.id.r.ruid))
#define EV_EUID (EV + offsetof(struct proc_event, event_data.id.e.euid))

static int
ours_has(pid_t pid, const pid_t *ours, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ours[i] == pid)
			return 1;
	return 0;
}

/* Does the Uid: or Gid: line of a status text name id? */
static int
has_id(const char *status, const char *key, uid_t id)
{
	const char *p = strstr(status, key);
	char *end;

	if (p == NULL)
		return 0;
	p += strlen(key);
	for (int i = 0; i < 4; i++, p = end) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			break;
		if (v == (unsigned long)id)
			return 1;
	}
	return 0;
}

pid_t
idwatch_scan(uid_t id, const pid_t *ours, size_t n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[64];
	pid_t found = 0;

	while (d != NULL && found == 0 && (de = readdir(d)) != NULL) {
		char *status;
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);

		if (pid <= 0 || ours_has(pid, ours, n))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		if ((status = file_read(path, STATUS_MAX)) == NULL)
			continue;	/* gone meanwhile */
		if (has_id(status, "\nUid:", id) || has_id(status, "\nGid:", id))
			found = pid;
		free(status);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* Keep only the events of a process whose real or effective uid became
 * id, and the kernel's answers to listen requests; drop the rest in the
 * kernel, so that a busy host cannot fill our queue. Socket filters load
 * words in network byte order. */
static int
filter(int fd, uid_t id)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_WHAT),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_NONE), 6, 0),	/* keep */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_UID), 0, 4),	/* drop */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_RUID),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(id), 3, 0),			/* keep */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EV_EUID),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(id), 1, 0),			/* keep */
		BPF_STMT(BPF_RET | BPF_K, 0),						/* drop */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),					/* keep */
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/* Ask for the events (op: PROC_CN_MCAST_LISTEN or _IGNORE); the kernel
 * answers with ack + 1 (its seq is its own count). */
static int
ask(int fd, enum proc_cn_mcast_op op, unsigned ack)
{
	char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))] = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct cn_msg *cn = NLMSG_DATA(nh);

	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	nh->nlmsg_type = NLMSG_DONE;
	nh->nlmsg_pid = (unsigned)getpid();
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->ack = ack;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	return send(fd, buf, nh->nlmsg_len, 0) == (ssize_t)nh->nlmsg_len ? 0 : -1;
}

/* One message from the listener into buf, and its event into *ev: 1, or
 * 0 (none waiting, or not one). *lost is set when the queue overflowed.
 * Copied out: the event stands 36 bytes into the message, off the 8-byte
 * alignment its 64-bit fields need. */
static int
next_event(char *buf, size_t len, int *more, int *lost, struct proc_event *ev)
{
	ssize_t n = recv(nl, buf, len, MSG_DONTWAIT);
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;

	*more = n > 0 || (n == -1 && (errno == EINTR || errno == ENOBUFS));
	if (n == -1 && errno == ENOBUFS)
		*lost = 1;
	if (n < (ssize_t)(EV + sizeof(struct proc_event)) || !NLMSG_OK(nh, (size_t)n) ||
	    nh->nlmsg_type != NLMSG_DONE)
		return 0;
	memcpy(ev, buf + EV, sizeof(*ev));
	return 1;
}

/* Wait for the kernel's answer to our listen request (ack): 0 when it
 * took it. */
static int
acked(unsigned ack)
{
	long long end = now_ms() + ACK_MS;
	char buf[1024] __attribute__((aligned(8)));
	int more, lost = 0;

	while (now_ms() < end) {
		struct pollfd p = { .fd = nl, .events = POLLIN };
		struct proc_event ev;
		const struct cn_msg *cn;

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		if (!next_event(buf, sizeof(buf), &more, &lost, &ev))
			continue;
		cn = NLMSG_DATA((const struct nlmsghdr *)buf);
		if (ev.what == PROC_EVENT_NONE && cn->ack == ack + 1)
			return ev.event_data.ack.err == 0 ? 0 : -1;
	}
	return -1;
}

int
idwatch_start(uid_t id)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	unsigned ack = (unsigned)getpid();

	if (nl != -1)
		close(nl);
	nl = -1;
	/* Only root in the host's namespaces may listen; elsewhere this
	 * fails, or the kernel never answers (once is enough to know). */
	if (deaf || (nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR)) == -1)
		return 0;
	if (filter(nl, id) == -1 || bind(nl, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    ask(nl, PROC_CN_MCAST_LISTEN, ack) == -1 || acked(ack) == -1) {
		close(nl);
		nl = -1;
		deaf = 1;
		return 0;
	}
	/* From here on a process that takes the id is one we are told of;
	 * one that has it already is the host's. */
	before = idwatch_scan(id, NULL, 0);
	return 1;
}

pid_t
idwatch_end(uid_t id, const pid_t *ours, size_t n)
{
	char buf[1024] __attribute__((aligned(8)));
	pid_t found = 0;
	int more = 1, lost = 0, listened = nl != -1;

	while (nl != -1 && more) {
		struct proc_event ev;
		pid_t tgid;

		if (!next_event(buf, sizeof(buf), &more, &lost, &ev) || ev.what != PROC_EVENT_UID ||
		    (ev.event_data.id.r.ruid != id && ev.event_data.id.e.euid != id))
			continue;
		tgid = ev.event_data.id.process_tgid;
		if (found == 0 && !ours_has(tgid, ours, n))
			found = tgid;
	}
	if (nl != -1) {
		(void)ask(nl, PROC_CN_MCAST_IGNORE, 0);
		close(nl);
		nl = -1;
	}
	if (found == 0 && lost)
		return -1;
	/* Heard: any other process with the id now descends from our
	 * children (a leftover of the unpack, to be ended with the rest),
	 * unless one had it before we listened. Deaf: we cannot tell. */
	if (listened)
		return found != 0 ? found : before;
	return found != 0 ? found : idwatch_scan(id, ours, n);
}
