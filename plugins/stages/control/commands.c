/* commands.c -- control events: strict payload decoding and operator signatures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <quorum/control.h>

#include "commands.h"
#include "modes.h"

enum command_kind command_kind_of(const char *event_id)
{
	static const struct {
		const char *id;
		enum command_kind kind;
	} table[] = {
		{ CONTROL_EVENT_SET_MODE, COMMAND_SET_MODE },
		{ CONTROL_EVENT_HITL_APPROVE, COMMAND_HITL_APPROVE },
		{ CONTROL_EVENT_HITL_REJECT, COMMAND_HITL_REJECT },
		{ CONTROL_EVENT_RECOVERY_BEGIN, COMMAND_RECOVERY_BEGIN },
		{ CONTROL_EVENT_RECOVERY_EPOCH, COMMAND_RECOVERY_EPOCH },
		{ CONTROL_EVENT_RECOVERY_REJOIN, COMMAND_RECOVERY_REJOIN },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(event_id, table[i].id) == 0)
			return table[i].kind;
	return COMMAND_NONE;
}

/* Copies the string member NAME of OBJ into OUT (SIZE bytes). NOTE: a signed note (a
 * checkpoint) has several lines and its signature lines start with an em dash, so newlines
 * and UTF-8 are allowed (jansson checked the UTF-8). 0 copied, 1 absent, -1 not a printable
 * string that fits. */
static int copy_string(json_t *obj, const char *name, char *out, size_t size, int note)
{
	json_t *v = json_object_get(obj, name);
	const char *s;
	size_t len;

	if (v == NULL)
		return 1;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len >= size || strlen(s) != len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 0x20 && ch < 0x7f) || (note && (ch == '\n' || ch >= 0x80))))
			return -1;
	}
	memcpy(out, s, len + 1);
	return 0;
}

int command_decode(enum command_kind kind, const uint8_t *payload, size_t len,
		   struct command *out, const char **why)
{
	const char *allowed[3] = { "reason", NULL, NULL };
	json_t *doc;
	const char *key;
	json_t *value;
	char mode[32];
	int rc = -1, got;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	switch (kind) {
	case COMMAND_SET_MODE:
		allowed[1] = "mode";
		break;
	case COMMAND_HITL_APPROVE:
	case COMMAND_HITL_REJECT:
		allowed[1] = "hold_id";
		break;
	case COMMAND_RECOVERY_EPOCH:
		allowed[1] = "checkpoint";
		break;
	case COMMAND_RECOVERY_BEGIN:
	case COMMAND_RECOVERY_REJOIN:
		break;
	default:
		*why = "not a control event";
		return -1;
	}
	doc = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, NULL);
	if (doc == NULL) {
		*why = "payload is not JSON (or repeats a key)";
		return -1;
	}
	if (!json_is_object(doc)) {
		*why = "payload is not a JSON object";
		goto out;
	}
	json_object_foreach(doc, key, value)
	{
		if (strcmp(key, allowed[0]) != 0 &&
		    (allowed[1] == NULL || strcmp(key, allowed[1]) != 0)) {
			*why = "payload has a field this command does not take";
			goto out;
		}
	}
	if (copy_string(doc, "reason", out->reason, sizeof(out->reason), 0) < 0) {
		*why = "reason is not a printable string of at most 127 characters";
		goto out;
	}
	switch (kind) {
	case COMMAND_SET_MODE:
		got = copy_string(doc, "mode", mode, sizeof(mode), 0);
		if (got != 0 || modes_parse(mode, &out->mode) != 0) {
			*why = got == 1 ? "mode is missing"
					: "mode is not one of the runtime modes";
			goto out;
		}
		break;
	case COMMAND_HITL_APPROVE:
	case COMMAND_HITL_REJECT:
		got = copy_string(doc, "hold_id", out->hold_id, sizeof(out->hold_id), 0);
		if (got != 0 || strlen(out->hold_id) != COMMAND_HOLD_ID_LEN ||
		    strspn(out->hold_id, "0123456789abcdef") != COMMAND_HOLD_ID_LEN) {
			*why = got == 1 ? "hold_id is missing"
					: "hold_id is not 16 lowercase hex digits";
			goto out;
		}
		break;
	case COMMAND_RECOVERY_EPOCH:
		got = copy_string(doc, "checkpoint", out->checkpoint, sizeof(out->checkpoint),
				  1);
		if (got != 0) {
			*why = got == 1 ? "checkpoint is missing"
					: "checkpoint is not a signed note of at most 4095 "
					  "characters";
			goto out;
		}
		break;
	default:
		break;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

/* ---------------------------------- operators ---------------------------------- */

int operators_add(struct operators *ops, const char *id, const char *pem_path, char *why,
		  size_t size)
{
	struct operator_key *k;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	size_t raw_len = sizeof(k->public_key);
	EVP_PKEY *key = NULL;
	FILE *f;

	if (ops->count >= OPERATORS_MAX) {
		snprintf(why, size, "more than %d operators", OPERATORS_MAX);
		return -1;
	}
	k = &ops->keys[ops->count];
	memset(k, 0, sizeof(*k));
	if (strlen(id) == 0 || strlen(id) > QUORUM_NODE_ID_MAX) {
		snprintf(why, size, "operator id must have 1 to %d characters",
			 QUORUM_NODE_ID_MAX);
		return -1;
	}
	f = fopen(pem_path, "r");
	if (f == NULL) {
		snprintf(why, size, "%s: %s", pem_path, strerror(errno));
		return -1;
	}
	key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(key, k->public_key, &raw_len) != 1 ||
	    raw_len != sizeof(k->public_key)) {
		snprintf(why, size, "%s: not an Ed25519 public key (PEM)", pem_path);
		EVP_PKEY_free(key);
		return -1;
	}
	EVP_PKEY_free(key);
	for (size_t i = 0; i < ops->count; i++) {
		if (memcmp(ops->keys[i].public_key, k->public_key, sizeof(k->public_key)) ==
			    0 ||
		    strcmp(ops->keys[i].id, id) == 0) {
			snprintf(why, size, "operator %s: id or key given twice", id);
			return -1;
		}
	}
	snprintf(k->id, sizeof(k->id), "%s", id);
	SHA256(k->public_key, sizeof(k->public_key), digest);
	for (int i = 0; i < OPERATOR_KEY_ID_LEN / 2; i++)
		snprintf(k->key_id + 2 * i, 3, "%02x", digest[i]);
	ops->count++;
	return 0;
}

static int ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
			  const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (key != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

enum operator_verdict operators_check(struct operators *ops,
				      const struct quorum_signed_state *state, int64_t now_ns,
				      int64_t max_age_ns, struct operator_key **who)
{
	struct operator_key *k = NULL;
	uint8_t *msg;
	size_t len;
	int64_t age;
	int ok;

	*who = NULL;
	if (state->signature.len == 0 || state->key_id[0] == '\0')
		return OPERATOR_UNSIGNED;
	for (size_t i = 0; i < ops->count && k == NULL; i++)
		if (strcmp(ops->keys[i].key_id, state->key_id) == 0)
			k = &ops->keys[i];
	if (k == NULL)
		return OPERATOR_UNKNOWN_KEY;
	len = quorum_signed_state_message_len(state);
	msg = malloc(len);
	if (msg == NULL || quorum_signed_state_message(state, msg, len) < 0) {
		free(msg);
		return OPERATOR_BAD_SIGNATURE;
	}
	ok = ed25519_verify(k->public_key, msg, len, state->signature.data,
			    state->signature.len);
	free(msg);
	if (!ok)
		return OPERATOR_BAD_SIGNATURE;
	age = now_ns - (int64_t)state->logical_time_ns;
	if (state->logical_time_ns > (uint64_t)INT64_MAX || age > max_age_ns ||
	    age < -max_age_ns)
		return OPERATOR_STALE;
	if (state->logical_time_ns <= k->last_logical_time_ns)
		return OPERATOR_REPLAYED;
	*who = k;
	return OPERATOR_OK;
}

void operators_accept(struct operator_key *who, const struct quorum_signed_state *state)
{
	who->last_logical_time_ns = state->logical_time_ns;
}

const char *operator_verdict_name(enum operator_verdict v)
{
	switch (v) {
	case OPERATOR_OK:
		return "ok";
	case OPERATOR_UNSIGNED:
		return "unsigned";
	case OPERATOR_UNKNOWN_KEY:
		return "unknown_key";
	case OPERATOR_BAD_SIGNATURE:
		return "bad_signature";
	case OPERATOR_STALE:
		return "stale";
	case OPERATOR_REPLAYED:
		return "replayed";
	}
	return "unknown";
}
