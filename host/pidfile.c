/* pidfile.c -- a pidfile locked for the daemon's lifetime (flock), so a stale file from a
 * crashed run is taken over while a live daemon's file is refused. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "pidfile-internal.h"
#include "util-internal.h"

int pidfile_create(const char *path, char *why, size_t why_size)
{
	char text[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		errbuf_set(why, why_size, "cannot open pidfile %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno == EWOULDBLOCK ? -EEXIST : -errno;

		errbuf_set(why, why_size, "pidfile %s is locked: another quorumd is running",
			   path);
		close(fd);
		return err;
	}
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
		int err = -errno;

		errbuf_set(why, why_size, "cannot write pidfile %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

void pidfile_remove(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path);
	close(fd);
}
