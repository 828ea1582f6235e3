/* runtime-internal.h -- the running daemon: its event loop, the current generation (conf,
 * trusted keys, transports), the stages and orchestrator, the time core, the failsafe, the
 * listening sockets shared between generations, and the services plugins publish. */
#ifndef QUORUM_RUNTIME_INTERNAL_H
#define QUORUM_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <quorum/plugin.h>

#include "conf-internal.h"
#include "failsafe-internal.h"
#include "instance-internal.h"
#include "keys-internal.h"
#include "listeners-internal.h"
#include "loader-internal.h"
#include "orchestrator-internal.h"
#include "metrics-internal.h"
#include "refusals-internal.h"

struct event;
struct event_base;
struct runtime;
struct instance;
struct timecore;

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
	struct listener_set listeners;
	struct instance_env instance_env; /* what every plugin instance shares */
	struct instance **stages; /* in config order; the orchestrator has the run order */
	size_t stage_count;
	struct instance **transports;
	size_t transport_count;
	struct instance *draining;
	struct timecore *timecore; /* the served clock, the peer link, rounds */
	struct service *services;  /* published by plugins, withdrawn before their fini */
	EVP_PKEY *node_key; /* node.key (loaded once: the time core and checkpoints); NULL
			       without one */
	char node_key_id[KEY_ID_HEX_LEN + 1]; /* its key id ("" without one) */
	struct retired_module *retired;	      /* finished plugins' code, unloaded later */
	unsigned generation;
	int stopping;
	char *node_id;
	pthread_mutex_t lock;		/* guards every instance's deferred list */
	struct event *signal_events[3]; /* SIGTERM, SIGINT, SIGHUP, activated by ... */
	struct signal_watch *signals;	/* ... the signal thread (signals.c) */
	struct failsafe failsafe;	/* no time served while the audit log fails */
	const struct loader_options *loader_options;
	struct refusals refusals;    /* unauthenticated refusals, summarised */
	struct metrics metrics;	     /* the host's and every plugin's series */
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

/*
 * runtime_check_config: what --check-config does: reads CONF's trusted keys, verifies and
 * loads every enabled plugin and checks its settings, unloads them.
 * RETURN VALUE: 0, or -errno with WHY.
 */
int runtime_check_config(struct conf *conf, const struct loader_options *options, char *why,
			 size_t why_size);

#endif /* QUORUM_RUNTIME_INTERNAL_H */
