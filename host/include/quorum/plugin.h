/* quorum/plugin.h -- the descriptor every Quorum Time plugin exports, and the ABI rules.
 * A plugin includes only <quorum/...> headers and exports exactly one symbol: quorum_plugin. */
#ifndef QUORUM_PLUGIN_H
#define QUORUM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <quorum/api.h>
#include <quorum/audit.h>
#include <quorum/event.h>
#include <quorum/settings.h>
#include <quorum/time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI changelog (newest last). The major changes when an existing field or function changes
 * meaning or place; the minor when something is appended. The host loads a plugin only when
 * plugin.abi_major == host major and plugin.abi_minor <= host minor.
 *
 *   1.0  first ABI: descriptor, stage/transport ops, host API table (log, config accessors,
 *        event base, timers, run_on_loop, ingest, audit, listen, drained, node_id).
 *   1.1  time core: <quorum/time.h>; api authority_set, round_decode, round_free, propose,
 *        proposal, clock_read, clock_commit.
 *   1.2  audit plane: <quorum/audit.h>; api service_publish, service_find, sign_checkpoint.
 *   1.3  api attest_time (signed served time for clients).
 *   1.4  api sources_report, sources_status (what the last round made of each source),
 *        source_quarantine (the control role keeps a source out of rounds).
 *   1.5  api authority_verify (a configured authority's Ed25519 signature);
 *        <quorum/sharedstate.h> (a leader's shared state and its canonical signed text);
 *        quorum.control/1 shared_state and shared_state_last, carved out of its reserved
 *        slots (<quorum/control.h>).
 *   1.6  api gossip_send (an event to the peers over the peer link, PeerDatagram.gossip)
 *        and sign_event (the node key signs the gossip role's evidence); <quorum/gossip.h>
 *        (quorum.gossip/1: converged epochs, peers heard, malfeasance reports).
 *   1.7  api listen_group (SO_REUSEPORT socket groups for a transport's worker threads),
 *        clock_read_concurrent (the served clock from any thread) and audit_changed (the
 *        audit plane's failure suspends the served clock at once).
 *   1.8  api refused and refusal_counts (what nobody can be held to is counted and
 *        summarised, never audited one record per refusal).
 *   1.9  api cosign_checkpoint (the merkle role witnesses its peers' logs: C2SP
 *        tlog-cosignature/v1 with the node key); the merkle role may also gossip_send and
 *        sign_event the witnessed-checkpoint events of <quorum/audit.h>
 *        (uml001.merkle.checkpoint, .cosignature, .malfeasance); authority_verify takes a
 *        key id the passport stage vouches for (a rotated key).
 *   1.10 transport ops refresh (SIGHUP reaches an instance whose settings did not change:
 *        it reads the files they name again, e.g. a TLS certificate), carved out of the
 *        transport ops' reserved slots.
 *   1.11 api metric_register, metric_add, metric_set and metrics_text: counters and
 *        gauges of every plugin and the host, one Prometheus exposition (REST /metrics).
 *   1.12 settings defaults and bindings: struct quorum_setting's default_value and offset
 *        (flag QUORUM_SETTING_BIND), carved out of its reserved slots; the descriptor's
 *        settings_size, carved out of its reserved slots; api settings (the settings
 *        struct the host filled from the schema's defaults and the configured values).
 *   1.13 api source_intervals_report and source_intervals: each source's interval from
 *        this node's last round against its agreement (REST /v1/status, the status page).
 *
 * For the next major ABI (2.0), kept as they are until then:
 *   - QUORUM_REJECT and QUORUM_HOLD take values no other return code uses: today
 *     QUORUM_REJECT == QUORUM_AGAIN == 1 and QUORUM_HOLD == QUORUM_DECLINED == 2, so a
 *     verdict cannot be told from a return code by its value.
 *   - Role powers are handed to their role only: propose, clock_commit, gossip_send (and
 *     sign_event, cosign_checkpoint) move out of the shared struct quorum_api into a
 *     table only the role's stage receives, instead of the run-time -EPERM checks of
 *     the functions today.
 */
#define QUORUM_PLUGIN_MAGIC 0x4d525551u /* "QURM" read as a little-endian uint32 */
#define QUORUM_ABI_MAJOR    1
#define QUORUM_ABI_MINOR    13

/* The exported descriptor's symbol name. */
#define QUORUM_PLUGIN_SYMBOL "quorum_plugin"

enum quorum_plugin_kind {
	QUORUM_PLUGIN_STAGE = 1,
	QUORUM_PLUGIN_TRANSPORT = 2,
};

/* Stage roles, in the fixed order the orchestrator runs them. A transport has role NONE. */
enum quorum_stage_role {
	QUORUM_ROLE_NONE = 0,
	QUORUM_ROLE_PASSPORT = 1,    /* is the event authentic and fresh? */
	QUORUM_ROLE_VAULT = 2,	     /* make it durable */
	QUORUM_ROLE_GOSSIP = 3,	     /* tell the peers */
	QUORUM_ROLE_MERKLE = 4,	     /* commit it to the tree */
	QUORUM_ROLE_CONVERGENCE = 5, /* propose an agreement */
	QUORUM_ROLE_CONTROL = 6,     /* dispose: commit, hold or refuse */
};
#define QUORUM_ROLE_COUNT 6

/* quorum_role_name: "passport" ... "control" for a role, "none" or "unknown" otherwise.
 * The built-in stage of a role is the plugin named after it. */
static inline const char *quorum_role_name(uint32_t role)
{
	static const char *const names[] = { "none",   "passport",    "vault",	"gossip",
					     "merkle", "convergence", "control" };

	return role < sizeof(names) / sizeof(names[0]) ? names[role] : "unknown";
}

/* Operations of a stage plugin (descriptor.ops when kind == QUORUM_PLUGIN_STAGE). */
struct quorum_stage_ops {
	uint32_t size; /* sizeof(struct quorum_stage_ops) as the plugin was built */

	/*
	 * process: decide on one event. Runs on the event loop thread; must not block.
	 * ARGUMENTS: state from init; event borrowed for the duration of the call.
	 * RETURN VALUE: QUORUM_CONTINUE, QUORUM_REJECT or QUORUM_HOLD. On REJECT and HOLD,
	 * *reason must point to a short reason string (e.g. "passport_signature_invalid"); the
	 * host copies it, so it may be static or owned by the plugin.
	 */
	int (*process)(void *state, const struct quorum_event *event, const char **reason);

	/*
	 * observe (optional): told every event's final verdict, rejected and held ones
	 * included, after the pipeline ends. The control role uses it for its breaker and
	 * quarantine. Both pointers are borrowed for the duration of the call.
	 */
	void (*observe)(void *state, const struct quorum_event *event,
			const struct quorum_verdict *verdict);

	void *reserved[6]; /* must be NULL */
};

/* Operations of a transport plugin (descriptor.ops when kind == QUORUM_PLUGIN_TRANSPORT).
 * Listening sockets are handed over between generations by the host itself (see
 * quorum_api.listen), so ABI 1.0 needs no transport callback; ops may be NULL. */
struct quorum_transport_ops {
	uint32_t size;
	/*
	 * refresh (optional, ABI 1.10): a SIGHUP reload keeps this instance because its
	 * settings did not change; the files they name (a TLS certificate and key) may have.
	 * Read them again, all or nothing, on the loop thread. RETURN VALUE: 0, or -errno:
	 * the reload is then rejected and the instance keeps what it had (a refresh of
	 * another instance that already succeeded in the same reload is not undone).
	 */
	int (*refresh)(void *state);
	void *reserved[6]; /* must be NULL */
};

/*
 * The descriptor. Identity and version first, reserved slots last; new fields are appended
 * before `reserved` only with a major bump, or carved out of `reserved` with a minor bump.
 * Lifecycle (all run on the event loop thread):
 *   init(host, api, &state)  read settings (api->settings for bound ones), allocate; no
 *                            traffic yet. 0 or -errno.
 *   start(state)             open listeners, arm timers. 0 or -errno.
 *   reload(state)            optional, transports only: the host has already pointed the
 *                            plugin's host handle at its new settings group; apply them all or
 *                            change nothing. 0 or -errno (the host then keeps the old
 * settings). drain(state)             stop accepting new work. 0 when nothing is in flight, or
 *                            QUORUM_AGAIN, and call api->drained(host) once the last in-flight
 *                            work ends (the host finalises anyway after drain_timeout_ms).
 *   fini(state)              free everything; the host then unloads the code.
 */
struct quorum_plugin {
	uint32_t magic;	    /* QUORUM_PLUGIN_MAGIC */
	uint16_t abi_major; /* QUORUM_ABI_MAJOR the plugin was built against */
	uint16_t abi_minor; /* QUORUM_ABI_MINOR the plugin was built against */
	uint32_t size;	    /* sizeof(struct quorum_plugin) as the plugin was built */
	uint32_t kind;	    /* enum quorum_plugin_kind */
	const char
		*name; /* [a-z0-9_-]{1,32}; must equal the signed name and the config's name */
	const char *version;
	uint32_t role;	/* enum quorum_stage_role; QUORUM_ROLE_NONE for transports */
	uint32_t flags; /* reserved, must be 0 */
	const struct quorum_setting *settings; /* schema of the plugin's settings group */

	int (*init)(struct quorum_host *host, const struct quorum_api *api, void **state);
	int (*start)(void *state);
	int (*reload)(void *state);
	int (*drain)(void *state);
	void (*fini)(void *state);

	const void *ops; /* struct quorum_stage_ops / struct quorum_transport_ops */

	/*
	 * settings_size (ABI 1.12, carved out of reserved[0]; 0 in older plugins): the size
	 * of the plugin's settings struct, whose fields the entries of `settings` flagged
	 * QUORUM_SETTING_BIND name by offset. Before init (and before reload) the host
	 * allocates it zeroed, stores every bound setting's default, then the configured
	 * values that passed the schema's checks; the plugin reads it with api->settings.
	 * 0: no struct (a schema with bindings is then refused). At most 65536.
	 */
	size_t settings_size;
	void *reserved[7]; /* must be NULL */
};

/* The descriptor of ABI 1.0 keeps its size and layout: settings_size fills reserved[0]. */
#ifdef __cplusplus
static_assert(sizeof(size_t) == sizeof(void *), "settings_size must fill a reserved slot");
#else
_Static_assert(sizeof(size_t) == sizeof(void *), "settings_size must fill a reserved slot");
_Static_assert(offsetof(struct quorum_plugin, settings_size) ==
		       offsetof(struct quorum_plugin, ops) + sizeof(void *),
	       "struct quorum_plugin's settings_size is not reserved[0]");
_Static_assert(sizeof(struct quorum_plugin) ==
		       offsetof(struct quorum_plugin, settings_size) + 8 * sizeof(void *),
	       "struct quorum_plugin changed size");
#endif

/* Fills the identity fields of a descriptor: use as the first initialisers. */
#define QUORUM_PLUGIN_HEADER(kind_, name_, version_, role_)                                    \
	.magic = QUORUM_PLUGIN_MAGIC, .abi_major = QUORUM_ABI_MAJOR,                           \
	.abi_minor = QUORUM_ABI_MINOR, .size = sizeof(struct quorum_plugin), .kind = (kind_),  \
	.name = (name_), .version = (version_), .role = (role_)

/* Declares the one exported descriptor with default visibility. */
#if defined(__GNUC__)
#define QUORUM_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define QUORUM_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_PLUGIN_H */
