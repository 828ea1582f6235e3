/* hostapi.c -- the host API table every plugin's init receives (<quorum/api.h>): what a
 * plugin may ask of the daemon, and which role may ask what. The one file that knows the
 * runtime, the time core, the failsafe and the orchestrator together: a plugin's handle
 * leads to its instance, the instance to the daemon. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include <quorum/audit.h>

#include "envelope-internal.h"
#include "failsafe-internal.h"
#include "hostapi-internal.h"
#include "log-internal.h"
#include "runtime-internal.h"
#include "settings-internal.h"
#include "timecodec-internal.h"
#include "timecore-internal.h"
#include "util-internal.h"

/* The daemon INST belongs to. */
static struct runtime *runtime_of(const struct instance *inst)
{
	return inst->env->rt;
}

static void api_vlog(struct quorum_host *host, int level, const char *fmt, va_list ap)
{
	log_vmsg(level, instance_name(instance_of(host)), fmt, ap);
}

static void api_log(struct quorum_host *host, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	api_vlog(host, level, fmt, ap);
	va_end(ap);
}

static int api_config_string(struct quorum_host *host, const char *path, const char **out)
{
	return settings_get_string(instance_of(host)->entry->settings, path, out);
}

static int api_config_int(struct quorum_host *host, const char *path, int64_t *out)
{
	return settings_get_int(instance_of(host)->entry->settings, path, out);
}

static int api_config_float(struct quorum_host *host, const char *path, double *out)
{
	return settings_get_float(instance_of(host)->entry->settings, path, out);
}

static int api_config_bool(struct quorum_host *host, const char *path, int *out)
{
	return settings_get_bool(instance_of(host)->entry->settings, path, out);
}

static int api_config_length(struct quorum_host *host, const char *path)
{
	const struct instance *inst = instance_of(host);

	if (inst->entry->settings == NULL)
		return -ENOENT;
	return settings_length(inst->entry->settings, path);
}

static const void *api_settings(struct quorum_host *host)
{
	return settings_struct_data(instance_of(host)->settings);
}

static int api_config_path(struct quorum_host *host, const char *name, char *out, size_t size)
{
	return conf_resolve(instance_of(host)->conf->dir, name, out, size);
}

static struct event_base *api_event_base(struct quorum_host *host)
{
	return runtime_of(instance_of(host))->base;
}

static struct quorum_timer *api_timer_start(struct quorum_host *host, uint64_t after_ms,
					    uint64_t every_ms, quorum_callback cb, void *arg)
{
	return instance_timer_start(instance_of(host), after_ms, every_ms, cb, arg);
}

static void api_timer_stop(struct quorum_host *host, struct quorum_timer *timer)
{
	instance_of(host);
	instance_timer_stop(timer);
}

static int api_run_on_loop(struct quorum_host *host, quorum_callback cb, void *arg)
{
	return instance_run_on_loop(instance_of(host), cb, arg);
}

static int api_ingest(struct quorum_host *host, const struct quorum_signed_state *state,
		      const char *peer, struct quorum_verdict *out)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	return orchestrator_ingest_view(rt->orch, state, instance_name(inst),
					peer != NULL ? peer : "", out);
}

static int api_ingest_encoded(struct quorum_host *host, const void *data, size_t len,
			      const char *peer, struct quorum_verdict *out)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	return orchestrator_ingest_encoded(rt->orch, data, len, instance_name(inst),
					   peer != NULL ? peer : "", out);
}

static int api_audit(struct quorum_host *host, const char *type, const char *fmt, ...)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	char fields[1024];
	int n;
	va_list ap;

	n = snprintf(fields, sizeof(fields), "plugin=%s ", instance_name(inst));
	va_start(ap, fmt);
	vsnprintf(fields + n, sizeof(fields) - (size_t)n, fmt, ap);
	va_end(ap);
	runtime_audit(rt, type, fields);
	return 0;
}

static int api_listen(struct quorum_host *host, int type, const char *addr, uint16_t port,
		      int *fd_out)
{
	return instance_listen(instance_of(host), type, addr, port, 0, fd_out);
}

static int api_listen_group(struct quorum_host *host, int type, const char *addr, uint16_t port,
			    unsigned count, int *fds_out)
{
	if (count < 1 || count > QUORUM_LISTEN_GROUP_MAX || fds_out == NULL)
		return -EINVAL;
	return instance_listen(instance_of(host), type, addr, port, count, fds_out);
}

static void api_drained(struct quorum_host *host)
{
	instance_drained(instance_of(host));
}

static const char *api_node_id(struct quorum_host *host)
{
	return runtime_of(instance_of(host))->node_id;
}

static const char *api_plugin_name(struct quorum_host *host)
{
	return instance_name(instance_of(host));
}

static int api_authority_set(struct quorum_host *host, struct quorum_authority_set *out)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	memset(out, 0, sizeof(*out));
	if (rt->timecore != NULL) {
		const struct authority_table *t = timecore_authorities(rt->timecore);

		out->n = t->n;
		out->f = t->f;
		out->ntp_sources = t->ntp;
	}
	return 0;
}

static int api_round_decode(struct quorum_host *host, const struct quorum_event *event,
			    struct quorum_round **out, const char **reason)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	struct round_view *view;
	int err;

	if (rt->timecore == NULL || event == NULL || event->state == NULL ||
	    strcmp(event->state->event_id, QUORUM_EVENT_SYNC_ROUND) != 0) {
		*reason = "round_not_a_sync_event";
		return -EINVAL;
	}
	err = timecore_round_decode(rt->timecore, &event->state->payload, &view, reason);
	if (err != 0)
		return err;
	*out = &view->round; /* the first member: round_free finds the view again */
	return 0;
}

static void api_round_free(struct quorum_host *host, struct quorum_round *round)
{
	instance_of(host);
	round_view_free((struct round_view *)round);
}

/* Whether INST is a stage of ROLE processing EVENT right now. */
static int in_pipeline(const struct instance *inst, const struct quorum_event *event,
		       uint32_t role)
{
	return inst->plugin->kind == QUORUM_PLUGIN_STAGE && inst->plugin->role == role &&
	       orchestrator_in_process(runtime_of(inst)->orch, event, inst->state);
}

static int api_propose(struct quorum_host *host, const struct quorum_event *event,
		       const struct quorum_agreement *agreement)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	if (!in_pipeline(inst, event, QUORUM_ROLE_CONVERGENCE)) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.propose.refused reason=not_convergence_in_process");
		return -EPERM;
	}
	if (agreement->size != sizeof(*agreement) ||
	    agreement->earliest_ns > agreement->estimate_ns ||
	    agreement->estimate_ns > agreement->latest_ns)
		return -EINVAL;
	return orchestrator_propose(rt->orch, event, agreement);
}

static int api_sources_report(struct quorum_host *host, const struct quorum_event *event,
			      uint64_t round, const struct quorum_source_report *reports,
			      size_t count)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	if (!in_pipeline(inst, event, QUORUM_ROLE_CONVERGENCE)) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.sources_report.refused reason=not_convergence_in_process");
		return -EPERM;
	}
	if (rt->timecore == NULL)
		return 0;
	if (authorities_report(timecore_authorities_mut(rt->timecore), round, reports, count) !=
	    0) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.sources_report.refused reason=state_out_of_range");
		return -EINVAL;
	}
	return 0;
}

static int api_sources_status(struct quorum_host *host, struct quorum_source_status *out,
			      size_t cap, size_t *count)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	*count = 0;
	if (rt->timecore != NULL)
		authorities_status(timecore_authorities(rt->timecore), out, cap, count);
	return 0;
}

/* The ABI 1.13 size of struct quorum_round_intervals: what a caller must pass at least. */
#define ROUND_INTERVALS_1_13 (offsetof(struct quorum_round_intervals, age_ns) + sizeof(int64_t))

static int
api_source_intervals_report(struct quorum_host *host, const struct quorum_event *event,
			    const struct quorum_round_intervals *round, size_t round_size,
			    const struct quorum_source_interval *sources, size_t count)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	struct quorum_round_intervals copy = { 0 };

	if (!in_pipeline(inst, event, QUORUM_ROLE_CONVERGENCE)) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.source_intervals_report.refused "
			"reason=not_convergence_in_process");
		return -EPERM;
	}
	if (round == NULL || round_size < ROUND_INTERVALS_1_13 ||
	    (sources == NULL && count > 0))
		return -EINVAL;
	memcpy(&copy, round, round_size < sizeof(copy) ? round_size : sizeof(copy));
	if (rt->timecore == NULL)
		return 0;
	if (authorities_report_intervals(timecore_authorities_mut(rt->timecore), &copy, sources,
					 count) != 0) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.source_intervals_report.refused reason=interval_out_of_order");
		return -EINVAL;
	}
	return 0;
}

static int api_source_intervals(struct quorum_host *host, struct quorum_round_intervals *round,
				size_t round_size, struct quorum_source_interval *sources,
				size_t cap)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	struct quorum_round_intervals all = { 0 };

	if (round == NULL || round_size < ROUND_INTERVALS_1_13 || (sources == NULL && cap > 0))
		return -EINVAL;
	if (rt->timecore != NULL)
		authorities_intervals(timecore_authorities(rt->timecore), &all, sources, cap);
	/* a newer caller's larger struct: what this host does not know reads as zero */
	memset(round, 0, round_size);
	memcpy(round, &all, round_size < sizeof(all) ? round_size : sizeof(all));
	return 0;
}

static int api_source_quarantine(struct quorum_host *host, const char *id, int64_t duration_ns,
				 const char *reason)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	int err;

	if (inst->plugin->kind != QUORUM_PLUGIN_STAGE ||
	    inst->plugin->role != QUORUM_ROLE_CONTROL) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.source_quarantine.refused reason=not_the_control_role");
		return -EPERM;
	}
	if (rt->timecore == NULL)
		return -ENOENT;
	err = authorities_quarantine(timecore_authorities_mut(rt->timecore), id, duration_ns,
				     reason);
	if (err == 0)
		log_msg(QUORUM_LOG_NOTICE, "timecore",
			"source.quarantine source=%s duration_ms=%lld reason=%s by=%s", id,
			(long long)(duration_ns / 1000000), reason != NULL ? reason : "-",
			instance_name(inst));
	return err;
}

static int api_authority_verify(struct quorum_host *host, const char *authority_id,
				const char *key_id, const void *msg, size_t len,
				const void *sig, size_t sig_len)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	if (rt->timecore == NULL)
		return -ENOENT; /* no time core, no authorities */
	return timecore_authority_verify(rt->timecore, authority_id, key_id, msg, len, sig,
					 sig_len);
}

/* Whether INST is the stage of the gossip role (in or out of the pipeline: it forwards
 * from observe, after the verdict). */
static int gossip_role(const struct instance *inst)
{
	return inst->plugin->kind == QUORUM_PLUGIN_STAGE &&
	       inst->plugin->role == QUORUM_ROLE_GOSSIP;
}

/* Whether INST is the stage of the merkle role: it witnesses its peers' logs (ABI 1.9). */
static int merkle_role(const struct instance *inst)
{
	return inst->plugin->kind == QUORUM_PLUGIN_STAGE &&
	       inst->plugin->role == QUORUM_ROLE_MERKLE;
}

/* Whether the merkle role may sign (SIGN) or send EVENT_ID: its witnessed-checkpoint
 * events; the evidence it finds is ingested and gossiped by the gossip stage, not sent. */
static int merkle_event(const char *event_id, int sign)
{
	return event_id != NULL &&
	       (strcmp(event_id, QUORUM_EVENT_CHECKPOINT) == 0 ||
		strcmp(event_id, QUORUM_EVENT_COSIGNATURE) == 0 ||
		(sign && strcmp(event_id, QUORUM_EVENT_LOG_MALFEASANCE) == 0));
}

/* The merkle role sends its witnessed-checkpoint events only. */
static int merkle_may_send(const void *data, size_t len)
{
	const char *reason = NULL;
	struct envelope *e = data != NULL ? envelope_decode(data, len, &reason) : NULL;
	int ok = e != NULL && merkle_event(e->view.event_id, 0);

	envelope_free(e);
	return ok;
}

static int api_gossip_send(struct quorum_host *host, const void *encoded_signed_state,
			   size_t len, const char *peer_id)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	if (!gossip_role(inst) &&
	    !(merkle_role(inst) && merkle_may_send(encoded_signed_state, len))) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.gossip_send.refused reason=%s",
			merkle_role(inst) ? "event_id_not_sendable" : "not_the_gossip_role");
		return -EPERM;
	}
	if (rt->timecore == NULL)
		return -ENOTCONN;
	return timecore_gossip_send(rt->timecore, encoded_signed_state, len, peer_id);
}

static int api_sign_event(struct quorum_host *host, struct quorum_signed_state *state,
			  uint8_t sig[64])
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	int err;

	/* The node key vouches for this node's rounds and answers: a plugin may have it sign
	 * its evidence (and the merkle role its witnessed checkpoints), nothing else. */
	if (state == NULL || state->event_id == NULL ||
	    !((gossip_role(inst) &&
	       (strcmp(state->event_id, QUORUM_EVENT_MALFEASANCE) == 0 ||
		strcmp(state->event_id, QUORUM_EVENT_DIGEST) == 0 ||
		strcmp(state->event_id, QUORUM_EVENT_GOSSIP_ATTESTATION) == 0)) ||
	      (merkle_role(inst) && merkle_event(state->event_id, 1)))) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.sign_event.refused reason=%s",
			gossip_role(inst) || merkle_role(inst) ? "event_id_not_signable"
							       : "not_the_gossip_role");
		return -EPERM;
	}
	if (rt->node_key == NULL)
		return -ENOKEY;
	if (state->payload.len > QUORUM_PAYLOAD_MAX ||
	    (state->payload.data == NULL && state->payload.len > 0))
		return -EINVAL;
	state->key_id = rt->node_key_id;
	err = signed_state_sign(rt->node_key, state, sig);
	return err == -ENOMEM ? -ENOMEM : err != 0 ? -EIO : 0;
}

static int api_proposal(struct quorum_host *host, const struct quorum_event *event,
			struct quorum_agreement *out)
{
	return orchestrator_proposal(runtime_of(instance_of(host))->orch, event, out);
}

static int api_clock_read(struct quorum_host *host, struct quorum_clock_reading *out)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	if (rt->timecore == NULL) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	failsafe_check(
		&rt->failsafe); /* nothing served the moment the audit log cannot write */
	served_clock_read(timecore_clock(rt->timecore), out);
	return 0;
}

static int api_clock_read_concurrent(struct quorum_host *host, struct quorum_clock_reading *out)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	/* No failsafe check here (it is the loop's): the loop suspends the page itself the
	 * moment the audit plane reports a failure (api audit_changed), every read on the
	 * loop, and every 100 ms. */
	if (rt->timecore == NULL) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return served_clock_read_concurrent(timecore_clock(rt->timecore), out);
}

static void api_audit_changed(struct quorum_host *host)
{
	failsafe_check(&runtime_of(instance_of(host))->failsafe);
}

static void api_refused(struct quorum_host *host, const char *reason, const char *peer)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	runtime_refused(rt, instance_name(inst), reason, peer);
}

static size_t api_refusal_counts(struct quorum_host *host, struct quorum_refusal_count *out,
				 size_t cap)
{
	const struct refusals *r = &runtime_of(instance_of(host))->refusals;

	for (size_t i = 0; i < r->count && i < cap; i++) {
		snprintf(out[i].what, sizeof(out[i].what), "%s", r->kinds[i].what);
		snprintf(out[i].reason, sizeof(out[i].reason), "%s", r->kinds[i].reason);
		out[i].total = r->kinds[i].total;
	}
	return r->count;
}

static int api_clock_commit(struct quorum_host *host, const struct quorum_agreement *agreement,
			    int64_t max_step_ns)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	const struct quorum_event *event = NULL;
	struct quorum_agreement proposed;

	/* Only the control stage, only for the event in flight, only what convergence
	 * proposed for it: nothing reaches the served clock but through the pipeline. */
	if (inst->plugin->kind == QUORUM_PLUGIN_STAGE &&
	    inst->plugin->role == QUORUM_ROLE_CONTROL)
		event = orchestrator_current_event(rt->orch);
	if (event == NULL || !in_pipeline(inst, event, QUORUM_ROLE_CONTROL) ||
	    orchestrator_proposal(rt->orch, event, &proposed) != 0 ||
	    memcmp(&proposed, agreement, sizeof(proposed)) != 0 || !agreement->local ||
	    rt->timecore == NULL || max_step_ns < 0) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.clock_commit.refused reason=not_the_pipeline_proposal");
		return -EPERM;
	}
	/* Nothing served while the audit plane fails: not even the agreement of a round its
	 * stages let through (the merkle stage waiting for its witnesses, or rolled back). */
	if (failsafe_check(&rt->failsafe))
		return -EAGAIN;
	return timecore_commit(rt->timecore, agreement, max_step_ns);
}

static int api_service_publish(struct quorum_host *host, const char *name, const void *ops,
			       void *state)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	int err = runtime_service_publish(rt, inst, name, ops, state);

	if (err != 0)
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"service.publish_refused service=%s error=\"%s\"",
			name != NULL ? name : "-", strerror(-err));
	else
		log_msg(QUORUM_LOG_INFO, instance_name(inst), "service.published service=%s",
			name);
	return err;
}

static int api_service_find(struct quorum_host *host, const char *name, const void **ops,
			    void **state)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);

	if (name == NULL)
		return -ENOENT;
	return runtime_service_find(rt, name, ops, state);
}

/* Whether BODY is a C2SP tlog-checkpoint body: origin, decimal size, base64 root of 32
 * bytes, optional extension lines; printable ASCII, each line ending in a newline. */
static int checkpoint_body_valid(const char *body, size_t len)
{
	size_t line = 0, start = 0;

	if (len == 0 || len > 8192 || body[len - 1] != '\n')
		return 0;
	for (size_t i = 0; i < len; i++) {
		size_t n;

		if (body[i] != '\n') {
			if ((unsigned char)body[i] < 0x20 || (unsigned char)body[i] > 0x7e)
				return 0;
			continue;
		}
		n = i - start;
		if (n == 0)
			return 0; /* an empty line would end the note's text */
		if (line == 1) {
			if (n > 20 || (n > 1 && body[start] == '0'))
				return 0;
			for (size_t k = start; k < i; k++) {
				if (body[k] < '0' || body[k] > '9')
					return 0;
			}
		} else if (line == 2 && (n != 44 || body[i - 1] != '=')) {
			return 0;
		}
		line++;
		start = i + 1;
	}
	return line >= 3;
}

static int api_sign_checkpoint(struct quorum_host *host, const char *body, size_t len,
			       uint8_t sig[64], uint8_t pub[32])
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	size_t pub_len = 32;

	if (rt->node_key == NULL)
		return -ENOKEY;
	if (body == NULL || !checkpoint_body_valid(body, len)) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.sign_checkpoint.refused reason=not_a_checkpoint_body");
		return -EINVAL;
	}
	if (EVP_PKEY_get_raw_public_key(rt->node_key, pub, &pub_len) != 1 || pub_len != 32)
		return -EIO;
	return key_sign(rt->node_key, body, len, sig) == 0 ? 0 : -EIO;
}

static int api_cosign_checkpoint(struct quorum_host *host, const char *body, size_t len,
				 uint64_t *timestamp, uint8_t sig[64], uint8_t pub[32])
{
	static const char header[] = "cosignature/v1\ntime ";
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	struct timespec now;
	size_t pub_len = 32;
	char *msg;
	int n, err;

	if (!merkle_role(inst)) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.cosign_checkpoint.refused reason=not_the_merkle_role");
		return -EPERM;
	}
	if (rt->node_key == NULL)
		return -ENOKEY;
	if (body == NULL || timestamp == NULL || !checkpoint_body_valid(body, len)) {
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.cosign_checkpoint.refused reason=not_a_checkpoint_body");
		return -EINVAL;
	}
	if (EVP_PKEY_get_raw_public_key(rt->node_key, pub, &pub_len) != 1 || pub_len != 32)
		return -EIO;
	/* C2SP tlog-cosignature/v1: a header line (domain separation from the node's own
	 * checkpoints, whose second line is a decimal size), a time line, the body. */
	clock_gettime(CLOCK_REALTIME, &now);
	*timestamp = (uint64_t)now.tv_sec;
	msg = malloc(sizeof(header) + 24 + len);
	if (msg == NULL)
		return -ENOMEM;
	n = snprintf(msg, sizeof(header) + 24, "%s%llu\n", header,
		     (unsigned long long)*timestamp);
	memcpy(msg + n, body, len);
	err = key_sign(rt->node_key, msg, (size_t)n + len, sig) == 0 ? 0 : -EIO;
	free(msg);
	return err;
}

static int api_attest_time(struct quorum_host *host, const uint8_t *nonce, size_t nonce_len,
			   struct quorum_clock_reading *reading, uint8_t *out, size_t cap,
			   size_t *len)
{
	struct instance *inst = instance_of(host);
	struct runtime *rt = runtime_of(inst);
	struct quorum_clock_reading now;
	char id[KEY_ID_HEX_LEN + 1];
	uint8_t *encoded;
	size_t n;
	int err;

	if (rt->node_key == NULL)
		return -ENOKEY;
	if (nonce_len > 64 || (nonce == NULL && nonce_len > 0))
		return -EINVAL;
	if (rt->timecore == NULL)
		return -EAGAIN;
	failsafe_check(&rt->failsafe);
	served_clock_read(timecore_clock(rt->timecore), &now);
	if (reading != NULL)
		*reading = now;
	if (now.status != QUORUM_CLOCK_SYNCHRONISED)
		return -EAGAIN; /* never sign a time we would not serve */
	key_id(rt->node_key, id);
	err = served_time_sign(rt->node_key, id, rt->node_id, nonce, nonce_len, &now, &encoded,
			       &n);
	if (err != 0)
		return err;
	if (n > cap) {
		free(encoded);
		return -ENOSPC;
	}
	memcpy(out, encoded, n);
	*len = n;
	free(encoded);
	return 0;
}

static struct quorum_metric *api_metric_register(struct quorum_host *host, int type,
						 const char *name, const char *labels,
						 const char *help, double scale)
{
	struct instance *inst = instance_of(host);
	struct quorum_metric *m;
	int err;

	m = metrics_register(&runtime_of(inst)->metrics, inst, type, name, labels, help, scale,
			     &err);
	if (m == NULL)
		log_msg(QUORUM_LOG_ERROR, instance_name(inst),
			"api.metric_register.refused name=%s error=\"%s\"",
			name != NULL ? name : "(null)",
			err == -EINVAL ? "not a valid or consistent metric" : strerror(-err));
	return m;
}

/* The host's view at the moment of a scrape: the served bound, then the refusals. */
static void metrics_host_text(struct runtime *rt, const struct quorum_clock_reading *now,
			      FILE *out)
{
	const struct refusals *r = &rt->refusals;

	fprintf(out,
		"# HELP quorum_clock_bound_width_seconds Width of the served bound "
		"(latest - earliest); 0 when unsynchronised.\n"
		"# TYPE quorum_clock_bound_width_seconds gauge\n"
		"quorum_clock_bound_width_seconds %.9f\n",
		now->status == QUORUM_CLOCK_SYNCHRONISED ? 2.0 * now->error_bound_ns / 1e9
							 : 0.0);
	fprintf(out, "# HELP quorum_refusals_total Unauthenticated datagrams and requests "
		     "refused, by where and why (summarised, not audited one by one).\n"
		     "# TYPE quorum_refusals_total counter\n");
	for (size_t i = 0; i < r->count; i++)
		fprintf(out, "quorum_refusals_total{what=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
			r->kinds[i].what, r->kinds[i].reason, r->kinds[i].total);
}

static int api_metrics_text(struct quorum_host *host, char **out, size_t *len)
{
	struct runtime *rt = runtime_of(instance_of(host));
	struct quorum_clock_reading now;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int err;

	api_clock_read(host, &now);
	f = open_memstream(&buf, &size);
	if (f == NULL)
		return -ENOMEM;
	err = metrics_write(&rt->metrics, f);
	if (err == 0)
		metrics_host_text(rt, &now, f);
	if (fclose(f) != 0 && err == 0)
		err = -ENOMEM;
	if (err != 0) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = size;
	return 0;
}

const struct quorum_api host_api = {
	.size = sizeof(struct quorum_api),
	.abi_major = QUORUM_ABI_MAJOR,
	.abi_minor = QUORUM_ABI_MINOR,
	.log = api_log,
	.vlog = api_vlog,
	.config_string = api_config_string,
	.config_int = api_config_int,
	.config_float = api_config_float,
	.config_bool = api_config_bool,
	.config_length = api_config_length,
	.config_path = api_config_path,
	.event_base = api_event_base,
	.timer_start = api_timer_start,
	.timer_stop = api_timer_stop,
	.run_on_loop = api_run_on_loop,
	.ingest = api_ingest,
	.ingest_encoded = api_ingest_encoded,
	.audit = api_audit,
	.listen = api_listen,
	.drained = api_drained,
	.node_id = api_node_id,
	.plugin_name = api_plugin_name,
	.authority_set = api_authority_set,
	.round_decode = api_round_decode,
	.round_free = api_round_free,
	.propose = api_propose,
	.proposal = api_proposal,
	.clock_read = api_clock_read,
	.clock_commit = api_clock_commit,
	.service_publish = api_service_publish,
	.service_find = api_service_find,
	.sign_checkpoint = api_sign_checkpoint,
	.attest_time = api_attest_time,
	.sources_report = api_sources_report,
	.sources_status = api_sources_status,
	.source_quarantine = api_source_quarantine,
	.authority_verify = api_authority_verify,
	.gossip_send = api_gossip_send,
	.sign_event = api_sign_event,
	.listen_group = api_listen_group,
	.clock_read_concurrent = api_clock_read_concurrent,
	.audit_changed = api_audit_changed,
	.refused = api_refused,
	.refusal_counts = api_refusal_counts,
	.cosign_checkpoint = api_cosign_checkpoint,
	.metric_register = api_metric_register,
	.metric_add = metric_add,
	.metric_set = metric_set,
	.metrics_text = api_metrics_text,
	.settings = api_settings,
	.source_intervals_report = api_source_intervals_report,
	.source_intervals = api_source_intervals,
};
