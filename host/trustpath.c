/* trustpath.c -- StrictModes for trust material: walks a path from "/" one component at a
 * time (following symbolic links as the kernel would) and checks owner and mode on the way. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privileges-internal.h"
#include "trustpath-internal.h"
#include "util-internal.h"

/* The walk: the folder it stands in, and that folder's physical path (for messages). */
struct trust_walk {
	int dirfd;
	char shown[PATH_MAX];
	uid_t service_uid;
	unsigned flags;
	char *why;
	size_t why_size;
};

static int check_owner(const struct trust_walk *w, const struct stat *st, const char *what)
{
	if (st->st_uid == 0 || st->st_uid == w->service_uid)
		return 0;
	errbuf_set(w->why, w->why_size,
		   "%s %s is owned by uid %u, not by root or the service user (uid %u)", what,
		   w->shown, (unsigned)st->st_uid, (unsigned)w->service_uid);
	return -EPERM;
}

/* A folder on the way: a sticky folder may be writable by others (see the header). */
static int check_folder(const struct trust_walk *w, const struct stat *st)
{
	int err = check_owner(w, st, "folder");

	if (err != 0)
		return err;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st->st_mode & S_ISVTX) == 0) {
		errbuf_set(w->why, w->why_size,
			   "folder %s is writable by group or others (mode %04o)", w->shown,
			   (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* The object the path names. */
static int check_object(const struct trust_walk *w, const struct stat *st)
{
	int directory = (w->flags & TRUST_PATH_DIRECTORY) != 0, err;

	if (directory && !S_ISDIR(st->st_mode)) {
		errbuf_set(w->why, w->why_size, "%s is not a folder", w->shown);
		return -ENOTDIR;
	}
	if (!directory && !S_ISREG(st->st_mode)) {
		errbuf_set(w->why, w->why_size, "%s is not a regular file", w->shown);
		return -EINVAL;
	}
	err = check_owner(w, st, directory ? "folder" : "file");
	if (err != 0)
		return err;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		errbuf_set(w->why, w->why_size, "%s is writable by group or others (mode %04o)",
			   w->shown, (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	if ((w->flags & TRUST_PATH_PRIVATE) != 0 && (st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		errbuf_set(w->why, w->why_size,
			   "%s is accessible by group or others (mode %04o); it must be 0600",
			   w->shown, (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int walk_stat(struct trust_walk *w, int fd, struct stat *st)
{
	if (fstat(fd, st) == 0)
		return 0;
	errbuf_set(w->why, w->why_size, "cannot stat %s: %s", w->shown, strerror(errno));
	return -errno;
}

/* Moves the walk into folder FD (owned from now on) after checking it. */
static int walk_enter(struct trust_walk *w, int fd)
{
	struct stat st;
	int err = walk_stat(w, fd, &st);

	if (err == 0 && !S_ISDIR(st.st_mode)) {
		errbuf_set(w->why, w->why_size, "%s is not a folder", w->shown);
		err = -ENOTDIR;
	}
	if (err == 0)
		err = check_folder(w, &st);
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->dirfd = fd;
	return err;
}

static int walk_root(struct trust_walk *w)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	snprintf(w->shown, sizeof(w->shown), "/");
	if (fd < 0) {
		errbuf_set(w->why, w->why_size, "cannot open /: %s", strerror(errno));
		return -errno;
	}
	return walk_enter(w, fd);
}

/* Appends NAME (LEN bytes) to the shown path, or drops its last component for "..". */
static int shown_step(struct trust_walk *w, const char *name, size_t len)
{
	size_t at = strlen(w->shown);

	if (len == 2 && memcmp(name, "..", 2) == 0) {
		char *slash = strrchr(w->shown, '/');

		if (slash != NULL && slash != w->shown)
			*slash = '\0';
		else
			snprintf(w->shown, sizeof(w->shown), "/");
		return 0;
	}
	if (at + 1 + len >= sizeof(w->shown)) {
		errbuf_set(w->why, w->why_size, "path too long after %s", w->shown);
		return -ENAMETOOLONG;
	}
	if (at > 1)
		w->shown[at++] = '/';
	memcpy(w->shown + at, name, len);
	w->shown[at + len] = '\0';
	return 0;
}

/* Replaces REST (of which *CURSOR is the part still to walk) by TARGET "/" the rest. */
static int splice_link(struct trust_walk *w, char *rest, size_t rest_size, const char **cursor,
		       const char *target)
{
	char joined[PATH_MAX];
	int n = snprintf(joined, sizeof(joined), "%s/%s", target, *cursor);

	if (n < 0 || (size_t)n >= sizeof(joined) || (size_t)n >= rest_size) {
		errbuf_set(w->why, w->why_size, "path too long after the link at %s", w->shown);
		return -ENAMETOOLONG;
	}
	memcpy(rest, joined, (size_t)n + 1);
	*cursor = rest;
	return 0;
}

/* Follows the symbolic link LINK_FD (in the walk's folder, named NAME for messages). */
static int walk_link(struct trust_walk *w, int link_fd, const char *name, char *rest,
		     size_t rest_size, const char **cursor)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(link_fd, "", target, sizeof(target) - 1);
	int err;

	if (n <= 0) {
		errbuf_set(w->why, w->why_size, "cannot read the link %s in %s: %s", name,
			   w->shown, n < 0 ? strerror(errno) : "empty");
		return n < 0 ? -errno : -EINVAL;
	}
	target[n] = '\0';
	err = splice_link(w, rest, rest_size, cursor, target);
	if (err == 0 && target[0] == '/')
		err = walk_root(w);
	return err;
}

int trust_path_check(const char *path, uid_t service_uid, unsigned flags, char *why,
		     size_t why_size)
{
	struct trust_walk w = { .dirfd = -1,
				.service_uid = service_uid,
				.flags = flags,
				.why = why,
				.why_size = why_size };
	char rest[PATH_MAX];
	const char *cursor = rest;
	int links = 0, err;

	if (path[0] != '/') {
		errbuf_set(why, why_size, "%s is not an absolute path", path);
		return -EINVAL;
	}
	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest)) {
		errbuf_set(why, why_size, "path too long: %s", path);
		return -ENAMETOOLONG;
	}
	err = walk_root(&w);
	while (err == 0) {
		char name[NAME_MAX + 1];
		size_t len;
		struct stat st;
		int fd, last;

		while (*cursor == '/')
			cursor++;
		if (*cursor == '\0') { /* the path ends at the folder the walk stands in */
			err = walk_stat(&w, w.dirfd, &st);
			if (err == 0)
				err = check_object(&w, &st);
			break;
		}
		len = strcspn(cursor, "/");
		if (len > NAME_MAX) {
			errbuf_set(why, why_size, "a name in %s is too long", path);
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(name, cursor, len);
		name[len] = '\0';
		cursor += len;
		last = cursor[strspn(cursor, "/")] == '\0';
		if (strcmp(name, ".") == 0)
			continue;
		fd = openat(w.dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			errbuf_set(why, why_size, "cannot open %s%s%s: %s", w.shown,
				   strcmp(w.shown, "/") == 0 ? "" : "/", name, strerror(errno));
			break;
		}
		err = walk_stat(&w, fd, &st);
		if (err == 0 && S_ISLNK(st.st_mode)) {
			if (++links > TRUST_PATH_LINKS_MAX) {
				errbuf_set(why, why_size, "too many symbolic links in %s",
					   path);
				err = -ELOOP;
			} else {
				err = walk_link(&w, fd, name, rest, sizeof(rest), &cursor);
			}
			close(fd);
			continue;
		}
		if (err == 0)
			err = shown_step(&w, name, len);
		if (err == 0 && last && !S_ISDIR(st.st_mode)) {
			err = check_object(&w, &st);
			close(fd);
			break;
		}
		if (err != 0) {
			close(fd);
			break;
		}
		err = walk_enter(&w,
				 fd); /* a folder on the way, or the last one (checked next) */
	}
	if (w.dirfd >= 0)
		close(w.dirfd);
	return err;
}

int trust_service_uid(const char *user, uid_t *uid, char *why, size_t why_size)
{
	gid_t gid;

	if (user == NULL) {
		*uid = geteuid();
		return 0;
	}
	return privileges_lookup(user, uid, &gid, why, why_size);
}
