/* query.h -- URL query strings, read strictly (REST and WebSocket share it): a malformed query
 * is refused as a whole, never read as "no parameters" or cut short. */
#ifndef QUORUM_TRANSPORT_QUERY_H
#define QUORUM_TRANSPORT_QUERY_H

#include <stddef.h>

#define QUERY_PARAMS_MAX 32 /* more parameters than this: malformed */

/*
 * A query is parameters separated by '&', each NAME or NAME=VALUE; a parameter without '='
 * has the empty value. NAME and VALUE are percent-decoded, '+' being a space. It is
 * malformed (refused whole, 400) when it has an empty parameter or name ("a=1&&b=2",
 * "=x"), a '%' not followed by two hex digits, an escape that decodes to NUL (%00), a byte
 * outside printable ASCII, a name twice (compared case-insensitively: which one would a
 * client mean?), or more than QUERY_PARAMS_MAX parameters. NULL or "" has no parameters.
 */

/* query_check: 0 when QUERY (the text after '?', no fragment) is well formed, else -EINVAL
 * with *WHY (may be NULL) a static phrase saying what is wrong. */
int query_check(const char *query, const char **why);

/*
 * query_param: the decoded value of the parameter of QUERY named NAME (case-insensitive),
 * copied into OUT (SIZE bytes, NUL-terminated).
 * RETURN VALUE: 0; -ENOENT (no such parameter); -EINVAL (the query is malformed, see
 * query_check: the caller answers 400, never "absent"); -ENOSPC (the value does not fit:
 * OUT holds its first SIZE - 1 bytes; a caller must not use it as the value).
 */
int query_param(const char *query, const char *name, char *out, size_t size);

#endif /* QUORUM_TRANSPORT_QUERY_H */
