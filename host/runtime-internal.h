/* runtime-internal.h -- the running daemon: its event loop, the current generation (conf,
 * trusted keys, transports), the stages and orchestrator, the listening sockets shared
 * between generations, and the plugin instances with the host API table they receive. */
#ifndef QUORUM_RUNTIME_INTERNAL_H
#define QUORUM_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <quorum/plugin.h>

#include "conf-internal.h"
#include "keys-internal.h"
#include "loader-internal.h"
#include "orchestrator-internal.h"
#include "refusals-internal.h"

struct event;
struct event_base;
struct runtime;
struct instance;
struct timecore;

/* ---- listeners.c: sockets bound once, kept while any generation uses the address ---- */

#define LISTENER_GROUP_MAX QUORUM_LISTEN_GROUP_MAX

struct listener {
	int type; /* QUORUM_LISTEN_TCP or QUORUM_LISTEN_UDP */
	char addr[64];
	uint16_t port;		     /* as requested (0: ephemeral, never shared) */
	unsigned group;		     /* 0: one plain socket; N: N sockets with SO_REUSEPORT */
	unsigned count;		     /* sockets in fds: 1, or group */
	int fds[LISTENER_GROUP_MAX]; /* fds[0]: the socket of a plain listener */
	uid_t owner;		     /* the effective user that bound them */
	unsigned refs;
	struct listener *next;
};

/*
 * listener_acquire: the listening socket for TYPE on ADDR:PORT: the one already bound for
 * that address if any (a successor inherits it), else a new one. GROUP 0 binds one plain
 * socket; GROUP N (1 to LISTENER_GROUP_MAX) binds N sockets with SO_REUSEPORT (the kernel
 * spreads clients across them), shared only with a request for the same N; a group of
 * another size binds beside it while both are held (same user only: the kernel's rule).
 * RETURN VALUE: 0 with *OUT (borrowed; listener_release once), or -errno with WHY.
 */
int listener_acquire(struct runtime *rt, int type, const char *addr, uint16_t port,
		     unsigned group, struct listener **out, char *why, size_t why_size);

/* listener_release: drops a reference; the socket is closed with the last. */
void listener_release(struct runtime *rt, struct listener *listener);

/* ---- instance.c: one loaded plugin and everything the host tracks for it ---- */

#define QUORUM_HOST_MAGIC 0x54534851u /* "QHST" */

/* The opaque handle of <quorum/api.h>: the plugin sees only a pointer to it. */
struct quorum_host {
	uint32_t magic;
	struct instance *instance;
};

enum instance_phase {
	INSTANCE_LOADED,      /* code loaded, init not called */
	INSTANCE_INITIALISED, /* init succeeded */
	INSTANCE_STARTED,     /* start succeeded: serving */
	INSTANCE_DRAINING,    /* drain called; waiting for in-flight work */
};

struct listener_ref {
	struct listener *listener;
	struct listener_ref *next;
};

struct deferred;

struct instance {
	struct quorum_host handle;
	struct runtime *rt;
	struct plugin_module *module; /* owned */
	const struct quorum_plugin *plugin;
	void *state;
	enum instance_phase phase;
	struct conf *conf;		 /* reference: the conf holding entry */
	const struct conf_plugin *entry; /* borrowed from conf */
	struct quorum_timer *timers;	 /* owned, running */
	struct deferred *deferred;	 /* owned, pending run_on_loop calls (rt->lock) */
	struct listener_ref *listeners;
	struct event *drain_timer;
	struct event *finish_event;
	struct instance *next_draining;
};

/* The API table every plugin's init receives. */
extern const struct quorum_api host_api;

/* instance_new: an instance of MODULE (owned from now on, also on failure) configured by
 * ENTRY of CONF (a reference is taken). RETURN VALUE: new, or NULL (module unloaded). */
struct instance *instance_new(struct runtime *rt, struct plugin_module *module,
			      struct conf *conf, const struct conf_plugin *entry);

/* instance_check_settings: ENTRY's settings group against MODULE's schema.
 * RETURN VALUE: 0 or -EINVAL with WHY as "file:line: ...". */
int instance_check_settings(const struct plugin_module *module, const struct conf *conf,
			    const struct conf_plugin *entry, char *why, size_t why_size);

/* instance_init / instance_start: the plugin's init and start. 0 or -errno with WHY. */
int instance_init(struct instance *inst, char *why, size_t why_size);
int instance_start(struct instance *inst, char *why, size_t why_size);

/* instance_reload: points INST at ENTRY of CONF and calls the plugin's reload; on failure
 * points it back. RETURN VALUE: 0 or -errno with WHY. */
int instance_reload(struct instance *inst, struct conf *conf, const struct conf_plugin *entry,
		    char *why, size_t why_size);

/* instance_drain: asks INST to stop accepting and moves it to the runtime's draining list;
 * it is finished once drained, or after drain_timeout_ms. */
void instance_drain(struct instance *inst);

/* instance_finish: fini, then frees timers, pending calls and listeners, unloads the code
 * and frees INST. Must not run while the plugin's code is on the stack. NULL: no-op. */
void instance_finish(struct instance *inst);

/* instance_name: the configured name. */
const char *instance_name(const struct instance *inst);

/* ---- runtime.c ---- */

/* Code of a finished plugin, kept mapped until libevent can no longer call into it. */
struct retired_module {
	struct plugin_module *module;
	int64_t since_ns; /* CLOCK_MONOTONIC */
	struct retired_module *next;
};

/* A service a plugin published (api->service_publish). */
struct service {
	char name[64];
	const void *ops;
	void *state;
	struct instance *owner;
	struct service *next;
};

struct runtime {
	struct event_base *base;
	struct conf *conf; /* the current generation's configuration (reference) */
	struct keyring keyring;
	struct orchestrator *orch;
	struct listener *listeners;
	struct instance **stages; /* in config order; the orchestrator has the run order */
	size_t stage_count;
	struct instance **transports;
	size_t transport_count;
	struct instance *draining;
	struct timecore *timecore; /* the served clock, the peer link, rounds */
	struct service *services;  /* published by plugins, withdrawn before their fini */
	EVP_PKEY *node_key;	   /* node.key, signs checkpoints; NULL when not configured */
	char node_key_id[KEY_ID_HEX_LEN + 1]; /* its key id ("" without one) */
	struct retired_module *retired;	      /* finished plugins' code, unloaded later */
	unsigned generation;
	int stopping;
	char *node_id;
	pthread_mutex_t lock;		/* guards every instance's deferred list */
	struct event *signal_events[3]; /* SIGTERM, SIGINT, SIGHUP, activated by ... */
	struct signal_watch *signals;	/* ... the signal thread (signals.c) */
	struct event *failsafe_timer;	/* failsafe.c: no time while the audit log fails */
	int failsafe_failing;
	/* the vault and merkle services, found once at failsafe_start (stages are not
	 * reloaded), forgotten at failsafe_stop, before the stages stop */
	const struct quorum_vault_ops *failsafe_vault;
	void *failsafe_vault_state;
	const struct quorum_merkle_ops *failsafe_merkle;
	void *failsafe_merkle_state;
	const struct loader_options *loader_options;
	struct refusals refusals;    /* unauthenticated refusals, summarised */
	struct event *refusal_timer; /* every log.refusal_summary_s */
	uid_t service_uid; /* trust material belongs to root or this user (trustpath) */
	gid_t service_gid;
	struct plugin_floors floors; /* the highest version of each plugin loaded */
};

/*
 * runtime_init: brings up the daemon described by CONF (a reference is taken): trusted keys,
 * the stages (init, then start) and the transports, all or nothing.
 * RETURN VALUE: 0, or -errno with WHY (everything started is stopped again).
 */
int runtime_init(struct runtime *rt, struct conf *conf, const struct loader_options *options,
		 char *why, size_t why_size);

/* runtime_service_publish / runtime_service_find / runtime_services_withdraw: the service
 * registry behind api->service_publish and api->service_find. Publish: 0, -EEXIST, -ENOMEM,
 * -EINVAL (name too long or empty). Find: 0 or -ENOENT. Withdraw: removes OWNER's. */
int runtime_service_publish(struct runtime *rt, struct instance *owner, const char *name,
			    const void *ops, void *state);
int runtime_service_find(const struct runtime *rt, const char *name, const void **ops,
			 void **state);
void runtime_services_withdraw(struct runtime *rt, const struct instance *owner);

/* runtime_retire_module: takes MODULE (owned from now on) of a finished plugin. libevent may
 * still hold deferred callbacks into it or its libraries (a TLS bufferevent's finalizer,
 * say), so it is unloaded only after RETIRE_GRACE_NS, or once the event base is freed. */
void runtime_retire_module(struct runtime *rt, struct plugin_module *module);

/* runtime_run: runs the loop until a stop completes. RETURN VALUE: the exit status. */
int runtime_run(struct runtime *rt);

/*
 * runtime_reload: builds the next generation from the file of the current conf: reads and
 * checks it, verifies and starts added or changed transports, then switches; if anything
 * fails nothing changes. RETURN VALUE: 0, or -errno with WHY.
 */
int runtime_reload(struct runtime *rt, char *why, size_t why_size);

/* runtime_stop: drains the transports, then finalises the stages and ends runtime_run. */
void runtime_stop(struct runtime *rt);

/* runtime_release: frees what runtime_init built (after runtime_run returned or init
 * failed). */
void runtime_release(struct runtime *rt);

/* runtime_audit: the audit hook: security-relevant TYPE with key=value FIELDS. */
void runtime_audit(struct runtime *rt, const char *type, const char *fields);

/*
 * runtime_refused: counts a refusal of something nobody can be held to (an unauthenticated
 * datagram or request) of WHAT for REASON from PEER (may be NULL); everything borrowed. No
 * record is written for it: each kind gets one log line and one audit record with its count
 * every log.refusal_summary_s (see refusals-internal.h).
 */
void runtime_refused(struct runtime *rt, const char *what, const char *reason,
		     const char *peer);

/* runtime_refusals_flush: writes the summaries of the refusals counted so far now. */
void runtime_refusals_flush(struct runtime *rt);

/* runtime_instance_finished: called by instance_finish for a draining instance. */
void runtime_instance_finished(struct runtime *rt);

/*
 * runtime_check_config: what --check-config does: reads CONF's trusted keys, verifies and
 * loads every enabled plugin and checks its settings, unloads them.
 * RETURN VALUE: 0, or -errno with WHY.
 */
int runtime_check_config(struct conf *conf, const struct loader_options *options, char *why,
			 size_t why_size);

#endif /* QUORUM_RUNTIME_INTERNAL_H */
