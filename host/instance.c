/* instance.c -- one plugin instance: its lifecycle calls and the resources the host keeps
 * for it (timers, pending run_on_loop calls, listeners). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "instance-internal.h"
#include "log-internal.h"
#include "settings-internal.h"
#include "util-internal.h"

struct quorum_timer {
	struct event *event;
	struct instance *owner;
	quorum_callback cb;
	void *arg;
	uint64_t every_ms;
	int in_callback;
	int stopped; /* stopped from inside its own callback: freed when it returns */
	struct quorum_timer *prev, *next;
};

struct deferred {
	struct event *event;
	struct instance *owner;
	quorum_callback cb;
	void *arg;
	struct deferred *prev, *next;
};

struct instance *instance_of(struct quorum_host *host)
{
	if (host == NULL || host->magic != QUORUM_HOST_MAGIC) {
		log_msg(QUORUM_LOG_ERROR, "host", "api.bad_handle handle=%p", (void *)host);
		abort();
	}
	return host->instance;
}

const char *instance_name(const struct instance *inst)
{
	return inst->entry->name;
}

const char *instance_kind(const struct instance *inst)
{
	return plugin_kind_name(inst->entry->kind);
}

static void instance_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	instance_finish(arg);
}

struct instance *instance_new(const struct instance_env *env, struct plugin_module *module,
			      struct conf *conf, const struct conf_plugin *entry)
{
	struct instance *inst = calloc(1, sizeof(*inst));

	if (inst == NULL) {
		plugin_module_unload(module);
		return NULL;
	}
	inst->handle.magic = QUORUM_HOST_MAGIC;
	inst->handle.instance = inst;
	inst->env = env;
	inst->module = module;
	inst->plugin = module->descriptor;
	inst->phase = INSTANCE_LOADED;
	inst->conf = conf_ref(conf);
	inst->entry = entry;
	inst->finish_event = event_new(env->base, -1, 0, instance_finish_cb, inst);
	if (inst->finish_event == NULL) {
		instance_finish(inst);
		return NULL;
	}
	return inst;
}

int instance_check_settings(const struct plugin_module *module, const struct conf *conf,
			    const struct conf_plugin *entry, struct settings_struct **out,
			    char *why, size_t why_size)
{
	const struct quorum_plugin *d = module->descriptor;
	struct settings_struct *st = NULL;
	char where[64], detail[ERRBUF_SIZE];
	int err;

	if (out != NULL)
		*out = NULL;
	snprintf(where, sizeof(where), "%s '%s' settings", plugin_kind_name(entry->kind),
		 entry->name);
	err = settings_validate(entry->settings, d->settings, where, conf->dir, entry->file,
				entry->line, why, why_size);
	if (err != 0)
		return err;
	/* What init will read is built here too, so --check-config proves it. */
	err = settings_struct_new(entry->settings, d->settings, d->settings_size, &st, detail,
				  sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "%s:%d: %s: %s", entry->file, entry->line, where,
			   detail);
		return err;
	}
	if (out != NULL)
		*out = st;
	else
		settings_struct_free(st);
	return 0;
}

int instance_init(struct instance *inst, char *why, size_t why_size)
{
	int err;

	err = instance_check_settings(inst->module, inst->conf, inst->entry, &inst->settings,
				      why, why_size);
	if (err != 0)
		return err;
	err = inst->plugin->init(&inst->handle, inst->env->api, &inst->state);
	if (err != 0) {
		errbuf_set(why, why_size, "%s '%s' failed to initialise: %s",
			   instance_kind(inst), instance_name(inst),
			   strerror(err < 0 ? -err : EIO));
		return err < 0 ? err : -EIO;
	}
	inst->phase = INSTANCE_INITIALISED;
	return 0;
}

int instance_start(struct instance *inst, char *why, size_t why_size)
{
	int err = inst->plugin->start != NULL ? inst->plugin->start(inst->state) : 0;

	if (err != 0) {
		errbuf_set(why, why_size, "%s '%s' failed to start: %s", instance_kind(inst),
			   instance_name(inst), strerror(err < 0 ? -err : EIO));
		return err < 0 ? err : -EIO;
	}
	inst->phase = INSTANCE_STARTED;
	log_msg(QUORUM_LOG_INFO, "host", "plugin.started kind=%s name=%s version=%s key_id=%s",
		instance_kind(inst), instance_name(inst), inst->plugin->version,
		inst->module->key_id);
	return 0;
}

int instance_reload(struct instance *inst, struct conf *conf, const struct conf_plugin *entry,
		    char *why, size_t why_size)
{
	struct conf *old_conf = inst->conf;
	const struct conf_plugin *old_entry = inst->entry;
	struct settings_struct *old_settings = inst->settings, *settings = NULL;
	int err;

	err = instance_check_settings(inst->module, conf, entry, &settings, why, why_size);
	if (err != 0)
		return err;
	inst->conf = conf_ref(conf);
	inst->entry = entry;
	inst->settings = settings;
	err = inst->plugin->reload(inst->state);
	if (err != 0) {
		inst->conf = old_conf;
		inst->entry = old_entry;
		inst->settings = old_settings;
		settings_struct_free(settings);
		conf_unref(conf);
		errbuf_set(why, why_size, "%s '%s' refused its new settings: %s",
			   instance_kind(inst), instance_name(inst),
			   strerror(err < 0 ? -err : EIO));
		return err < 0 ? err : -EIO;
	}
	settings_struct_free(old_settings);
	conf_unref(old_conf);
	return 0;
}

int instance_refresh(struct instance *inst, char *why, size_t why_size)
{
	const struct quorum_transport_ops *ops = inst->plugin->ops;
	int err;

	if (inst->plugin->kind != QUORUM_PLUGIN_TRANSPORT || ops == NULL ||
	    ops->refresh == NULL)
		return QUORUM_DECLINED;
	err = ops->refresh(inst->state);
	if (err != 0) {
		errbuf_set(why, why_size, "transport '%s' could not read its files again: %s",
			   instance_name(inst), strerror(err < 0 ? -err : EIO));
		return err < 0 ? err : -EIO;
	}
	return 0;
}

static void instance_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct instance *inst = arg;

	log_msg(QUORUM_LOG_WARNING, "host",
		"plugin.drain.timeout kind=%s name=%s timeout_ms=%lld; finalising with work in "
		"flight",
		instance_kind(inst), instance_name(inst),
		(long long)inst->conf->drain_timeout_ms);
	instance_finish(inst);
}

void instance_drain(struct instance *inst)
{
	int rc = 0;

	inst->next_draining = *inst->env->draining;
	*inst->env->draining = inst;
	if (inst->phase == INSTANCE_STARTED && inst->plugin->drain != NULL) {
		inst->phase = INSTANCE_DRAINING;
		rc = inst->plugin->drain(inst->state);
	}
	inst->phase = INSTANCE_DRAINING;
	if (rc == QUORUM_AGAIN) {
		struct timeval tv = { .tv_sec = inst->conf->drain_timeout_ms / 1000,
				      .tv_usec = (inst->conf->drain_timeout_ms % 1000) * 1000 };

		log_msg(QUORUM_LOG_INFO, "host", "plugin.draining kind=%s name=%s",
			instance_kind(inst), instance_name(inst));
		inst->drain_timer =
			evtimer_new(inst->env->base, instance_drain_timeout_cb, inst);
		if (inst->drain_timer != NULL && evtimer_add(inst->drain_timer, &tv) == 0)
			return;
		log_msg(QUORUM_LOG_ERROR, "host", "plugin.drain.timer_failed name=%s",
			instance_name(inst));
	} else if (rc < 0) {
		log_msg(QUORUM_LOG_WARNING, "host", "plugin.drain.failed name=%s error=\"%s\"",
			instance_name(inst), strerror(-rc));
	}
	/* Finish from the loop, not here: the caller may be the plugin itself. */
	event_active(inst->finish_event, EV_TIMEOUT, 1);
}

void instance_drained(struct instance *inst)
{
	if (inst->phase != INSTANCE_DRAINING)
		return;
	event_active(inst->finish_event, EV_TIMEOUT, 1);
}

static void timer_free(struct quorum_timer *t)
{
	struct instance *inst = t->owner;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		inst->timers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	event_free(t->event);
	free(t);
}

void instance_finish(struct instance *inst)
{
	const struct instance_env *env;
	struct plugin_module *module;
	int was_draining;

	if (inst == NULL)
		return;
	env = inst->env;
	was_draining = 0;
	for (struct instance **pp = env->draining; *pp != NULL; pp = &(*pp)->next_draining) {
		if (*pp == inst) {
			*pp = inst->next_draining;
			was_draining = 1;
			break;
		}
	}
	/* Its services go first: nobody may call into a plugin that is finishing. */
	if (env->finishing != NULL)
		env->finishing(env->rt, inst);
	if (inst->phase >= INSTANCE_INITIALISED)
		inst->plugin->fini(inst->state);
	if (env->finalised != NULL)
		env->finalised(env->rt, inst);
	while (inst->timers != NULL)
		timer_free(inst->timers);
	pthread_mutex_lock(env->lock);
	while (inst->deferred != NULL) {
		struct deferred *d = inst->deferred;

		inst->deferred = d->next;
		event_free(d->event);
		free(d);
	}
	pthread_mutex_unlock(env->lock);
	while (inst->listeners != NULL) {
		struct listener_ref *ref = inst->listeners;

		inst->listeners = ref->next;
		listener_release(env->listeners, ref->listener);
		free(ref);
	}
	if (inst->drain_timer != NULL)
		event_free(inst->drain_timer);
	if (inst->finish_event != NULL)
		event_free(inst->finish_event);
	if (inst->phase >= INSTANCE_INITIALISED)
		log_msg(QUORUM_LOG_INFO, "host", "plugin.stopped kind=%s name=%s",
			instance_kind(inst), instance_name(inst));
	module = inst->module;
	settings_struct_free(inst->settings);
	conf_unref(inst->conf);
	free(inst);
	if (env->finished != NULL)
		env->finished(env->rt, module, was_draining);
	else
		plugin_module_unload(module);
}

static struct timeval ms_to_timeval(uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct quorum_timer *t = arg;
	struct timeval period;

	t->in_callback = 1;
	t->cb(t->arg);
	t->in_callback = 0;
	/* A one-shot timer, or one stopped from its own callback, ends here. */
	if (t->stopped || t->every_ms == 0) {
		timer_free(t);
		return;
	}
	/* Re-armed after the callback: periods do not pile up behind a slow callback. */
	period = ms_to_timeval(t->every_ms);
	event_add(t->event, &period);
}

struct quorum_timer *instance_timer_start(struct instance *inst, uint64_t after_ms,
					  uint64_t every_ms, quorum_callback cb, void *arg)
{
	struct timeval first = ms_to_timeval(after_ms);
	struct quorum_timer *t;

	if (cb == NULL)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->owner = inst;
	t->cb = cb;
	t->arg = arg;
	t->every_ms = every_ms;
	t->event = event_new(inst->env->base, -1, 0, timer_cb, t);
	if (t->event == NULL || event_add(t->event, &first) != 0) {
		if (t->event != NULL)
			event_free(t->event);
		free(t);
		return NULL;
	}
	t->next = inst->timers;
	if (inst->timers != NULL)
		inst->timers->prev = t;
	inst->timers = t;
	return t;
}

void instance_timer_stop(struct quorum_timer *timer)
{
	if (timer == NULL)
		return;
	if (timer->in_callback) {
		event_del(timer->event);
		timer->stopped = 1;
		return;
	}
	timer_free(timer);
}

static void deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deferred *d = arg;
	struct instance *inst = d->owner;

	pthread_mutex_lock(inst->env->lock);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		inst->deferred = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	pthread_mutex_unlock(inst->env->lock);
	d->cb(d->arg);
	event_free(d->event);
	free(d);
}

int instance_run_on_loop(struct instance *inst, quorum_callback cb, void *arg)
{
	struct deferred *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -ENOMEM;
	d->owner = inst;
	d->cb = cb;
	d->arg = arg;
	d->event = event_new(inst->env->base, -1, 0, deferred_cb, d);
	if (d->event == NULL) {
		free(d);
		return -ENOMEM;
	}
	pthread_mutex_lock(inst->env->lock);
	d->next = inst->deferred;
	if (inst->deferred != NULL)
		inst->deferred->prev = d;
	inst->deferred = d;
	/* With evthread locking on, event_active wakes the loop from any thread. */
	event_active(d->event, EV_TIMEOUT, 1);
	pthread_mutex_unlock(inst->env->lock);
	return 0;
}

int instance_listen(struct instance *inst, int type, const char *addr, uint16_t port,
		    unsigned group, int *fds_out)
{
	struct listener_ref *ref;
	char why[ERRBUF_SIZE];
	unsigned count = group == 0 ? 1 : group;
	int err;

	ref = calloc(1, sizeof(*ref));
	if (ref == NULL)
		return -ENOMEM;
	err = listener_acquire(inst->env->listeners, type, addr, port, group, &ref->listener,
			       why, sizeof(why));
	if (err != 0) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst), "listen.failed error=\"%s\"",
			why);
		free(ref);
		return err;
	}
	for (unsigned i = 0; i < count; i++) {
		fds_out[i] = fcntl(ref->listener->fds[i], F_DUPFD_CLOEXEC, 3);
		if (fds_out[i] < 0) {
			err = -errno;
			while (i-- > 0)
				close(fds_out[i]);
			listener_release(inst->env->listeners, ref->listener);
			free(ref);
			return err;
		}
	}
	ref->next = inst->listeners;
	inst->listeners = ref;
	return 0;
}
