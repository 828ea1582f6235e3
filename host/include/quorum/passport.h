/* quorum/passport.h -- the passport stage's service: which public keys each authority may
 * sign with, now, and for what. The passport stage plugin publishes it with
 * api->service_publish; the host's time core (an authority's rotated key) and other plugins
 * find it with api->service_find. Every function runs on the loop thread. */
#ifndef QUORUM_PASSPORT_H
#define QUORUM_PASSPORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUORUM_PASSPORT_SERVICE "quorum.passport/1"

/* The event that installs a new passport: its payload is the passport JSON
 * (schemas/passport.json), the envelope is signed by the trust root's key. */
#define QUORUM_EVENT_PASSPORT_UPDATE "uml001.passport.update"

/* Capabilities a passport grants (its "capabilities" array). */
#define QUORUM_CAPABILITY_ATTEST_TIME "attest_time" /* sign time and rounds */
#define QUORUM_CAPABILITY_CONTROL     "control"	    /* sign uml001.control.* events */

#define QUORUM_PUBLIC_KEY_LEN 32 /* a raw Ed25519 public key */

struct quorum_passport_ops {
	uint32_t size; /* sizeof(struct quorum_passport_ops) as the passport stage was built */
	/*
	 * key_lookup: may AUTHORITY_ID sign with KEY_ID at NOW_NS (ns since 1970) for
	 * CAPABILITY (QUORUM_CAPABILITY_*; NULL: any)? A key of its installed passport counts
	 * inside its validity window; a key a passport update dropped counts until the update
	 * time plus the configured rotation overlap. All arguments borrowed.
	 * RETURN VALUE: 0 with the raw key in PUBLIC_KEY; -ENOENT (no passport for the
	 * authority, or no such key in it); -EKEYEXPIRED (outside its window: not yet valid,
	 * expired, or its overlap ended); -EPERM (the passport lacks CAPABILITY).
	 */
	int (*key_lookup)(void *passport, const char *authority_id, const char *key_id,
			  int64_t now_ns, const char *capability,
			  uint8_t public_key[QUORUM_PUBLIC_KEY_LEN]);
	void *reserved[8];
};

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_PASSPORT_H */
