/* timejson.c -- the JSON shapes of the served time (see timejson.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "timejson.h"

int timejson_format(const char *name, char out[16])
{
	static const char *const aliases[][2] = {
		{ "unix", "unix" },	  { "iso8601", "iso8601" }, { "iso", "iso8601" },
		{ "rfc3339", "iso8601" }, { "json", "json" },	    { "full", "json" },
		{ "envelope", "json" },
	};

	if (name == NULL || name[0] == '\0')
		name = "json";
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strcasecmp(name, aliases[i][0]) == 0) {
			snprintf(out, 16, "%s", aliases[i][1]);
			return 0;
		}
	}
	return -1;
}

void timejson_unknown_format(const char *name, char *out, size_t size)
{
	char shown[41];
	size_t i;

	/* Echoed lowercased, as the reference did (it matched formats case-insensitively), and
	 * as printable ASCII (anything else becomes '?'), so the error is always valid UTF-8
	 * JSON, whatever bytes the client sent. */
	for (i = 0; i < sizeof(shown) - 1 && name[i] != '\0'; i++)
		shown[i] = name[i] >= 'A' && name[i] <= 'Z'    ? (char)(name[i] - 'A' + 'a')
			   : name[i] >= 0x20 && name[i] < 0x7f ? name[i]
							       : '?';
	shown[i] = '\0';
	snprintf(out, size, "Unknown format '%s'. Valid: unix, iso8601, json", shown);
}

static json_t *id_list(const char *const *ids, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < n; i++) {
		if (json_array_append_new(list, json_string(ids[i])) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

json_t *timejson_body(const struct quorum_clock_reading *now, const struct timefields *fields,
		      const char *format)
{
	char iso[TIMEFIELDS_ISO8601_LEN], qhash[2 * QUORUM_DIGEST_LEN + 1];
	double uncertainty_ms = (double)now->error_bound_ns / 1e6;
	json_t *accepted, *rejected;

	hex_encode(now->quorum_hash, QUORUM_DIGEST_LEN, qhash);
	timefields_iso8601(now->estimate_ns, iso);
	if (strcmp(format, "unix") == 0)
		return json_pack("{s:I, s:I, s:f, s:I, s:I}", "unix_seconds",
				 (json_int_t)(now->estimate_ns / 1000000000), "unix_nanos",
				 (json_int_t)(now->estimate_ns % 1000000000), "uncertainty_ms",
				 uncertainty_ms, "earliest_ns", (json_int_t)now->earliest_ns,
				 "latest_ns", (json_int_t)now->latest_ns);
	if (strcmp(format, "iso8601") == 0)
		return json_pack("{s:s, s:I, s:f, s:I, s:f, s:s, s:I, s:I}", "timestamp", iso,
				 "estimate_ns", (json_int_t)now->estimate_ns, "uncertainty_ms",
				 uncertainty_ms, "drift_ns", (json_int_t)now->drift_ns,
				 "drift_ppm", fields->drift_ppm, "quorum_hash", qhash,
				 "earliest_ns", (json_int_t)now->earliest_ns, "latest_ns",
				 (json_int_t)now->latest_ns);
	accepted = id_list(fields->accepted, fields->n_accepted);
	rejected = id_list(fields->rejected, fields->n_rejected);
	if (accepted == NULL || rejected == NULL) {
		json_decref(accepted);
		json_decref(rejected);
		return NULL;
	}
	/* "o" steals the lists, also when json_pack fails */
	return json_pack("{s:I, s:I, s:s, s:f, s:I, s:I, s:I, s:f, s:I, s:s,"
			 " s:{s:i, s:i, s:i, s:o, s:o, s:s, s:I}}",
			 "unix_seconds", (json_int_t)(now->estimate_ns / 1000000000),
			 "unix_nanos", (json_int_t)(now->estimate_ns % 1000000000), "iso8601",
			 iso, "uncertainty_ms", uncertainty_ms, "earliest_ns",
			 (json_int_t)now->earliest_ns, "latest_ns", (json_int_t)now->latest_ns,
			 "drift_ns", (json_int_t)now->drift_ns, "drift_ppm", fields->drift_ppm,
			 "agreement_age_ns", (json_int_t)now->agreement_age_ns, "status",
			 "synchronised", "quorum", "n", (int)now->n, "f", (int)now->f,
			 "accepted", (int)now->accepted, "accepted_sources", accepted,
			 "rejected_sources", rejected, "quorum_hash", qhash, "round",
			 (json_int_t)now->round);
}
