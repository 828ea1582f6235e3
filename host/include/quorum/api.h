/* quorum/api.h -- the table of host functions handed to every plugin's init.
 * Plugins never link against host symbols: everything they need from quorumd is in here. */
#ifndef QUORUM_API_H
#define QUORUM_API_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes: 0 is success, a negative errno value is an error, these are neither. */
#define QUORUM_AGAIN	1 /* not finished yet; completion is signalled later */
#define QUORUM_DECLINED 2 /* not applicable; nothing was done */

/* Stage verdicts (struct quorum_stage_ops.process and struct quorum_verdict.code). */
#define QUORUM_CONTINUE 0
#define QUORUM_REJECT	1
#define QUORUM_HOLD	2

/* Log levels, the syslog numbers. */
#define QUORUM_LOG_ERROR   3
#define QUORUM_LOG_WARNING 4
#define QUORUM_LOG_NOTICE  5
#define QUORUM_LOG_INFO	   6
#define QUORUM_LOG_DEBUG   7

/* quorum_api.listen socket types. */
#define QUORUM_LISTEN_TCP 1
#define QUORUM_LISTEN_UDP 2
/* The most sockets quorum_api.listen_group binds for one address. */
#define QUORUM_LISTEN_GROUP_MAX 64

/* quorum_api.metric_register types. */
#define QUORUM_METRIC_COUNTER 1
#define QUORUM_METRIC_GAUGE   2

#define QUORUM_REASON_MAX     64
#define QUORUM_STAGE_NAME_MAX 33

/* The outcome of one ingested event; caller-owned, filled by the host. */
struct quorum_verdict {
	int code;			   /* QUORUM_CONTINUE (accepted), _REJECT or _HOLD */
	char reason[QUORUM_REASON_MAX];	   /* "" when accepted */
	char stage[QUORUM_STAGE_NAME_MAX]; /* stage that rejected or held; "" when accepted,
					      "host" when the host refused it before any stage
					    */
};

/* Opaque handle of one plugin instance; owned by the host, valid from init to fini. */
struct quorum_host;
/* Opaque timer handle; owned by the host. */
struct quorum_timer;
/* Opaque handle of one metric series (ABI 1.11); owned by the host. */
struct quorum_metric;

/* One kind of refusal and its count since start (api->refusal_counts). */
struct quorum_refusal_count {
	char what[24];
	char reason[48];
	uint64_t total;
};

/* libevent's loop; plugins that use libevent directly link libevent themselves. */
struct event_base;
struct quorum_signed_state;
struct quorum_event;
struct quorum_authority_set;
struct quorum_round;
struct quorum_agreement;
struct quorum_clock_reading;
struct quorum_source_report;
struct quorum_source_status;
struct quorum_source_interval;
struct quorum_round_intervals;

typedef void (*quorum_callback)(void *arg);

struct quorum_api {
	uint32_t size; /* sizeof(struct quorum_api) in the host; test with QUORUM_API_HAS */
	uint16_t abi_major;
	uint16_t abi_minor;

	/* ---- logging: one line per event, fmt gives "event.name key=value ..." ---- */
	void (*log)(struct quorum_host *host, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void (*vlog)(struct quorum_host *host, int level, const char *fmt, va_list ap)
		__attribute__((format(printf, 3, 0)));

	/* ---- configuration: the plugin's own settings group, validated against its schema
	 * before init. PATH is relative to that group ("tls.cert", "peers.[0].port").
	 * Each returns 0, -ENOENT when the setting is absent, -EINVAL for another type.
	 * Strings are borrowed and stay valid until fini (or until a successful reload). ----
	 */
	int (*config_string)(struct quorum_host *host, const char *path, const char **out);
	int (*config_int)(struct quorum_host *host, const char *path, int64_t *out);
	int (*config_float)(struct quorum_host *host, const char *path, double *out);
	int (*config_bool)(struct quorum_host *host, const char *path, int *out);
	/* Number of elements of a list, array or group; negative errno when absent. */
	int (*config_length)(struct quorum_host *host, const char *path);
	/* Resolves a relative file name against quorum.conf's folder into OUT (SIZE bytes).
	 * 0, or -ENAMETOOLONG. Absolute names are copied unchanged. */
	int (*config_path)(struct quorum_host *host, const char *name, char *out, size_t size);

	/* ---- the event loop (runs every callback of every plugin) ---- */
	struct event_base *(*event_base)(struct quorum_host *host);
	/* Starts a timer firing after AFTER_MS, then every EVERY_MS (0: once), each period
	 * counted from the end of the previous callback. The host owns the timer: a one-shot
	 * timer's handle is invalid once its callback returned; timers still running at fini
	 * are stopped by the host. NULL on allocation failure. */
	struct quorum_timer *(*timer_start)(struct quorum_host *host, uint64_t after_ms,
					    uint64_t every_ms, quorum_callback cb, void *arg);
	/* Stops and frees a timer; NULL is a no-op. */
	void (*timer_stop)(struct quorum_host *host, struct quorum_timer *timer);
	/* Runs CB(ARG) on the loop thread soon. The one function safe from any thread.
	 * 0 or -ENOMEM. */
	int (*run_on_loop)(struct quorum_host *host, quorum_callback cb, void *arg);

	/* ---- events: the single path that mutates runtime state ---- */
	/* Ingests an event the plugin built. STATE and PEER are borrowed. The verdict is
	 * written to OUT. Returns 0 when the pipeline ran (see OUT), QUORUM_AGAIN when called
	 * from inside the pipeline (the event is queued and OUT says "queued"), or -errno
	 * (-EINVAL: the event breaks the envelope's bounds; OUT then holds the reason). */
	int (*ingest)(struct quorum_host *host, const struct quorum_signed_state *state,
		      const char *peer, struct quorum_verdict *out);
	/* The same for an encoded SignedState received from outside: the host decodes it
	 * strictly (bounds, no unknown fields) before any stage sees it. */
	int (*ingest_encoded)(struct quorum_host *host, const void *data, size_t len,
			      const char *peer, struct quorum_verdict *out);

	/* ---- audit: security-relevant decisions. TYPE is a dotted name
	 * ("bft.observation.reject"), fmt gives "key=value ..." fields. 0 or -errno. ---- */
	int (*audit)(struct quorum_host *host, const char *type, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* ---- transports ---- */
	/* Gives the plugin a listening socket for TYPE (QUORUM_LISTEN_TCP/UDP) on ADDR:PORT.
	 * The host binds it once and keeps it bound across reloads while some generation
	 * uses that address, so a successor transport inherits it and no client is refused.
	 * *FD_OUT is a new non-blocking, close-on-exec descriptor the plugin owns and closes.
	 * 0 or -errno (-EADDRINUSE, -EINVAL for a bad address). */
	int (*listen)(struct quorum_host *host, int type, const char *addr, uint16_t port,
		      int *fd_out);
	/* Tells the host that a drain which returned QUORUM_AGAIN has finished. */
	void (*drained)(struct quorum_host *host);

	/* ---- identity ---- */
	/* This node's id from quorum.conf; borrowed, valid for the process lifetime. */
	const char *(*node_id)(struct quorum_host *host);
	/* The plugin's configured name; borrowed. */
	const char *(*plugin_name)(struct quorum_host *host);

	/* ---- time (ABI 1.1); types in <quorum/time.h> ---- */
	/* The configured sources: n, f and the NTP source count. 0. */
	int (*authority_set)(struct quorum_host *host, struct quorum_authority_set *out);
	/* Decodes EVENT's uml001.worker.ntp_sync payload and checks every observation against
	 * the configured sources (signature, key id, canonical bytes; see
	 * quorum_observation.problem). RETURN VALUE: 0 with *OUT (new: round_free), or -EINVAL
	 * with *REASON a static reason string. */
	int (*round_decode)(struct quorum_host *host, const struct quorum_event *event,
			    struct quorum_round **out, const char **reason);
	/* Frees a round from round_decode; NULL is a no-op. */
	void (*round_free)(struct quorum_host *host, struct quorum_round *round);
	/* Convergence role only, during process(EVENT): attaches AGREEMENT (copied) to the
	 * event for the later stages. 0, -EPERM (another role, or not the event in flight) or
	 * -EINVAL (inconsistent agreement). */
	int (*propose)(struct quorum_host *host, const struct quorum_event *event,
		       const struct quorum_agreement *agreement);
	/* The agreement attached to EVENT, copied to OUT. 0 or -ENOENT. */
	int (*proposal)(struct quorum_host *host, const struct quorum_event *event,
			struct quorum_agreement *out);
	/* Reads the served clock now. 0. */
	int (*clock_read)(struct quorum_host *host, struct quorum_clock_reading *out);
	/* Control role only, during process() of the event carrying AGREEMENT as its proposal:
	 * applies it to the served clock, moving the estimate by at most MAX_STEP_NS (0: no
	 * limit); the clock never goes backwards (a backwards correction is slewed) and its
	 * bound always contains the agreement. 0, -EPERM (not the control role, not from the
	 * pipeline, or not this node's round), -EINVAL, -EIO (the state could not be saved;
	 * nothing changed), or -EAGAIN (the audit plane is failing: no time is served). */
	int (*clock_commit)(struct quorum_host *host, const struct quorum_agreement *agreement,
			    int64_t max_step_ns);

	/* ---- services (ABI 1.2): a plugin publishes a table of functions under a name for
	 * the host and other plugins (<quorum/audit.h> names the audit plane's) ---- */
	/* Publishes OPS with STATE (both borrowed until the publisher's fini, when the host
	 * withdraws them) under NAME (copied). 0, -EEXIST (published by another plugin) or
	 * -ENOMEM. */
	int (*service_publish)(struct quorum_host *host, const char *name, const void *ops,
			       void *state);
	/* The service published under NAME: *OPS and *STATE (borrowed; valid while the
	 * publisher runs: stages for the process lifetime). 0 or -ENOENT. */
	int (*service_find)(struct quorum_host *host, const char *name, const void **ops,
			    void **state);
	/* Signs a checkpoint with the node's Ed25519 key. BODY (LEN bytes) must be a C2SP
	 * tlog-checkpoint body: an origin line, a decimal size line, a base64 root line, then
	 * optional extension lines, each ending in a newline, printable ASCII only. Writes the
	 * 64-byte signature to SIG and the node's raw 32-byte public key to PUB.
	 * 0, -EINVAL (not a checkpoint body), -ENOKEY (no node.key configured). */
	int (*sign_checkpoint)(struct quorum_host *host, const char *body, size_t len,
			       uint8_t sig[64], uint8_t pub[32]);

	/* ---- signed answers (ABI 1.3) ---- */
	/* Reads the served clock and, when it is synchronised, signs it for a client with the
	 * node's key: a SignedState (event QUORUM_EVENT_SERVED_TIME, payload uml001.ServedTime)
	 * carrying NONCE (NONCE_LEN <= 64 bytes, may be 0), encoded into OUT (CAP bytes; 1 KiB
	 * is enough), *LEN its length. *READING (may be NULL) gets exactly what was signed.
	 * `quorumctl verify --key NODE.pub` checks it offline.
	 * 0, -EAGAIN (unsynchronised: nothing is signed), -ENOKEY (no node.key), -ENOSPC,
	 * -EINVAL. */
	int (*attest_time)(struct quorum_host *host, const uint8_t *nonce, size_t nonce_len,
			   struct quorum_clock_reading *reading, uint8_t *out, size_t cap,
			   size_t *len);

	/* ---- sources (ABI 1.4) ---- */
	/* Convergence role only, during process(EVENT) of one of this node's own rounds
	 * (ROUND its number): what the round made of each source (COUNT reports, copied).
	 * Configured sources it does not name are recorded as silent; a name that is no
	 * configured source is skipped; a source named twice keeps its first report.
	 * 0, -EPERM (another role or not the event in flight), -EINVAL (a state out of range;
	 * nothing is recorded). */
	int (*sources_report)(struct quorum_host *host, const struct quorum_event *event,
			      uint64_t round, const struct quorum_source_report *reports,
			      size_t count);
	/* Each configured source, in configuration order, into OUT (up to CAP of them);
	 * *COUNT gets how many are configured. 0. */
	int (*sources_status)(struct quorum_host *host, struct quorum_source_status *out,
			      size_t cap, size_t *count);
	/* Control role only: stops asking source ID for DURATION_NS (its answers then count
	 * for nothing; 0 lifts the quarantine), REASON (copied, a short token) saying why.
	 * The host logs it; the caller audits its decision. 0, -EPERM (not the control role),
	 * -ENOENT (no such source), -EINVAL (a negative duration). */
	int (*source_quarantine)(struct quorum_host *host, const char *id, int64_t duration_ns,
				 const char *reason);

	/* ---- authorities (ABI 1.5) ---- */
	/* Whether SIG (SIG_LEN bytes) is the Ed25519 signature of MSG (LEN bytes) by the
	 * configured quorumd authority AUTHORITY_ID under its key KEY_ID (NULL: its configured
	 * key, whatever its id, as for a C2SP signed note that names only a key hash; an NTP
	 * source has no key). Any plugin; everything is borrowed for the call. 0, -ENOENT (no
	 * such quorumd authority, or KEY_ID is not its key), -EBADMSG (not its signature of
	 * MSG: wrong length included) or -ENOMEM. Since ABI 1.9 a KEY_ID the passport stage
	 * vouches for as the authority's (a rotated key) is its key too, as on the peer link.
	 */
	int (*authority_verify)(struct quorum_host *host, const char *authority_id,
				const char *key_id, const void *msg, size_t len,
				const void *sig, size_t sig_len);

	/* ---- gossip (ABI 1.6; names and bounds in <quorum/gossip.h>) ---- */
	/* Gossip role only (and, since ABI 1.9, the merkle role for the witnessed-checkpoint
	 * events of <quorum/audit.h>, QUORUM_EVENT_CHECKPOINT and _COSIGNATURE): sends
	 * ENCODED_SIGNED_STATE (LEN bytes, a SignedState in its
	 * canonical encoding; borrowed) in one peer-link datagram (PeerDatagram.gossip) to the
	 * configured quorumd authority PEER_ID, or, with PEER_ID NULL, to every configured
	 * quorumd authority but this node; never to an NTP source. The receiving host ingests
	 * it with source QUORUM_GOSSIP_SOURCE and, as peer, the id of the authority whose
	 * address sent it. 0; -EPERM (not the gossip role); -EMSGSIZE (the datagram would
	 * exceed QUORUM_GOSSIP_DATAGRAM_MAX); -ENOENT (PEER_ID is no quorumd authority, or is
	 * this node); -EINVAL (not a canonical SignedState within the envelope's bounds);
	 * -ENOTCONN (no peer link); or a failed send's -errno (the other peers were tried). */
	int (*gossip_send)(struct quorum_host *host, const void *encoded_signed_state,
			   size_t len, const char *peer_id);
	/* Gossip role only: signs STATE with the node's Ed25519 key over
	 * quorum_signed_state_message, so that the node's own evidence passes the passport
	 * stage like any event. Only STATE->event_id QUORUM_EVENT_MALFEASANCE (and, since the
	 * scale issue, the gossip stage's QUORUM_EVENT_DIGEST and _GOSSIP_ATTESTATION, which
	 * carry what the node asked and heard, never a statement of its own) may be signed:
	 * the node key vouches for the node's rounds and answers, which no plugin may forge.
	 * Since ABI 1.9 the merkle role may sign QUORUM_EVENT_CHECKPOINT, _COSIGNATURE and
	 * _LOG_MALFEASANCE (<quorum/audit.h>) too.
	 * Sets STATE->key_id (host-owned, valid for the process lifetime) and
	 * STATE->signature (pointing at SIG, caller-owned, 64 bytes). 0, -EPERM (not the
	 * gossip role, or another event id), -ENOKEY (no node.key), -EINVAL or -ENOMEM. */
	int (*sign_event)(struct quorum_host *host, struct quorum_signed_state *state,
			  uint8_t sig[64]);

	/* ---- worker threads (ABI 1.7) ---- */
	/* Like listen, for a transport that serves from threads of its own: COUNT sockets
	 * (1 to QUORUM_LISTEN_GROUP_MAX) bound to ADDR:PORT with SO_REUSEPORT, the kernel
	 * spreading clients across them by address and port. The host keeps the group bound
	 * across reloads while some generation uses the same address and COUNT (a successor
	 * inherits every socket); a group of another size is bound beside it while both are
	 * held (the kernel allows it for the same user only) and the old one closes with its
	 * last user. FDS_OUT (COUNT slots) gets new non-blocking, close-on-exec descriptors
	 * the plugin owns and closes. 0 or -errno (-EADDRINUSE; -EINVAL for a bad address or
	 * COUNT). */
	int (*listen_group)(struct quorum_host *host, int type, const char *addr, uint16_t port,
			    unsigned count, int *fds_out);
	/* Reads the served clock like clock_read, but from any thread (a seqlock read of the
	 * shared clock page), for a transport's workers. It does not itself check the audit
	 * plane: the loop suspends the served clock the moment a stage reports a failure
	 * (audit_changed), on every clock_read and every 100 ms. Valid between the caller's
	 * start and the end of its drain. 0, or -EAGAIN when the writer kept the page busy
	 * (then *OUT is unsynchronised). */
	int (*clock_read_concurrent)(struct quorum_host *host,
				     struct quorum_clock_reading *out);
	/* Loop thread: an audit-plane stage (vault, merkle) tells the host that its failing()
	 * answer may have changed; the host checks at once and, while it fails, serves no
	 * time (clock_read_concurrent readers included). */
	void (*audit_changed)(struct quorum_host *host);

	/* ---- refusals nobody can be held to (ABI 1.8) ---- */
	/* Loop thread: counts one refusal of something that cannot be attributed to a
	 * configured, authenticated party (a request over its rate or without a valid token, an
	 * unauthenticated datagram, an event whose signature does not verify) for REASON (a
	 * short token) from PEER (an address; may be NULL); both borrowed. Use it instead of
	 * audit for those: the host writes no record per refusal, but one log line and one
	 * audit record per plugin and reason with the count, once per log.refusal_summary_s, so
	 * that nobody can fill the disk by being refused. */
	void (*refused)(struct quorum_host *host, const char *reason, const char *peer);
	/* Copies the node's refusal counts since start (every plugin's and the host's: WHAT is
	 * "peer", "gossip", "pipeline" or a plugin's name) into OUT, up to CAP of them.
	 * RETURN VALUE: how many kinds there are (may exceed CAP). */
	size_t (*refusal_counts)(struct quorum_host *host, struct quorum_refusal_count *out,
				 size_t cap);

	/* ---- witnessed checkpoints (ABI 1.9; <quorum/audit.h>) ---- */
	/* Merkle role only: signs a C2SP tlog-cosignature/v1 of a peer's checkpoint with the
	 * node's Ed25519 key: the signature over "cosignature/v1\n" "time T\n" followed by
	 * BODY (LEN bytes, a checkpoint body as for sign_checkpoint), where T is the host's
	 * CLOCK_REALTIME in whole seconds, written to *TIMESTAMP. Writes the 64-byte signature
	 * to SIG and the node's raw 32-byte public key to PUB (the cosignature line's key hash
	 * is computed from it). The caller states with it that BODY is consistent with every
	 * checkpoint of that log it cosigned before. 0, -EPERM (not the merkle role), -EINVAL
	 * (not a checkpoint body), -ENOKEY (no node.key). */
	int (*cosign_checkpoint)(struct quorum_host *host, const char *body, size_t len,
				 uint64_t *timestamp, uint8_t sig[64], uint8_t pub[32]);

	/* ---- metrics (ABI 1.11) ---- */
	/* Loop thread: registers the series NAME{LABELS} of TYPE (QUORUM_METRIC_COUNTER or
	 * _GAUGE) with HELP, all copied. Names follow Prometheus' conventions: quorum_<plugin
	 * or area>_<what>_<base unit>, a counter's ending in _total, a gauge's not; SCALE
	 * turns the value kept into the base unit (1e-9 for a count of nanoseconds exposed in
	 * seconds; 1 otherwise). LABELS is NULL or `key="value"` pairs separated by commas
	 * (no '"', '\\' or line break in a value). Registering an existing series again
	 * (same type, help and scale) returns that series: a reloaded plugin's counters go on.
	 * The handle is borrowed and valid until the plugin's fini (the host then drops it).
	 * RETURN VALUE: the handle, or NULL (a rule broken, or the bounds of 1024 series
	 * reached; the host logs why). */
	struct quorum_metric *(*metric_register)(struct quorum_host *host, int type,
						 const char *name, const char *labels,
						 const char *help, double scale);
	/* Any thread: adds DELTA to the series (a counter ignores a negative DELTA). NULL is
	 * a no-op. */
	void (*metric_add)(struct quorum_metric *metric, int64_t delta);
	/* Any thread: sets a gauge to VALUE (a counter ignores it). NULL is a no-op. */
	void (*metric_set)(struct quorum_metric *metric, int64_t value);
	/* Loop thread: every series of the node (the host's and every plugin's) in the
	 * Prometheus text format 0.0.4, in *OUT (new: free()) of *LEN bytes, NUL-terminated.
	 * 0, -ENOMEM or -EIO. */
	int (*metrics_text)(struct quorum_host *host, char **out, size_t *len);

	/* ---- settings struct (ABI 1.12) ---- */
	/* The plugin's settings struct (struct quorum_plugin.settings_size bytes): every
	 * field bound in the schema (QUORUM_SETTING_BIND) holds the configured value, else
	 * the schema's default, else zero (NULL). Borrowed, read-only, owned by the host
	 * with the strings it points to. Valid from init until fini; during a transport's
	 * reload it already returns the new settings, and the previous struct stays valid
	 * until reload returns (then it is freed when reload returned 0, kept as the current
	 * one otherwise). NULL when the plugin declared no settings_size. */
	const void *(*settings)(struct quorum_host *host);

	/* ---- each source's interval (ABI 1.13; types in <quorum/time.h>) ---- */
	/* Convergence role only, during process(EVENT) of one of this node's own rounds, like
	 * sources_report: the agreement of that round (ROUND, ROUND_SIZE bytes of it) and the
	 * interval of each source that gave one (SOURCES, COUNT; copied). Configured sources
	 * it does not name have none; names of no configured source are skipped; a source
	 * named twice keeps its first. 0, -EPERM (another role or not the event in flight),
	 * -EINVAL (ROUND_SIZE too small, or an interval whose ends are out of order; nothing
	 * is recorded). */
	int (*source_intervals_report)(struct quorum_host *host,
				       const struct quorum_event *event,
				       const struct quorum_round_intervals *round,
				       size_t round_size,
				       const struct quorum_source_interval *sources,
				       size_t count);
	/* Any plugin, loop thread: the last reported round into *ROUND (ROUND_SIZE bytes: the
	 * host fills what it knows of the caller's size and zeroes the rest; ROUND->count the
	 * configured sources) and each configured source's interval from it, in configuration
	 * order, into SOURCES (up to CAP). 0, or -EINVAL (ROUND_SIZE smaller than the
	 * ABI 1.13 struct). */
	int (*source_intervals)(struct quorum_host *host, struct quorum_round_intervals *round,
				size_t round_size, struct quorum_source_interval *sources,
				size_t cap);
};

/* True when the host's table has MEMBER (i.e. the host is new enough to provide it). */
#define QUORUM_API_HAS(api, member)                                                            \
	((api)->size >= offsetof(struct quorum_api, member) + sizeof((api)->member) &&         \
	 (api)->member != NULL)

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_API_H */
