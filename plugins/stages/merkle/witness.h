/* witness.h -- the merkle stage's witnessed checkpoints: every node witnesses its peers'
 * logs, and has its own witnessed by them (C2SP tlog-witness over the peer link).
 *
 * As a log, the stage asks each peer (quorumd authority) to cosign its latest checkpoint
 * at most every witness_interval_ms, sending a C2SP add-checkpoint body (the size the peer
 * last cosigned, the consistency proof from it, the signed checkpoint) as the event
 * uml001.merkle.checkpoint; the peer answers with uml001.merkle.cosignature: the latest
 * checkpoint of this log it cosigned, with its cosignature. The checkpoint the stage
 * publishes (the service's checkpoint(): REST /v1/checkpoint and its proofs) is the latest
 * one it submitted, with the cosignatures it got for it.
 *
 * At start the stage signs no checkpoint and the host serves no time until witness_quorum
 * peers told it their latest cosigned checkpoint of this log (it asks with a checkpoint of
 * the empty tree, the one size that has one root). A peer's checkpoint this node signed
 * that its log is shorter than, or whose root its tree does not have, means the folder was
 * rolled back (or forked): the stage then signs nothing and the host serves no time until
 * an operator resolves it (docs/audit.md); what the peer held is kept in DIR/rollback-evidence.
 *
 * As a witness, it cosigns a peer's checkpoint only when it is consistent with the last one
 * it cosigned for that log (kept durably in DIR/witness-state before it answers), and
 * reports two checkpoints no append-only log can have as uml001.merkle.malfeasance, which
 * the control stages check and act on (quarantine) like an equivocation report. */
#ifndef QUORUM_MERKLE_WITNESS_H
#define QUORUM_MERKLE_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/audit.h>
#include <quorum/plugin.h>

/* What the witness needs of the stage: its host, its folder, its log's origin and tree. */
struct witness_env {
	struct quorum_host *host;
	const struct quorum_api *api;
	const char *dir;    /* the merkle folder (borrowed until witness_free) */
	const char *origin; /* the log's origin (borrowed) */
	void *tree;	    /* passed to the functions below */
	uint64_t (*tree_size)(void *tree);
	int (*root)(void *tree, uint64_t size, uint8_t out[QUORUM_HASH_LEN]);
	int (*consistency)(void *tree, uint64_t old_size, uint64_t new_size,
			   uint8_t (*out)[QUORUM_HASH_LEN], size_t cap, size_t *count);
};

/* The settings (the merkle stage's witness, witness_interval_ms, witness_quorum,
 * witness_name). */
struct witness_settings {
	int enabled;
	int64_t interval_ms;
	int64_t quorum;	  /* -1: peers - f */
	int64_t fanout;	  /* peers asked per interval, in turn (0: every peer) */
	const char *name; /* NULL: quorum-time/NODE_ID/witness */
};

struct witness;

/*
 * witness_new: the witness of ENV (borrowed, copied) with SETTINGS. Reads DIR/witness-state
 * (the peers' checkpoints it cosigned) under audit/statedir.h's rule; the peers themselves
 * are read once the time core runs (the first tick).
 * RETURN VALUE: 0 with *OUT (witness_free), or -errno with WHY naming the file.
 */
int witness_new(const struct witness_env *env, const struct witness_settings *settings,
		struct witness **out, char *why, size_t why_size);

/* witness_start: arms its timer. 0 or -ENOMEM. */
int witness_start(struct witness *w);

/* witness_free: NULL is a no-op. */
void witness_free(struct witness *w);

/* witness_may_sign: whether the stage may sign a checkpoint now (not while it waits for its
 * witnesses at start, nor once its log was found rolled back). */
int witness_may_sign(const struct witness *w);

/* witness_signed: the stage signed checkpoint NOTE (LEN bytes, copied) of its log. */
void witness_signed(struct witness *w, const char *note, size_t len);

/* witness_published: the checkpoint to publish with its cosignatures (borrowed until the
 * next call into the witness), or NULL: publish the latest signed one. */
const char *witness_published(struct witness *w);

/* witness_failing: 1 with WHY while the host must serve no time (waiting for the
 * witnesses at start, or rolled back), else 0. */
int witness_failing(const struct witness *w, char *why, size_t size);

/* witness_handles: whether EVENT_ID is one of the witnessed-checkpoint events. */
int witness_handles(const char *event_id);

/* witness_process: one such event, recorded by the vault already. RETURN VALUE:
 * QUORUM_CONTINUE, or QUORUM_REJECT with *REASON (malformed, or from no peer). */
int witness_process(struct witness *w, const struct quorum_event *event, const char **reason);

#endif /* QUORUM_MERKLE_WITNESS_H */
