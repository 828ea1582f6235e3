/* quorum/audit.h -- the audit plane's services: the vault (durable, hash-chained records)
 * and the merkle tree over them (proofs, signed checkpoints). The vault and merkle stage
 * plugins publish them with api->service_publish; the host and other plugins (transports
 * serving proofs) find them with api->service_find. Every function runs on the loop thread. */
#ifndef QUORUM_AUDIT_H
#define QUORUM_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/api.h>
#include <quorum/event.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUORUM_VAULT_SERVICE  "quorum.vault/1"
#define QUORUM_MERKLE_SERVICE "quorum.merkle/1"

#define QUORUM_HASH_LEN 32

/* Record types (the vault's own: 1 boot, 2 rotate boundary). */
#define QUORUM_RECORD_BOOT   1 /* record 0: "vault.initial_boot node=..." */
#define QUORUM_RECORD_ROTATE 2 /* first record of a segment: "vault.rotate_boundary ..." */
#define QUORUM_RECORD_EVENT                                                                    \
	16 /* an event the vault stage accepted: its canonical                                 \
	      SignedState bytes */
#define QUORUM_RECORD_AUDIT                                                                    \
	17			    /* a security decision: "type key=value ..." text          \
				       (rejections, agreements, mode changes, key rotations) */
#define QUORUM_RECORD_CHECKPOINT 18 /* a signed checkpoint: C2SP signed note text */
#define QUORUM_RECORD_ROUNDS                                                                   \
	19 /* the vault stage's round log: this node's rounds with                             \
	      their verdicts and audit lines (proto/roundlog.proto) */

/* Witnessed checkpoints (ABI 1.9): events the merkle stages of the quorum send each other
 * over the peer link (api->gossip_send, one hop), each signed by its sender's node key.
 * CHECKPOINT: a log asks a peer to witness its checkpoint; the payload is a C2SP
 *   tlog-witness add-checkpoint body (old size, consistency proof, signed checkpoint).
 * COSIGNATURE: a witness's answer; the payload is the log's latest checkpoint the witness
 *   cosigned, as a signed note carrying the log's signature and the witness's C2SP
 *   tlog-cosignature/v1 line.
 * LOG_MALFEASANCE: evidence that a log signed two checkpoints no append-only log can have
 *   (audit/cosign.h's format), which the control stage checks before it quarantines the
 *   log's node; gossiped like uml001.gossip.malfeasance. */
#define QUORUM_EVENT_CHECKPOINT	     "uml001.merkle.checkpoint"
#define QUORUM_EVENT_COSIGNATURE     "uml001.merkle.cosignature"
#define QUORUM_EVENT_LOG_MALFEASANCE "uml001.merkle.malfeasance"

/* Called for every record appended, right after the write (before it is durable).
 * RECORD (LEN bytes: the stored bytes, the Merkle leaf's data) is borrowed for the call. */
typedef void (*quorum_record_fn)(void *arg, uint64_t index, const uint8_t *record, size_t len);

/* Called once by await_durable: STATUS 0 when the records are durable, -EIO when the vault
 * failed before they were (they may be lost), -ESHUTDOWN when it closed first. */
typedef void (*quorum_durable_fn)(void *arg, int status);

/* What the vault's own checks found (verification). */
struct quorum_vault_check {
	uint64_t verified; /* records the background verification has checked, from 0 */
	uint64_t passes;   /* complete passes over the whole log */
	int corrupt;	   /* 1: a check failed; WHY says where (file, offset, what) */
	char why[256];
};

/* The vault service. VAULT is the state published with it. */
struct quorum_vault_ops {
	uint32_t size; /* sizeof(struct quorum_vault_ops) as the vault was built */
	/* Appends a record of TYPE (QUORUM_RECORD_AUDIT or _CHECKPOINT from other plugins).
	 * *INDEX (may be NULL) gets its index. Durable after the next sync (at once with
	 * fsync = "every"). An audit record written while one of this node's rounds is in the
	 * pipeline goes into that round's entry of the round log instead (*INDEX gets
	 * UINT64_MAX). 0 or -errno. */
	int (*append)(void *vault, uint16_t type, const void *payload, size_t len,
		      uint64_t *index);
	/* Records appended so far / known durable (fsynced). */
	uint64_t (*count)(void *vault);
	uint64_t (*durable)(void *vault);
	/* Runs CB(ARG) on the loop once the first COUNT records are durable: before
	 * returning when they already are. An answer that depends on a record is given from
	 * CB. 0 or -ENOMEM. */
	int (*when_durable)(void *vault, uint64_t count, quorum_callback cb, void *arg);
	/* Calls CB for every later append, until fini. 0 or -ENOMEM. */
	int (*subscribe)(void *vault, quorum_record_fn cb, void *arg);
	/* Calls CB for the stored records with index in [FROM, TO), in order, each checked
	 * against its hash as it is read. 0, -ERANGE, -EBADMSG (a record failed; logged). */
	int (*replay)(void *vault, uint64_t from, uint64_t to, quorum_record_fn cb, void *arg);
	/* The index of the record the vault stage appended for EVENT (the event in flight).
	 * 0, -ENOENT (the vault never saw it), or -EINPROGRESS: a sync round the vault keeps
	 * in its round log (this node's, written with the next QUORUM_RECORD_ROUNDS record,
	 * its verdict and audit records inside) or only counts there (a peer's). */
	int (*event_record)(void *vault, const struct quorum_event *event, uint64_t *index);
	/* Whether the vault cannot write (disk full, read-only, I/O error): 1 with WHY (SIZE
	 * bytes) saying what failed, else 0. While it fails every event is refused and the host
	 * serves no time (it could not log what it answers); the vault retries by reopening
	 * the log once a second and resumes when it can write again. Taken from the reserved
	 * slots: a vault built before it leaves it NULL. */
	int (*failing)(void *vault, char *why, size_t size);
	/* Runs CB(ARG, 0) once the first COUNT records are durable (before returning when they
	 * already are), or CB(ARG, -EIO) as soon as the vault fails before that, or
	 * CB(ARG, -ESHUTDOWN) when it closes first: exactly once, unless cancelled. Every
	 * answer that acknowledges a write is sent from CB, and only with STATUS 0.
	 * 0 or -ENOMEM (CB is not called). NULL in a vault built before it. */
	int (*await_durable)(void *vault, uint64_t count, quorum_durable_fn cb, void *arg);
	/* Forgets every waiter with ARG, await_durable's and when_durable's, without calling
	 * it: its owner goes (a stage's fini; the vault outlives the stages after it). */
	void (*await_cancel)(void *vault, void *arg);
	/* What the background verification of the whole log found so far into OUT. 0, or
	 * -ENOTSUP when it does not run. NULL in a vault built before it. */
	int (*verification)(void *vault, struct quorum_vault_check *out);
	void *reserved[4];
};

/* The merkle service. TREE is the state published with it. */
struct quorum_merkle_ops {
	uint32_t size;
	/* Leaves in the tree (records covered). */
	uint64_t (*tree_size)(void *tree);
	/* Root of the tree of the first SIZE leaves. 0 or -ERANGE. */
	int (*root)(void *tree, uint64_t size, uint8_t out[QUORUM_HASH_LEN]);
	/* Leaf hash of record INDEX. 0 or -ERANGE. */
	int (*leaf_hash)(void *tree, uint64_t index, uint8_t out[QUORUM_HASH_LEN]);
	/* RFC 9162 inclusion proof of leaf INDEX in the tree of SIZE leaves / consistency
	 * proof between sizes OLD and NEW: *COUNT hashes into OUT (CAP hashes).
	 * 0, -ERANGE or -ENOSPC. */
	int (*inclusion_proof)(void *tree, uint64_t index, uint64_t size,
			       uint8_t (*out)[QUORUM_HASH_LEN], size_t cap, size_t *count);
	int (*consistency_proof)(void *tree, uint64_t old_size, uint64_t new_size,
				 uint8_t (*out)[QUORUM_HASH_LEN], size_t cap, size_t *count);
	/* The latest signed checkpoint (C2SP signed note text, NUL-terminated, borrowed
	 * until the next checkpoint), or NULL before the first one. */
	const char *(*checkpoint)(void *tree);
	/* As the vault's: 1 with WHY while the tree cannot be written, else 0. NULL in a merkle
	 * stage built before it. */
	int (*failing)(void *tree, char *why, size_t size);
	void *reserved[7];
};

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_AUDIT_H */
