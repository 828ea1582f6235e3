/* timecore-internal.h -- the host's time core: the configured authorities, the node's
 * persistent state, the served clock, and the peer link on which this node answers as an
 * authority and asks its authorities in rounds. */
#ifndef QUORUM_TIMECORE_INTERNAL_H
#define QUORUM_TIMECORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include <quorum/time.h>

#include "clock-page.h"
#include "conf-internal.h"
#include "keys-internal.h"
#include "timecodec-internal.h"

struct event;
struct metrics;
struct event_base;
struct listener_set;
struct orchestrator;

/* ---- authorities.c: the configured sources ---- */

struct authority {
	const char *id; /* borrowed from the conf */
	uint32_t type;	/* QUORUM_AUTHORITY_QUORUMD / QUORUM_AUTHORITY_NTP */
	struct sockaddr_storage address;
	socklen_t address_len;
	EVP_PKEY *key; /* quorumd only */
	char key_id[KEY_ID_HEX_LEN + 1];
	uint64_t last_sequence;		    /* highest sequence accepted from it (persisted) */
	struct quorum_source_status report; /* what the last local round made of it */
	int64_t report_mono_ns;		    /* when that was reported */
	int64_t quarantine_until_ns;	    /* CLOCK_MONOTONIC; 0: not quarantined */
	char quarantine_reason[48];
	struct quorum_source_interval interval; /* from the last local round's report */
	/* quorumd only: the last key the passport service gave for another key id than the
	 * configured one (a rotated key), kept until another is asked for. */
	EVP_PKEY *passport_key;
	char passport_key_id[KEY_ID_HEX_LEN + 1];
};

struct authority_table {
	struct authority *items;
	size_t count;
	uint32_t n; /* quorumd authorities */
	uint32_t f; /* floor((n - 1) / 3) */
	uint32_t ntp;
	struct quorum_round_intervals intervals; /* the last local round's, as reported */
	int64_t intervals_mono_ns;		 /* when reported */
};

/* authorities_load: the `authorities` of CONF with their keys and addresses.
 * RETURN VALUE: 0, or -errno with WHY as "file:line: ...". */
int authorities_load(struct authority_table *table, const struct conf *conf, char *why,
		     size_t why_size);

/* authorities_report: records what local round ROUND made of the sources (REPORTS, COUNT);
 * configured sources not named become silent, names of no configured source are skipped,
 * and a source named twice keeps its first report. RETURN VALUE: 0, or -EINVAL (a state out
 * of range; nothing changed). */
int authorities_report(struct authority_table *table, uint64_t round,
		       const struct quorum_source_report *reports, size_t count);

/* authorities_status: each source's last report into OUT (up to CAP), *COUNT the number of
 * configured sources. */
void authorities_status(const struct authority_table *table, struct quorum_source_status *out,
			size_t cap, size_t *count);

/* authorities_report_intervals: records the agreement of local round ROUND and the
 * intervals of the sources it names (SOURCES, COUNT); configured sources not named have
 * none, names of no configured source are skipped, a source named twice keeps its first.
 * RETURN VALUE: 0, or -EINVAL (an interval's ends out of order; nothing changed). */
int authorities_report_intervals(struct authority_table *table,
				 const struct quorum_round_intervals *round,
				 const struct quorum_source_interval *sources, size_t count);

/* authorities_intervals: the last reported round into *ROUND (ROUND->count the configured
 * sources) and each source's interval into SOURCES (up to CAP), in configuration order. */
void authorities_intervals(const struct authority_table *table,
			   struct quorum_round_intervals *round,
			   struct quorum_source_interval *sources, size_t cap);

/* authorities_quarantine: stops asking ID until DURATION_NS from now (0: lifts it).
 * RETURN VALUE: 0, -ENOENT or -EINVAL. */
int authorities_quarantine(struct authority_table *table, const char *id, int64_t duration_ns,
			   const char *reason);

/* authorities_quarantined: whether A is quarantined at CLOCK_MONOTONIC NOW_NS. */
int authorities_quarantined(const struct authority *a, int64_t now_ns);

/* authorities_verify: whether SIG (SIG_LEN bytes) is the quorumd authority ID's Ed25519
 * signature of MSG (LEN bytes) under its key KEY_ID (NULL: its configured key, whatever its
 * id). RETURN VALUE: 0, -ENOENT (no quorumd authority ID, or KEY_ID is not its key id),
 * -EBADMSG (a bad signature) or -ENOMEM. */
int authorities_verify(const struct authority_table *table, const char *id, const char *key_id,
		       const void *msg, size_t len, const void *sig, size_t sig_len);

/* authorities_find: the source named ID, borrowed, or NULL. */
struct authority *authorities_find(const struct authority_table *table, const char *id);

/* authorities_release: frees the contents of TABLE. */
void authorities_release(struct authority_table *table);

/* ---- nodestate.c: what survives a restart, signed with the node key ---- */

struct nodestate {
	char *path;		 /* STATE_DIR/node.state */
	uint64_t sequence_lease; /* this authority may have used sequences up to here */
	uint64_t last_round;
	int64_t last_estimate_ns; /* the last agreement committed to the served clock */
	int64_t last_error_ns;
	int64_t last_drift_ns;
	int has_agreement;
};

/*
 * nodestate_load: reads STATE_DIR/node.state (creating STATE_DIR, mode 0700, if needed),
 * checks its signature with KEY and fills STATE and the authorities' last sequences.
 * A missing file is a fresh start. RETURN VALUE: 0, or -errno with WHY (a corrupt or
 * forged file stops the daemon: delete it to start afresh).
 */
int nodestate_load(struct nodestate *state, const char *state_dir, const char *node_id,
		   EVP_PKEY *key, struct authority_table *authorities, char *why,
		   size_t why_size);

/* nodestate_save: writes the state atomically (temporary file, fsync, rename, fsync of
 * the folder), signed with KEY. RETURN VALUE: 0 or -errno with WHY. */
int nodestate_save(const struct nodestate *state, const char *node_id, EVP_PKEY *key,
		   const struct authority_table *authorities, char *why, size_t why_size);

/* nodestate_release: frees the contents of STATE. */
void nodestate_release(struct nodestate *state);

/* ---- clock.c: the served clock and its shared-memory page ---- */

struct served_clock;

/* served_clock_open: a clock that is unsynchronised until its first commit, published at
 * SHM_PATH (NULL: kept in private memory). RETURN VALUE: 0 or -errno with WHY. */
int served_clock_open(const char *shm_path, uint32_t drift_ppm, uint32_t slew_ppm,
		      int64_t max_error_ns, struct served_clock **out, char *why,
		      size_t why_size);

/* served_clock_read: the clock now. The writer's (loop) thread only. */
void served_clock_read(const struct served_clock *clock, struct quorum_clock_reading *out);

/* served_clock_read_concurrent: the clock now, from any thread (a seqlock read of the
 * page). RETURN VALUE: 0, or -EAGAIN when the writer kept the page busy for 5 ms
 * (then *OUT is unsynchronised). */
int served_clock_read_concurrent(const struct served_clock *clock,
				 struct quorum_clock_reading *out);

/* What a commit did. */
struct clock_commit_outcome {
	int64_t step_ns; /* the agreement's estimate minus what was served, at the commit */
	int slewed;	 /* a backwards step: absorbed at slew_ppm */
	int clamped;	 /* a forward step beyond max_step: limited to it */
	int first;	 /* the first agreement this process serves */
	int narrowed;	 /* the bound served before (widened by drift) cut the agreement's */
	int disjoint;	 /* ... or did not overlap it at all: the agreement alone is served */
	int64_t served_width_ns; /* the width served at the agreement's reference instant */
};

/* served_clock_check: whether AGREEMENT can be committed (ordered, recent, local).
 * RETURN VALUE: 0 or -EINVAL. */
int served_clock_check(const struct served_clock *clock, const struct quorum_agreement *a);

/* served_clock_commit: serves AGREEMENT from now on (see clock-page.h for the function),
 * never going backwards and moving at most MAX_STEP_NS (0: unlimited) forward. */
void served_clock_commit(struct served_clock *clock, const struct quorum_agreement *a,
			 int64_t max_step_ns, struct clock_commit_outcome *out);

/* served_clock_suspend: serves nothing from now on (the page says unsynchronised) until the
 * next commit, which starts afresh. RETURN VALUE: 1 when it was synchronised, else 0. */
int served_clock_suspend(struct served_clock *clock);

/* served_clock_close: marks the page unsynchronised (when MARK_UNSYNCHRONISED) and frees
 * CLOCK; NULL is a no-op. */
void served_clock_close(struct served_clock *clock, int mark_unsynchronised);

/* ---- timecore.c: peer link, answering, rounds ---- */

struct timecore;

/*
 * What the time core needs of the host, and nothing more (the runtime fills it; everything
 * is borrowed and must outlive the core): the event loop, the settings (the core takes a
 * reference), the node key (NULL without a peer link), the pipeline it ingests rounds and
 * gossip into, the host's listeners (the peer link's socket is shared by address like every
 * listener), and three callbacks with HOST as first argument: AUDIT writes a
 * security-relevant record, REFUSED counts an unauthenticated datagram (summarised, never
 * audited one by one), SERVICE_FIND looks a stage's service up (0 or -ENOENT).
 */
struct timecore_env {
	struct event_base *base;
	struct conf *conf;
	EVP_PKEY *node_key;
	struct orchestrator *orch;
	struct listener_set *listeners;
	void *host;
	void (*audit)(void *host, const char *type, const char *fields);
	void (*refused)(void *host, const char *what, const char *reason, const char *peer);
	int (*service_find)(void *host, const char *name, const void **ops, void **state);
	struct metrics *metrics; /* the core registers its series as the host's (owner NULL) */
};

/*
 * timecore_start: the time core of ENV's configuration (ENV is copied; what it points to is
 * borrowed): loads the authorities and the state, opens the served clock, binds the peer
 * link, starts answering and (with authorities configured) asking in rounds. A
 * configuration without a peer_link gets a served clock only (always unsynchronised).
 * RETURN VALUE: 0 or -errno with WHY.
 */
int timecore_start(const struct timecore_env *env, struct timecore **out, char *why,
		   size_t why_size);

/* timecore_stop: stops answering and asking, marks the clock unsynchronised, frees. */
void timecore_stop(struct timecore *core);

/* The pieces the host API needs. */
struct served_clock *timecore_clock(struct timecore *core);
const struct authority_table *timecore_authorities(const struct timecore *core);
struct authority_table *timecore_authorities_mut(struct timecore *core);
const char *timecore_node_id(const struct timecore *core);

/* timecore_commit: records AGREEMENT in the node state (saved) and serves it. RETURN VALUE:
 * 0, -EINVAL (not committable) or -EIO (the state could not be saved; nothing changed). */
int timecore_commit(struct timecore *core, const struct quorum_agreement *agreement,
		    int64_t max_step_ns);

/*
 * timecore_gossip_send: sends ENCODED (LEN bytes, a canonical SignedState) in one gossip
 * datagram to the configured quorumd authority PEER_ID, or (PEER_ID NULL) to each but this
 * node. RETURN VALUE: 0, -ENOTCONN (no peer link), -EMSGSIZE, -EINVAL (not a valid
 * envelope), -ENOENT (no such peer), or the last failed send's -errno (logged).
 */
int timecore_gossip_send(struct timecore *core, const void *encoded, size_t len,
			 const char *peer_id);

/* timecore_authority_verify: authorities_verify, and for a KEY_ID that is not the configured
 * key's, the key the passport stage vouches for under that id (a rotated key), as the peer
 * link accepts it. Same return values. */
int timecore_authority_verify(struct timecore *core, const char *id, const char *key_id,
			      const void *msg, size_t len, const void *sig, size_t sig_len);

/* timecore_round_decode: decodes a sync round payload against the configured sources. */
int timecore_round_decode(struct timecore *core, const struct quorum_bytes *payload,
			  struct round_view **out, const char **reason);

#endif /* QUORUM_TIMECORE_INTERNAL_H */
