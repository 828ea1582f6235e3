/* util-internal.h -- small helpers shared by quorumd and the tools: error text buffers,
 * strict lowercase hex, whole-file reads with the loader's safety checks. */
#ifndef QUORUM_UTIL_INTERNAL_H
#define QUORUM_UTIL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hex.h"

/* Size of the caller-owned buffers that receive a one-line error description. */
#define ERRBUF_SIZE 512

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* errbuf_set: formats a one-line description into BUF (SIZE bytes); BUF may be NULL. */
void errbuf_set(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* hex_encode, hex_decode (strict lowercase: uppercase is refused so that every text has
 * one spelling, a flipped case bit is an error): common/hex.h. */

/* Flags for file_read_checked. */
#define FILE_CHECK_NOT_GROUP_WRITABLE 0x1u /* refuse a file writable by group or others */
#define FILE_CHECK_PRIVATE	      0x2u /* refuse a file readable by group or others */

/*
 * file_read_checked: opens PATH with O_NOFOLLOW, checks it is a regular file no larger
 * than MAX_SIZE (and the FLAGS), reads it once.
 * RETURN VALUE: 0 with *DATA (new, free with free(); NUL-terminated beyond *LEN) and *LEN,
 * or -errno with a description in WHY: -ELOOP symlink, -EFTYPE-like -EINVAL not a regular
 * file, -EPERM bad mode, -EFBIG too large.
 */
int file_read_checked(const char *path, size_t max_size, unsigned flags, uint8_t **data,
		      size_t *len, char *why, size_t why_size);

/* file_write_new: writes DATA to PATH with exactly MODE, fsynced. Without REPLACE, PATH must
 * not exist (O_EXCL; removed again if the write fails). With REPLACE, a new inode takes
 * PATH's name: written to a temporary file beside it (created O_EXCL, mode 0600 until
 * MODE is set), fsynced, renamed over PATH, and the folder fsynced; whatever held the name
 * (another user's file, a link) is replaced, never written through, and a descriptor
 * someone kept on it never sees the new bytes. RETURN VALUE: 0 or -errno with WHY. */
int file_write_new(const char *path, const void *data, size_t len, unsigned mode, int replace,
		   char *why, size_t why_size);

#endif /* QUORUM_UTIL_INTERNAL_H */
