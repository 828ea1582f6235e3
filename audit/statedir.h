/* statedir.h -- the audit plane's private folders (the vault's, the merkle stage's) and the
 * files in them, opened so that no other user can have planted, swapped or redirected them.
 *
 * The trust rule, for a folder opened to be written:
 *   - the folder itself is not a symbolic link, and group and others cannot write to it;
 *   - it belongs to the effective user or to root, or it was handed over: it belongs to
 *     another user but its parent folder belongs to root and only root can write there,
 *     so only root can have created it or given it away (quorum.conf's `user`, systemd's
 *     StateDirectory=). A folder another user could have made is refused.
 *   - its files are opened by name inside it (openat), never through a symbolic link; an
 *     existing file must be a regular file with one link, owned by the effective user, by
 *     root (quorumd writes as root until it drops to `user`) or by the folder's owner, not
 *     writable by group or others; a file is created only when it is new (O_EXCL), and
 *     never truncated before it passed those checks.
 * A folder opened read-only (an audit of someone else's vault) is not held to the owner and
 * mode rules and may be reached through a symbolic link; its files are still opened without
 * following symbolic links and must be regular files. Not thread-safe; no global state. */
#ifndef QUORUM_STATEDIR_H
#define QUORUM_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

#define STATEDIR_CREATE	   0x1u /* make the folder (mode 0700) when it is missing */
#define STATEDIR_READ_ONLY 0x2u /* nothing will be written: no owner or mode rule */

struct statedir {
	int fd;		  /* the folder (O_DIRECTORY), or -1 */
	const char *path; /* borrowed: the caller keeps it while the folder is open */
	uid_t owner;	  /* the folder's owner, whose files are trusted beside ours */
	int read_only;
	int created; /* statedir_open made the folder */
};

/*
 * statedir_open: opens folder PATH (borrowed, kept in D) by the rule above.
 * RETURN VALUE: 0 with D filled (statedir_close), or -errno with WHY naming PATH and the
 * reason: -ELOOP a symbolic link, -ENOTDIR not a folder, -EPERM owner or mode, or what
 * mkdir/open said. D->fd is -1 on failure.
 */
int statedir_open(struct statedir *d, const char *path, unsigned flags, char *why,
		  size_t why_size);

/* statedir_close: closes D's folder; a closed or never opened D (fd -1) is a no-op. */
void statedir_close(struct statedir *d);

/*
 * statedir_openat: opens file NAME of folder D with FLAGS (an access mode, and O_CREAT,
 * O_EXCL, O_TRUNC, O_APPEND as for open); O_NOFOLLOW and O_CLOEXEC are always added.
 * O_CREAT | O_EXCL: only a new file (MODE, set exactly with fchmod). O_CREAT alone: an
 * existing file that passes the checks, else a new one. O_TRUNC: applied only after the
 * checks.
 * RETURN VALUE: a descriptor the caller closes, or -errno with WHY naming PATH/NAME: -ENOENT
 * absent (without O_CREAT), -EEXIST taken (with O_EXCL), -ELOOP a symbolic link, -EINVAL
 * not a regular file (-EISDIR for a folder opened to be written), -EPERM owner, mode or
 * links.
 */
int statedir_openat(const struct statedir *d, const char *name, int flags, mode_t mode,
		    char *why, size_t why_size);

/* statedir_check_file: the checks statedir_openat makes on FD, open on file NAME of D.
 * RETURN VALUE: 0, or -errno with WHY (see statedir_openat). */
int statedir_check_file(const struct statedir *d, int fd, const char *name, char *why,
			size_t why_size);

#endif /* QUORUM_STATEDIR_H */
