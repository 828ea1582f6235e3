/* registry.h -- the passports a node holds: one current passport per authority, and the
 * superseded ones whose dropped keys are still accepted during the rotation overlap. Finds
 * the key an event names and says whether it may sign now, for what; decides and installs
 * passport updates; persists rotations in the stage's state folder and reads them back. */
#ifndef QUORUM_REGISTRY_H
#define QUORUM_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "passportdoc.h"

#define REGISTRY_AUTHORITIES_MAX 512	     /* passports held */
#define REGISTRY_PREVIOUS_MAX	 8	     /* superseded passports kept per authority */
#define REGISTRY_PASSPORTS_DIR	 "passports" /* STATE_DIR/passports/AUTHORITY.json */
#define REGISTRY_RETIRED_DIR	 "retired"   /* STATE_DIR/retired/AUTHORITY.json */
#define REGISTRY_RETIRED_FORMAT	 "quorum-passport-retired/1"
#define REGISTRY_FILE_MAX	 (PASSPORT_DOCUMENT_MAX * (REGISTRY_PREVIOUS_MAX + 1))

/* What a lookup found. Names (registry_result_name) are the audit's reasons. */
enum registry_result {
	REGISTRY_OK = 0,
	REGISTRY_UNKNOWN_KEY,	     /* "unknown_key": in no passport held */
	REGISTRY_NOT_YET_VALID,	     /* "key_not_yet_valid": before its not_before_ns */
	REGISTRY_EXPIRED,	     /* "key_expired": from its not_after_ns on, or dropped by
					an update more than the overlap ago */
	REGISTRY_CAPABILITY_MISSING, /* "capability_missing" */
};

const char *registry_result_name(enum registry_result result);

struct registry_previous {
	struct passport *passport; /* owned */
	int64_t retired_ns;	   /* when the update that superseded it was installed */
};

struct registry_entry {
	struct passport *current; /* owned */
	size_t previous_count;
	struct registry_previous previous[REGISTRY_PREVIOUS_MAX]; /* newest first */
};

struct registry {
	int64_t overlap_ns; /* how long keys an update drops stay accepted */
	size_t count;
	struct registry_entry *entries; /* REGISTRY_AUTHORITIES_MAX, allocated by init */
};

/* registry_init: an empty registry. 0 or -ENOMEM. */
int registry_init(struct registry *r, int64_t overlap_ns);

/* registry_release: frees every passport held and the entries. */
void registry_release(struct registry *r);

/* Where a lookup found the key (borrowed from the registry until it changes). */
struct registry_match {
	const struct passport *passport; /* the authority's current passport (capabilities) */
	const struct passport_key *key;
	int retired;	  /* the key was dropped by an update: accepted until until_ns */
	int64_t until_ns; /* retired keys: the end of the overlap */
};

/*
 * registry_lookup: the key KEY_ID of AUTHORITY_ID (NULL: of any authority), and whether it
 * may sign at NOW_NS for CAPABILITY (PASSPORT_CAP_* bits; 0: no capability needed). Current
 * passports are searched first, then the superseded ones (newest first) for keys their
 * successors dropped. OUT is filled whenever the key was found.
 */
enum registry_result registry_lookup(const struct registry *r, const char *authority_id,
				     const char *key_id, int64_t now_ns, unsigned capability,
				     struct registry_match *out);

/* registry_get: AUTHORITY_ID's current passport (borrowed), or NULL. */
const struct passport *registry_get(const struct registry *r, const char *authority_id);

/*
 * registry_set: makes P (owned on success) the current passport of its authority, freeing
 * the one it replaces (no overlap: for loading). RETURN VALUE: 0, or -EEXIST (a key id of
 * P is in another authority's current passport) or -ENOSPC (REGISTRY_AUTHORITIES_MAX held),
 * with WHY.
 */
int registry_set(struct registry *r, struct passport *p, char *why, size_t why_size);

enum registry_update {
	REGISTRY_UPDATE_NEWER,	   /* no passport held for the authority, or a lower serial */
	REGISTRY_UPDATE_DUPLICATE, /* the same passport as held: a replay */
	REGISTRY_UPDATE_STALE,	   /* a lower serial, or the same serial with other contents */
};

/* registry_check_update: how P compares with the passport held for its authority. */
enum registry_update registry_check_update(const struct registry *r, const struct passport *p);

/* What an installed update changed: comma-separated key ids, "-" for none. */
struct registry_change {
	char added[PASSPORT_KEYS_MAX * (PASSPORT_KEY_ID_LEN + 1) + 2];
	char retired[PASSPORT_KEYS_MAX * (PASSPORT_KEY_ID_LEN + 1) + 2];
	int64_t previous_serial; /* 0: the authority had no passport */
};

/*
 * registry_install: installs the update P (owned on success; registry_check_update said
 * NEWER) at NOW_NS: the passport it supersedes is kept, its keys P drops accepted until
 * NOW_NS + overlap; superseded passports whose overlap ended are dropped. With STATE_DIR the
 * authority's new state is written first (registry_save's files, atomically), and nothing
 * changes in memory when that fails.
 * RETURN VALUE: 0 with CHANGE, or -EEXIST (a key of P belongs to another authority),
 * -ENOSPC, -ENOMEM or -errno from writing, with WHY.
 */
int registry_install(struct registry *r, struct passport *p, int64_t now_ns,
		     const char *state_dir, struct registry_change *change, char *why,
		     size_t why_size);

/*
 * registry_add_previous: restores P (owned on success), superseded at RETIRED_NS, for its
 * authority, which must have a current passport of a greater serial.
 * RETURN VALUE: 0, -ENOENT (no such current passport, or not greater), -ENOSPC (already
 * REGISTRY_PREVIOUS_MAX kept), with WHY.
 */
int registry_add_previous(struct registry *r, struct passport *p, int64_t retired_ns, char *why,
			  size_t why_size);

/*
 * registry_load_folder: every *.json of DIR (in name order) is parsed and verified with the
 * trust root ROOT (id ROOT_KEY_ID), then held. FROM_STATE 0 (the configured passports
 * folder): two passports of one authority are an error. FROM_STATE 1 (STATE_DIR/passports):
 * each file must be named AUTHORITY.json, and replaces a held passport only with a greater
 * serial (else it is ignored and counted in *IGNORED). A missing DIR holds nothing.
 * RETURN VALUE: 0 with *LOADED (may be NULL), or -errno with WHY naming the file and what
 * is wrong with it (nothing of that file is held).
 */
int registry_load_folder(struct registry *r, const char *dir, EVP_PKEY *root,
			 const char *root_key_id, int from_state, size_t *loaded,
			 size_t *ignored, char *why, size_t why_size);

/*
 * registry_load_retired: reads STATE_DIR/retired/AUTHORITY.json files (registry_save) back:
 * each superseded passport is verified with ROOT again and kept while NOW_NS is within the
 * overlap after its retired_ns. Files of authorities without a current passport, and
 * entries not older than the current passport, are skipped.
 * RETURN VALUE: 0 with *RESTORED (may be NULL), or -errno with WHY naming the file.
 */
int registry_load_retired(struct registry *r, const char *state_dir, EVP_PKEY *root,
			  const char *root_key_id, int64_t now_ns, size_t *restored, char *why,
			  size_t why_size);

/*
 * registry_save: writes AUTHORITY_ID's state into STATE_DIR (both folders must exist):
 * STATE_DIR/retired/AUTHORITY.json (its superseded passports with their retired_ns), then
 * STATE_DIR/passports/AUTHORITY.json (its current passport, byte for byte as received),
 * each atomically. RETURN VALUE: 0, -ENOENT (no such authority) or -errno with WHY.
 */
int registry_save(const struct registry *r, const char *state_dir, const char *authority_id,
		  char *why, size_t why_size);

#endif /* QUORUM_REGISTRY_H */
