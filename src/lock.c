#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
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
