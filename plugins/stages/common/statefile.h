/* statefile.h -- a stage's state files: its private folder, bounded reads that follow no
 * symbolic link, and atomic replacement (temporary file, fsync, rename, fsync of the
 * folder) so a crash leaves the old file or the new one, never a mix. Compiled into the
 * passport and control stages. */
#ifndef QUORUM_STATEFILE_H
#define QUORUM_STATEFILE_H

#include <stddef.h>
#include <stdint.h>

/* statefile_mkdir: makes folder PATH (mode 0700) unless it exists; it must be a folder.
 * RETURN VALUE: 0 or -errno with WHY. */
int statefile_mkdir(const char *path, char *why, size_t why_size);

/*
 * statefile_read: reads the regular file PATH (opened with O_NOFOLLOW), at most MAX bytes.
 * RETURN VALUE: 0 with *DATA (new: free(); NUL-terminated beyond *LEN) and *LEN, or -errno
 * with WHY (-ENOENT missing, -EFBIG too large, -EINVAL not a regular file).
 */
int statefile_read(const char *path, size_t max, uint8_t **data, size_t *len, char *why,
		   size_t why_size);

/*
 * statefile_write_atomic: replaces DIR/NAME with DATA (LEN bytes, mode 0600): writes
 * DIR/.NAME.tmp, fsyncs it, renames it over DIR/NAME and fsyncs DIR.
 * RETURN VALUE: 0 or -errno with WHY (DIR/NAME unchanged).
 */
int statefile_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			   char *why, size_t why_size);

/* statefile_join: "DIR/NAME" into OUT (SIZE bytes). 0, or -ENAMETOOLONG (OUT then ""). */
int statefile_join(char *out, size_t size, const char *dir, const char *name);

/* statefile_fsync_dir: fsyncs folder DIR (after a rename into it). 0 or -errno. */
int statefile_fsync_dir(const char *dir);

#endif /* QUORUM_STATEFILE_H */
