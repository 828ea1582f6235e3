/* util.c -- small helpers shared by quorumd and the tools: error buffers, strict hex,
 * checked whole-file reads and careful writes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util-internal.h"

void errbuf_set(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

int file_read_checked(const char *path, size_t max_size, unsigned flags, uint8_t **data,
		      size_t *len, char *why, size_t why_size)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)
			errbuf_set(why, why_size,
				   "%s is a symbolic link; refusing to follow it", path);
		else
			errbuf_set(why, why_size, "cannot open %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) != 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot stat %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		errbuf_set(why, why_size, "%s is not a regular file", path);
		goto out_close;
	}
	if ((flags & FILE_CHECK_NOT_GROUP_WRITABLE) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		err = -EPERM;
		errbuf_set(why, why_size, "%s is writable by group or others (mode %04o)", path,
			   (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	if ((flags & FILE_CHECK_PRIVATE) && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		err = -EPERM;
		errbuf_set(why, why_size,
			   "%s is accessible by group or others (mode %04o); it must be 0600",
			   path, (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	if ((uint64_t)st.st_size > max_size) {
		err = -EFBIG;
		errbuf_set(why, why_size, "%s is larger than %zu bytes", path, max_size);
		goto out_close;
	}
	/* Clear O_NONBLOCK (it only kept open() from hanging on a FIFO). */
	fcntl(fd, F_SETFL, 0);
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		err = -ENOMEM;
		errbuf_set(why, why_size, "out of memory reading %s", path);
		goto out_close;
	}
	/* Read at most the size seen by fstat: a file growing under us is not read past it. */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			errbuf_set(why, why_size, "cannot read %s: %s", path,
				   n < 0 ? strerror(errno) : "file shrank while reading");
			free(buf);
			goto out_close;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	err = 0;
out_close:
	close(fd);
	return err;
}

/* Writes all of DATA to FD. 0 or -errno. */
static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* Writes DATA with MODE to a new file (FD, open on it), fsyncs and closes it. 0 or -errno
 * with WHY naming PATH. */
static int write_close(int fd, const char *path, const void *data, size_t len, unsigned mode,
		       char *why, size_t why_size)
{
	int err = 0;

	/* O_CREAT honours the umask; set the exact mode we promised. */
	if (fchmod(fd, mode) != 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot chmod %s: %s", path, strerror(errno));
	}
	if (err == 0) {
		err = write_all(fd, data, len);
		if (err != 0)
			errbuf_set(why, why_size, "cannot write %s: %s", path, strerror(-err));
	}
	if (err == 0 && fsync(fd) != 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot fsync %s: %s", path, strerror(errno));
	}
	if (close(fd) != 0 && err == 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot close %s: %s", path, strerror(errno));
	}
	return err;
}

/* Replaces PATH by a new inode holding DATA: a temporary file of its own (mkostemp: O_EXCL,
 * mode 0600 from the first instant), written, fsynced, renamed over PATH, and the folder
 * fsynced. Whatever PATH was (another user's file, a link) is replaced, never written. */
static int file_replace(const char *path, const void *data, size_t len, unsigned mode,
			char *why, size_t why_size)
{
	char tmp[PATH_MAX], folder[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, err;

	if (slash == NULL)
		snprintf(folder, sizeof(folder), ".");
	else if (slash == path)
		snprintf(folder, sizeof(folder), "/");
	else
		snprintf(folder, sizeof(folder), "%.*s", (int)(slash - path), path);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", folder,
		     slash != NULL ? slash + 1 : path) >= (int)sizeof(tmp)) {
		errbuf_set(why, why_size, "cannot create %s: name too long", path);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot create a temporary file beside %s: %s", path,
			   strerror(errno));
		return err;
	}
	err = write_close(fd, tmp, data, len, mode, why, why_size);
	if (err == 0 && rename(tmp, path) != 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot rename %s to %s: %s", tmp, path,
			   strerror(errno));
	}
	if (err != 0) {
		unlink(tmp);
		return err;
	}
	fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot fsync the folder of %s: %s", path,
			   strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

int file_write_new(const char *path, const void *data, size_t len, unsigned mode, int replace,
		   char *why, size_t why_size)
{
	int fd, err;

	if (replace)
		return file_replace(path, data, len, mode, why, why_size);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot create %s: %s", path, strerror(errno));
		return err;
	}
	err = write_close(fd, path, data, len, mode, why, why_size);
	if (err != 0)
		unlink(path); /* ours, new: no half-written file stays behind */
	return err;
}
