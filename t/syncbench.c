/* t/syncbench.c: one figure of make bench. How long does it take to make a
 * freshly unpacked tree durable, by fsync(2) of each file and directory
 * or by one syncfs(2) of its file system, while other writers keep dirty
 * data in that file system? syncfs waits for their data too.
 *
 *   syncbench fsync|syncfs DIR      prints: <ms> <files and directories>
 *
 * Built and run by t/bench.sh only; not part of ops-updater. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long count;

static int
sync_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	int fd;

	(void)st;
	(void)ftw;
	if (flag != FTW_F && flag != FTW_D && flag != FTW_DP)
		return 0;	/* symlinks and the like: nothing of theirs to sync */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		perror(path);
		return -1;
	}
	if (fsync(fd) == -1) {
		perror(path);
		close(fd);
		return -1;
	}
	close(fd);
	count++;
	return 0;
}

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	double t0;
	int fd;

	if (argc != 3 || (strcmp(argv[1], "fsync") != 0 && strcmp(argv[1], "syncfs") != 0)) {
		fprintf(stderr, "usage: syncbench fsync|syncfs DIR\n");
		return 64;
	}
	t0 = now_ms();
	if (strcmp(argv[1], "fsync") == 0) {
		/* Depth first: files before the directories that name them. */
		if (nftw(argv[2], sync_one, 64, FTW_PHYS | FTW_DEPTH | FTW_MOUNT) != 0)
			return 1;
	} else {
		if ((fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 || syncfs(fd) == -1) {
			perror(argv[2]);
			return 1;
		}
		close(fd);
	}
	printf("%.0f %ld\n", now_ms() - t0, count);
	return 0;
}
