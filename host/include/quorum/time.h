/* quorum/time.h -- the time types the host and plugins share: authorities, signed time
 * attestations, rounds of observations, agreements, and readings of the served clock. */
#ifndef QUORUM_TIME_H
#define QUORUM_TIME_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Event ids of the time core. */
#define QUORUM_EVENT_SYNC_ROUND	 "uml001.worker.ntp_sync"
#define QUORUM_EVENT_ATTESTATION "uml001.authority.attestation"
#define QUORUM_EVENT_SERVED_TIME "uml001.served_time" /* api->attest_time, ABI 1.3 */

#define QUORUM_NONCE_LEN       32
#define QUORUM_DIGEST_LEN      32
#define QUORUM_AUTHORITIES_MAX 512 /* configured sources, and observations in one round */

enum quorum_authority_type {
	QUORUM_AUTHORITY_QUORUMD =
		1,		  /* another quorumd: Ed25519-signed answers, counted in n */
	QUORUM_AUTHORITY_NTP = 2, /* a plain NTP server: unauthenticated, never counted in n */
};

enum quorum_authority_status {
	QUORUM_AUTHORITY_STATUS_UNSPECIFIED = 0,
	QUORUM_AUTHORITY_SYNCHRONISED = 1,
	QUORUM_AUTHORITY_UNSYNCHRONISED = 2,
};

/* The configured sources: n authenticated authorities (f = floor((n-1)/3) of which may lie)
 * and any number of NTP sources. */
struct quorum_authority_set {
	uint32_t n;
	uint32_t f;
	uint32_t ntp_sources;
	uint32_t reserved;
};

/* What an authority signed (proto TimeAttestation). Strings borrowed, "" when unset. */
struct quorum_attestation {
	const char *authority_id;
	const char *key_id;
	struct quorum_bytes nonce;
	int64_t midpoint_ns;	/* its clock when the request arrived */
	uint64_t radius_ns;	/* its uncertainty about that reading */
	uint64_t sequence;	/* strictly increasing */
	uint32_t status;	/* enum quorum_authority_status */
	uint64_t processing_ns; /* from the reading to the answer's sending */
};

/* One answer in a round, checked by the host against the configured sources. */
struct quorum_observation {
	const char *source_id;
	uint32_t type; /* enum quorum_authority_type */
	const char
		*problem; /* NULL when the host verified it (known source, its key id, a valid
			     signature over canonical bytes); else why it cannot count, e.g.
			     "untrusted_authority", "signature_invalid", "key_id_mismatch" */
	struct quorum_attestation attestation;
	int64_t rtt_ns; /* the asker's CLOCK_MONOTONIC round trip */
	int64_t age_ns; /* from the answer's receipt to the round's reference instant */
	int64_t sending_hint_ns; /* unsigned: the authority's time after its signed processing
				    figure; may place an estimate, never bound one (0: none) */
};

/* A decoded uml001.worker.ntp_sync payload (proto SyncRound). Owned by the host. */
struct quorum_round {
	const char *node_id; /* the asker */
	uint64_t round;
	int64_t reference_mono_ns;     /* the asker's CLOCK_MONOTONIC (only meaningful to it) */
	int64_t reference_realtime_ns; /* the asker's CLOCK_REALTIME at the reference */
	uint32_t drift_ppm;	       /* rate error the asker assumes over rtt and age */
	int local;		       /* 1 when the asker is this node */
	size_t observation_count;
	const struct quorum_observation *observations;
	size_t rejected_count;
	const char *const *rejected_sources;
	uint8_t digest[QUORUM_DIGEST_LEN]; /* SHA-256 of the payload: the round's quorum hash */
	/* ABI 1.4: why each rejected source was refused on arrival (parallel to
	 * rejected_sources; an entry is NULL when the asker did not say). */
	const char *const *rejected_reasons;
};

/* An agreement proposed by the convergence stage, committed by the control stage.
 * Plain data: it is copied across the ABI. Times are ns since 1970 at the reference. */
struct quorum_agreement {
	uint32_t size; /* sizeof(struct quorum_agreement) */
	uint32_t n, f;
	uint32_t threshold; /* how many intervals had to cover each point (n - f) */
	uint32_t accepted;  /* authenticated observations that counted */
	uint32_t outliers;  /* counted observations whose interval missed the agreement */
	uint32_t rejected;  /* observations that could not count */
	uint32_t ntp_used;  /* NTP sources that narrowed the agreement */
	uint32_t local;	    /* 1: from this node's own round (its reference is our clock) */
	uint32_t reserved0;
	uint64_t round;
	int64_t reference_mono_ns;
	int64_t earliest_ns;
	int64_t estimate_ns;
	int64_t latest_ns;
	int64_t drift_ns;  /* estimate - the asker's CLOCK_REALTIME at the reference */
	double warp_score; /* 0..1: the share of the n authorities not inside the agreement */
	uint8_t quorum_hash[QUORUM_DIGEST_LEN];
	uint64_t reserved[4];
};

enum quorum_clock_status {
	QUORUM_CLOCK_UNSYNCHRONISED = 0,
	QUORUM_CLOCK_SYNCHRONISED = 1,
};

/* A reading of the served clock. When unsynchronised the times are 0: never a wrong time. */
struct quorum_clock_reading {
	uint32_t status; /* enum quorum_clock_status */
	uint32_t n, f, accepted;
	int64_t earliest_ns;
	int64_t estimate_ns;
	int64_t latest_ns;
	int64_t error_bound_ns;	  /* max(estimate - earliest, latest - estimate) */
	int64_t agreement_age_ns; /* since the agreement this reading extrapolates */
	int64_t drift_ns;	  /* the agreement's estimate - this node's CLOCK_REALTIME */
	uint64_t round;
	double warp_score;
	uint8_t quorum_hash[QUORUM_DIGEST_LEN];
	uint64_t reserved[4];
};

/* What the last local round made of one source (ABI 1.4). */
enum quorum_source_state {
	QUORUM_SOURCE_UNKNOWN = 0,	  /* no local round has reported it yet */
	QUORUM_SOURCE_ACCEPTED = 1,	  /* counted, and its interval overlaps the agreement */
	QUORUM_SOURCE_OUTLIER = 2,	  /* counted, but its interval missed the agreement */
	QUORUM_SOURCE_REJECTED = 3,	  /* its answer could not count: see problem */
	QUORUM_SOURCE_UNSYNCHRONISED = 4, /* it answered that it is unsynchronised */
	QUORUM_SOURCE_SILENT = 5,	  /* no answer in the round */
	QUORUM_SOURCE_NO_AGREEMENT = 6,	  /* valid answer, but the round reached no agreement */
};

/* One source in a round, as the convergence stage reports it (api sources_report). */
struct quorum_source_report {
	const char *source_id;
	uint32_t state;	     /* enum quorum_source_state */
	const char *problem; /* REJECTED: the reason; else NULL */
	int64_t offset_ns;   /* the source's point estimate - the agreed estimate (0 if none) */
	int64_t rtt_ns;	     /* the asker's round trip to it (0 if none) */
};

/* What the node knows of one configured source (api sources_status). */
struct quorum_source_status {
	const char *id;	  /* borrowed; valid for the process lifetime */
	uint32_t type;	  /* enum quorum_authority_type */
	uint32_t state;	  /* enum quorum_source_state, from the last reported round */
	char problem[48]; /* REJECTED: the reason; else "" */
	uint64_t round;	  /* that round (0: none yet) */
	int64_t offset_ns;
	int64_t rtt_ns;
	int64_t age_ns;	      /* since that report (CLOCK_MONOTONIC); 0 when none */
	uint32_t quarantined; /* 1 while the control plane keeps it out of rounds */
	uint32_t reserved0;
	int64_t quarantine_remaining_ns; /* while quarantined */
	char quarantine_reason[48];	 /* while quarantined: why */
	uint64_t reserved[4];
};

/* Where one source's answer put true time at the reference instant of one of this node's
 * own rounds (ABI 1.13, api source_intervals_report and source_intervals): the interval that
 * contains true time if the source is honest, ns since 1970. */
struct quorum_source_interval {
	const char *id;	       /* borrowed: the reporter's for the call, the host's (valid for
				  the process lifetime) in source_intervals */
	uint32_t has_interval; /* 0: the round gave it none (silent, rejected, ...) */
	uint32_t reserved0;
	int64_t earliest_ns, estimate_ns, latest_ns;
	uint64_t reserved[2];
};

/* The agreement those intervals were judged against (ABI 1.13). Caller-owned; SIZE is
 * passed beside it so that it can grow at its end. */
struct quorum_round_intervals {
	uint64_t round;	      /* the round (0: no round reported yet) */
	uint32_t agreed;      /* 1: the round reached an agreement */
	uint32_t count;	      /* source_intervals: configured sources */
	int64_t reference_ns; /* the asker's CLOCK_REALTIME at the reference instant */
	/* agreed only: the agreement proposed (after NTP sources narrowed it), and the hull
	 * of the points n - f authorities' intervals covered, which judged each of them
	 * accepted (overlapping it) or outlier */
	int64_t earliest_ns, estimate_ns, latest_ns;
	int64_t authorities_earliest_ns, authorities_latest_ns;
	int64_t age_ns; /* source_intervals: since the report (CLOCK_MONOTONIC) */
};

/* The name of a source state: "accepted", "outlier", ... ("unknown" for anything else). */
static inline const char *quorum_source_state_name(uint32_t state)
{
	static const char *const names[] = { "unknown",	    "accepted",	      "outlier",
					     "rejected",    "unsynchronised", "silent",
					     "no_agreement" };

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_TIME_H */
