/* protodecode.c -- strict protobuf-c decoding: every untrusted message of the host goes
 * through proto_decode_strict, which refuses unknown fields and non-canonical encodings. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protodecode-internal.h"

/* Reason strings per prefix, so that callers get static strings. */
struct reasons {
	const char *prefix;
	const char *decode_failed, *unknown_field, *not_canonical;
};

static const struct reasons reason_table[] = {
	{ "envelope", "envelope_decode_failed", "envelope_unknown_field",
	  "envelope_not_canonical" },
	{ "datagram", "datagram_decode_failed", "datagram_unknown_field",
	  "datagram_not_canonical" },
	{ "attestation", "attestation_decode_failed", "attestation_unknown_field",
	  "attestation_not_canonical" },
	{ "round", "round_decode_failed", "round_unknown_field", "round_not_canonical" },
	{ "state", "state_decode_failed", "state_unknown_field", "state_not_canonical" },
	{ "decode", "decode_failed", "unknown_field", "not_canonical" },
};

static const struct reasons *reasons_for(const char *prefix)
{
	for (size_t i = 0; i < sizeof(reason_table) / sizeof(reason_table[0]); i++) {
		if (strcmp(reason_table[i].prefix, prefix) == 0)
			return &reason_table[i];
	}
	return &reason_table[sizeof(reason_table) / sizeof(reason_table[0]) - 1];
}

/* True when M or any message below it kept fields its descriptor does not know. */
static int has_unknown_fields(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (m->n_unknown_fields != 0)
		return 1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *items =
				*(ProtobufCMessage *const *const *)(base + f->offset);

			for (size_t j = 0; j < n; j++) {
				if (has_unknown_fields(items[j]))
					return 1;
			}
		} else {
			const ProtobufCMessage *sub =
				*(const ProtobufCMessage *const *)(base + f->offset);

			if (sub != NULL && has_unknown_fields(sub))
				return 1;
		}
	}
	return 0;
}

int proto_encode(const ProtobufCMessage *message, uint8_t **out, size_t *len)
{
	size_t size = protobuf_c_message_get_packed_size(message);
	uint8_t *buf = malloc(size > 0 ? size : 1);

	if (buf == NULL)
		return -ENOMEM;
	*len = protobuf_c_message_pack(message, buf);
	*out = buf;
	return 0;
}

ProtobufCMessage *proto_decode_strict(const ProtobufCMessageDescriptor *descriptor,
				      const void *data, size_t len, const char *prefix,
				      const char **reason)
{
	const struct reasons *r = reasons_for(prefix);
	ProtobufCMessage *m = protobuf_c_message_unpack(descriptor, NULL, len, data);
	uint8_t *again = NULL;
	size_t again_len = 0;

	if (m == NULL) {
		*reason = r->decode_failed;
		return NULL;
	}
	if (has_unknown_fields(m)) {
		*reason = r->unknown_field;
		goto out_free;
	}
	/* Canonical: duplicate fields, explicit defaults, odd varints and strings with NULs
	 * all re-encode differently. An empty message may come as DATA NULL: no memcmp then. */
	if (proto_encode(m, &again, &again_len) != 0 || again_len != len ||
	    (len > 0 && memcmp(again, data, len) != 0)) {
		*reason = r->not_canonical;
		goto out_free;
	}
	free(again);
	return m;
out_free:
	free(again);
	protobuf_c_message_free_unpacked(m, NULL);
	return NULL;
}
