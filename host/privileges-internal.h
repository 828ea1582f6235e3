/* privileges-internal.h -- running as an unprivileged user after start-up: quorumd starts as
 * root (to bind NTP's port 123 and read its keys), then, when quorum.conf names a `user`,
 * becomes that user, keeping only CAP_NET_BIND_SERVICE so that a reload can still bind a
 * low port. */
#ifndef QUORUM_PRIVILEGES_INTERNAL_H
#define QUORUM_PRIVILEGES_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

/* privileges_lookup: USER's uid and gid. RETURN VALUE: 0, or -errno with WHY (-ENOENT: no
 * such user). */
int privileges_lookup(const char *user, uid_t *uid, gid_t *gid, char *why, size_t why_size);

/*
 * privileges_drop: becomes USER (its uid, its gid and supplementary groups), keeping only
 * CAP_NET_BIND_SERVICE, with no_new_privs set; afterwards checks that root cannot be
 * regained. Run as USER already: a no-op. Run as another non-root user: refused.
 * RETURN VALUE: 0, or -errno with WHY; on failure the process must exit (it may be half
 * dropped).
 */
int privileges_drop(const char *user, char *why, size_t why_size);

#endif /* QUORUM_PRIVILEGES_INTERNAL_H */
