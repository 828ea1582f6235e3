/* timecodec.c -- peer-link datagrams, signed time attestations and sync rounds: encoding,
 * strict decoding (through proto_decode_strict) and Ed25519 over the signed-state bytes. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "protodecode-internal.h"
#include "timecodec-internal.h"
#include "byteorder.h"

int signed_state_message(const struct quorum_signed_state *state, uint8_t **out, size_t *len)
{
	size_t total = quorum_signed_state_message_len(state);
	uint8_t *buf = malloc(total);

	if (buf == NULL)
		return -ENOMEM;
	/* One definition of the signed bytes, shared with the stages (<quorum/event.h>). */
	if (quorum_signed_state_message(state, buf, total) != (long)total) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*len = total;
	return 0;
}

int signed_state_sign(EVP_PKEY *key, struct quorum_signed_state *state,
		      uint8_t sig[KEY_SIGNATURE_LEN])
{
	uint8_t *msg;
	size_t len;
	int err = signed_state_message(state, &msg, &len);

	if (err != 0)
		return err;
	err = key_sign(key, msg, len, sig);
	free(msg);
	if (err == 0) {
		state->signature.data = sig;
		state->signature.len = KEY_SIGNATURE_LEN;
	}
	return err;
}

int signed_state_wrap(EVP_PKEY *key, const char *key_id, const char *event_id,
		      uint64_t logical_time_ns, uint8_t *payload, size_t len,
		      uint8_t sig[KEY_SIGNATURE_LEN], Uml001__SignedState *out)
{
	struct quorum_signed_state view = { .logical_time_ns = logical_time_ns,
					    .event_id = event_id,
					    .key_id = key_id,
					    .payload = { .data = payload, .len = len } };
	int err = signed_state_sign(key, &view, sig);

	if (err != 0)
		return err;
	out->logical_time_ns = logical_time_ns;
	out->event_id = (char *)event_id;
	out->key_id = (char *)key_id;
	out->payload.data = payload;
	out->payload.len = len;
	out->signature.data = sig;
	out->signature.len = KEY_SIGNATURE_LEN;
	return 0;
}

int signed_state_verify(EVP_PKEY *key, const struct quorum_signed_state *state)
{
	uint8_t *msg;
	size_t len;
	int err;

	if (state->signature.len != KEY_SIGNATURE_LEN)
		return -EBADMSG;
	err = signed_state_message(state, &msg, &len);
	if (err != 0)
		return err;
	err = key_verify(key, msg, len, state->signature.data, state->signature.len);
	free(msg);
	return err;
}

/* ---------------------------------- datagrams ---------------------------------- */

int datagram_decode(const void *data, size_t len, struct datagram *out, const char **reason)
{
	Uml001__PeerDatagram *m;

	memset(out, 0, sizeof(*out));
	if (len > GOSSIP_DATAGRAM_MAX) {
		*reason = "datagram_too_large";
		return -EINVAL;
	}
	m = (Uml001__PeerDatagram *)proto_decode_strict(&uml001__peer_datagram__descriptor,
							data, len, "datagram", reason);
	if (m == NULL)
		return -EINVAL;
	out->message = m;
	out->length = len;
	/* Only gossip carries a whole event; the time protocol's datagrams stay small. */
	if (len > DATAGRAM_MAX && m->body_case != UML001__PEER_DATAGRAM__BODY_GOSSIP) {
		*reason = "datagram_too_large";
		goto out_release;
	}
	switch (m->body_case) {
	case UML001__PEER_DATAGRAM__BODY_TIME_REQUEST: {
		const Uml001__TimeRequest *r = m->time_request;

		if (m->sending_ns != 0) {
			*reason = "request_malformed";
			goto out_release;
		}
		if (r->nonce.len != QUORUM_NONCE_LEN ||
		    strlen(r->asker_id) > QUORUM_NODE_ID_MAX) {
			*reason = "request_malformed";
			goto out_release;
		}
		if (r->padding.len > DATAGRAM_MAX) { /* never reached: bounded by len */
			*reason = "request_malformed";
			goto out_release;
		}
		out->kind = DATAGRAM_TIME_REQUEST;
		memcpy(out->nonce, r->nonce.data, QUORUM_NONCE_LEN);
		strcpy(out->asker_id, r->asker_id);
		return 0;
	}
	case UML001__PEER_DATAGRAM__BODY_TIME_RESPONSE:
		*reason = envelope_check(m->time_response);
		if (*reason != NULL)
			goto out_release;
		if (m->sending_ns > (uint64_t)ROUND_RTT_MAX_NS) {
			*reason = "response_malformed";
			goto out_release;
		}
		out->kind = DATAGRAM_TIME_RESPONSE;
		out->sending_ns = m->sending_ns;
		return 0;
	case UML001__PEER_DATAGRAM__BODY_GOSSIP:
		*reason = envelope_check(m->gossip);
		if (*reason != NULL)
			goto out_release;
		if (m->sending_ns != 0) {
			*reason = "gossip_malformed";
			goto out_release;
		}
		out->kind = DATAGRAM_GOSSIP;
		return 0;
	default:
		*reason = "datagram_empty";
		goto out_release;
	}
out_release:
	datagram_release(out);
	return -EINVAL;
}

void datagram_release(struct datagram *datagram)
{
	if (datagram->message != NULL)
		uml001__peer_datagram__free_unpacked(datagram->message, NULL);
	memset(datagram, 0, sizeof(*datagram));
}

int datagram_encode_request(const uint8_t nonce[QUORUM_NONCE_LEN], const char *asker_id,
			    size_t min_len, uint8_t *buf, size_t size)
{
	static const uint8_t zeros[DATAGRAM_MAX];
	Uml001__PeerDatagram d = UML001__PEER_DATAGRAM__INIT;
	Uml001__TimeRequest r = UML001__TIME_REQUEST__INIT;
	size_t len;

	r.nonce.data = (uint8_t *)nonce;
	r.nonce.len = QUORUM_NONCE_LEN;
	r.asker_id = (char *)asker_id;
	r.padding.data = (uint8_t *)zeros;
	d.body_case = UML001__PEER_DATAGRAM__BODY_TIME_REQUEST;
	d.time_request = &r;
	/* The padding's tag and length prefixes come and grow with it: add what is missing
	 * until the whole reaches MIN_LEN, then take back what the prefixes overshot (the
	 * result is MIN_LEN, or up to two more where a prefix's growth skips it). */
	for (len = uml001__peer_datagram__get_packed_size(&d); len < min_len;
	     len = uml001__peer_datagram__get_packed_size(&d))
		r.padding.len += min_len - len;
	while (r.padding.len > 0 && len > min_len) {
		r.padding.len--;
		len = uml001__peer_datagram__get_packed_size(&d);
		if (len < min_len) {
			r.padding.len++;
			len = uml001__peer_datagram__get_packed_size(&d);
			break;
		}
	}
	if (len > size || r.padding.len > sizeof(zeros))
		return -ENOSPC;
	return (int)uml001__peer_datagram__pack(&d, buf);
}

int datagram_encode_gossip(const void *encoded, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t head[1 + 10], *buf;
	size_t n = 0;
	uint64_t v = len;

	/* PeerDatagram field 3, length-delimited, and nothing else: the bytes are the event's
	 * own canonical encoding, so the datagram is canonical too. */
	head[n++] = 3 << 3 | 2;
	while (v >= 0x80) {
		head[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	head[n++] = (uint8_t)v;
	if (len > GOSSIP_DATAGRAM_MAX || n + len > GOSSIP_DATAGRAM_MAX)
		return -EMSGSIZE;
	buf = malloc(n + len);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, head, n);
	memcpy(buf + n, encoded, len);
	*out = buf;
	*out_len = n + len;
	return 0;
}

#define REASON_MAX 47 /* fits quorum_source_status.problem */

/* --------------------------------- attestations --------------------------------- */

static int id_token(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '=')
			return 0;
	}
	return 1;
}

int attestation_decode(const Uml001__SignedState *state, struct attestation *out,
		       const char **reason)
{
	const Uml001__TimeAttestation *m;

	memset(out, 0, sizeof(*out));
	*reason = envelope_check(state);
	if (*reason != NULL)
		return -EINVAL;
	if (strcmp(state->event_id, QUORUM_EVENT_ATTESTATION) != 0) {
		*reason = "attestation_wrong_event";
		return -EINVAL;
	}
	out->state = state;
	envelope_view(state, &out->view, &out->gossip, &out->anchor);
	out->message = (Uml001__TimeAttestation *)proto_decode_strict(
		&uml001__time_attestation__descriptor, state->payload.data, state->payload.len,
		"attestation", reason);
	if (out->message == NULL)
		return -EINVAL;
	m = out->message;
	if (!id_token(m->authority_id, QUORUM_NODE_ID_MAX) ||
	    strlen(m->key_id) > QUORUM_KEY_ID_MAX || m->nonce.len != QUORUM_NONCE_LEN ||
	    m->radius_ns > ATTESTATION_RADIUS_MAX_NS ||
	    m->processing_ns > (uint64_t)ROUND_RTT_MAX_NS || m->midpoint_ns <= 0 ||
	    (m->status != UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED &&
	     m->status != UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_UNSYNCHRONISED)) {
		*reason = "attestation_malformed";
		attestation_release(out);
		return -EINVAL;
	}
	/* The envelope repeats the key id and the time: they must agree with the payload. */
	if (strcmp(m->key_id, state->key_id) != 0 ||
	    state->logical_time_ns != (uint64_t)m->midpoint_ns) {
		*reason = "attestation_inconsistent";
		attestation_release(out);
		return -EINVAL;
	}
	out->fields = (struct quorum_attestation){
		.authority_id = m->authority_id,
		.key_id = m->key_id,
		.nonce = { m->nonce.data, m->nonce.len },
		.midpoint_ns = m->midpoint_ns,
		.radius_ns = m->radius_ns,
		.sequence = m->sequence,
		.status = m->status == UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED
				  ? QUORUM_AUTHORITY_SYNCHRONISED
				  : QUORUM_AUTHORITY_UNSYNCHRONISED,
		.processing_ns = m->processing_ns,
	};
	return 0;
}

void attestation_release(struct attestation *attestation)
{
	if (attestation->message != NULL)
		uml001__time_attestation__free_unpacked(attestation->message, NULL);
	memset(attestation, 0, sizeof(*attestation));
}

const char *attestation_check(const struct attestation *a, const char *authority_id,
			      const char *key_id, EVP_PKEY *key)
{
	if (strcmp(a->fields.authority_id, authority_id) != 0)
		return "untrusted_authority";
	if (strcmp(a->fields.key_id, key_id) != 0)
		return "key_id_mismatch";
	if (key != NULL && signed_state_verify(key, &a->view) != 0)
		return "signature_invalid";
	return NULL;
}

int attestation_digest(const Uml001__SignedState *state, uint8_t out[SHA256_DIGEST_LENGTH])
{
	uint8_t *encoded;
	size_t len;

	if (proto_encode(&state->base, &encoded, &len) != 0)
		return -ENOMEM;
	SHA256(encoded, len, out);
	free(encoded);
	return 0;
}

int attestation_response(EVP_PKEY *key, const char *key_id,
			 const struct quorum_attestation *fields, uint8_t **out, size_t *len)
{
	Uml001__TimeAttestation t = UML001__TIME_ATTESTATION__INIT;
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	Uml001__PeerDatagram d = UML001__PEER_DATAGRAM__INIT;
	uint8_t sig[KEY_SIGNATURE_LEN], *payload;
	size_t payload_len;
	int err;

	t.authority_id = (char *)fields->authority_id;
	t.key_id = (char *)key_id;
	t.nonce.data = (uint8_t *)fields->nonce.data;
	t.nonce.len = fields->nonce.len;
	t.midpoint_ns = fields->midpoint_ns;
	t.radius_ns = fields->radius_ns;
	t.sequence = fields->sequence;
	t.status = fields->status == QUORUM_AUTHORITY_SYNCHRONISED
			   ? UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED
			   : UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_UNSYNCHRONISED;
	t.processing_ns = fields->processing_ns;
	err = proto_encode(&t.base, &payload, &payload_len);
	if (err != 0)
		return err;
	err = signed_state_wrap(key, key_id, QUORUM_EVENT_ATTESTATION,
				(uint64_t)fields->midpoint_ns, payload, payload_len, sig, &s);
	if (err == 0) {
		d.body_case = UML001__PEER_DATAGRAM__BODY_TIME_RESPONSE;
		d.time_response = &s;
		err = proto_encode(&d.base, out, len);
		if (err == 0) {
			/* Room for the hint datagram_append_sending may add: tag and varint. */
			uint8_t *grown = realloc(*out, *len + 11);

			if (grown == NULL) {
				free(*out);
				err = -ENOMEM;
			} else {
				*out = grown;
			}
		}
	}
	free(payload);
	return err;
}

size_t attestation_response_max_len(const char *authority_id)
{
	static const uint8_t longest[KEY_SIGNATURE_LEN > QUORUM_NONCE_LEN ? KEY_SIGNATURE_LEN
									  : QUORUM_NONCE_LEN];
	char key_id[KEY_ID_HEX_LEN + 1], longest_id[QUORUM_NODE_ID_MAX + 1];
	Uml001__TimeAttestation t = UML001__TIME_ATTESTATION__INIT;
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	Uml001__PeerDatagram d = UML001__PEER_DATAGRAM__INIT;

	/* What attestation_response writes, with every varint at its longest (a negative
	 * int64 takes ten bytes, as does UINT64_MAX) and the unsigned hint's 11 bytes. */
	memset(key_id, '0', KEY_ID_HEX_LEN);
	key_id[KEY_ID_HEX_LEN] = '\0';
	if (authority_id == NULL) {
		memset(longest_id, 'x', QUORUM_NODE_ID_MAX);
		longest_id[QUORUM_NODE_ID_MAX] = '\0';
		authority_id = longest_id;
	}
	t.authority_id = (char *)authority_id;
	t.key_id = (char *)key_id;
	t.nonce.data = (uint8_t *)longest;
	t.nonce.len = QUORUM_NONCE_LEN;
	t.midpoint_ns = -1;
	t.radius_ns = UINT64_MAX;
	t.sequence = UINT64_MAX;
	t.status = UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_UNSYNCHRONISED;
	t.processing_ns = UINT64_MAX;
	s.logical_time_ns = UINT64_MAX;
	s.event_id = (char *)QUORUM_EVENT_ATTESTATION;
	s.key_id = (char *)key_id;
	s.payload.len = uml001__time_attestation__get_packed_size(&t);
	s.payload.data = (uint8_t *)longest; /* only its length is read */
	s.signature.data = (uint8_t *)longest;
	s.signature.len = KEY_SIGNATURE_LEN;
	d.body_case = UML001__PEER_DATAGRAM__BODY_TIME_RESPONSE;
	d.time_response = &s;
	return uml001__peer_datagram__get_packed_size(&d) + 11;
}

size_t datagram_append_sending(uint8_t *datagram, size_t len, uint64_t sending_ns)
{
	if (sending_ns == 0)
		return len;	       /* proto3: a zero is not written */
	datagram[len++] = 10 << 3 | 0; /* field 10, varint */
	while (sending_ns >= 0x80) {
		datagram[len++] = (uint8_t)(sending_ns | 0x80);
		sending_ns >>= 7;
	}
	datagram[len++] = (uint8_t)sending_ns;
	return len;
}

/* ------------------------------------ rounds ------------------------------------ */

void round_view_free(struct round_view *view)
{
	if (view == NULL)
		return;
	for (size_t i = 0; view->attestations != NULL && i < view->round.observation_count; i++)
		attestation_release(&view->attestations[i]);
	free(view->attestations);
	free(view->observations);
	free(view->rejected);
	free(view->rejected_reasons);
	if (view->message != NULL)
		uml001__sync_round__free_unpacked(view->message, NULL);
	free(view);
}

/* Checks one observation; fills O (and A for an authority); returns the problem or NULL. */
static const char *round_observation(const Uml001__Observation *m, struct quorum_observation *o,
				     struct attestation *a, round_source_lookup lookup,
				     void *lookup_arg)
{
	const char *reason = NULL, *key_id = NULL;
	uint8_t digest[SHA256_DIGEST_LENGTH] = { 0 };
	EVP_PKEY *key = NULL;
	uint32_t type = 0;
	int verified = 0;

	o->source_id = m->source_id;
	o->rtt_ns = m->rtt_ns;
	o->age_ns = m->age_ns;
	o->sending_hint_ns = m->sending_hint_ns;
	if (m->rtt_ns < 0 || m->rtt_ns > ROUND_RTT_MAX_NS || m->age_ns < 0 ||
	    m->age_ns > ROUND_AGE_MAX_NS || m->sending_hint_ns < 0 ||
	    m->sending_hint_ns > m->rtt_ns || (m->attestation != NULL) == (m->ntp != NULL))
		return "observation_malformed";
	if (m->attestation != NULL && attestation_digest(m->attestation, digest) != 0)
		return "host_out_of_memory";
	if (lookup(lookup_arg, m->source_id,
		   m->attestation != NULL ? m->attestation->key_id : NULL, digest, &type,
		   &key_id, &key, &verified) != 0)
		return "untrusted_authority";
	o->type = type;
	if (m->ntp != NULL) {
		const Uml001__TimeAttestation *n = m->ntp;

		if (type != QUORUM_AUTHORITY_NTP)
			return "source_type_mismatch";
		if (n->radius_ns > ATTESTATION_RADIUS_MAX_NS || n->midpoint_ns <= 0 ||
		    n->processing_ns > (uint64_t)ROUND_RTT_MAX_NS)
			return "observation_malformed";
		o->attestation = (struct quorum_attestation){
			.authority_id = m->source_id,
			.key_id = "",
			.midpoint_ns = n->midpoint_ns,
			.radius_ns = n->radius_ns,
			.status =
				n->status == UML001__AUTHORITY_STATUS__AUTHORITY_STATUS_SYNCHRONISED
					? QUORUM_AUTHORITY_SYNCHRONISED
					: QUORUM_AUTHORITY_UNSYNCHRONISED,
			.processing_ns = n->processing_ns,
		};
		return NULL;
	}
	if (type != QUORUM_AUTHORITY_QUORUMD)
		return "source_type_mismatch";
	if (attestation_decode(m->attestation, a, &reason) != 0)
		return reason;
	o->attestation = a->fields;
	return attestation_check(a, m->source_id, key_id, verified ? NULL : key);
}

int round_decode(const struct quorum_bytes *payload, const char *local_node_id,
		 round_source_lookup lookup, void *lookup_arg, struct round_view **out,
		 const char **reason)
{
	struct round_view *v = calloc(1, sizeof(*v));
	const Uml001__SyncRound *m;

	if (v == NULL) {
		*reason = "host_out_of_memory";
		return -ENOMEM;
	}
	v->message = (Uml001__SyncRound *)proto_decode_strict(
		&uml001__sync_round__descriptor, payload->data, payload->len, "round", reason);
	if (v->message == NULL)
		goto out_free;
	m = v->message;
	if (!id_token(m->node_id, QUORUM_NODE_ID_MAX) ||
	    m->n_observations > QUORUM_AUTHORITIES_MAX ||
	    m->n_rejected_sources > QUORUM_AUTHORITIES_MAX || m->drift_ppm > 100000 ||
	    (m->nonce_seed.len != 0 && m->nonce_seed.len != QUORUM_NONCE_LEN) ||
	    (m->n_rejected_reasons != 0 && m->n_rejected_reasons != m->n_rejected_sources)) {
		*reason = "round_malformed";
		goto out_free;
	}
	v->observations = calloc(m->n_observations + 1, sizeof(*v->observations));
	v->attestations = calloc(m->n_observations + 1, sizeof(*v->attestations));
	v->rejected = calloc(m->n_rejected_sources + 1, sizeof(*v->rejected));
	v->rejected_reasons = calloc(m->n_rejected_sources + 1, sizeof(*v->rejected_reasons));
	if (v->observations == NULL || v->attestations == NULL || v->rejected == NULL ||
	    v->rejected_reasons == NULL) {
		*reason = "host_out_of_memory";
		goto out_free;
	}
	v->round.observation_count = m->n_observations;
	for (size_t i = 0; i < m->n_observations; i++) {
		v->observations[i].problem =
			round_observation(m->observations[i], &v->observations[i],
					  &v->attestations[i], lookup, lookup_arg);
		for (size_t j = 0; j < i && v->observations[i].problem == NULL; j++) {
			if (strcmp(v->observations[j].source_id,
				   m->observations[i]->source_id) == 0)
				v->observations[i].problem = "duplicate_in_round";
		}
	}
	for (size_t i = 0; i < m->n_rejected_sources; i++) {
		v->rejected[i] = m->rejected_sources[i];
		/* A reason is a short token; anything else is not repeated to operators. */
		v->rejected_reasons[i] =
			i < m->n_rejected_reasons &&
					id_token(m->rejected_reasons[i], REASON_MAX)
				? m->rejected_reasons[i]
				: NULL;
	}
	v->round.node_id = m->node_id;
	v->round.round = m->round;
	v->round.reference_mono_ns = m->reference_mono_ns;
	v->round.reference_realtime_ns = m->reference_realtime_ns;
	v->round.drift_ppm = m->drift_ppm;
	v->round.local = local_node_id != NULL && strcmp(m->node_id, local_node_id) == 0;
	v->round.observations = v->observations;
	v->round.rejected_count = m->n_rejected_sources;
	v->round.rejected_sources = v->rejected;
	v->round.rejected_reasons = v->rejected_reasons;
	SHA256(payload->data, payload->len, v->round.digest);
	*out = v;
	return 0;
out_free:
	round_view_free(v);
	return -EINVAL;
}

/* ------------------------------ served time ------------------------------ */

int served_time_sign(EVP_PKEY *key, const char *key_id, const char *node_id,
		     const uint8_t *nonce, size_t nonce_len,
		     const struct quorum_clock_reading *reading, uint8_t **out, size_t *len)
{
	Uml001__ServedTime t = UML001__SERVED_TIME__INIT;
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;
	uint8_t sig[KEY_SIGNATURE_LEN], *payload;
	size_t payload_len;
	int err;

	if (nonce_len > 64 || reading->status != QUORUM_CLOCK_SYNCHRONISED ||
	    reading->earliest_ns > reading->estimate_ns ||
	    reading->estimate_ns > reading->latest_ns)
		return -EINVAL;
	t.node_id = (char *)node_id;
	t.key_id = (char *)key_id;
	t.nonce.data = (uint8_t *)nonce;
	t.nonce.len = nonce_len;
	t.earliest_ns = reading->earliest_ns;
	t.estimate_ns = reading->estimate_ns;
	t.latest_ns = reading->latest_ns;
	t.round = reading->round;
	t.quorum_hash.data = (uint8_t *)reading->quorum_hash;
	t.quorum_hash.len = QUORUM_DIGEST_LEN;
	t.n = reading->n;
	t.f = reading->f;
	t.accepted = reading->accepted;
	err = proto_encode(&t.base, &payload, &payload_len);
	if (err != 0)
		return err;
	err = signed_state_wrap(key, key_id, QUORUM_EVENT_SERVED_TIME,
				(uint64_t)reading->estimate_ns, payload, payload_len, sig, &s);
	if (err == 0)
		err = proto_encode(&s.base, out, len);
	free(payload);
	return err;
}

int served_time_decode(const Uml001__SignedState *state, Uml001__ServedTime **out,
		       const char **reason)
{
	Uml001__ServedTime *t;

	if (state->event_id == NULL || strcmp(state->event_id, QUORUM_EVENT_SERVED_TIME) != 0) {
		*reason = "not_a_served_time";
		return -EINVAL;
	}
	t = (Uml001__ServedTime *)proto_decode_strict(&uml001__served_time__descriptor,
						      state->payload.data, state->payload.len,
						      "served_time", reason);
	if (t == NULL)
		return -EINVAL;
	if (t->earliest_ns > t->estimate_ns || t->estimate_ns > t->latest_ns ||
	    t->nonce.len > 64 || state->key_id == NULL ||
	    strcmp(t->key_id, state->key_id) != 0 ||
	    (uint64_t)t->estimate_ns != state->logical_time_ns) {
		*reason = "served_time_inconsistent";
		uml001__served_time__free_unpacked(t, NULL);
		return -EINVAL;
	}
	*out = t;
	return 0;
}

/* ---------------------------------- NTP replies ---------------------------------- */

#define NTP_PACKET_MIN	48
#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */

/* An NTP timestamp (seconds since 1900, 32.32 fixed point) in ns since 1970 (era 0). */
static int64_t ntp_time_ns(const uint8_t *p)
{
	uint64_t seconds = get_be32(p), fraction = get_be32(p + 4);

	return (int64_t)(seconds - NTP_UNIX_OFFSET) * 1000000000 +
	       (int64_t)((fraction * 1000000000ULL) >> 32);
}

/* A 16.16 fixed-point NTP short in ns. */
static int64_t ntp_short_ns(const uint8_t *p)
{
	return (int64_t)(((uint64_t)get_be32(p) * 1000000000ULL) >> 16);
}

int ntp_reply_fields(const uint8_t *packet, size_t len, struct ntp_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (packet == NULL || len < NTP_PACKET_MIN)
		return -1;
	out->leap = packet[0] >> 6;
	out->mode = packet[0] & 7;
	out->stratum = packet[1];
	out->root_delay_ns = ntp_short_ns(packet + 4);
	out->root_dispersion_ns = ntp_short_ns(packet + 8);
	out->origin = packet + 24;
	out->receive_ns = ntp_time_ns(packet + 32);
	out->transmit_ns = ntp_time_ns(packet + 40);
	return 0;
}
