/* timejson.h -- the JSON shapes of the served time, shared by the REST and WebSocket
 * transports (schemas/time-*.json): one format name, one body. */
#ifndef QUORUM_TIMEJSON_H
#define QUORUM_TIMEJSON_H

#include <jansson.h>

#include <quorum/time.h>

#include "timefields.h"

/* timejson_format: normalises a client's format name (case-insensitive; iso, rfc3339 ->
 * iso8601; full, envelope -> json; NULL or "" -> json) into OUT (16 bytes).
 * RETURN VALUE: 0, or -1 for an unknown format (OUT untouched). */
int timejson_format(const char *name, char out[16]);

/* timejson_body: the answer for a synchronised READING in FORMAT (from timejson_format), with
 * the drift and (json) the sources of FIELDS (timefields_update for READING, with sources
 * for json). RETURN VALUE: a new object (json_decref), or NULL on allocation failure. */
json_t *timejson_body(const struct quorum_clock_reading *reading,
		      const struct timefields *fields, const char *format);

/* timejson_unknown_format: the reference's message for NAME into OUT (SIZE bytes). */
void timejson_unknown_format(const char *name, char *out, size_t size);

#endif /* QUORUM_TIMEJSON_H */
