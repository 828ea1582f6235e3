/* statedir.c -- private state folders and their files, opened by the trust rule of
 * statedir.h: no symbolic link, no folder or file another user could have planted. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"

#define WRITABLE_BY_OTHERS (S_IWGRP | S_IWOTH)

static void say(char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* Why the folder D, owned by another user (D->owner), is trusted: its parent is root's and
 * only root writes there, so root made it or gave it away. 0 or -EPERM / -errno. */
static int check_handed_over(const struct statedir *d, char *why, size_t why_size)
{
	struct stat parent;
	int fd, err = 0;

	fd = openat(d->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &parent) != 0) {
		err = -errno;
		say(why, why_size, "%s/..: %s", d->path, strerror(errno));
		goto out;
	}
	if (parent.st_uid != 0 || (parent.st_mode & WRITABLE_BY_OTHERS) != 0) {
		err = -EPERM;
		say(why, why_size,
		    "%s belongs to uid %u, not to this process's user (uid %u), and its parent "
		    "folder (uid %u, mode %04o) is not root's alone, so another user could "
		    "have "
		    "made it",
		    d->path, (unsigned)d->owner, (unsigned)geteuid(), (unsigned)parent.st_uid,
		    (unsigned)(parent.st_mode & 07777));
	}
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int statedir_open(struct statedir *d, const char *path, unsigned flags, char *why,
		  size_t why_size)
{
	struct stat st;
	int err;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->path = path;
	d->read_only = (flags & STATEDIR_READ_ONLY) != 0;
	if ((flags & STATEDIR_CREATE) && !d->read_only) {
		if (mkdir(path, 0700) == 0)
			d->created = 1;
		else if (errno != EEXIST) {
			err = -errno;
			say(why, why_size, "%s: mkdir: %s", path, strerror(errno));
			return err;
		}
	}
	/* Read-only, the folder may be reached through a link (an auditor's copy); its files
	 * still may not be. */
	d->fd = open(path,
		     O_RDONLY | O_DIRECTORY | O_CLOEXEC | (d->read_only ? 0 : O_NOFOLLOW));
	if (d->fd < 0) {
		err = -errno;
		if (err == -ENOTDIR && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
			err = -ELOOP;
			say(why, why_size, "%s is a symbolic link; refusing to follow it",
			    path);
		} else {
			say(why, why_size, "%s: open: %s", path, strerror(-err));
		}
		return err;
	}
	if (fstat(d->fd, &st) != 0) {
		err = -errno;
		say(why, why_size, "%s: fstat: %s", path, strerror(errno));
		goto out_close;
	}
	d->owner = st.st_uid;
	if (d->read_only)
		return 0;
	if ((st.st_mode & WRITABLE_BY_OTHERS) != 0) {
		err = -EPERM;
		say(why, why_size,
		    "%s is writable by group or others (mode %04o), who could plant or swap "
		    "its "
		    "files; chmod go-w it",
		    path, (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		err = check_handed_over(d, why, why_size);
		if (err != 0)
			goto out_close;
	}
	return 0;

out_close:
	statedir_close(d);
	return err;
}

void statedir_close(struct statedir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int statedir_check_file(const struct statedir *d, int fd, const char *name, char *why,
			size_t why_size)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		int err = -errno;

		say(why, why_size, "%s/%s: fstat: %s", d->path, name, strerror(errno));
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		say(why, why_size, "%s/%s is a folder, not a file", d->path, name);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		say(why, why_size, "%s/%s is not a regular file", d->path, name);
		return -EINVAL;
	}
	if (d->read_only)
		return 0;
	if (st.st_uid != geteuid() && st.st_uid != 0 && st.st_uid != d->owner) {
		say(why, why_size,
		    "%s/%s belongs to uid %u, neither this process's user (uid %u), root, nor "
		    "the folder's owner (uid %u)",
		    d->path, name, (unsigned)st.st_uid, (unsigned)geteuid(),
		    (unsigned)d->owner);
		return -EPERM;
	}
	if (st.st_nlink != 1) {
		/* A second name elsewhere: writing here would write there. */
		say(why, why_size, "%s/%s has %lu hard links; it must have one", d->path, name,
		    (unsigned long)st.st_nlink);
		return -EPERM;
	}
	if ((st.st_mode & WRITABLE_BY_OTHERS) != 0) {
		say(why, why_size, "%s/%s is writable by group or others (mode %04o)", d->path,
		    name, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* WHY for a failed openat of NAME. */
static void say_open_failed(const struct statedir *d, const char *name, int err, char *why,
			    size_t why_size)
{
	if (err == -ELOOP)
		say(why, why_size, "%s/%s is a symbolic link; refusing to follow it", d->path,
		    name);
	else if (err == -EEXIST)
		say(why, why_size, "%s/%s exists already (a new file was expected)", d->path,
		    name);
	else
		say(why, why_size, "%s/%s: %s", d->path, name, strerror(-err));
}

/* Opens NAME, existing, and checks it; O_TRUNC only then. */
static int open_existing(const struct statedir *d, const char *name, int base, int trunc,
			 char *why, size_t why_size)
{
	int fd = openat(d->fd, name, base), err;

	if (fd < 0) {
		err = -errno;
		say_open_failed(d, name, err, why, why_size);
		return err;
	}
	err = statedir_check_file(d, fd, name, why, why_size);
	if (err == 0 && trunc && ftruncate(fd, 0) != 0) {
		err = -errno;
		say(why, why_size, "%s/%s: ftruncate: %s", d->path, name, strerror(errno));
	}
	if (err != 0) {
		close(fd);
		return err;
	}
	return fd;
}

int statedir_openat(const struct statedir *d, const char *name, int flags, mode_t mode,
		    char *why, size_t why_size)
{
	int base = (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC;
	int fd, err = -EEXIST;

	/* Twice at most: a file that vanished between the two opens is created, one that
	 * appeared between them is checked. */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!(flags & O_EXCL)) {
			fd = open_existing(d, name, base, (flags & O_TRUNC) != 0, why,
					   why_size);
			if (fd >= 0 || fd != -ENOENT || !(flags & O_CREAT))
				return fd;
		}
		fd = openat(d->fd, name, base | O_CREAT | O_EXCL, mode);
		if (fd < 0) {
			err = -errno;
			if (err == -EEXIST && !(flags & O_EXCL))
				continue;
			break;
		}
		/* O_CREAT honours the umask: set the exact mode asked for. */
		if (fchmod(fd, mode) != 0) {
			err = -errno;
			close(fd);
			say(why, why_size, "%s/%s: fchmod: %s", d->path, name, strerror(-err));
			return err;
		}
		return fd;
	}
	say_open_failed(d, name, err, why, why_size);
	return err;
}
