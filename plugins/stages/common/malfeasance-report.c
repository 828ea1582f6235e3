/* malfeasance-report.c -- writing and checking a malfeasance report (see
 * malfeasance-report.h) with protobuf-c: decoded strictly (no unknown field at any depth,
 * canonical bytes only), each attestation's signature checked over the signed-state bytes
 * of <quorum/event.h>. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <quorum/time.h>

#include "authority.pb-c.h"
#include "malfeasance-report.h"

/* The signed-state bytes of S into a new buffer (*MSG, free()) and its SHA-256. */
static int signed_bytes(const Uml001__SignedState *s, uint8_t **msg, size_t *len,
			uint8_t digest[MALFEASANCE_DIGEST_LEN])
{
	struct quorum_signed_state view = {
		.logical_time_ns = s->logical_time_ns,
		.event_id = s->event_id,
		.key_id = s->key_id,
		.payload = { s->payload.data, s->payload.len },
	};
	size_t n = quorum_signed_state_message_len(&view);
	uint8_t *buf = malloc(n);

	if (buf == NULL)
		return -ENOMEM;
	quorum_signed_state_message(&view, buf, n);
	SHA256(buf, n, digest);
	*msg = buf;
	*len = n;
	return 0;
}

int malfeasance_attestation_digest(const Uml001__SignedState *s,
				   uint8_t digest[MALFEASANCE_DIGEST_LEN])
{
	uint8_t *msg;
	size_t len;
	int err = signed_bytes(s, &msg, &len, digest);

	free(msg);
	return err;
}

int malfeasance_report_encode(const char *authority_id, uint64_t sequence, const uint8_t *a,
			      size_t a_len, const uint8_t *b, size_t b_len,
			      const char *reporter, uint8_t **out, size_t *len)
{
	Uml001__MalfeasanceReport r = UML001__MALFEASANCE_REPORT__INIT;
	Uml001__SignedState *sa = uml001__signed_state__unpack(NULL, a_len, a);
	Uml001__SignedState *sb = uml001__signed_state__unpack(NULL, b_len, b);
	uint8_t da[MALFEASANCE_DIGEST_LEN], db[MALFEASANCE_DIGEST_LEN];
	int err = -EINVAL;

	if (sa == NULL || sb == NULL)
		goto out_free;
	err = malfeasance_attestation_digest(sa, da);
	if (err == 0)
		err = malfeasance_attestation_digest(sb, db);
	if (err != 0)
		goto out_free;
	r.authority_id = (char *)authority_id;
	r.sequence = sequence;
	r.first = memcmp(da, db, sizeof(da)) < 0 ? sa : sb;
	r.second = r.first == sa ? sb : sa;
	r.reporter_node_id = (char *)reporter;
	*len = uml001__malfeasance_report__get_packed_size(&r);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out == NULL) {
		err = -ENOMEM;
		goto out_free;
	}
	uml001__malfeasance_report__pack(&r, *out);
	err = 0;
out_free:
	if (sa != NULL)
		uml001__signed_state__free_unpacked(sa, NULL);
	if (sb != NULL)
		uml001__signed_state__free_unpacked(sb, NULL);
	return err;
}

/* Printable ASCII without spaces, quotes or '=': it ends up in key=value audit fields. */
static int id_token(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > QUORUM_NODE_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '=')
			return 0;
	}
	return 1;
}

/* Whether M re-encodes to exactly DATA (LEN bytes): one byte form per message. */
static int canonical(const ProtobufCMessage *m, const uint8_t *data, size_t len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *again;
	int same;

	if (n != len)
		return 0;
	again = malloc(n > 0 ? n : 1);
	if (again == NULL)
		return 0;
	protobuf_c_message_pack(m, again);
	same = memcmp(again, data, len) == 0;
	free(again);
	return same;
}

/* One attestation of the report: its shape, its fields against the report's, its bytes. */
static int attestation_check(const Uml001__MalfeasanceReport *r, const Uml001__SignedState *s,
			     uint8_t digest[MALFEASANCE_DIGEST_LEN], uint8_t **msg, size_t *len,
			     const char **why)
{
	Uml001__TimeAttestation *t;
	int err = -1;

	*msg = NULL;
	if (s->base.n_unknown_fields != 0 || s->gossip != NULL || s->anchor_proof != NULL ||
	    strcmp(s->event_id, QUORUM_EVENT_ATTESTATION) != 0 || !id_token(s->key_id) ||
	    s->signature.len != 64 || s->payload.len == 0) {
		*why = "attestation_malformed";
		return -1;
	}
	t = uml001__time_attestation__unpack(NULL, s->payload.len, s->payload.data);
	if (t == NULL || t->base.n_unknown_fields != 0 ||
	    !canonical(&t->base, s->payload.data, s->payload.len) ||
	    strcmp(t->key_id, s->key_id) != 0 || t->midpoint_ns <= 0 ||
	    (uint64_t)t->midpoint_ns != s->logical_time_ns) {
		*why = "attestation_malformed";
		goto out_free;
	}
	if (strcmp(t->authority_id, r->authority_id) != 0) {
		*why = "attestation_other_authority";
		goto out_free;
	}
	if (t->sequence != r->sequence) {
		*why = "attestation_other_sequence";
		goto out_free;
	}
	if (signed_bytes(s, msg, len, digest) != 0) {
		*why = "report_undecodable";
		goto out_free;
	}
	err = 0;
out_free:
	if (t != NULL)
		uml001__time_attestation__free_unpacked(t, NULL);
	return err;
}

int malfeasance_report_check(const uint8_t *payload, size_t len, malfeasance_verify_fn verify,
			     void *arg, struct malfeasance_summary *out, const char **why)
{
	Uml001__MalfeasanceReport *r;
	const Uml001__SignedState *pair[2];
	uint8_t *msg[2] = { NULL, NULL };
	size_t msg_len[2] = { 0, 0 };
	int err = -1, v;

	r = uml001__malfeasance_report__unpack(NULL, len, payload);
	if (r == NULL) {
		*why = "report_undecodable";
		return -1;
	}
	if (r->base.n_unknown_fields != 0 || !canonical(&r->base, payload, len)) {
		*why = "report_not_canonical";
		goto out_free;
	}
	if (!id_token(r->authority_id) || !id_token(r->reporter_node_id) || r->first == NULL ||
	    r->second == NULL) {
		*why = "report_malformed";
		goto out_free;
	}
	memset(out, 0, sizeof(*out));
	strcpy(out->authority_id, r->authority_id);
	strcpy(out->reporter, r->reporter_node_id);
	out->sequence = r->sequence;
	pair[0] = r->first;
	pair[1] = r->second;
	if (attestation_check(r, pair[0], out->first_digest, &msg[0], &msg_len[0], why) != 0 ||
	    attestation_check(r, pair[1], out->second_digest, &msg[1], &msg_len[1], why) != 0)
		goto out_free;
	v = memcmp(out->first_digest, out->second_digest, MALFEASANCE_DIGEST_LEN);
	if (v == 0) {
		*why = "attestations_identical";
		goto out_free;
	}
	if (v > 0) {
		*why = "attestations_unordered";
		goto out_free;
	}
	/* Only now the signatures: one authority, two signed statements, one sequence. */
	for (int i = 0; i < 2; i++) {
		v = verify(arg, r->authority_id, pair[i]->key_id, msg[i], msg_len[i],
			   pair[i]->signature.data, pair[i]->signature.len);
		if (v != 0) {
			*why = v == -ENOENT ? "unknown_key" : "signature_invalid";
			goto out_free;
		}
	}
	err = 0;
out_free:
	free(msg[0]);
	free(msg[1]);
	uml001__malfeasance_report__free_unpacked(r, NULL);
	return err;
}
