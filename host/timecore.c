/* timecore.c -- the host's time core: its life cycle (the served clock, the authorities,
 * the node state, then the peer link and the rounds), commits of agreements to the served
 * clock and the node state, and the checks of a round's answers the stages ask for. The
 * parts: peerlink.c, answer.c, rounds.c (timecore-parts-internal.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <quorum/passport.h>
#include <quorum/sharedstate.h>

#include "clocks.h"
#include "dedup.h"
#include "listeners-internal.h"
#include "log-internal.h"
#include "orchestrator-internal.h"
#include "protodecode-internal.h"
#include "ratelimit.h"
#include "roundnonce.h"
#include "metrics-internal.h"
#include "timecore-internal.h"
#include "timecore-parts-internal.h"
#include "util-internal.h"

/*
 * A key of authority A other than its configured one: the key the passport stage's service
 * (QUORUM_PASSPORT_SERVICE) gives for KEY_ID, valid now for attesting time (a key rotated in
 * by a passport update, or an old one still in its overlap). The configured key stays
 * accepted whatever the passports say. RETURN VALUE: the key (borrowed: cached in A until
 * another key id is asked for), or NULL (no passport stage, or it does not vouch for it).
 */
EVP_PKEY *timecore_passport_key(struct timecore *c, struct authority *a,
				const char *key_id_text)
{
	const struct quorum_passport_ops *ops;
	void *state;
	uint8_t pub[QUORUM_PUBLIC_KEY_LEN];
	char id[KEY_ID_HEX_LEN + 1];
	EVP_PKEY *key;

	if (a->type != QUORUM_AUTHORITY_QUORUMD || strcmp(key_id_text, a->key_id) == 0 ||
	    c->env.service_find(c->env.host, QUORUM_PASSPORT_SERVICE, (const void **)&ops,
				&state) != 0)
		return NULL;
	if (ops->size < offsetof(struct quorum_passport_ops, key_lookup) +
				sizeof(ops->key_lookup) ||
	    ops->key_lookup == NULL ||
	    ops->key_lookup(state, a->id, key_id_text, clock_now_ns(CLOCK_REALTIME),
			    QUORUM_CAPABILITY_ATTEST_TIME, pub) != 0)
		return NULL;
	if (a->passport_key != NULL && strcmp(a->passport_key_id, key_id_text) == 0)
		return a->passport_key; /* the same id: the same key (the id is its hash) */
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, sizeof(pub));
	if (key == NULL || key_id(key, id) != 0 || strcmp(id, key_id_text) != 0) {
		EVP_PKEY_free(key); /* a service answering with another key than asked for */
		return NULL;
	}
	EVP_PKEY_free(a->passport_key);
	a->passport_key = key;
	memcpy(a->passport_key_id, id, sizeof(id));
	log_msg(QUORUM_LOG_INFO, "timecore", "authority.passport_key source=%s key_id=%s",
		a->id, id);
	return key;
}

/* ------------------------------- life cycle ------------------------------- */

static struct quorum_metric *core_metric(struct timecore *c, int type, const char *name,
					 const char *labels, const char *help)
{
	struct quorum_metric *m;
	int err;

	m = metrics_register(c->env.metrics, NULL, type, name, labels, help, 1.0, &err);
	if (m == NULL)
		log_msg(QUORUM_LOG_ERROR, "timecore",
			"metrics.register_failed name=%s error=%d", name, err);
	return m;
}

void core_metrics_register(struct timecore *c)
{
	static const char *const kinds[CORE_DATAGRAM_KINDS] = { "kind=\"time_request\"",
								"kind=\"time_response\"",
								"kind=\"gossip\"",
								"kind=\"malformed\"" };
	static const char *const outcomes[CORE_ROUND_OUTCOMES] = { "outcome=\"accepted\"",
								   "outcome=\"rejected\"",
								   "outcome=\"held\"" };
	struct core_metrics *m = &c->metrics;

	if (c->env.metrics == NULL)
		return;
	for (int k = 0; k < CORE_DATAGRAM_KINDS; k++)
		m->received[k] = core_metric(
			c, QUORUM_METRIC_COUNTER, "quorum_peer_datagrams_received_total",
			kinds[k],
			"Peer-link datagrams received, by kind (refused ones are also in "
			"quorum_refusals_total with why).");
	for (int k = 0; k < CORE_DATAGRAM_MALFORMED; k++)
		m->sent[k] = core_metric(c, QUORUM_METRIC_COUNTER,
					 "quorum_peer_datagrams_sent_total", kinds[k],
					 "Peer-link datagrams sent, by kind.");
	for (int o = 0; o < CORE_ROUND_OUTCOMES; o++)
		m->rounds[o] = core_metric(
			c, QUORUM_METRIC_COUNTER, "quorum_rounds_total", outcomes[o],
			"This node's rounds through the pipeline, by the pipeline's verdict.");
	m->observations_used = core_metric(
		c, QUORUM_METRIC_COUNTER, "quorum_round_observations_total", "result=\"used\"",
		"Authorities' answers in this node's rounds: used or "
		"rejected by the round (late, bad signature, ...).");
	m->observations_rejected =
		core_metric(c, QUORUM_METRIC_COUNTER, "quorum_round_observations_total",
			    "result=\"rejected\"",
			    "Authorities' answers in this node's rounds: used or "
			    "rejected by the round (late, bad signature, ...).");
}

int timecore_start(const struct timecore_env *env, struct timecore **out, char *why,
		   size_t why_size)
{
	const struct conf *conf = env->conf;
	struct timecore *c = calloc(1, sizeof(*c));
	int err;

	if (c == NULL)
		return -ENOMEM;
	c->env = *env;
	core_metrics_register(c);
	c->conf = conf_ref(env->conf);
	c->fd = -1;
	c->ntp_fd = -1;
	err = served_clock_open(conf->clock_shm, (uint32_t)conf->clock_max_drift_ppm,
				(uint32_t)conf->clock_slew_ppm, conf->clock_max_error_ns,
				&c->clock, why, why_size);
	if (err != 0)
		goto out_stop;
	if (!conf->has_peer_link) {
		*out = c;
		return 0;
	}
	if (env->node_key == NULL) {
		errbuf_set(why, why_size, "the peer link needs the node key (node.key)");
		err = -EINVAL;
		goto out_stop;
	}
	c->key = env->node_key;
	key_id(c->key, c->key_id);
	err = authorities_load(&c->authorities, conf, why, why_size);
	if (err != 0)
		goto out_stop;
	err = nodestate_load(&c->state, conf->state_dir, conf->node_id, c->key, &c->authorities,
			     why, why_size);
	if (err != 0)
		goto out_stop;
	{
		/* Strictly increasing across restarts: past every sequence that may have been
		 * used, and past the time in microseconds in case the state was lost. */
		uint64_t floor_us = (uint64_t)(clock_now_ns(CLOCK_REALTIME) / 1000);

		c->next_sequence = c->state.sequence_lease + 1;
		if (c->next_sequence < floor_us)
			c->next_sequence = floor_us;
	}
	log_msg(QUORUM_LOG_NOTICE, "timecore",
		"bft.resume.startup status=%s last_round=%" PRIu64 " last_estimate_ns=%" PRId64
		" last_drift_ns=%" PRId64 " served=unsynchronised",
		c->state.has_agreement ? "loaded" : "fresh", c->state.last_round,
		c->state.last_estimate_ns, c->state.last_drift_ns);
	err = peerlink_open(c, why, why_size);
	if (err == 0)
		err = rounds_open(c, why, why_size);
	if (err != 0)
		goto out_stop;
	log_msg(QUORUM_LOG_NOTICE, "timecore",
		"timecore.started node=%s key_id=%s peer_link=%s:%u n=%u f=%u ntp_sources=%u "
		"shm=%s",
		conf->node_id, c->key_id, conf->peer_address, conf->peer_port, c->authorities.n,
		c->authorities.f, c->authorities.ntp,
		conf->clock_shm ? conf->clock_shm : "none");
	*out = c;
	return 0;
out_stop:
	timecore_stop(c);
	return err;
}

void timecore_stop(struct timecore *c)
{
	if (c == NULL)
		return;
	rounds_close(c);
	peerlink_close(c);
	if (c->key != NULL && c->state_dirty) {
		char why[ERRBUF_SIZE];

		if (nodestate_save(&c->state, c->conf->node_id, c->key, &c->authorities, why,
				   sizeof(why)) != 0)
			log_msg(QUORUM_LOG_ERROR, "timecore", "state.save_failed error=\"%s\"",
				why);
	}
	nodestate_release(&c->state);
	authorities_release(&c->authorities);
	served_clock_close(c->clock, 1);
	conf_unref(c->conf);
	free(c);
}

struct served_clock *timecore_clock(struct timecore *c)
{
	return c->clock;
}

const struct authority_table *timecore_authorities(const struct timecore *c)
{
	return &c->authorities;
}

struct authority_table *timecore_authorities_mut(struct timecore *c)
{
	return &c->authorities;
}

const char *timecore_node_id(const struct timecore *c)
{
	return c->conf->node_id;
}

int timecore_commit(struct timecore *c, const struct quorum_agreement *a, int64_t max_step_ns)
{
	struct clock_commit_outcome outcome;
	struct nodestate saved = c->state;
	char why[ERRBUF_SIZE];

	if (served_clock_check(c->clock, a) != 0)
		return -EINVAL;
	if (c->key != NULL) {
		/* Saved first: a commit that cannot be recorded does not happen. */
		c->state.has_agreement = 1;
		c->state.last_round = a->round;
		c->state.last_estimate_ns = a->estimate_ns;
		c->state.last_error_ns = a->latest_ns - a->earliest_ns;
		c->state.last_drift_ns = a->drift_ns;
		if (nodestate_save(&c->state, c->conf->node_id, c->key, &c->authorities, why,
				   sizeof(why)) != 0) {
			c->state = saved;
			log_msg(QUORUM_LOG_ERROR, "timecore",
				"clock.commit_refused reason=state_not_saved error=\"%s\"",
				why);
			return -EIO;
		}
		c->state_dirty = 0;
	}
	served_clock_commit(c->clock, a, max_step_ns, &outcome);
	log_msg(QUORUM_LOG_INFO, "timecore",
		"clock.commit round=%" PRIu64 " estimate_ns=%" PRId64 " width_ns=%" PRId64
		" served_width_ns=%" PRId64 " drift_ns=%" PRId64 " step_ns=%" PRId64
		" first=%d slewed=%d clamped=%d narrowed=%d disjoint=%d accepted=%u n=%u f=%u"
		" ntp_used=%u",
		a->round, a->estimate_ns, a->latest_ns - a->earliest_ns,
		outcome.served_width_ns, a->drift_ns, outcome.step_ns, outcome.first,
		outcome.slewed, outcome.clamped, outcome.narrowed, outcome.disjoint,
		a->accepted, a->n, a->f, a->ntp_used);
	return 0;
}

static int lookup_source(void *arg, const char *id, const char *claimed_key_id,
			 const uint8_t digest[SHA256_DIGEST_LENGTH], uint32_t *type,
			 const char **key_id, EVP_PKEY **key, int *verified)
{
	struct timecore *c = arg;
	struct authority *a = authorities_find(&c->authorities, id);
	static const uint8_t zero[SHA256_DIGEST_LENGTH];
	EVP_PKEY *rotated;

	if (a == NULL)
		return -ENOENT;
	*type = a->type;
	*key_id = a->key_id;
	*key = a->key;
	rotated = claimed_key_id != NULL ? timecore_passport_key(c, a, claimed_key_id) : NULL;
	if (rotated != NULL) {
		*key_id = a->passport_key_id;
		*key = rotated;
	}
	/* This node's own round, decoded while it is being ingested: the host verified these
	 * very bytes when they arrived. */
	if (c->decoding_own_round && c->pending != NULL) {
		const struct pending *p = &c->pending[a - c->authorities.items];

		*verified = p->answered &&
			    memcmp(p->verified_digest, zero, sizeof(zero)) != 0 &&
			    memcmp(p->verified_digest, digest, SHA256_DIGEST_LENGTH) == 0;
	}
	return 0;
}

int timecore_authority_verify(struct timecore *c, const char *id, const char *key_id,
			      const void *msg, size_t len, const void *sig, size_t sig_len)
{
	struct authority *a = id != NULL ? authorities_find(&c->authorities, id) : NULL;
	EVP_PKEY *rotated;
	int err = authorities_verify(&c->authorities, id, key_id, msg, len, sig, sig_len);

	if (err != -ENOENT || a == NULL || key_id == NULL)
		return err;
	rotated = timecore_passport_key(c, a, key_id);
	if (rotated == NULL)
		return -ENOENT;
	if ((msg == NULL && len > 0) || sig == NULL)
		return -EBADMSG;
	err = key_verify(rotated, msg != NULL ? msg : "", len, sig, sig_len);
	return err == -ENOMEM ? -ENOMEM : err != 0 ? -EBADMSG : 0;
}

int timecore_round_decode(struct timecore *c, const struct quorum_bytes *payload,
			  struct round_view **out, const char **reason)
{
	return round_decode(payload, c->conf->node_id, lookup_source, c, out, reason);
}
