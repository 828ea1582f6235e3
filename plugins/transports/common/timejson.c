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
		{ "unix", "unix" }, { "iso8601", "iso8601" }, { "iso", "iso8601" },
		{ "rfc3339", "iso8601" }, { "json", "json" }, { "full", "json" },
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

	/* Echoed as printable ASCII (anything else becomes '?'), so the error is always valid
	 * UTF-8 JSON, whatever bytes the client sent. */
	for (i = 0; i < sizeof(shown) - 1 && name[i] != '\0'; i++)
		shown[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	shown[i] = '\0';
	snprintf(out, size, "Unknown format '%s'. Valid: unix, iso8601, json", shown);
}

static void iso8601(int64_t ns, char *buf, size_t size)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns % 1000000000);
}

json_t *timejson_body(const struct quorum_clock_reading *now, const char *format)
{
	static const char digits[] = "0123456789abcdef";
	char iso[48], qhash[2 * QUORUM_DIGEST_LEN + 1];
	double uncertainty_ms = (double)now->error_bound_ns / 1e6;

	for (size_t i = 0; i < QUORUM_DIGEST_LEN; i++) {
		qhash[2 * i] = digits[now->quorum_hash[i] >> 4];
		qhash[2 * i + 1] = digits[now->quorum_hash[i] & 15];
	}
	qhash[2 * QUORUM_DIGEST_LEN] = '\0';
	iso8601(now->estimate_ns, iso, sizeof(iso));
	if (strcmp(format, "unix") == 0)
		return json_pack("{s:I, s:I, s:f, s:I, s:I}", "unix_seconds",
				 (json_int_t)(now->estimate_ns / 1000000000), "unix_nanos",
				 (json_int_t)(now->estimate_ns % 1000000000), "uncertainty_ms",
				 uncertainty_ms, "earliest_ns", (json_int_t)now->earliest_ns,
				 "latest_ns", (json_int_t)now->latest_ns);
	if (strcmp(format, "iso8601") == 0)
		return json_pack("{s:s, s:f, s:I, s:s, s:I, s:I}", "timestamp", iso,
				 "uncertainty_ms", uncertainty_ms, "drift_ns",
				 (json_int_t)now->drift_ns, "quorum_hash", qhash, "earliest_ns",
				 (json_int_t)now->earliest_ns, "latest_ns",
				 (json_int_t)now->latest_ns);
	return json_pack("{s:I, s:I, s:s, s:f, s:I, s:I, s:I, s:I, s:s,"
			 " s:{s:i, s:i, s:i, s:i, s:s, s:I}}",
			 "unix_seconds", (json_int_t)(now->estimate_ns / 1000000000), "unix_nanos",
			 (json_int_t)(now->estimate_ns % 1000000000), "iso8601", iso,
			 "uncertainty_ms", uncertainty_ms, "earliest_ns",
			 (json_int_t)now->earliest_ns, "latest_ns", (json_int_t)now->latest_ns,
			 "drift_ns", (json_int_t)now->drift_ns, "agreement_age_ns",
			 (json_int_t)now->agreement_age_ns, "status", "synchronised", "quorum", "n",
			 (int)now->n, "f", (int)now->f, "accepted_sources", (int)now->accepted,
			 "rejected_sources", (int)(now->n - now->accepted), "quorum_hash", qhash,
			 "round", (json_int_t)now->round);
}
