/* instance-internal.h -- one loaded plugin: its lifecycle (init, start, reload, drain,
 * finish) and the resources the host keeps for it (timers, pending run_on_loop calls,
 * listening sockets), freed with it. What the plugin may ask of the host is hostapi.c's. */
#ifndef QUORUM_INSTANCE_INTERNAL_H
#define QUORUM_INSTANCE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <quorum/plugin.h>

#include "conf-internal.h"
#include "listeners-internal.h"
#include "loader-internal.h"

struct event;
struct event_base;
struct instance;
struct runtime;

#define QUORUM_HOST_MAGIC 0x54534851u /* "QHST" */

/* The opaque handle of <quorum/api.h>: the plugin sees only a pointer to it. */
struct quorum_host {
	uint32_t magic;
	struct instance *instance;
};

/* What every instance of a daemon shares, owned by the daemon (runtime.c). */
struct instance_env {
	struct event_base *base;
	pthread_mutex_t *lock;		/* guards every instance's deferred list */
	struct listener_set *listeners; /* the daemon's sockets */
	const struct quorum_api *api;	/* the table init receives */
	struct instance **draining;	/* head of the list of draining instances */
	struct runtime *rt;		/* the daemon, for the host API; opaque here */
	/* instance_finish calls finishing before the plugin's fini (nobody may call into it
	 * any more: its services go) and finished once INST is freed, handing over its code
	 * (MODULE, to unload later) and whether it was draining. */
	void (*finishing)(struct runtime *rt, const struct instance *inst);
	void (*finished)(struct runtime *rt, struct plugin_module *module, int was_draining);
	/* ... and finalised right after the plugin's fini (or its failed init): its threads
	 * are joined, so what they used (its metric series) may go. INST is only compared. */
	void (*finalised)(struct runtime *rt, const struct instance *inst);
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
	const struct instance_env *env; /* borrowed: outlives every instance */
	struct plugin_module *module;	/* owned */
	const struct quorum_plugin *plugin;
	void *state;
	enum instance_phase phase;
	struct conf *conf;		  /* reference: the conf holding entry */
	const struct conf_plugin *entry;  /* borrowed from conf */
	struct settings_struct *settings; /* owned: the bound settings (api->settings) */
	struct quorum_timer *timers;	  /* owned, running */
	struct deferred *deferred;	  /* owned, pending run_on_loop calls (env->lock) */
	struct listener_ref *listeners;
	struct event *drain_timer;
	struct event *finish_event;
	struct instance *next_draining;
};

/* instance_new: an instance of MODULE (owned from now on, also on failure) configured by
 * ENTRY of CONF (a reference is taken) in ENV. RETURN VALUE: new, or NULL (module
 * unloaded). */
struct instance *instance_new(const struct instance_env *env, struct plugin_module *module,
			      struct conf *conf, const struct conf_plugin *entry);

/* instance_check_settings: ENTRY's settings group against MODULE's schema, and the
 * settings struct it fills (*OUT: new, settings_struct_free; NULL when the plugin has
 * none; OUT may be NULL to check only).
 * RETURN VALUE: 0, or -EINVAL / -ENOMEM with WHY as "file:line: ...". */
int instance_check_settings(const struct plugin_module *module, const struct conf *conf,
			    const struct conf_plugin *entry, struct settings_struct **out,
			    char *why, size_t why_size);

/* instance_init / instance_start: the plugin's init and start. 0 or -errno with WHY. */
int instance_init(struct instance *inst, char *why, size_t why_size);
int instance_start(struct instance *inst, char *why, size_t why_size);

/* instance_reload: points INST at ENTRY of CONF and calls the plugin's reload; on failure
 * points it back. RETURN VALUE: 0 or -errno with WHY. */
int instance_reload(struct instance *inst, struct conf *conf, const struct conf_plugin *entry,
		    char *why, size_t why_size);

/* instance_refresh: calls the transport's refresh (ABI 1.10; SIGHUP, settings unchanged).
 * RETURN VALUE: 0, QUORUM_DECLINED (it has none) or -errno with WHY. */
int instance_refresh(struct instance *inst, char *why, size_t why_size);

/* instance_drain: asks INST to stop accepting and moves it to the draining list; it is
 * finished once drained (instance_drained), or after drain_timeout_ms. */
void instance_drain(struct instance *inst);

/* instance_drained: a draining INST has no work left: finish it from the loop. */
void instance_drained(struct instance *inst);

/* instance_finish: fini, then frees timers, pending calls and listeners, hands the code
 * over (env->finished) and frees INST. Must not run while the plugin's code is on the
 * stack. NULL: no-op. */
void instance_finish(struct instance *inst);

/* instance_of: the instance behind a plugin's handle; a handle that is not ours is a plugin
 * bug: logged, then abort() (Varnish's miniobj rule). */
struct instance *instance_of(struct quorum_host *host);

/* instance_name: the configured name. instance_kind: "stage" or "transport". */
const char *instance_name(const struct instance *inst);
const char *instance_kind(const struct instance *inst);

/* instance_timer_start / instance_timer_stop: INST's timers (api timer_start/stop): CB
 * after AFTER_MS, then every EVERY_MS (0: once). Start: the timer, or NULL. Stop may run
 * from the timer's own callback; NULL is a no-op. */
struct quorum_timer *instance_timer_start(struct instance *inst, uint64_t after_ms,
					  uint64_t every_ms, quorum_callback cb, void *arg);
void instance_timer_stop(struct quorum_timer *timer);

/* instance_run_on_loop: CB(ARG) on the loop thread soon; callable from any thread.
 * RETURN VALUE: 0 or -ENOMEM. */
int instance_run_on_loop(struct instance *inst, quorum_callback cb, void *arg);

/* instance_listen: binds (or inherits) the sockets of GROUP (0: one plain socket) on
 * ADDR:PORT for INST, kept until it finishes, and hands it a duplicate of each in FDS_OUT.
 * RETURN VALUE: 0 or -errno (logged). */
int instance_listen(struct instance *inst, int type, const char *addr, uint16_t port,
		    unsigned group, int *fds_out);

#endif /* QUORUM_INSTANCE_INTERNAL_H */
