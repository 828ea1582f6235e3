/* pidfile-internal.h -- a locked pidfile: written at start, removed at exit, and held with
 * flock so that a second quorumd with the same pidfile refuses to start. */
#ifndef QUORUM_PIDFILE_INTERNAL_H
#define QUORUM_PIDFILE_INTERNAL_H

#include <stddef.h>

/* pidfile_create: creates or takes over PATH, locks it and writes our pid.
 * RETURN VALUE: the descriptor holding the lock (pidfile_remove), or -errno with WHY
 * (-EEXIST: another live process holds it). */
int pidfile_create(const char *path, char *why, size_t why_size);

/* pidfile_remove: unlinks PATH and releases FD; FD < 0 is a no-op. */
void pidfile_remove(const char *path, int fd);

#endif /* QUORUM_PIDFILE_INTERNAL_H */
