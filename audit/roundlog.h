/* roundlog.h -- the vault's round log: this node's sync rounds kept several to a record
 * (QUORUM_RECORD_ROUNDS, proto/roundlog.proto), each without what the record holds already
 * or what can be rebuilt exactly, with the pipeline's verdict on it and the audit lines its
 * run wrote; undisputed rounds as their summary (roundlog_keep_all). Reading a record
 * gives back every kept round's SyncRound payload byte for byte, every summarised round's
 * hash (the SHA-256 of the payload is the quorum_hash a served answer names) and every
 * audit line as written:
 * a round is kept shrunk only after its shrunk form was rebuilt and compared equal with the
 * original, so nothing that does not rebuild exactly is ever lost; it is kept as it was.
 *
 * What a shrunk round leaves out: the envelope of each authority's attestation (the event
 * id is always the same, its key id and time repeat the signed payload's), the authority's
 * id and key id (once per record), the nonces (SHA-256 of the round's seed and the
 * authority's id, common/roundnonce.h), the absolute values of the round number, the
 * reference instants, the sequences and the radii (deltas), and the control stage's commit
 * line (its numbers only). The authorities' signatures and everything they sign stay.
 * Uses protobuf-c and libcrypto, no host symbols. Not thread-safe. */
#ifndef QUORUM_ROUNDLOG_H
#define QUORUM_ROUNDLOG_H

#include <stddef.h>
#include <stdint.h>

#define ROUNDLOG_HASH_LEN 32 /* SHA-256 of a round's SyncRound payload */

#define ROUNDLOG_VERDICT_ACCEPT 0
#define ROUNDLOG_VERDICT_REJECT 1
#define ROUNDLOG_VERDICT_HOLD	2

/* The audit type of the control stage's commit line, which a round log keeps by its
 * numbers. */
#define ROUNDLOG_COMMIT_TYPE "bft.sync.commit"

/* ---- writing ---- */

struct roundlog;

/* roundlog_new: an empty log of the rounds of NODE_ID (copied).
 * RETURN VALUE: new (roundlog_free), or NULL when out of memory. */
struct roundlog *roundlog_new(const char *node_id);

/*
 * roundlog_keep_all: with ALL non-zero, every round is kept in full (shrunk, or as it was).
 * By default only the first round of each record and every disputed one are (a round not
 * accepted or not committed, with an audit line besides its commit line, a rejected
 * source or an outlier); every other round is kept as its summary: its round number,
 * reference instants, the SHA-256 of its payload (the quorum_hash its answers name), its
 * verdict and its commit line, but not its attestations (docs/audit.md).
 */
void roundlog_keep_all(struct roundlog *log, int all);

/* roundlog_free: NULL is a no-op. */
void roundlog_free(struct roundlog *log);

/*
 * roundlog_add: adds a round: PAYLOAD (LEN bytes, copied) is the canonical encoding of a
 * SyncRound of the log's node (the payload of its uml001.worker.ntp_sync event).
 * RETURN VALUE: 0, -EINVAL (not a SyncRound, or another node's), -ENOMEM.
 */
int roundlog_add(struct roundlog *log, const uint8_t *payload, size_t len);

/* roundlog_audit: an audit line (TEXT, LEN bytes: "TYPE key=value ...") that the last
 * round's run through the pipeline wrote. RETURN VALUE: 0, -ENOENT (no round), -ENOMEM. */
int roundlog_audit(struct roundlog *log, const char *text, size_t len);

/* roundlog_verdict: the pipeline's final verdict on the last round (ROUNDLOG_VERDICT_*,
 * the stage that gave it and its reason, "" when accepted; both copied).
 * RETURN VALUE: 0, -ENOENT (no round), -ENOMEM. */
int roundlog_verdict(struct roundlog *log, uint32_t verdict, const char *stage,
		     const char *reason);

/* roundlog_peer: counts a round of another node, PEER_ID, received and not kept.
 * RETURN VALUE: 0 or -ENOMEM. */
int roundlog_peer(struct roundlog *log, const char *peer_id);

/* roundlog_count: the rounds held. roundlog_bytes: about what encoding everything held
 * takes. roundlog_empty: 1 when there is nothing to encode (no round, no peer's round). */
size_t roundlog_count(const struct roundlog *log);
size_t roundlog_bytes(const struct roundlog *log);
int roundlog_empty(const struct roundlog *log);

/* roundlog_encode: one record's payload (*OUT, new: free(); *LEN bytes) holding everything
 * added since the last encode; the log is empty afterwards. RETURN VALUE: 0 or -ENOMEM
 * (nothing changed). */
int roundlog_encode(struct roundlog *log, uint8_t **out, size_t *len);

/* ---- reading ---- */

/* One round of a record. Every pointer is owned by the view. */
struct roundlog_round {
	uint64_t round;
	int64_t reference_realtime_ns;
	uint8_t *payload; /* the SyncRound as it was added, LEN bytes; NULL for a summary */
	size_t len;
	int shrunk;			 /* 0: it was kept as it was (or summarised) */
	int summary;			 /* 1: kept as its summary: no payload, its hash only */
	uint8_t hash[ROUNDLOG_HASH_LEN]; /* SHA-256 of the payload (quorum_hash) */
	uint32_t verdict;
	const char *stage, *reason; /* "" when accepted */
	char **audit;		    /* every line as written, the commit line in its place */
	size_t audit_count;
	int committed; /* it had a commit line kept by its numbers: */
	int64_t earliest_ns, estimate_ns, latest_ns;
	uint32_t n, f, accepted, outliers, ntp_used;
};

struct roundlog_peer_count {
	const char *node_id;
	uint64_t rounds;
};

struct roundlog_view {
	const char *node_id;
	struct roundlog_round *rounds;
	size_t count;
	struct roundlog_peer_count *peers;
	size_t peer_count;
	void *message; /* the decoded record */
};

/*
 * roundlog_decode: reads a record's payload (DATA, LEN bytes) into *OUT (new:
 * roundlog_view_free), rebuilding every round. WHY (WHY_SIZE bytes) says what is wrong.
 * RETURN VALUE: 0, -EBADMSG (not a round log, or a round that cannot be rebuilt), -ENOMEM.
 */
int roundlog_decode(const uint8_t *data, size_t len, struct roundlog_view **out, char *why,
		    size_t why_size);

/* roundlog_view_free: NULL is a no-op. */
void roundlog_view_free(struct roundlog_view *view);

#endif /* QUORUM_ROUNDLOG_H */
