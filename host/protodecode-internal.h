/* protodecode-internal.h -- strict protobuf-c decoding shared by every codec of the host:
 * bounded size, no unknown field at any depth, and canonical bytes (re-encoding gives back
 * exactly the input), so each message has one byte form that signatures can cover. */
#ifndef QUORUM_PROTODECODE_INTERNAL_H
#define QUORUM_PROTODECODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/*
 * proto_decode_strict: decodes LEN bytes at DATA as DESCRIPTOR's message.
 * RETURN VALUE: the message (free with protobuf_c_message_free_unpacked(m, NULL)), or NULL
 * with *REASON set to PREFIX followed by "_decode_failed", "_unknown_field" or
 * "_not_canonical" (static strings; PREFIX is one of the prefixes listed in the .c file).
 */
ProtobufCMessage *proto_decode_strict(const ProtobufCMessageDescriptor *descriptor,
				      const void *data, size_t len, const char *prefix,
				      const char **reason);

/* proto_encode: packs MESSAGE into a new buffer (free()). RETURN VALUE: 0 or -ENOMEM. */
int proto_encode(const ProtobufCMessage *message, uint8_t **out, size_t *len);

#endif /* QUORUM_PROTODECODE_INTERNAL_H */
