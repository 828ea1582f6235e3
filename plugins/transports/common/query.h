/* query.h -- one parameter of a URL query string, read as libevent's evhttp_parse_query_str
 * reads them (REST and WebSocket share it, so neither needs libevent's HTTP library). */
#ifndef QUORUM_TRANSPORT_QUERY_H
#define QUORUM_TRANSPORT_QUERY_H

#include <stddef.h>

/*
 * query_param: the value of the first parameter of QUERY (the text after '?', no fragment;
 * NULL or "" has none) named NAME (compared case-insensitively), percent-decoded with '+'
 * a space, copied into OUT (SIZE bytes, NUL-terminated). As evhttp_parse_query_str, a query
 * with a parameter without '=' or with an empty name has no parameters at all
 * (tests/http1: the same answers as evhttp_parse_query_str + evhttp_find_header).
 * RETURN VALUE: 0; -ENOENT (absent, or a malformed query); -ENOSPC (the value does not
 * fit: OUT holds its first SIZE - 1 bytes).
 */
int query_param(const char *query, const char *name, char *out, size_t size);

#endif /* QUORUM_TRANSPORT_QUERY_H */
