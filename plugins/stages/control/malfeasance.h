/* malfeasance.h -- the control stage's answer to a malfeasance report
 * (uml001.gossip.malfeasance, from this node's gossip stage or a peer's): the report is
 * checked again here, both attestations through api->authority_verify (a peer's word alone
 * is not evidence), and the equivocating authority is quarantined for quarantine_s. */
#ifndef QUORUM_CONTROL_MALFEASANCE_H
#define QUORUM_CONTROL_MALFEASANCE_H

#include <stdint.h>

#include <quorum/plugin.h>

/* The pipeline reason of a report that proves nothing. */
#define MALFEASANCE_REPORT_INVALID "malfeasance_report_invalid"

struct malfeasance {
	uint64_t acted;	  /* reports that quarantined an authority */
	uint64_t known;	  /* valid reports about an authority already quarantined */
	uint64_t refused; /* reports that proved nothing */
};

/*
 * malfeasance_process: decides EVENT (a uml001.gossip.malfeasance) for the control stage
 * of HOST. A report that does not check out is refused (MALFEASANCE_REPORT_INVALID, audited
 * as gossip.malfeasance.reject with why). A valid one quarantines its authority through
 * api->source_quarantine for QUARANTINE_S seconds, audited as pipeline.quarantine (reason
 * quarantine_logged, cause equivocation), unless QUARANTINE_AFTER is 0 (quarantine off:
 * only audited) or the authority is quarantined already.
 * RETURN VALUE: QUORUM_CONTINUE, or QUORUM_REJECT with *REASON.
 */
int malfeasance_process(struct malfeasance *m, struct quorum_host *host,
			const struct quorum_api *api, const struct quorum_event *event,
			int64_t quarantine_after, int64_t quarantine_s, const char **reason);

/* The pipeline reason of log evidence that proves nothing. */
#define LOG_MALFEASANCE_INVALID "log_malfeasance_invalid"

/*
 * log_malfeasance_process: the same for EVENT, a uml001.merkle.malfeasance: evidence that a
 * node's log signed two checkpoints no append-only log can have (audit/cosign.h), checked
 * here with the authorities' keys. Invalid: refused (LOG_MALFEASANCE_INVALID, audited as
 * merkle.malfeasance.reject). Valid: the log's node is quarantined as for equivocation
 * (pipeline.quarantine cause=log_fork), unless quarantine is off or it is this node (its
 * merkle stage stops signing; merkle.malfeasance.recorded).
 * RETURN VALUE: QUORUM_CONTINUE, or QUORUM_REJECT with *REASON.
 */
int log_malfeasance_process(struct malfeasance *m, struct quorum_host *host,
			    const struct quorum_api *api, const struct quorum_event *event,
			    int64_t quarantine_after, int64_t quarantine_s,
			    const char **reason);

#endif /* QUORUM_CONTROL_MALFEASANCE_H */
