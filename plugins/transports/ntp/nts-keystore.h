/* nts-keystore.h -- the NTS cookie master keys on disk: the file `nts-keys` (mode 0600) in
 * the NTS state folder, opened through audit/statedir.c's trust rules, read strictly and
 * replaced atomically, so that a restart (or a reload) keeps every issued cookie valid. */
#ifndef QUORUM_NTS_KEYSTORE_H
#define QUORUM_NTS_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "nts-cookie.h"

#define NTS_KEYSTORE_FILE "nts-keys"

/*
 * nts_keystore_load: reads DIR/nts-keys into R. The folder is made (0700) when missing; the
 * file must pass statedir's checks and be readable by its owner only.
 * RETURN VALUE: 0, -ENOENT (no file yet: R empty), or another -errno with WHY naming the
 * file and the reason (R then empty).
 */
int nts_keystore_load(const char *dir, struct nts_keyring *r, char *why, size_t why_size);

/*
 * nts_keystore_save: replaces DIR/nts-keys with R (a new 0600 file, fsync, rename, fsync of
 * the folder). RETURN VALUE: 0, or -errno with WHY (the old file unchanged).
 */
int nts_keystore_save(const char *dir, const struct nts_keyring *r, char *why, size_t why_size);

/*
 * nts_keystore_sync: the ring as it must be at NOW_S: DIR's keys, rotated (and saved) when
 * there are none or the newest is ROTATION_S old or more, keeping KEPT. *ROTATED is set
 * when this call made a new key. RETURN VALUE: 0 with R, or -errno with WHY (R empty).
 */
int nts_keystore_sync(const char *dir, int64_t rotation_s, unsigned kept, int64_t now_s,
		      struct nts_keyring *r, int *rotated, char *why, size_t why_size);

#endif /* QUORUM_NTS_KEYSTORE_H */
