/* roundlog.c -- the vault's round log (see roundlog.h): rounds held as they are added and
 * encoded into a record at once, each either summarised (its hash and what became of it)
 * or shrunk, each shrunk form rebuilt and compared with the original before it is kept,
 * and records read back into the rounds as they were.
 *
 * The deltas of a record (round number, reference instants, each authority's sequence and
 * radius) run from one shrunk round to the next (a summary moves the first three only): a
 * round kept as it was neither uses nor moves them, and every record starts afresh, so a
 * record is read on its own. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <quorum/time.h>

#include "authority.pb-c.h"
#include "roundlog.h"
#include "roundlog.pb-c.h"
#include "roundnonce.h"
#include "signed_state.pb-c.h"

#define COMMIT_LINE_MAX 512 /* a commit line is ~230 bytes; longer ones are kept as text */
#define ENTRY_OVERHEAD	8   /* tag and length of an entry in the record, at most */

/* What the deltas of a record run from: the previous shrunk round's numbers. */
struct chain {
	int has_prev;
	uint64_t round;
	int64_t mono, real;
	size_t n;	  /* slots: one per authority of the record */
	uint64_t *seq;	  /* each authority's previous sequence, 0 before its first */
	uint64_t *radius; /* ... and radius */
};

/* One round being added: the entry and everything it points into. */
struct slot {
	Uml001__RoundLogEntry entry;
	Uml001__RoundLogObservation *obs;
	Uml001__RoundLogObservation **obs_list;
	Uml001__SyncRound *src; /* the round as added, unpacked: the entry points into it */
	Uml001__TimeAttestation **ta; /* the attestations' payloads, unpacked: ditto */
	size_t ta_count;
	uint8_t *payload; /* the round as added */
	size_t payload_len;
	Uml001__RoundLogCommit *commit; /* entry.commit (slots move: not inside one) */
	char **audit;			/* entry.audit */
	size_t audit_cap;
	char *stage, *reason;
	uint8_t hash[ROUNDLOG_HASH_LEN]; /* SHA-256 of the payload, for a summary */
	size_t bytes;
};

struct roundlog {
	char *node_id;
	int keep_all; /* every round shrunk, none summarised */
	char *commit_plugin;
	Uml001__RoundLogAuthority **roster;
	size_t roster_count, roster_cap;
	struct chain chain;
	struct slot *slots;
	size_t count, cap;
	Uml001__RoundLogPeer **peers;
	size_t peer_count, peer_cap;
	size_t bytes;
};

static void set_why(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* A + B with the wrap-around of unsigned arithmetic (no signed overflow). */
static int64_t add_wrap(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t sub_wrap(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a - (uint64_t)b);
}

static void *grow(void *array, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap != 0 ? *cap : 8;
	void *p;

	if (need <= *cap)
		return array;
	while (n < need)
		n *= 2;
	p = realloc(array, n * size);
	if (p != NULL)
		*cap = n;
	return p;
}

/* ---- the chain of deltas ---- */

static int chain_reserve(struct chain *c, size_t n)
{
	uint64_t *seq, *radius;

	if (n <= c->n)
		return 0;
	seq = realloc(c->seq, n * sizeof(*seq));
	if (seq == NULL)
		return -ENOMEM;
	c->seq = seq;
	radius = realloc(c->radius, n * sizeof(*radius));
	if (radius == NULL)
		return -ENOMEM;
	c->radius = radius;
	memset(seq + c->n, 0, (n - c->n) * sizeof(*seq));
	memset(radius + c->n, 0, (n - c->n) * sizeof(*radius));
	c->n = n;
	return 0;
}

static void chain_release(struct chain *c)
{
	free(c->seq);
	free(c->radius);
	memset(c, 0, sizeof(*c));
}

static int chain_copy(struct chain *dst, const struct chain *src)
{
	*dst = *src;
	dst->seq = dst->radius = NULL;
	dst->n = 0;
	if (chain_reserve(dst, src->n) != 0) {
		chain_release(dst);
		return -ENOMEM;
	}
	if (src->n > 0) {
		memcpy(dst->seq, src->seq, src->n * sizeof(*src->seq));
		memcpy(dst->radius, src->radius, src->n * sizeof(*src->radius));
	}
	return 0;
}

/* ---- rebuilding a round (reading, and checking a shrunk round as it is added) ---- */

struct rebuild {
	Uml001__Observation *obs;
	Uml001__Observation **list;
	Uml001__SignedState *att;
	uint8_t **signed_payload;
	uint8_t (*nonce)[ROUND_NONCE_LEN];
	size_t count;
};

static void rebuild_release(struct rebuild *r)
{
	for (size_t i = 0; r->signed_payload != NULL && i < r->count; i++)
		free(r->signed_payload[i]);
	free(r->signed_payload);
	free(r->obs);
	free(r->list);
	free(r->att);
	free(r->nonce);
}

/* Rebuilds observation O of a shrunk round into M (and R's slot I). */
static int observation_rebuild(Uml001__RoundLogAuthority *const *roster, size_t roster_count,
			       const Uml001__RoundLogEntry *e,
			       const Uml001__RoundLogObservation *o, int64_t real,
			       struct chain *c, struct rebuild *r, size_t i, char *why,
			       size_t why_size)
{
	Uml001__Observation *m = &r->obs[i];
	Uml001__TimeAttestation t = UML001__TIME_ATTESTATION__INIT;
	Uml001__SignedState *s = &r->att[i];
	const Uml001__RoundLogAuthority *a;
	size_t idx, len;
	int64_t midpoint;

	uml001__observation__init(m);
	m->rtt_ns = o->rtt_ns;
	m->age_ns = o->age_ns;
	m->sending_hint_ns = o->sending_hint_ns;
	if (o->authority == 0) {
		m->source_id = o->source_id;
		m->ntp = o->ntp;
		m->attestation = o->attestation;
		return 0;
	}
	idx = o->authority - 1;
	if (idx >= roster_count || o->attestation != NULL || o->ntp != NULL ||
	    o->source_id[0] != '\0') {
		set_why(why, why_size, "observation %zu names authority %" PRIu32 " of %zu", i,
			o->authority, roster_count);
		return -EBADMSG;
	}
	a = roster[idx];
	if (o->nonce.len > 0) {
		t.nonce = o->nonce;
	} else if (e->nonce_seed.len == ROUND_SEED_LEN) {
		round_nonce(e->nonce_seed.data, a->id, r->nonce[i]);
		t.nonce.data = r->nonce[i];
		t.nonce.len = ROUND_NONCE_LEN;
	} else {
		set_why(why, why_size, "observation %zu has no nonce and the round no seed", i);
		return -EBADMSG;
	}
	if (chain_reserve(c, roster_count) != 0)
		return -ENOMEM;
	midpoint = add_wrap(real, o->midpoint_offset_ns);
	c->seq[idx] += (uint64_t)o->sequence_delta;
	c->radius[idx] += (uint64_t)o->radius_delta_ns;
	t.authority_id = a->id;
	t.key_id = a->key_id;
	t.midpoint_ns = midpoint;
	t.radius_ns = c->radius[idx];
	t.sequence = c->seq[idx];
	t.status = (Uml001__AuthorityStatus)(o->status_minus_one + 1);
	t.processing_ns = o->processing_ns;
	len = uml001__time_attestation__get_packed_size(&t);
	r->signed_payload[i] = malloc(len > 0 ? len : 1);
	if (r->signed_payload[i] == NULL)
		return -ENOMEM;
	uml001__time_attestation__pack(&t, r->signed_payload[i]);
	uml001__signed_state__init(s);
	s->logical_time_ns = (uint64_t)midpoint;
	s->event_id = (char *)QUORUM_EVENT_ATTESTATION;
	s->payload.data = r->signed_payload[i];
	s->payload.len = len;
	s->signature = o->signature;
	s->key_id = a->key_id;
	m->source_id = a->id;
	m->attestation = s;
	return 0;
}

/*
 * Rebuilds entry E of a record of NODE_ID's rounds (authorities ROSTER) into *OUT (new,
 * *LEN bytes), moving the chain C on when E is shrunk; *ROUND and *REAL get its round
 * number and reference instant. 0, -EBADMSG (WHY says), -ENOMEM.
 */
static int entry_rebuild(const char *node_id, Uml001__RoundLogAuthority *const *roster,
			 size_t roster_count, const Uml001__RoundLogEntry *e, struct chain *c,
			 uint8_t **out, size_t *len, uint64_t *round, int64_t *real, char *why,
			 size_t why_size)
{
	Uml001__SyncRound m = UML001__SYNC_ROUND__INIT;
	struct rebuild r = { 0 };
	int err = 0;

	if (e->round_hash.len > 0) { /* a summary: its numbers, no payload */
		if (e->round_hash.len != ROUNDLOG_HASH_LEN || e->payload.len > 0 ||
		    e->n_observations > 0 || e->nonce_seed.len > 0 ||
		    e->n_rejected_sources > 0 || e->n_rejected_reasons > 0) {
			set_why(why, why_size,
				"a summarised round holds more than its summary");
			return -EBADMSG;
		}
		*round = c->has_prev ? c->round + (uint64_t)e->round_delta
				     : (uint64_t)e->round_delta;
		c->mono = c->has_prev ? add_wrap(c->mono, e->reference_mono_delta_ns)
				      : e->reference_mono_delta_ns;
		*real = c->has_prev ? add_wrap(c->real, e->reference_realtime_delta_ns)
				    : e->reference_realtime_delta_ns;
		c->has_prev = 1;
		c->round = *round;
		c->real = *real;
		*out = NULL;
		*len = 0;
		return 0;
	}
	if (e->payload.len > 0) {
		Uml001__SyncRound *s =
			uml001__sync_round__unpack(NULL, e->payload.len, e->payload.data);

		if (s == NULL || strcmp(s->node_id, node_id) != 0) {
			if (s != NULL)
				uml001__sync_round__free_unpacked(s, NULL);
			set_why(why, why_size, "a round kept as it was is not %s's", node_id);
			return -EBADMSG;
		}
		*round = s->round;
		*real = s->reference_realtime_ns;
		uml001__sync_round__free_unpacked(s, NULL);
		*out = malloc(e->payload.len);
		if (*out == NULL)
			return -ENOMEM;
		memcpy(*out, e->payload.data, e->payload.len);
		*len = e->payload.len;
		return 0;
	}
	m.node_id = (char *)node_id;
	m.round = c->has_prev ? c->round + (uint64_t)e->round_delta : (uint64_t)e->round_delta;
	m.reference_mono_ns = c->has_prev ? add_wrap(c->mono, e->reference_mono_delta_ns)
					  : e->reference_mono_delta_ns;
	m.reference_realtime_ns = c->has_prev
					  ? add_wrap(c->real, e->reference_realtime_delta_ns)
					  : e->reference_realtime_delta_ns;
	m.drift_ppm = e->drift_ppm;
	m.nonce_seed = e->nonce_seed;
	m.n_rejected_sources = e->n_rejected_sources;
	m.rejected_sources = e->rejected_sources;
	m.n_rejected_reasons = e->n_rejected_reasons;
	m.rejected_reasons = e->rejected_reasons;
	r.count = e->n_observations;
	r.obs = calloc(r.count + 1, sizeof(*r.obs));
	r.list = calloc(r.count + 1, sizeof(*r.list));
	r.att = calloc(r.count + 1, sizeof(*r.att));
	r.signed_payload = calloc(r.count + 1, sizeof(*r.signed_payload));
	r.nonce = calloc(r.count + 1, sizeof(*r.nonce));
	if (r.obs == NULL || r.list == NULL || r.att == NULL || r.signed_payload == NULL ||
	    r.nonce == NULL) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r.count && err == 0; i++) {
		err = observation_rebuild(roster, roster_count, e, e->observations[i],
					  m.reference_realtime_ns, c, &r, i, why, why_size);
		r.list[i] = &r.obs[i];
	}
	if (err != 0)
		goto out;
	m.n_observations = r.count;
	m.observations = r.list;
	*len = uml001__sync_round__get_packed_size(&m);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out == NULL) {
		err = -ENOMEM;
		goto out;
	}
	uml001__sync_round__pack(&m, *out);
	*round = m.round;
	*real = m.reference_realtime_ns;
	c->has_prev = 1;
	c->round = m.round;
	c->mono = m.reference_mono_ns;
	c->real = m.reference_realtime_ns;
out:
	rebuild_release(&r);
	return err;
}

/* ---- the commit line ---- */

static void commit_line(char *out, size_t size, const char *plugin, uint64_t round,
			int64_t real, const Uml001__RoundLogCommit *c)
{
	double warp = c->n > 0 ? (double)(uint32_t)(c->n - c->accepted) / (double)c->n : 1.0;

	snprintf(out, size,
		 ROUNDLOG_COMMIT_TYPE
		 " plugin=%s round=%" PRIu64 " earliest_ns=%" PRId64 " estimate_ns=%" PRId64
		 " latest_ns=%" PRId64 " n=%" PRIu32 " f=%" PRIu32 " accepted=%" PRIu32
		 " outliers=%" PRIu32 " ntp_used=%" PRIu32 " drift_ns=%" PRId64
		 " warp_score=%.3f",
		 plugin, round, add_wrap(real, c->earliest_offset_ns),
		 add_wrap(real, c->estimate_offset_ns), add_wrap(real, c->latest_offset_ns),
		 c->n, c->f, c->accepted, c->outliers, c->ntp_used, c->estimate_offset_ns,
		 warp);
}

/* Reads TEXT as the commit line of round ROUND (reference REAL) into *C and PLUGIN (SIZE
 * bytes); 0 only when writing it back from those numbers gives TEXT exactly. */
static int commit_parse(const char *text, uint64_t round, int64_t real,
			Uml001__RoundLogCommit *c, char *plugin, size_t size)
{
	static const char prefix[] = ROUNDLOG_COMMIT_TYPE " plugin=";
	char line[COMMIT_LINE_MAX];
	const char *p, *space;
	uint64_t r;
	int64_t e, s, l, d;
	unsigned n, f, a, o, u;

	if (strncmp(text, prefix, sizeof(prefix) - 1) != 0 || strlen(text) >= sizeof(line))
		return -1;
	p = text + sizeof(prefix) - 1;
	space = strchr(p, ' ');
	if (space == NULL || space == p || (size_t)(space - p) >= size)
		return -1;
	memcpy(plugin, p, (size_t)(space - p));
	plugin[space - p] = '\0';
	if (sscanf(space,
		   " round=%" SCNu64 " earliest_ns=%" SCNd64 " estimate_ns=%" SCNd64
		   " latest_ns=%" SCNd64 " n=%u f=%u accepted=%u outliers=%u ntp_used=%u"
		   " drift_ns=%" SCNd64,
		   &r, &e, &s, &l, &n, &f, &a, &o, &u, &d) != 10 ||
	    r != round)
		return -1;
	uml001__round_log_commit__init(c);
	c->earliest_offset_ns = sub_wrap(e, real);
	c->estimate_offset_ns = sub_wrap(s, real);
	c->latest_offset_ns = sub_wrap(l, real);
	c->n = n;
	c->f = f;
	c->accepted = a;
	c->outliers = o;
	c->ntp_used = u;
	commit_line(line, sizeof(line), plugin, round, real, c);
	return strcmp(line, text) == 0 ? 0 : -1;
}

/* ---- writing ---- */

struct roundlog *roundlog_new(const char *node_id)
{
	struct roundlog *log = calloc(1, sizeof(*log));

	if (log == NULL)
		return NULL;
	log->node_id = strdup(node_id);
	if (log->node_id == NULL) {
		free(log);
		return NULL;
	}
	return log;
}

void roundlog_keep_all(struct roundlog *log, int all)
{
	log->keep_all = all != 0;
}

/* Forgets what shrinking slot S made (its entry's observations point into it). */
static void slot_unshrink(struct slot *s)
{
	for (size_t i = 0; i < s->ta_count; i++)
		uml001__time_attestation__free_unpacked(s->ta[i], NULL);
	free(s->ta);
	free(s->obs);
	free(s->obs_list);
	s->ta = NULL;
	s->ta_count = 0;
	s->obs = NULL;
	s->obs_list = NULL;
	s->entry.n_observations = 0;
	s->entry.observations = NULL;
}

static void slot_release(struct slot *s)
{
	slot_unshrink(s);
	if (s->src != NULL)
		uml001__sync_round__free_unpacked(s->src, NULL);
	free(s->payload);
	for (size_t i = 0; i < s->entry.n_audit; i++)
		free(s->audit[i]);
	free(s->audit);
	free(s->stage);
	free(s->reason);
	free(s->commit);
	memset(s, 0, sizeof(*s));
}

/* Forgets everything added: the next round starts a new record. */
static void roundlog_reset(struct roundlog *log)
{
	for (size_t i = 0; i < log->count; i++)
		slot_release(&log->slots[i]);
	log->count = 0;
	for (size_t i = 0; i < log->roster_count; i++) {
		free(log->roster[i]->id);
		free(log->roster[i]->key_id);
		free(log->roster[i]);
	}
	log->roster_count = 0;
	for (size_t i = 0; i < log->peer_count; i++) {
		free(log->peers[i]->node_id);
		free(log->peers[i]);
	}
	log->peer_count = 0;
	chain_release(&log->chain);
	free(log->commit_plugin);
	log->commit_plugin = NULL;
	log->bytes = 0;
}

void roundlog_free(struct roundlog *log)
{
	if (log == NULL)
		return;
	roundlog_reset(log);
	free(log->slots);
	free(log->roster);
	free(log->peers);
	free(log->node_id);
	free(log);
}

/* The roster index of authority ID signing with KEY_ID, added when new; -1 when out of
 * memory. */
static long roster_index(struct roundlog *log, const char *id, const char *key_id)
{
	Uml001__RoundLogAuthority **grown, *a;

	for (size_t i = 0; i < log->roster_count; i++) {
		if (strcmp(log->roster[i]->id, id) == 0 &&
		    strcmp(log->roster[i]->key_id, key_id) == 0)
			return (long)i;
	}
	grown = grow(log->roster, &log->roster_cap, log->roster_count + 1, sizeof(*grown));
	if (grown == NULL)
		return -1;
	log->roster = grown;
	a = malloc(sizeof(*a));
	if (a == NULL)
		return -1;
	uml001__round_log_authority__init(a);
	a->id = strdup(id);
	a->key_id = strdup(key_id);
	if (a->id == NULL || a->key_id == NULL) {
		free(a->id);
		free(a->key_id);
		free(a);
		return -1;
	}
	log->roster[log->roster_count++] = a;
	log->bytes += uml001__round_log_authority__get_packed_size(a) + ENTRY_OVERHEAD;
	return (long)(log->roster_count - 1);
}

/* Shrinks observation M of round R into O, with the chain W. 0, 1 (kept as it was), or
 * -ENOMEM. */
static int observation_shrink(struct roundlog *log, struct slot *s, const Uml001__SyncRound *r,
			      Uml001__Observation *m, Uml001__RoundLogObservation *o,
			      struct chain *w)
{
	const Uml001__SignedState *a = m->attestation;
	Uml001__TimeAttestation *t;
	uint8_t derived[ROUND_NONCE_LEN];
	long idx;

	uml001__round_log_observation__init(o);
	o->rtt_ns = m->rtt_ns;
	o->age_ns = m->age_ns;
	o->sending_hint_ns = m->sending_hint_ns;
	o->source_id = m->source_id;
	o->ntp = m->ntp;
	o->attestation = m->attestation;
	if (a == NULL || a->gossip != NULL || a->anchor_proof != NULL ||
	    strcmp(a->event_id, QUORUM_EVENT_ATTESTATION) != 0)
		return 1;
	t = uml001__time_attestation__unpack(NULL, a->payload.len, a->payload.data);
	if (t == NULL)
		return 1;
	if (strcmp(t->authority_id, m->source_id) != 0 || strcmp(t->key_id, a->key_id) != 0 ||
	    t->status == 0) {
		uml001__time_attestation__free_unpacked(t, NULL);
		return 1;
	}
	s->ta[s->ta_count++] = t;
	idx = roster_index(log, t->authority_id, t->key_id);
	if (idx < 0 || chain_reserve(w, log->roster_count) != 0)
		return -ENOMEM;
	o->source_id = (char *)"";
	o->attestation = NULL;
	o->authority = (uint32_t)idx + 1;
	o->midpoint_offset_ns = sub_wrap(t->midpoint_ns, r->reference_realtime_ns);
	o->radius_delta_ns = (int64_t)(t->radius_ns - w->radius[idx]);
	w->radius[idx] = t->radius_ns;
	o->sequence_delta = (int64_t)(t->sequence - w->seq[idx]);
	w->seq[idx] = t->sequence;
	o->status_minus_one = (uint32_t)t->status - 1;
	o->processing_ns = t->processing_ns;
	o->signature = a->signature;
	o->nonce = t->nonce;
	if (r->nonce_seed.len == ROUND_SEED_LEN && t->nonce.len == ROUND_NONCE_LEN) {
		round_nonce(r->nonce_seed.data, t->authority_id, derived);
		if (memcmp(derived, t->nonce.data, ROUND_NONCE_LEN) == 0)
			o->nonce.len = 0;
	}
	return 0;
}

/* Shrinks slot S's round; 0 when its shrunk form rebuilds the original exactly (the chain
 * then moves on), 1 when it must be kept as it was, or -ENOMEM. */
static int slot_shrink(struct roundlog *log, struct slot *s)
{
	Uml001__SyncRound *r = s->src;
	Uml001__RoundLogEntry *e = &s->entry;
	struct chain w, v;
	uint8_t *rebuilt = NULL;
	size_t len = 0;
	uint64_t round;
	int64_t real;
	int err;

	slot_unshrink(s);
	if (chain_copy(&w, &log->chain) != 0)
		return -ENOMEM;
	e->round_delta = w.has_prev ? (int64_t)(r->round - w.round) : (int64_t)r->round;
	e->reference_mono_delta_ns =
		w.has_prev ? sub_wrap(r->reference_mono_ns, w.mono) : r->reference_mono_ns;
	e->reference_realtime_delta_ns = w.has_prev ? sub_wrap(r->reference_realtime_ns, w.real)
						    : r->reference_realtime_ns;
	e->drift_ppm = r->drift_ppm;
	e->nonce_seed = r->nonce_seed;
	e->n_rejected_sources = r->n_rejected_sources;
	e->rejected_sources = r->rejected_sources;
	e->n_rejected_reasons = r->n_rejected_reasons;
	e->rejected_reasons = r->rejected_reasons;
	s->obs = calloc(r->n_observations + 1, sizeof(*s->obs));
	s->obs_list = calloc(r->n_observations + 1, sizeof(*s->obs_list));
	s->ta = calloc(r->n_observations + 1, sizeof(*s->ta));
	if (s->obs == NULL || s->obs_list == NULL || s->ta == NULL) {
		chain_release(&w);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_observations; i++) {
		err = observation_shrink(log, s, r, r->observations[i], &s->obs[i], &w);
		if (err < 0) {
			chain_release(&w);
			return err;
		}
		s->obs_list[i] = &s->obs[i];
	}
	e->n_observations = r->n_observations;
	e->observations = s->obs_list;
	chain_release(&w);
	/* Kept shrunk only if reading it back gives the very bytes added. */
	if (chain_copy(&v, &log->chain) != 0)
		return -ENOMEM;
	err = entry_rebuild(log->node_id, log->roster, log->roster_count, e, &v, &rebuilt, &len,
			    &round, &real, NULL, 0);
	if (err == 0 && len == s->payload_len && memcmp(rebuilt, s->payload, len) == 0) {
		free(rebuilt);
		chain_release(&log->chain);
		log->chain = v;
		return 0;
	}
	free(rebuilt);
	chain_release(&v);
	return err == -ENOMEM ? -ENOMEM : 1;
}

int roundlog_add(struct roundlog *log, const uint8_t *payload, size_t len)
{
	struct slot *grown, *s;

	grown = grow(log->slots, &log->cap, log->count + 1, sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	log->slots = grown;
	s = &log->slots[log->count];
	memset(s, 0, sizeof(*s));
	uml001__round_log_entry__init(&s->entry);
	s->src = uml001__sync_round__unpack(NULL, len, payload);
	if (s->src == NULL || strcmp(s->src->node_id, log->node_id) != 0) {
		slot_release(s);
		return -EINVAL;
	}
	s->payload = malloc(len > 0 ? len : 1);
	if (s->payload == NULL) {
		slot_release(s);
		return -ENOMEM;
	}
	memcpy(s->payload, payload, len);
	s->payload_len = len;
	/* Shrunk or summarised when the record is encoded: by then its fate is known. */
	s->bytes = len + ENTRY_OVERHEAD;
	log->bytes += s->bytes;
	log->count++;
	return 0;
}

/* A round whose attestations are the evidence of a decision someone may dispute: not
 * taken (rejected, held, not committed), or with a line besides its commit (an observation
 * refused), an authority's answer rejected or an outlier left out of the agreement. */
static int slot_disputed(const struct slot *s)
{
	return s->entry.verdict != ROUNDLOG_VERDICT_ACCEPT || s->commit == NULL ||
	       s->entry.n_audit > 0 || s->commit->outliers > 0 ||
	       s->src->n_rejected_sources > 0 || s->src->n_rejected_reasons > 0;
}

/* Keeps slot S as its summary: the round's numbers (moving the chain's), its hash, and
 * what became of it (already in the entry). 0 or -ENOMEM. */
static int slot_summarise(struct roundlog *log, struct slot *s)
{
	const Uml001__SyncRound *r = s->src;
	Uml001__RoundLogEntry *e = &s->entry;
	struct chain *c = &log->chain;

	slot_unshrink(s);
	if (EVP_Digest(s->payload, s->payload_len, s->hash, NULL, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	e->round_delta = c->has_prev ? (int64_t)(r->round - c->round) : (int64_t)r->round;
	e->reference_mono_delta_ns =
		c->has_prev ? sub_wrap(r->reference_mono_ns, c->mono) : r->reference_mono_ns;
	e->reference_realtime_delta_ns = c->has_prev
						 ? sub_wrap(r->reference_realtime_ns, c->real)
						 : r->reference_realtime_ns;
	e->round_hash.data = s->hash;
	e->round_hash.len = ROUNDLOG_HASH_LEN;
	c->has_prev = 1;
	c->round = r->round;
	c->mono = r->reference_mono_ns;
	c->real = r->reference_realtime_ns;
	return 0;
}

/* Keeps slot S's payload as it was, with what became of it. */
static void slot_keep(struct slot *s)
{
	Uml001__RoundLogEntry kept = UML001__ROUND_LOG_ENTRY__INIT;

	slot_unshrink(s);
	kept.payload.data = s->payload;
	kept.payload.len = s->payload_len;
	kept.verdict = s->entry.verdict;
	kept.verdict_stage = s->entry.verdict_stage;
	kept.verdict_reason = s->entry.verdict_reason;
	kept.commit = s->entry.commit;
	kept.n_audit = s->entry.n_audit;
	kept.audit = s->entry.audit;
	s->entry = kept;
}

/* Makes slot S's entry: a summary, unless the log keeps all, it is the record's first
 * (every record holds one round an auditor can check in full) or it is disputed. */
static int slot_entry(struct roundlog *log, struct slot *s, int first)
{
	int err;

	if (!log->keep_all && !first && !slot_disputed(s))
		return slot_summarise(log, s);
	err = slot_shrink(log, s);
	if (err == 1)
		slot_keep(s);
	return err < 0 ? err : 0;
}

static struct slot *last_slot(struct roundlog *log)
{
	return log->count > 0 ? &log->slots[log->count - 1] : NULL;
}

/* Adds S->bytes' change to the log's total after the entry grew. */
static void slot_resize(struct roundlog *log, struct slot *s)
{
	size_t bytes = s->payload_len + uml001__round_log_entry__get_packed_size(&s->entry) +
		       ENTRY_OVERHEAD;

	log->bytes = log->bytes - s->bytes + bytes;
	s->bytes = bytes;
}

int roundlog_audit(struct roundlog *log, const char *text, size_t len)
{
	struct slot *s = last_slot(log);
	char *line, plugin[128], **grown;
	Uml001__RoundLogCommit commit;

	if (s == NULL)
		return -ENOENT;
	line = strndup(text, len);
	if (line == NULL)
		return -ENOMEM;
	if (s->commit == NULL && s->src != NULL &&
	    commit_parse(line, s->src->round, s->src->reference_realtime_ns, &commit, plugin,
			 sizeof(plugin)) == 0 &&
	    (log->commit_plugin == NULL || strcmp(log->commit_plugin, plugin) == 0)) {
		s->commit = malloc(sizeof(*s->commit));
		if (s->commit == NULL) {
			free(line);
			return -ENOMEM;
		}
		*s->commit = commit;
		if (log->commit_plugin == NULL) {
			log->commit_plugin = strdup(plugin);
			if (log->commit_plugin == NULL) {
				free(line);
				return -ENOMEM;
			}
			log->bytes += strlen(plugin) + 2;
		}
		s->commit->position = (uint32_t)s->entry.n_audit;
		s->entry.commit = s->commit;
		free(line);
		slot_resize(log, s);
		return 0;
	}
	grown = grow(s->audit, &s->audit_cap, s->entry.n_audit + 1, sizeof(*grown));
	if (grown == NULL) {
		free(line);
		return -ENOMEM;
	}
	s->audit = grown;
	s->audit[s->entry.n_audit++] = line;
	s->entry.audit = s->audit;
	slot_resize(log, s);
	return 0;
}

int roundlog_verdict(struct roundlog *log, uint32_t verdict, const char *stage,
		     const char *reason)
{
	struct slot *s = last_slot(log);
	char *st, *re;

	if (s == NULL)
		return -ENOENT;
	st = strdup(stage != NULL ? stage : "");
	re = strdup(reason != NULL ? reason : "");
	if (st == NULL || re == NULL) {
		free(st);
		free(re);
		return -ENOMEM;
	}
	free(s->stage);
	free(s->reason);
	s->stage = st;
	s->reason = re;
	s->entry.verdict = verdict;
	s->entry.verdict_stage = st;
	s->entry.verdict_reason = re;
	slot_resize(log, s);
	return 0;
}

int roundlog_peer(struct roundlog *log, const char *peer_id)
{
	Uml001__RoundLogPeer **grown, *p;

	for (size_t i = 0; i < log->peer_count; i++) {
		if (strcmp(log->peers[i]->node_id, peer_id) == 0) {
			log->peers[i]->rounds++;
			return 0;
		}
	}
	grown = grow(log->peers, &log->peer_cap, log->peer_count + 1, sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	log->peers = grown;
	p = malloc(sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	uml001__round_log_peer__init(p);
	p->node_id = strdup(peer_id);
	if (p->node_id == NULL) {
		free(p);
		return -ENOMEM;
	}
	p->rounds = 1;
	log->peers[log->peer_count++] = p;
	log->bytes += strlen(peer_id) + 2 * ENTRY_OVERHEAD;
	return 0;
}

size_t roundlog_count(const struct roundlog *log)
{
	return log->count;
}

size_t roundlog_bytes(const struct roundlog *log)
{
	return log->bytes + strlen(log->node_id) + ENTRY_OVERHEAD;
}

int roundlog_empty(const struct roundlog *log)
{
	return log->count == 0 && log->peer_count == 0;
}

int roundlog_encode(struct roundlog *log, uint8_t **out, size_t *len)
{
	Uml001__RoundLog m = UML001__ROUND_LOG__INIT;
	Uml001__RoundLogEntry **rounds = calloc(log->count + 1, sizeof(*rounds));

	if (rounds == NULL)
		return -ENOMEM;
	chain_release(&log->chain); /* the record's deltas start afresh */
	for (size_t i = 0; i < log->count; i++) {
		int err = slot_entry(log, &log->slots[i], i == 0);

		if (err != 0) {
			chain_release(&log->chain);
			free(rounds);
			return err;
		}
		rounds[i] = &log->slots[i].entry;
	}
	m.node_id = log->node_id;
	m.n_authorities = log->roster_count;
	m.authorities = log->roster;
	m.n_rounds = log->count;
	m.rounds = rounds;
	m.n_peers = log->peer_count;
	m.peers = log->peers;
	m.commit_plugin = log->commit_plugin != NULL ? log->commit_plugin : (char *)"";
	*len = uml001__round_log__get_packed_size(&m);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out == NULL) {
		free(rounds);
		return -ENOMEM;
	}
	uml001__round_log__pack(&m, *out);
	free(rounds);
	roundlog_reset(log);
	return 0;
}

/* ---- reading ---- */

void roundlog_view_free(struct roundlog_view *view)
{
	if (view == NULL)
		return;
	for (size_t i = 0; view->rounds != NULL && i < view->count; i++) {
		struct roundlog_round *r = &view->rounds[i];

		free(r->payload);
		for (size_t j = 0; j < r->audit_count; j++)
			free(r->audit[j]);
		free(r->audit);
	}
	free(view->rounds);
	free(view->peers);
	if (view->message != NULL)
		uml001__round_log__free_unpacked(view->message, NULL);
	free(view);
}

/* Fills R's audit lines: the entry's, with its commit line rebuilt in its place. */
static int round_lines(const Uml001__RoundLog *m, const Uml001__RoundLogEntry *e,
		       struct roundlog_round *r, char *why, size_t why_size)
{
	const Uml001__RoundLogCommit *c = e->commit;
	size_t n = e->n_audit + (c != NULL ? 1 : 0), from = 0;
	char line[COMMIT_LINE_MAX];

	r->audit = calloc(n + 1, sizeof(*r->audit));
	if (r->audit == NULL)
		return -ENOMEM;
	if (c != NULL && (c->position > e->n_audit || m->commit_plugin[0] == '\0')) {
		set_why(why, why_size, "round %" PRIu64 ": its commit line has no place",
			r->round);
		return -EBADMSG;
	}
	for (size_t i = 0; i < n; i++) {
		if (c != NULL && i == c->position) {
			commit_line(line, sizeof(line), m->commit_plugin, r->round,
				    r->reference_realtime_ns, c);
			r->audit[i] = strdup(line);
		} else {
			r->audit[i] = strdup(e->audit[from++]);
		}
		if (r->audit[i] == NULL)
			return -ENOMEM;
		r->audit_count++;
	}
	if (c != NULL) {
		r->committed = 1;
		r->earliest_ns = add_wrap(r->reference_realtime_ns, c->earliest_offset_ns);
		r->estimate_ns = add_wrap(r->reference_realtime_ns, c->estimate_offset_ns);
		r->latest_ns = add_wrap(r->reference_realtime_ns, c->latest_offset_ns);
		r->n = c->n;
		r->f = c->f;
		r->accepted = c->accepted;
		r->outliers = c->outliers;
		r->ntp_used = c->ntp_used;
	}
	return 0;
}

int roundlog_decode(const uint8_t *data, size_t len, struct roundlog_view **out, char *why,
		    size_t why_size)
{
	struct roundlog_view *v;
	Uml001__RoundLog *m;
	struct chain c = { 0 };
	int err = 0;

	set_why(why, why_size, "%s", "");
	*out = NULL;
	m = uml001__round_log__unpack(NULL, len, data);
	if (m == NULL) {
		set_why(why, why_size, "not a round log");
		return -EBADMSG;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		uml001__round_log__free_unpacked(m, NULL);
		return -ENOMEM;
	}
	v->message = m;
	v->node_id = m->node_id;
	for (size_t i = 0; i < m->n_authorities; i++) {
		if (m->authorities[i]->id[0] == '\0') {
			set_why(why, why_size, "authority %zu has no id", i);
			err = -EBADMSG;
			goto fail;
		}
	}
	v->rounds = calloc(m->n_rounds + 1, sizeof(*v->rounds));
	v->peers = calloc(m->n_peers + 1, sizeof(*v->peers));
	if (v->rounds == NULL || v->peers == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < m->n_rounds; i++) {
		const Uml001__RoundLogEntry *e = m->rounds[i];
		struct roundlog_round *r = &v->rounds[i];
		char inner[256] = "";

		v->count++;
		err = entry_rebuild(m->node_id, m->authorities, m->n_authorities, e, &c,
				    &r->payload, &r->len, &r->round, &r->reference_realtime_ns,
				    inner, sizeof(inner));
		if (err == -EBADMSG)
			set_why(why, why_size, "round entry %zu: %s", i, inner);
		if (err == 0)
			err = round_lines(m, e, r, why, why_size);
		if (err != 0)
			goto fail;
		r->summary = e->round_hash.len > 0;
		r->shrunk = e->payload.len == 0 && !r->summary;
		if (r->summary)
			memcpy(r->hash, e->round_hash.data, ROUNDLOG_HASH_LEN);
		else if (EVP_Digest(r->payload, r->len, r->hash, NULL, EVP_sha256(), NULL) != 1)
			err = -ENOMEM;
		if (err != 0)
			goto fail;
		r->verdict = e->verdict;
		r->stage = e->verdict_stage;
		r->reason = e->verdict_reason;
	}
	for (size_t i = 0; i < m->n_peers; i++) {
		v->peers[i].node_id = m->peers[i]->node_id;
		v->peers[i].rounds = m->peers[i]->rounds;
	}
	v->peer_count = m->n_peers;
	chain_release(&c);
	*out = v;
	return 0;
fail:
	chain_release(&c);
	roundlog_view_free(v);
	return err;
}
