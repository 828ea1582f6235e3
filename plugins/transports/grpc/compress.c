/* compress.c -- gRPC's gzip and deflate message encodings through zlib (see compress.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "compress.h"

int grpc_encoding_parse(const char *name)
{
	if (name == NULL || name[0] == '\0' || strcmp(name, "identity") == 0)
		return GRPC_ENCODING_IDENTITY;
	if (strcmp(name, "gzip") == 0)
		return GRPC_ENCODING_GZIP;
	if (strcmp(name, "deflate") == 0)
		return GRPC_ENCODING_DEFLATE;
	return -1;
}

const char *grpc_encoding_name(int encoding)
{
	return encoding == GRPC_ENCODING_GZIP	   ? "gzip"
	       : encoding == GRPC_ENCODING_DEFLATE ? "deflate"
						   : "identity";
}

int grpc_encoding_accepted(const char *list, int encoding)
{
	const char *name = grpc_encoding_name(encoding);
	size_t n = strlen(name);

	if (encoding == GRPC_ENCODING_IDENTITY)
		return 1;
	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		len = strcspn(p, ", \t");
		if (len == n && strncasecmp(p, name, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* zlib's window bits for ENCODING: 15 with the zlib wrapper, + 16 for gzip's. */
static int window_bits(int encoding)
{
	return encoding == GRPC_ENCODING_GZIP ? 15 + 16 : 15;
}

int grpc_inflate(int encoding, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 size_t *out_len)
{
	z_stream z = { 0 };
	uint8_t spill;
	int ret, err;

	if (encoding != GRPC_ENCODING_GZIP && encoding != GRPC_ENCODING_DEFLATE)
		return -EBADMSG;
	if (inflateInit2(&z, window_bits(encoding)) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ret = inflate(&z, Z_FINISH);
	if ((ret == Z_OK || ret == Z_BUF_ERROR) && z.avail_out == 0) {
		/* OUT is full: one byte more says whether the message goes on */
		z.next_out = &spill;
		z.avail_out = 1;
		ret = inflate(&z, Z_FINISH);
	}
	if (z.total_out > cap)
		err = -EMSGSIZE; /* and never more than one byte beyond CAP was made */
	else if (ret == Z_STREAM_END && z.avail_in == 0)
		err = 0;
	else
		err = ret == Z_MEM_ERROR ? -ENOMEM
					 : -EBADMSG; /* corrupt, truncated, trailing */
	if (err == 0)
		*out_len = (size_t)z.total_out;
	inflateEnd(&z);
	return err;
}

int grpc_deflate(int encoding, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 size_t *out_len)
{
	z_stream z = { 0 };
	int ret;

	if (encoding != GRPC_ENCODING_GZIP && encoding != GRPC_ENCODING_DEFLATE)
		return -EINVAL;
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits(encoding), 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ret = deflate(&z, Z_FINISH);
	if (ret == Z_STREAM_END)
		*out_len = cap - z.avail_out;
	deflateEnd(&z);
	return ret == Z_STREAM_END ? 0 : ret == Z_OK || ret == Z_BUF_ERROR ? -ENOSPC : -ENOMEM;
}
