/* conflex-internal.h -- checks libconfig can't make: Debian's libconfig 1.5 silently wraps an
 * integer literal beyond 32 bits (7200000000000 reads as 1634811904) unless it carries the
 * L suffix of its 64-bit form. quorum.conf holds nanoseconds, so such a literal is a
 * plausible mistake with a silent, dangerous effect; it is refused with file:line. */
#ifndef QUORUM_CONFLEX_INTERNAL_H
#define QUORUM_CONFLEX_INTERNAL_H

#include <stddef.h>

/*
 * conflex_check: scans the configuration file PATH (and the files it @includes, resolved
 * against DIR as quorumd tells libconfig to) for integer literals that libconfig would
 * wrap: decimal beyond [-2^31, 2^31 - 1] or hexadecimal beyond 32 bits, without an L
 * suffix; an @include of anything but a regular file (libconfig 1.5 exits the process on
 * a folder). Comments and strings are skipped.
 * Each @include found is passed to ON_INCLUDE (when not NULL) with the included file's name
 * as libconfig resolves it, and the file and line of the @include; a non-zero return stops
 * the scan and is returned.
 * RETURN VALUE: 0, or -EINVAL with WHY ("file:line: ...") naming the first one; -errno when
 * a file cannot be read (libconfig reports those itself afterwards).
 */
typedef int (*conflex_include_fn)(void *arg, const char *included, const char *file, int line);
int conflex_check(const char *path, const char *dir, conflex_include_fn on_include, void *arg,
		  char *why, size_t why_size);

#endif /* QUORUM_CONFLEX_INTERNAL_H */
