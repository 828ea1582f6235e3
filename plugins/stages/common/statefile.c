/* statefile.c -- a stage's private folder and its files (see statefile.h): bounded reads
 * without following symbolic links, atomic replacement with fsync of the file and the
 * folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefile.h"

#define WHY(...) snprintf(why, why_size, __VA_ARGS__)

int statefile_mkdir(const char *path, char *why, size_t why_size)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		int err = -errno;

		WHY("cannot create %s: %s", path, strerror(-err));
		return err;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		WHY("%s is not a folder", path);
		return -ENOTDIR;
	}
	return 0;
}

int statefile_read(const char *path, size_t max, uint8_t **data, size_t *len, char *why,
		   size_t why_size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), err = 0;
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	if (fd < 0) {
		err = -errno;
		WHY("cannot open %s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		WHY("%s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		WHY("%s has %lld bytes, more than %zu", path, (long long)st.st_size, max);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		WHY("out of memory reading %s", path);
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			WHY("cannot read %s: %s", path, n < 0 ? strerror(-err) : "it shrank");
			free(buf);
			close(fd);
			return err;
		}
		done += (size_t)n;
	}
	close(fd);
	buf[done] = '\0';
	*data = buf;
	*len = done;
	return 0;
}

int statefile_join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int statefile_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		err = -errno;
	close(fd);
	return err;
}

int statefile_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			   char *why, size_t why_size)
{
	char tmp[4096], final[4096];
	const uint8_t *p = data;
	size_t done = 0;
	int fd, err = 0;

	int n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);

	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    statefile_join(final, sizeof(final), dir, name) != 0) {
		WHY("%s/%s: name too long", dir, name);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		WHY("cannot create %s: %s", tmp, strerror(-err));
		return err;
	}
	while (done < len) {
		ssize_t wrote = write(fd, p + done, len - done);

		if (wrote < 0 && errno == EINTR)
			continue;
		if (wrote < 0) {
			err = -errno;
			goto out_unlink;
		}
		done += (size_t)wrote;
	}
	if (fsync(fd) != 0) {
		err = -errno;
		goto out_unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = -errno;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, final) != 0) {
		err = -errno;
		goto out_unlink;
	}
	err = statefile_fsync_dir(dir);
	if (err != 0)
		WHY("cannot fsync %s: %s", dir, strerror(-err));
	return err;
out_unlink:
	WHY("cannot write %s: %s", tmp, strerror(-err));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}
