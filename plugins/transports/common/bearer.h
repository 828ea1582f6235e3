/* bearer.h -- bearer tokens, one rule for every TCP transport (REST, WebSocket, gRPC): what
 * a token file may hold, who may read it, how many there may be, and how a presented token is
 * compared. */
#ifndef QUORUM_TRANSPORT_BEARER_H
#define QUORUM_TRANSPORT_BEARER_H

#include <stddef.h>

#include <quorum/api.h>

#define BEARER_TOKENS_MAX 64  /* token files per transport; more is a configuration error */
#define BEARER_TOKEN_MIN  16  /* characters */
#define BEARER_TOKEN_MAX  255 /* characters */

/*
 * The rule. The setting `bearer_token_files` lists at most BEARER_TOKENS_MAX files; none
 * means no authentication. Each file is a regular file holding one token: 16 to 255
 * printable ASCII characters, no space, then at most one line ending ("\n" or "\r\n") and
 * nothing after it. A file readable or writable by group or others is refused in
 * production mode and warned about in dev mode (the token is a password). A client presents
 * it as `Authorization: Bearer TOKEN` (the scheme in any case, one space); it is compared
 * with every token in constant time.
 */
struct bearer_tokens {
	char tokens[BEARER_TOKENS_MAX][BEARER_TOKEN_MAX + 1];
	size_t count;
};

/*
 * bearer_load: the tokens of the plugin's `bearer_token_files` setting into *OUT, by the
 * rule above; PRODUCTION: refuse token files others can read. Every refusal is logged with
 * LOG_PREFIX ("rest", ...) and the file. RETURN VALUE: 0, or -EINVAL / -errno (nothing is
 * loaded).
 */
int bearer_load(struct quorum_host *host, const struct quorum_api *api, const char *log_prefix,
		int production, struct bearer_tokens *out);

/*
 * bearer_allowed: whether AUTHORIZATION (the header's value, or NULL when absent) carries a
 * token of T; with no tokens configured everything is allowed. Constant time over every
 * configured token. RETURN VALUE: 1 allowed, 0 not.
 */
int bearer_allowed(const struct bearer_tokens *t, const char *authorization);

/* bearer_token_allowed: the same for a token given bare (a WebSocket ?token=). */
int bearer_token_allowed(const struct bearer_tokens *t, const char *token);

/* bearer_clear: wipes the tokens (OPENSSL_cleanse). */
void bearer_clear(struct bearer_tokens *t);

#endif /* QUORUM_TRANSPORT_BEARER_H */
