/* compress.h -- gRPC message encodings (the grpc-encoding / grpc-accept-encoding headers and
 * the per-message compressed flag): identity, gzip and deflate through zlib, with every
 * decompressed message bounded, so a small request cannot expand into a large one. */
#ifndef QUORUM_GRPC_COMPRESS_H
#define QUORUM_GRPC_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

enum grpc_encoding {
	GRPC_ENCODING_IDENTITY = 0,
	GRPC_ENCODING_GZIP = 1,	   /* RFC 1952 */
	GRPC_ENCODING_DEFLATE = 2, /* RFC 1950 (zlib), as gRPC's "deflate" */
};

/* What we answer in grpc-accept-encoding: the encodings we read. */
#define GRPC_ACCEPT_ENCODING "identity,deflate,gzip"

/*
 * grpc_encoding_parse: the encoding a grpc-encoding header NAME (NULL or "": absent) names.
 * RETURN VALUE: an enum grpc_encoding, or -1 for one we do not support.
 */
int grpc_encoding_parse(const char *name);

/* grpc_encoding_name: "identity", "gzip" or "deflate". */
const char *grpc_encoding_name(int encoding);

/*
 * grpc_encoding_accepted: whether ENCODING is among the comma-separated names of a
 * grpc-accept-encoding header LIST (NULL: absent; spaces around names allowed, case
 * ignored). identity is always accepted. RETURN VALUE: 1 or 0.
 */
int grpc_encoding_accepted(const char *list, int encoding);

/*
 * grpc_inflate: decompresses IN (LEN bytes) of ENCODING (gzip or deflate) into OUT, which
 * has room for CAP bytes; the whole input must be exactly one complete stream.
 * RETURN VALUE: 0 (*OUT_LEN set), -EMSGSIZE when the message would be larger than CAP (the
 * caller answers RESOURCE_EXHAUSTED; nothing beyond CAP + 1 bytes is ever produced),
 * -EBADMSG when IN is not such a stream, -ENOMEM.
 */
int grpc_inflate(int encoding, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 size_t *out_len);

/*
 * grpc_deflate: compresses IN (LEN bytes) with ENCODING (gzip or deflate) into OUT (CAP
 * bytes). RETURN VALUE: 0 (*OUT_LEN set), -ENOSPC when it does not fit in CAP (send it
 * uncompressed then), -ENOMEM.
 */
int grpc_deflate(int encoding, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 size_t *out_len);

#endif /* QUORUM_GRPC_COMPRESS_H */
