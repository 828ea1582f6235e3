/* refusals-internal.h -- what nobody can be held to: refusals of unauthenticated datagrams and
 * requests, counted by kind and summarised at a bounded rate instead of audited one by one. */
#ifndef QUORUM_REFUSALS_INTERNAL_H
#define QUORUM_REFUSALS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * A forged datagram or a request without a valid token cannot be attributed to anybody, so
 * writing a fsynced audit record for each would let anyone fill the disk (and a node that
 * cannot write its log serves no time). Instead each refusal is counted under (WHAT, REASON):
 * WHAT says where it was refused ("peer", "gossip", "rest", "pipeline", ...), REASON why.
 * Once per summary interval, each kind refused since the last summary gets one log line and
 * one audit record with the count (nginx rate-limits its error log the same way; chrony
 * never logs per packet). Kinds are static strings of the code, so the table is small;
 * beyond REFUSALS_KINDS_MAX kinds the rest are counted together as ("other", "other").
 */
#define REFUSALS_KINDS_MAX  64
#define REFUSALS_WHAT_MAX   24
#define REFUSALS_REASON_MAX 48
#define REFUSALS_PEER_MAX   64

struct refusal_kind {
	char what[REFUSALS_WHAT_MAX];
	char reason[REFUSALS_REASON_MAX];
	uint64_t total;			   /* since start */
	uint64_t pending;		   /* since the last summary */
	char last_peer[REFUSALS_PEER_MAX]; /* of the latest refusal ("-" when unknown) */
};

struct refusals {
	struct refusal_kind kinds[REFUSALS_KINDS_MAX];
	size_t count;
};

/* refusals_init: an empty table. */
void refusals_init(struct refusals *r);

/*
 * refusals_count: counts one refusal of WHAT for REASON from PEER (NULL or "": unknown); all
 * three borrowed and copied (cut to their fields' sizes). A kind that does not fit in the
 * table is counted as ("other", "other").
 * RETURN VALUE: the kind's count since the last summary (1: the first of the interval).
 */
uint64_t refusals_count(struct refusals *r, const char *what, const char *reason,
			const char *peer);

/* What refusals_summarise hands out for each kind refused since the last summary. */
typedef void (*refusals_emit_fn)(void *arg, const struct refusal_kind *kind);

/*
 * refusals_summarise: calls EMIT once for each kind with refusals since the last call (in the
 * order kinds were first seen), then starts a new interval.
 * RETURN VALUE: how many kinds were emitted.
 */
size_t refusals_summarise(struct refusals *r, refusals_emit_fn emit, void *arg);

/* refusals_total: the count of (WHAT, REASON) since start; NULL REASON: every reason of
 * WHAT; NULL WHAT: every kind. */
uint64_t refusals_total(const struct refusals *r, const char *what, const char *reason);

#endif /* QUORUM_REFUSALS_INTERNAL_H */
