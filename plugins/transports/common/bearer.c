/* bearer.c -- bearer tokens, one rule for every TCP transport (see bearer.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bearer.h"

/* Whether TEXT[0..LEN) is a token by the rule: its length, its characters. */
static int token_valid(const char *text, size_t len)
{
	if (len < BEARER_TOKEN_MIN || len > BEARER_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x21 || (unsigned char)text[i] > 0x7e)
			return 0;
	return 1;
}

/* Reads the token file PATH into OUT. RETURN VALUE: 0, or -errno with *WHY. */
static int token_read(const char *path, int production, char *out, const char **why,
		      int *exposed)
{
	char buf[BEARER_TOKEN_MAX + 4];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);

	*exposed = 0;
	if (fd < 0) {
		*why = strerror(errno);
		return -errno;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		*exposed = 1;
		if (production) {
			close(fd);
			*why = "group or others may read or write it (chmod 0600)";
			return -EACCES;
		}
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		*why = strerror(errno);
		return -EIO;
	}
	len = (size_t)n;
	/* one line ending at most, and nothing after it */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (!token_valid(buf, len)) {
		*why = "a token is one line of 16 to 255 printable characters, no space, "
		       "nothing after it";
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EINVAL;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int bearer_load(struct quorum_host *host, const struct quorum_api *api, const char *log_prefix,
		int production, struct bearer_tokens *out)
{
	int n = api->config_length(host, "bearer_token_files");

	memset(out, 0, sizeof(*out));
	if (n > BEARER_TOKENS_MAX) {
		api->log(host, QUORUM_LOG_ERROR,
			 "%s.tokens_refused files=%d reason=\"at most %d bearer_token_files\"",
			 log_prefix, n, BEARER_TOKENS_MAX);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		char key[48], path[4096];
		const char *file, *why = NULL;
		int exposed, err;

		snprintf(key, sizeof(key), "bearer_token_files.[%d]", i);
		if (api->config_string(host, key, &file) != 0 ||
		    api->config_path(host, file, path, sizeof(path)) != 0) {
			bearer_clear(out);
			return -EINVAL;
		}
		err = token_read(path, production, out->tokens[out->count], &why, &exposed);
		if (err != 0) {
			api->log(host, QUORUM_LOG_ERROR,
				 "%s.token_refused file=\"%s\" reason=\"%s\"", log_prefix, path,
				 why);
			bearer_clear(out);
			return err;
		}
		if (exposed)
			api->log(host, QUORUM_LOG_WARNING,
				 "%s.token_exposed file=\"%s\" reason=\"group or others may "
				 "read "
				 "it: refused in production mode (chmod 0600)\"",
				 log_prefix, path);
		out->count++;
	}
	return 0;
}

int bearer_token_allowed(const struct bearer_tokens *t, const char *token)
{
	char padded[BEARER_TOKEN_MAX + 1] = { 0 };
	size_t len = token != NULL ? strlen(token) : 0;
	int ok = 0;

	if (t->count == 0)
		return 1;
	/* only the length is judged here: a token that is none of the loaded (valid) ones
	 * cannot match, whatever its characters */
	if (len == 0 || len > BEARER_TOKEN_MAX)
		return 0;
	memcpy(padded, token, len);
	/* every token is compared, whatever matched, over the whole buffer */
	for (size_t i = 0; i < t->count; i++)
		ok |= strlen(t->tokens[i]) == len &&
		      CRYPTO_memcmp(padded, t->tokens[i], sizeof(padded)) == 0;
	OPENSSL_cleanse(padded, sizeof(padded));
	return ok;
}

int bearer_allowed(const struct bearer_tokens *t, const char *authorization)
{
	if (t->count == 0)
		return 1;
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
		return 0;
	return bearer_token_allowed(t, authorization + 7);
}

void bearer_clear(struct bearer_tokens *t)
{
	OPENSSL_cleanse(t, sizeof(*t));
}
