/* jsontext.h -- writes a jansson value as compact JSON text, byte for byte what
 * json_dumps(value, JSON_COMPACT) writes, at a fraction of its cost (REST's hot path). */
#ifndef QUORUM_REST_JSONTEXT_H
#define QUORUM_REST_JSONTEXT_H

#include <stddef.h>

#include <jansson.h>

/*
 * jsontext_dump: writes VALUE (borrowed) into OUT (SIZE bytes) as json_dumps(VALUE,
 * JSON_COMPACT) would, NUL-terminated. Written for what the REST answers hold: objects,
 * arrays, integers, reals and ASCII strings; anything else is left to jansson.
 * RETURN VALUE: the length written (without the NUL); -ENOSPC (does not fit in SIZE);
 * -EILSEQ (a string with a byte beyond ASCII, or another kind of value: call json_dumps).
 */
long jsontext_dump(const json_t *value, char *out, size_t size);

#endif /* QUORUM_REST_JSONTEXT_H */
