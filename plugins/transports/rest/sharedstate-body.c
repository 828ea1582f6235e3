/* sharedstate-body.c -- POST /time/shared-state's body with jansson: strict JSON, closed
 * object, exactly the 8 fields with their JSON types, then the canonical signed text
 * (<quorum/sharedstate.h>). What the values mean is checked by the control stage. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "sharedstate-body.h"

static const char *const fields[] = {
	"monotonic_version",
	"warp_score",
	"shared_agreed_time",
	"shared_applied_drift",
	"leader_system_time_at_sync",
	"signature_hex",
	"leader_id",
	"key_id",
};
#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

static int known(const char *key)
{
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if (strcmp(key, fields[i]) == 0)
			return 1;
	return 0;
}

/* A JSON integer, >= 0 when UNSIGNED. */
static int integer(const json_t *v, int is_unsigned, json_int_t *out)
{
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return is_unsigned && *out < 0 ? -1 : 0;
}

/* An id string as <quorum/sharedstate.h> allows, copied into OUT (MAX + 1 bytes). */
static int id(const json_t *v, size_t max, char *out)
{
	const char *s = json_string_value(v);

	if (s == NULL || json_string_length(v) > max || !quorum_shared_state_id_valid(s, max))
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* 128 lowercase hex digits into 64 bytes: one spelling per signature, as nonces. */
static int signature(const json_t *v, uint8_t out[QUORUM_SHARED_STATE_SIGNATURE_LEN])
{
	const char *s = json_string_value(v);

	if (s == NULL || json_string_length(v) != 2 * QUORUM_SHARED_STATE_SIGNATURE_LEN)
		return -1;
	for (size_t i = 0; i < 2 * QUORUM_SHARED_STATE_SIGNATURE_LEN; i++) {
		int d = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
			: s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
						     : -1;

		if (d < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(d << 4);
		else
			out[i / 2] |= (uint8_t)d;
	}
	return 0;
}

static int types(const json_t *o, struct shared_body *out)
{
	struct quorum_shared_state_fields *f = &out->fields;
	const json_t *warp = json_object_get(o, "warp_score");
	json_int_t version, agreed, drift, leader_time;

	if (integer(json_object_get(o, "monotonic_version"), 1, &version) != 0 ||
	    integer(json_object_get(o, "shared_agreed_time"), 1, &agreed) != 0 ||
	    integer(json_object_get(o, "shared_applied_drift"), 0, &drift) != 0 ||
	    integer(json_object_get(o, "leader_system_time_at_sync"), 1, &leader_time) != 0 ||
	    !json_is_number(warp) || !isfinite(json_number_value(warp)) ||
	    signature(json_object_get(o, "signature_hex"), out->signature) != 0 ||
	    id(json_object_get(o, "leader_id"), QUORUM_NODE_ID_MAX, f->leader_id) != 0 ||
	    id(json_object_get(o, "key_id"), QUORUM_KEY_ID_MAX, f->key_id) != 0)
		return -1;
	f->monotonic_version = (uint64_t)version;
	f->shared_agreed_time = (uint64_t)agreed;
	f->shared_applied_drift = (int64_t)drift;
	f->leader_system_time_at_sync = (uint64_t)leader_time;
	f->warp_score = json_number_value(warp);
	return 0;
}

int shared_body_parse(const void *body, size_t len, struct shared_body *out,
		      const char **message)
{
	json_error_t error;
	json_t *o = NULL;
	const char *key;
	json_t *value;
	int n;

	memset(out, 0, sizeof(*out));
	*message = SHARED_BODY_INVALID_JSON;
	if (body != NULL && len > 0)
		o = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
	if (o == NULL)
		return -EINVAL;
	*message = SHARED_BODY_NOT_OBJECT;
	if (!json_is_object(o))
		goto out_invalid;
	*message = SHARED_BODY_UNKNOWN;
	json_object_foreach(o, key, value)
	{
		if (!known(key))
			goto out_invalid;
	}
	*message = SHARED_BODY_MISSING;
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if (json_object_get(o, fields[i]) == NULL)
			goto out_invalid;
	*message = SHARED_BODY_TYPES;
	if (types(o, out) != 0)
		goto out_invalid;
	n = quorum_shared_state_format(&out->fields, out->text, sizeof(out->text));
	if (n < 0)
		goto out_invalid;
	out->text_len = (size_t)n;
	json_decref(o);
	*message = NULL;
	return 0;
out_invalid:
	json_decref(o);
	return -EINVAL;
}
