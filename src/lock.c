#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int
lock_take(const char *path)
{
	char pid[32];
	ssize_t n;
	int fd, len;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1) {
		log_err(NULL, "open lock file %s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			log_err(NULL, "lock %s", path);
			close(fd);
			return -1;
		}
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		/* Normal when a pass runs long (a slow download, a hung
		 * control): no error, the holder carries on. */
		log_info(NULL, "another pass (pid %s) holds %s; exiting", *pid ? pid : "?", path);
		close(fd);
		return 1;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_err(NULL, "write pid to %s", path);	/* the lock itself holds */
	return 0;	/* fd stays open: the lock lives as long as the pass */
}

/* Does /proc/locks list an flock of pid on inode ino? */
static int
flock_listed(long pid, unsigned long ino)
{
	char line[256], type[16];
	unsigned long i;
	long p;
	FILE *f = fopen("/proc/locks", "re");
	int found = 0;

	if (f == NULL)
		return 0;
	/* "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; a waiter's
	 * line has "->" where the type is. */
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "%*d: %15s %*s %*s %ld %*x:%*x:%lu", type, &p, &i) == 3 &&
		    strcmp(type, "FLOCK") == 0 && p == pid && i == ino;
	fclose(f);
	return found;
}

int
lock_holder(const char *path, long *pid, long long *since)
{
	struct stat st = { 0 };
	char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) == -1)
		return 0;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	*pid = strtol(buf, NULL, 10);
	*since = (long long)st.st_mtime;
	return n > 0 && *pid > 0 && flock_listed(*pid, (unsigned long)st.st_ino);
}
