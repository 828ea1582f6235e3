/* trustpath-internal.h -- OpenSSH's StrictModes for quorumd's trust material: a file that
 * decides what quorumd trusts, and every folder on the way to it, must be safe from others. */
#ifndef QUORUM_TRUSTPATH_INTERNAL_H
#define QUORUM_TRUSTPATH_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

/* Flags for trust_path_check. */
#define TRUST_PATH_DIRECTORY 0x1u /* PATH must be a folder (else a regular file) */
#define TRUST_PATH_PRIVATE   0x2u /* PATH must not be accessible by group or others */

/* At most this many symbolic links are followed on the way (the kernel's own bound). */
#define TRUST_PATH_LINKS_MAX 40

/*
 * trust_path_check: resolves the absolute PATH one component at a time, from "/", and
 * checks every folder it passes through (the folders holding symbolic links included) and
 * the object it ends at:
 *   - each must be owned by root or by SERVICE_UID;
 *   - none may be writable by group or others, except a folder with the sticky bit (like
 *     /tmp) on the way: there nobody can rename or remove what root or SERVICE_UID owns,
 *     and whatever others create there is theirs, which the owner rule refuses;
 *   - the object must be a regular file (a folder with TRUST_PATH_DIRECTORY), and with
 *     TRUST_PATH_PRIVATE not readable, writable or searchable by group or others.
 * So only root and SERVICE_UID can change what PATH names or holds.
 * RETURN VALUE: 0, or -errno with WHY naming the offending path component and the reason:
 * -EPERM owner or mode, -ENOENT missing, -ENOTDIR / -EINVAL wrong type, -ELOOP too many
 * links, -ENAMETOOLONG.
 */
int trust_path_check(const char *path, uid_t service_uid, unsigned flags, char *why,
		     size_t why_size);

/* trust_service_uid: the service user's uid: USER's (the `user` setting) when USER is not
 * NULL, else the effective uid. RETURN VALUE: 0 with *UID, or -errno with WHY. */
int trust_service_uid(const char *user, uid_t *uid, char *why, size_t why_size);

#endif /* QUORUM_TRUSTPATH_INTERNAL_H */
