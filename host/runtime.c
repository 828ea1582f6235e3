/* runtime.c -- the running daemon: bring-up (all or nothing), SIGHUP reload as nginx builds a
 * configuration cycle (the next generation is built completely, then switched to, or
 * dropped), graceful stop, and the audit hook. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "failsafe-internal.h"
#include "hostapi-internal.h"
#include "log-internal.h"
#include "notify-internal.h"
#include "privileges-internal.h"
#include "runtime-internal.h"
#include "settings-internal.h"
#include "signals-internal.h"
#include "timecore-internal.h"
#include "trustpath-internal.h"
#include "util-internal.h"
#include "clocks.h"

void runtime_audit(struct runtime *rt, const char *type, const char *fields)
{
	const struct quorum_vault_ops *vault;
	void *state;
	char text[1536];
	int n, err;

	/* Always logged; and, once a vault stage has published its service, recorded. */
	log_msg(QUORUM_LOG_NOTICE, "audit", "%s %s", type, fields);
	if (runtime_service_find(rt, QUORUM_VAULT_SERVICE, (const void **)&vault, &state) != 0)
		return;
	n = snprintf(text, sizeof(text), "%s %s", type, fields);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = (int)sizeof(text) -
		    1; /* fields are bounded by their producers; cut, not lost */
	err = vault->append(state, QUORUM_RECORD_AUDIT, text, (size_t)n, NULL);
	if (err != 0)
		log_msg(QUORUM_LOG_ERROR, "audit",
			"audit.vault_append_failed type=%s error=\"%s\"", type, strerror(-err));
}

void runtime_refused(struct runtime *rt, const char *what, const char *reason, const char *peer)
{
	if (refusals_count(&rt->refusals, what, reason, peer) == 1)
		log_msg(QUORUM_LOG_DEBUG, "host", "refused what=%s reason=%s peer=%s", what,
			reason, peer != NULL ? peer : "-");
}

static void refusal_summary_emit(void *arg, const struct refusal_kind *k)
{
	struct runtime *rt = arg;
	char fields[256];

	snprintf(fields, sizeof(fields),
		 "what=%s reason=%s count=%" PRIu64 " total=%" PRIu64 " interval_s=%" PRId64
		 " last_peer=%s",
		 k->what, k->reason, k->pending, k->total, rt->conf->refusal_summary_s,
		 k->last_peer);
	runtime_audit(rt, "refused.summary", fields);
}

void runtime_refusals_flush(struct runtime *rt)
{
	refusals_summarise(&rt->refusals, refusal_summary_emit, rt);
}

static void refusal_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	runtime_refusals_flush(arg);
}

#define RETIRE_GRACE_NS 10000000000LL /* 10 s: every deferred callback has run by then */

/* Unloads the retired modules older than the grace period (all of them when ALL). */
static void runtime_unload_retired(struct runtime *rt, int all)
{
	int64_t now = mono_now_ns();
	struct retired_module **pp = &rt->retired;

	while (*pp != NULL) {
		struct retired_module *r = *pp;

		if (all || now - r->since_ns >= RETIRE_GRACE_NS) {
			*pp = r->next;
			plugin_module_unload(r->module);
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

void runtime_retire_module(struct runtime *rt, struct plugin_module *module)
{
	struct retired_module *r = calloc(1, sizeof(*r));

	runtime_unload_retired(rt, 0);
	if (r ==
	    NULL) { /* no memory to wait: keep the code mapped for good, never unmap early */
		log_msg(QUORUM_LOG_WARNING, "host",
			"plugin.unload_skipped reason=out_of_memory");
		return;
	}
	r->module = module;
	r->since_ns = mono_now_ns();
	r->next = rt->retired;
	rt->retired = r;
}

static void runtime_instance_finished(struct runtime *rt);

/* instance_env hooks: a finishing instance's services go before its fini; a finished one's
 * code is retired, and the last draining one may complete a stop. */
static void instance_finishing_hook(struct runtime *rt, const struct instance *inst)
{
	runtime_services_withdraw(rt, inst);
}

/* Its metric series go only after its fini: a transport's worker threads count into them
 * until fini joins them. */
static void instance_finalised_hook(struct runtime *rt, const struct instance *inst)
{
	metrics_withdraw(&rt->metrics, inst);
}

static void instance_finished_hook(struct runtime *rt, struct plugin_module *module,
				   int was_draining)
{
	runtime_retire_module(rt, module);
	if (was_draining)
		runtime_instance_finished(rt);
}

/* runtime_instance_env: the environment RT's plugin instances share. */
static void runtime_instance_env(struct runtime *rt)
{
	rt->instance_env = (struct instance_env){ .base = rt->base,
						  .lock = &rt->lock,
						  .listeners = &rt->listeners,
						  .api = &host_api,
						  .draining = &rt->draining,
						  .rt = rt,
						  .finishing = instance_finishing_hook,
						  .finished = instance_finished_hook,
						  .finalised = instance_finalised_hook };
}

int runtime_service_publish(struct runtime *rt, struct instance *owner, const char *name,
			    const void *ops, void *state)
{
	struct service *svc;

	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(svc->name) || ops == NULL)
		return -EINVAL;
	for (svc = rt->services; svc != NULL; svc = svc->next) {
		if (strcmp(svc->name, name) == 0)
			return -EEXIST;
	}
	svc = calloc(1, sizeof(*svc));
	if (svc == NULL)
		return -ENOMEM;
	snprintf(svc->name, sizeof(svc->name), "%s", name);
	svc->ops = ops;
	svc->state = state;
	svc->owner = owner;
	svc->next = rt->services;
	rt->services = svc;
	return 0;
}

int runtime_service_find(const struct runtime *rt, const char *name, const void **ops,
			 void **state)
{
	for (const struct service *svc = rt->services; svc != NULL; svc = svc->next) {
		if (strcmp(svc->name, name) == 0) {
			*ops = svc->ops;
			*state = svc->state;
			return 0;
		}
	}
	return -ENOENT;
}

void runtime_services_withdraw(struct runtime *rt, const struct instance *owner)
{
	struct service **pp = &rt->services;

	while (*pp != NULL) {
		struct service *svc = *pp;

		if (svc->owner == owner) {
			*pp = svc->next;
			free(svc);
		} else {
			pp = &svc->next;
		}
	}
}

static void runtime_audit_hook(void *arg, const char *type, const char *fields)
{
	runtime_audit(arg, type, fields);
}

static void runtime_refused_hook(void *arg, const char *what, const char *reason,
				 const char *peer)
{
	runtime_refused(arg, what, reason, peer);
}

static int timecore_service_find_hook(void *arg, const char *name, const void **ops,
				      void **state)
{
	return runtime_service_find(arg, name, ops, state);
}

/* The time core gets what it needs of the runtime, and nothing else (timecore_env). */
static int runtime_timecore_start(struct runtime *rt, char *why, size_t why_size)
{
	const struct timecore_env env = {
		.base = rt->base,
		.conf = rt->conf,
		.node_key = rt->node_key,
		.orch = rt->orch,
		.listeners = &rt->listeners,
		.host = rt,
		.audit = runtime_audit_hook,
		.refused = runtime_refused_hook,
		.service_find = timecore_service_find_hook,
		.metrics = &rt->metrics,
	};

	return timecore_start(&env, &rt->timecore, why, why_size);
}

/* SCOPE's key, which must be a trusted one, may sign only SCOPE's names. */
static int keyring_apply_scope(struct keyring *ring, const struct conf_key_scope *scope,
			       char *why, size_t why_size)
{
	char id[KEY_ID_HEX_LEN + 1], detail[ERRBUF_SIZE];
	EVP_PKEY *key = NULL;
	int err = key_load_public(scope->key, &key, detail, sizeof(detail));

	if (err == 0 && key_id(key, id) != 0)
		err = -EINVAL;
	EVP_PKEY_free(key);
	if (err == 0)
		err = keyring_scope(ring, id, scope->names, scope->name_count);
	if (err == -ENOENT)
		errbuf_set(detail, sizeof(detail), "%s is not in trusted_plugin_keys",
			   scope->key);
	else if (err == -EEXIST)
		errbuf_set(detail, sizeof(detail), "the key in %s is scoped twice", scope->key);
	if (err != 0)
		errbuf_set(why, why_size, "%s:%d: plugin_key_scopes: %s", scope->file,
			   scope->line, err == -ENOMEM ? "out of memory" : detail);
	return err;
}

static int keyring_load(struct keyring *ring, const struct conf *conf, char *why,
			size_t why_size)
{
	int err = 0;

	for (size_t i = 0; err == 0 && i < conf->trusted_key_count; i++) {
		char detail[ERRBUF_SIZE];

		err = keyring_add_file(ring, conf->trusted_keys[i], detail, sizeof(detail));
		if (err != 0)
			errbuf_set(why, why_size, "%s: trusted_plugin_keys: %s", conf->path,
				   detail);
	}
	for (size_t i = 0; err == 0 && i < conf->key_scope_count; i++)
		err = keyring_apply_scope(ring, &conf->key_scopes[i], why, why_size);
	if (err != 0)
		keyring_release(ring);
	return err;
}

/* What quorumd requires of a plugin: signed by a key of RING (in format 2 unless CONF allows
 * the legacy one), StrictModes, and no version below its floor in FLOORS. */
static struct plugin_policy runtime_policy(const struct conf *conf, const struct keyring *ring,
					   uid_t service_uid,
					   const struct plugin_floors *floors)
{
	return (struct plugin_policy){ .trusted = ring,
				       .service_uid = service_uid,
				       .check_paths = 1,
				       .allow_legacy = conf->allow_legacy_signatures,
				       .floors = floors };
}

/* The service user's uid and gid (the `user` setting's, else ours). */
static int service_user(const struct conf *conf, uid_t *uid, gid_t *gid, char *why,
			size_t why_size)
{
	if (conf->user != NULL)
		return privileges_lookup(conf->user, uid, gid, why, why_size);
	*uid = geteuid();
	*gid = getegid();
	return 0;
}

/* MODULE, just loaded as ENTRY, raises its name's version floor: from now on an older
 * version is a rollback. RETURN VALUE: 0, or -errno with WHY (MODULE then unloaded). */
static int runtime_raise_floor(struct runtime *rt, const struct conf_plugin *entry,
			       struct plugin_module *module, char *why, size_t why_size)
{
	char detail[ERRBUF_SIZE];
	int err = plugin_floor_raise(&rt->floors, entry->name, module->descriptor->version,
				     detail, sizeof(detail));

	if (err == 1)
		log_msg(QUORUM_LOG_NOTICE, "host", "plugin.floor.raised name=%s version=%s%s",
			entry->name, module->descriptor->version,
			rt->floors.dir != NULL ? "" : " persisted=no");
	if (err >= 0)
		return 0;
	errbuf_set(why, why_size, "plugin '%s' not loaded: cannot record its version floor: %s",
		   entry->name, detail);
	plugin_module_unload(module);
	return err;
}

/* Verifies, loads and checks the settings of ENTRY. */
static int runtime_load_plugin(struct runtime *rt, const struct keyring *ring,
			       struct conf *conf, const struct conf_plugin *entry,
			       struct instance **out, char *why, size_t why_size)
{
	struct plugin_policy policy = runtime_policy(conf, ring, rt->service_uid, &rt->floors);
	struct plugin_module *module;
	struct instance *inst;
	int err;

	err = plugin_load(entry->path, entry->name, entry->kind, &policy, rt->loader_options,
			  &module, why, why_size);
	if (err == 0)
		err = runtime_raise_floor(rt, entry, module, why, why_size);
	if (err != 0)
		return err;
	inst = instance_new(&rt->instance_env, module, conf, entry);
	if (inst == NULL) {
		errbuf_set(why, why_size, "out of memory loading '%s'", entry->name);
		return -ENOMEM;
	}
	log_msg(module->sig_format == 1 ? QUORUM_LOG_WARNING : QUORUM_LOG_INFO, "host",
		"plugin.verified kind=%s name=%s version=%s key_id=%s signature=%s memfd=%s",
		plugin_kind_name(entry->kind), entry->name, module->descriptor->version,
		module->key_id, module->sig_format == 1 ? "v1-legacy" : "v2",
		module->private_copy ? "no(private-copy)" : "sealed");
	*out = inst;
	return 0;
}

/* Loads, initialises and starts one transport of CONF. */
static int runtime_bring_up_transport(struct runtime *rt, const struct keyring *ring,
				      struct conf *conf, const struct conf_plugin *entry,
				      struct instance **out, char *why, size_t why_size)
{
	struct instance *inst;
	int err;

	err = runtime_load_plugin(rt, ring, conf, entry, &inst, why, why_size);
	if (err != 0)
		return err;
	err = instance_init(inst, why, why_size);
	if (err == 0)
		err = instance_start(inst, why, why_size);
	if (err != 0) {
		instance_finish(inst);
		return err;
	}
	*out = inst;
	return 0;
}

/* Stops an instance that never served in a generation that is being dropped. */
static void runtime_abort_instance(struct instance *inst)
{
	if (inst->phase == INSTANCE_STARTED && inst->plugin->drain != NULL)
		inst->plugin->drain(inst->state);
	instance_finish(inst);
}

/* What a stop may take beyond drain_timeout_ms, which the transports have: the stages'
 * close (the vault's last fsync). Past both, the signal thread ends the process. */
#define STOP_GRACE_MS 1000
/* Callbacks the loop runs before it looks at its timers, sockets and signals again: no
 * plugin that keeps re-arming work (run_on_loop) can starve them. */
#define LOOP_MAX_CALLBACKS 64

static int64_t stop_budget_ms(const struct conf *conf)
{
	return conf->drain_timeout_ms + STOP_GRACE_MS;
}

/* On the loop: SIGNO, handed over by the signal thread (signals.c). */
static void runtime_signal(struct runtime *rt, int signo)
{
	char why[ERRBUF_SIZE];

	if (signo == SIGHUP) {
		log_msg(QUORUM_LOG_NOTICE, "host", "reload.requested signal=SIGHUP");
		if (rt->stopping) {
			log_msg(QUORUM_LOG_WARNING, "host",
				"reload.rejected reason=\"stopping\"");
			return;
		}
		notify_systemd("RELOADING=1");
		if (runtime_reload(rt, why, sizeof(why)) != 0)
			log_msg(QUORUM_LOG_ERROR, "host",
				"reload.rejected generation=%u kept=1 error=\"%s\"",
				rt->generation, why);
		notify_systemd("READY=1");
		return;
	}
	log_msg(QUORUM_LOG_NOTICE, "host", "stop.requested signal=%s budget_ms=%lld",
		signo == SIGTERM ? "SIGTERM" : "SIGINT", (long long)stop_budget_ms(rt->conf));
	notify_systemd("STOPPING=1");
	runtime_stop(rt);
}

static void on_sigterm(evutil_socket_t fd, short what, void *arg)
{
	runtime_signal(arg, SIGTERM);
}

static void on_sigint(evutil_socket_t fd, short what, void *arg)
{
	runtime_signal(arg, SIGINT);
}

static void on_sighup(evutil_socket_t fd, short what, void *arg)
{
	runtime_signal(arg, SIGHUP);
}

/* Signals reach the loop from a thread of their own, which also bounds a stop's duration
 * (signals.c): a loop that a plugin keeps busy or stuck cannot delay SIGTERM forever. */
static int runtime_init_signals(struct runtime *rt)
{
	static const event_callback_fn callbacks[SIGNAL_WATCH_COUNT] = {
		[SIGNAL_WATCH_TERM] = on_sigterm,
		[SIGNAL_WATCH_INT] = on_sigint,
		[SIGNAL_WATCH_HUP] = on_sighup,
	};

	for (size_t i = 0; i < SIGNAL_WATCH_COUNT; i++) {
		rt->signal_events[i] = event_new(rt->base, -1, 0, callbacks[i], rt);
		if (rt->signal_events[i] == NULL)
			return -ENOMEM;
	}
	signal(SIGPIPE, SIG_IGN);
	return signal_watch_start(rt->signal_events, stop_budget_ms(rt->conf), &rt->signals);
}

/* The failsafe watches the vault's and the merkle stage's services (found once: stages are
 * not reloaded) and suspends the time core's clock while either fails. */
static int runtime_failsafe_start(struct runtime *rt)
{
	const void *vault = NULL, *merkle = NULL;
	void *vault_state = NULL, *merkle_state = NULL;

	if (runtime_service_find(rt, QUORUM_VAULT_SERVICE, &vault, &vault_state) != 0)
		vault = NULL;
	if (runtime_service_find(rt, QUORUM_MERKLE_SERVICE, &merkle, &merkle_state) != 0)
		merkle = NULL;
	return failsafe_start(&rt->failsafe, rt->base, vault, vault_state, merkle, merkle_state,
			      rt->timecore != NULL ? timecore_clock(rt->timecore) : NULL);
}

int runtime_init(struct runtime *rt, struct conf *conf, const struct loader_options *options,
		 char *why, size_t why_size)
{
	struct event_config *cfg;
	int err;

	memset(rt, 0, sizeof(*rt));
	pthread_mutex_init(&rt->lock, NULL);
	metrics_init(&rt->metrics);
	rt->loader_options = options;
	rt->conf = conf_ref(conf);
	rt->node_id = strdup(conf->node_id);
	if (rt->node_id == NULL)
		return -ENOMEM;
	log_configure(conf->log_destination, conf->log_level);

	/* Transports may run threads that hand work to the loop (run_on_loop). */
	if (evthread_use_pthreads() != 0) {
		errbuf_set(why, why_size, "libevent has no pthreads support");
		return -EIO;
	}
	cfg = event_config_new();
	if (cfg == NULL ||
	    event_config_set_max_dispatch_interval(cfg, NULL, LOOP_MAX_CALLBACKS, 0) != 0) {
		event_config_free(cfg);
		return -ENOMEM;
	}
	rt->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (rt->base == NULL) {
		errbuf_set(why, why_size, "cannot create the event loop");
		return -EIO;
	}
	runtime_instance_env(rt);
	err = runtime_init_signals(rt);
	if (err != 0) {
		errbuf_set(why, why_size, "cannot install signal handlers");
		return err;
	}
	rt->orch = orchestrator_new(runtime_audit_hook, rt);
	if (rt->orch == NULL)
		return -ENOMEM;
	refusals_init(&rt->refusals);
	orchestrator_set_refused(rt->orch, runtime_refused_hook, rt);
	{
		struct timeval every = { .tv_sec = conf->refusal_summary_s };

		rt->refusal_timer = event_new(rt->base, -1, EV_PERSIST, refusal_timer_cb, rt);
		if (rt->refusal_timer == NULL || event_add(rt->refusal_timer, &every) != 0)
			return -ENOMEM;
	}
	if (loader_init() != 0) {
		errbuf_set(why, why_size, "cannot initialise libltdl");
		return -EIO;
	}
	err = service_user(conf, &rt->service_uid, &rt->service_gid, why, why_size);
	if (err == 0)
		err = plugin_floors_open(&rt->floors, conf->state_dir, 1, rt->service_uid,
					 rt->service_gid, why, why_size);
	if (err == 0)
		err = keyring_load(&rt->keyring, conf, why, why_size);
	if (err != 0)
		return err;
	if (conf->node_key != NULL) {
		err = key_load_private(conf->node_key, &rt->node_key, why, why_size);
		if (err != 0)
			return err;
		key_id(rt->node_key, rt->node_key_id);
	}

	rt->stages = calloc(conf->stage_count + 1, sizeof(*rt->stages));
	rt->transports = calloc(conf->transport_count + 1, sizeof(*rt->transports));
	if (rt->stages == NULL || rt->transports == NULL)
		return -ENOMEM;

	/* Stages: load and initialise all, place them in the pipeline, then start them. */
	for (size_t i = 0; i < conf->stage_count; i++) {
		const struct conf_plugin *entry = &conf->stages[i];
		struct instance *inst;
		struct orchestrator_stage stage;

		err = runtime_load_plugin(rt, &rt->keyring, conf, entry, &inst, why, why_size);
		if (err != 0)
			return err;
		rt->stages[rt->stage_count++] = inst;
		err = instance_init(inst, why, why_size);
		if (err != 0)
			return err;
		stage = (struct orchestrator_stage){ .name = entry->name,
						     .role = inst->plugin->role,
						     .ops = inst->plugin->ops,
						     .state = inst->state };
		err = orchestrator_add_stage(rt->orch, &stage);
		if (err != 0) {
			errbuf_set(why, why_size, "stage '%s' cannot join the pipeline: %s",
				   entry->name, strerror(-err));
			return err;
		}
	}
	for (size_t i = 0; i < rt->stage_count; i++) {
		err = instance_start(rt->stages[i], why, why_size);
		if (err != 0)
			return err;
	}
	for (size_t i = 0; i < orchestrator_stage_count(rt->orch); i++)
		log_msg(QUORUM_LOG_INFO, "host", "pipeline.stage position=%zu name=%s", i + 1,
			orchestrator_stage_name(rt->orch, i));

	/* The time core ingests rounds into the stages, and transports read its clock. */
	err = runtime_timecore_start(rt, why, why_size);
	if (err != 0)
		return err;
	if (runtime_failsafe_start(rt) != 0) {
		errbuf_set(why, why_size, "cannot start the audit failsafe timer");
		return -ENOMEM;
	}

	for (size_t i = 0; i < conf->transport_count; i++) {
		err = runtime_bring_up_transport(rt, &rt->keyring, conf, &conf->transports[i],
						 &rt->transports[rt->transport_count], why,
						 why_size);
		if (err != 0)
			return err;
		rt->transport_count++;
	}
	rt->generation = 1;
	log_msg(QUORUM_LOG_NOTICE, "host",
		"started generation=1 node=%s stages=%zu transports=%zu abi=%d.%d", rt->node_id,
		rt->stage_count, rt->transport_count, QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);
	return 0;
}

/* How the next generation treats one of its transports. */
enum plan_action {
	PLAN_KEEP,   /* unchanged: the running instance carries over */
	PLAN_RELOAD, /* same code, new settings, the plugin can reload in place */
	PLAN_NEW,    /* added, or replaced by a fresh instance (sockets are inherited) */
};

struct plan_item {
	enum plan_action action;
	const struct conf_plugin *entry; /* in the next conf */
	struct instance *old;		 /* the running instance of that name, or NULL */
	struct instance *fresh;		 /* PLAN_NEW: the started successor */
	int reloaded;
};

static struct instance *runtime_find_transport(struct runtime *rt, const char *name)
{
	for (size_t i = 0; i < rt->transport_count; i++) {
		if (strcmp(instance_name(rt->transports[i]), name) == 0)
			return rt->transports[i];
	}
	return NULL;
}

/* Decides KEEP / RELOAD / NEW for ITEM; verifies the file in every case. */
static int plan_transport(struct runtime *rt, const struct keyring *ring, struct conf *next,
			  struct plan_item *item, char *why, size_t why_size)
{
	const struct conf_plugin *entry = item->entry;
	struct instance *old = runtime_find_transport(rt, entry->name);
	struct plugin_policy policy = runtime_policy(next, ring, rt->service_uid, &rt->floors);
	struct plugin_image image;
	int err, same_code;

	item->old = old;
	err = plugin_image_read(entry->path, entry->name, entry->kind, &policy, &image, why,
				why_size);
	if (err != 0)
		return err;
	same_code = old != NULL && strcmp(old->entry->path, entry->path) == 0 &&
		    memcmp(old->module->sha256, image.sha256, sizeof(image.sha256)) == 0;
	if (same_code && strcmp(old->entry->settings_text, entry->settings_text) == 0) {
		item->action = PLAN_KEEP;
		plugin_image_release(&image);
		return 0;
	}
	if (same_code && old->plugin->reload != NULL) {
		item->action = PLAN_RELOAD;
		plugin_image_release(&image);
		return 0;
	}
	item->action = PLAN_NEW;
	{
		struct plugin_module *module;

		err = plugin_module_load(&image, entry->kind, &policy, rt->loader_options,
					 &module, why, why_size);
		plugin_image_release(&image);
		if (err == 0)
			err = runtime_raise_floor(rt, entry, module, why, why_size);
		if (err != 0)
			return err;
		item->fresh = instance_new(&rt->instance_env, module, next, entry);
	}
	if (item->fresh == NULL) {
		errbuf_set(why, why_size, "out of memory loading '%s'", entry->name);
		return -ENOMEM;
	}
	err = instance_init(item->fresh, why, why_size);
	if (err == 0)
		err = instance_start(item->fresh, why, why_size);
	return err;
}

int runtime_reload(struct runtime *rt, char *why, size_t why_size)
{
	struct conf *next = NULL;
	struct keyring ring = { 0 };
	struct plan_item *plan = NULL;
	struct instance **transports = NULL;
	size_t count = 0, kept = 0, reloaded = 0, started = 0, removed = 0, refreshed = 0;
	int err;

	err = conf_load(rt->conf->path, rt->conf->plugin_dir, &next, why, why_size);
	if (err != 0)
		return err;
	err = conf_reload_compatible(rt->conf, next, why, why_size);
	if (err == 0)
		err = conf_check_trust(next, &rt->service_uid, why, why_size);
	if (err != 0)
		goto out_drop;
	err = keyring_load(&ring, next, why, why_size);
	if (err != 0)
		goto out_drop;
	plan = calloc(next->transport_count + 1, sizeof(*plan));
	transports = calloc(next->transport_count + 1, sizeof(*transports));
	if (plan == NULL || transports == NULL) {
		err = -ENOMEM;
		errbuf_set(why, why_size, "out of memory");
		goto out_drop;
	}
	/* Build: every transport of the next generation is verified; new ones are started
	 * (inheriting the sockets of the ones they replace). */
	for (count = 0; count < next->transport_count; count++) {
		plan[count].entry = &next->transports[count];
		err = plan_transport(rt, &ring, next, &plan[count], why, why_size);
		if (err != 0) {
			count++;
			goto out_drop;
		}
	}
	/* In-place reloads, each all or nothing; on failure the earlier ones are undone. */
	for (size_t i = 0; i < count; i++) {
		if (plan[i].action != PLAN_RELOAD)
			continue;
		err = instance_reload(plan[i].old, next, plan[i].entry, why, why_size);
		if (err != 0)
			goto out_drop;
		plan[i].reloaded = 1;
	}
	/* Unchanged transports read their files again (certificates): a failure rejects the
	 * reload; a refresh that succeeded stays (it only read what the settings name). */
	for (size_t i = 0; i < count; i++) {
		if (plan[i].action != PLAN_KEEP)
			continue;
		err = instance_refresh(plan[i].old, why, why_size);
		if (err < 0)
			goto out_drop;
		refreshed += err == 0;
	}

	/* Switch. */
	for (size_t i = 0; i < count; i++) {
		transports[i] = plan[i].action == PLAN_NEW ? plan[i].fresh : plan[i].old;
		kept += plan[i].action == PLAN_KEEP;
		reloaded += plan[i].action == PLAN_RELOAD;
		started += plan[i].action == PLAN_NEW;
	}
	for (size_t i = 0; i < rt->transport_count; i++) {
		struct instance *old = rt->transports[i];
		int survives = 0;

		for (size_t j = 0; j < count; j++)
			survives |= transports[j] == old;
		if (!survives) {
			removed++;
			instance_drain(old);
		}
	}
	free(rt->transports);
	rt->transports = transports;
	rt->transport_count = count;
	keyring_release(&rt->keyring);
	rt->keyring = ring;
	conf_unref(rt->conf);
	rt->conf = next;
	signal_watch_set_budget(rt->signals, stop_budget_ms(next));
	log_configure(next->log_destination, next->log_level);
	rt->generation++;
	log_msg(QUORUM_LOG_NOTICE, "host",
		"reload.done generation=%u transports=%zu started=%zu reloaded=%zu "
		"unchanged=%zu stopped=%zu refreshed=%zu",
		rt->generation, count, started, reloaded, kept, removed, refreshed);
	free(plan);
	return 0;

out_drop:
	for (size_t i = 0; plan != NULL && i < count; i++) {
		if (plan[i].reloaded) {
			char ignored[ERRBUF_SIZE];
			struct instance *old = plan[i].old;
			const struct conf_plugin *prev =
				conf_find_transport(rt->conf, old->entry->name);

			/* Undo: the previous settings were running a moment ago. */
			if (prev == NULL ||
			    instance_reload(old, rt->conf, prev, ignored, sizeof(ignored)) != 0)
				log_msg(QUORUM_LOG_ERROR, "host",
					"reload.rollback.failed name=%s error=\"%s\"",
					old->entry->name, ignored);
		}
		if (plan[i].fresh != NULL)
			runtime_abort_instance(plan[i].fresh);
	}
	free(plan);
	free(transports);
	keyring_release(&ring);
	conf_unref(next);
	return err;
}

static void runtime_stop_stages(struct runtime *rt)
{
	/* No more rounds: nothing may reach the stages once they begin to stop, and the
	 * failsafe lets go of their services and of the clock. */
	failsafe_stop(&rt->failsafe);
	timecore_stop(rt->timecore);
	rt->timecore = NULL;
	/* Stages stop once no transport can ingest, in the reverse of the pipeline's order
	 * (control first, passport last), so a stage's services (the vault's) outlive the
	 * later stages that use them. */
	for (uint32_t role = QUORUM_ROLE_COUNT + 1; role-- > 0;) {
		for (size_t i = rt->stage_count; i-- > 0;) {
			struct instance *inst = rt->stages[i];

			if (inst == NULL ||
			    (inst->plugin->role != role &&
			     !(role == 0 && inst->plugin->role > QUORUM_ROLE_COUNT)))
				continue;
			if (inst->phase == INSTANCE_STARTED && inst->plugin->drain != NULL)
				inst->plugin->drain(inst->state);
			instance_finish(inst);
			rt->stages[i] = NULL;
		}
	}
	rt->stage_count = 0;
}

static void runtime_instance_finished(struct runtime *rt)
{
	if (!rt->stopping || rt->draining != NULL)
		return;
	/* The last summary while the vault still takes records. */
	runtime_refusals_flush(rt);
	runtime_stop_stages(rt);
	log_msg(QUORUM_LOG_NOTICE, "host", "stopped generation=%u", rt->generation);
	event_base_loopexit(rt->base, NULL);
}

void runtime_stop(struct runtime *rt)
{
	if (rt->stopping) {
		log_msg(QUORUM_LOG_NOTICE, "host", "stop.in_progress draining=%s",
			rt->draining != NULL ? "yes" : "no");
		return;
	}
	rt->stopping = 1;
	while (rt->transport_count > 0)
		instance_drain(rt->transports[--rt->transport_count]);
	if (rt->draining == NULL)
		runtime_instance_finished(rt);
}

int runtime_run(struct runtime *rt)
{
	if (event_base_dispatch(rt->base) < 0) {
		log_msg(QUORUM_LOG_ERROR, "host", "loop.failed");
		return 1;
	}
	return 0;
}

void runtime_release(struct runtime *rt)
{
	/* After a failed init or an interrupted loop: whatever is still up goes down now. */
	while (rt->draining != NULL)
		instance_finish(rt->draining);
	while (rt->transport_count > 0)
		runtime_abort_instance(rt->transports[--rt->transport_count]);
	runtime_stop_stages(rt);
	free(rt->transports);
	free(rt->stages);
	orchestrator_free(rt->orch);
	signal_watch_stop(rt->signals); /* before the events it hands signals to */
	for (size_t i = 0; i < ARRAY_SIZE(rt->signal_events); i++) {
		if (rt->signal_events[i] != NULL)
			event_free(rt->signal_events[i]);
	}
	if (rt->refusal_timer != NULL)
		event_free(rt->refusal_timer);
	if (rt->base != NULL)
		/* runs the last finalizers, some in plugins' libraries */
		event_base_free(rt->base);
	runtime_unload_retired(rt, 1);
	keyring_release(&rt->keyring);
	plugin_floors_release(&rt->floors);
	EVP_PKEY_free(rt->node_key);
	while (rt->services != NULL) { /* none left once every plugin is finished */
		struct service *svc = rt->services;

		rt->services = svc->next;
		free(svc);
	}
	metrics_release(&rt->metrics);
	conf_unref(rt->conf);
	free(rt->node_id);
	loader_exit();
	pthread_mutex_destroy(&rt->lock);
	memset(rt, 0, sizeof(*rt));
}

/*
 * What start would do with a transport, short of serving: its init reads and checks all it
 * will use (mode and address, TLS certificate, key and client CA, token files) and opens
 * nothing (start binds its listeners, starts its threads), so --check-config runs it, then
 * its fini, on a throwaway event base. Takes MODULE.
 */
static int check_transport_init(struct conf *conf, struct plugin_module *module,
				const struct conf_plugin *entry, char *why, size_t why_size)
{
	struct runtime rt;
	struct instance *inst;
	int err;

	memset(&rt, 0, sizeof(rt));
	pthread_mutex_init(&rt.lock, NULL);
	metrics_init(&rt.metrics);
	rt.conf = conf;
	rt.node_id = (char *)conf->node_id; /* borrowed: not freed here */
	rt.base = event_base_new();
	if (rt.base == NULL) {
		plugin_module_unload(module);
		pthread_mutex_destroy(&rt.lock);
		return -ENOMEM;
	}
	runtime_instance_env(&rt);
	inst = instance_new(&rt.instance_env, module, conf, entry);
	err = inst == NULL ? -ENOMEM : instance_init(inst, why, why_size);
	instance_finish(inst);
	event_base_free(rt.base);
	runtime_unload_retired(&rt, 1);
	metrics_release(&rt.metrics);
	pthread_mutex_destroy(&rt.lock);
	return err;
}

/* --check-config: ENTRY's settings against MODULE's table, and the values init would
 * read from its settings struct, with those the table's defaults gave. */
static int check_plugin_settings(const struct plugin_module *module, const struct conf *conf,
				 const struct conf_plugin *entry, char *why, size_t why_size)
{
	struct settings_struct *st = NULL;
	char *text;
	int err;

	err = instance_check_settings(module, conf, entry, &st, why, why_size);
	if (err != 0 || st == NULL)
		return err;
	text = settings_struct_text(st, entry->settings, module->descriptor->settings);
	if (text == NULL) {
		settings_struct_free(st);
		errbuf_set(why, why_size, "out of memory");
		return -ENOMEM;
	}
	log_msg(QUORUM_LOG_NOTICE, "config", "config.settings kind=%s name=%s %s",
		plugin_kind_name(entry->kind), entry->name, text);
	free(text);
	settings_struct_free(st);
	return 0;
}

int runtime_check_config(struct conf *conf, const struct loader_options *options, char *why,
			 size_t why_size)
{
	struct keyring ring = { 0 };
	struct plugin_floors floors;
	struct plugin_policy policy;
	uid_t service_uid;
	gid_t service_gid;
	int err;

	err = service_user(conf, &service_uid, &service_gid, why, why_size);
	if (err != 0)
		return err;
	/* The floors are read, never raised or created: a check loads nothing for good. */
	err = plugin_floors_open(&floors, conf->state_dir, 0, service_uid, service_gid, why,
				 why_size);
	if (err != 0)
		return err;
	err = keyring_load(&ring, conf, why, why_size);
	if (err != 0) {
		plugin_floors_release(&floors);
		return err;
	}
	policy = runtime_policy(conf, &ring, service_uid, &floors);
	err = loader_init() != 0 ? -EIO : 0;
	for (size_t kind = 0; err == 0 && kind < 2; kind++) {
		const struct conf_plugin *list = kind == 0 ? conf->stages : conf->transports;
		size_t n = kind == 0 ? conf->stage_count : conf->transport_count;

		for (size_t i = 0; err == 0 && i < n; i++) {
			struct plugin_module *module;

			err = plugin_load(list[i].path, list[i].name, list[i].kind, &policy,
					  options, &module, why, why_size);
			if (err != 0)
				break;
			err = check_plugin_settings(module, conf, &list[i], why, why_size);
			if (err == 0 && kind == 1)
				err = check_transport_init(conf, module, &list[i], why,
							   why_size);
			else
				plugin_module_unload(module);
		}
	}
	loader_exit();
	keyring_release(&ring);
	plugin_floors_release(&floors);
	if (err == 0 && conf->has_peer_link) {
		/* The time core's keys: the node's own and every authority's. */
		struct authority_table table;
		EVP_PKEY *key = NULL;
		char detail[ERRBUF_SIZE];

		err = key_load_private(conf->node_key, &key, detail, sizeof(detail));
		if (err != 0)
			errbuf_set(why, why_size, "%s: node.key: %s", conf->path, detail);
		EVP_PKEY_free(key);
		if (err == 0) {
			err = authorities_load(&table, conf, why, why_size);
			authorities_release(&table);
		}
	}
	return err;
}
