/* test-jsontext.c -- REST's compact JSON writer against jansson's json_dumps(JSON_COMPACT):
 * the same bytes for random documents, for every served time shape, and the same refusals. */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "jsontext.h"
#include "timejson.h"

/* Compares jsontext_dump with json_dumps for V (stolen). */
static void assert_same(json_t *v)
{
	char out[65536];
	char *want = json_dumps(v, JSON_COMPACT);
	long n = jsontext_dump(v, out, sizeof(out));

	if (want == NULL) {
		g_assert_cmpint(n, ==, -EILSEQ); /* what jansson refuses is left to it */
	} else {
		g_assert_cmpint(n, ==, (long)strlen(want));
		g_assert_cmpstr(out, ==, want);
	}
	free(want);
	json_decref(v);
}

static double random_real(GRand *rng)
{
	static const double special[] = {
		0.0,	-0.0,	 1.0,	   -1.0,    0.1,
		1e22,	1e21,	 1e-7,	   1e-5,    123456789012345678.0,
		5e-324, DBL_MAX, -DBL_MAX, DBL_MIN, 1e16,
		1e17,	0.5,	 100.0,	   2.5e-300
	};

	if (g_rand_int_range(rng, 0, 4) == 0)
		return special[g_rand_int_range(rng, 0, G_N_ELEMENTS(special))];
	return ldexp(g_rand_double_range(rng, -1, 1), g_rand_int_range(rng, -1074, 1024));
}

static json_int_t random_integer(GRand *rng)
{
	static const json_int_t special[] = {
		0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1795607224653244416LL
	};

	if (g_rand_int_range(rng, 0, 3) == 0)
		return special[g_rand_int_range(rng, 0, G_N_ELEMENTS(special))];
	return (json_int_t)(((uint64_t)g_rand_int(rng) << 32) | g_rand_int(rng)) >>
	       g_rand_int_range(rng, 0, 63);
}

/* A string of ASCII bytes, control characters, quotes and slashes included. */
static char *random_ascii(GRand *rng)
{
	size_t n = (size_t)g_rand_int_range(rng, 0, 24);
	char *s = g_malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)g_rand_int_range(rng, 1, 128);
	s[n] = '\0';
	return s;
}

static json_t *random_value(GRand *rng, int depth)
{
	int kind = g_rand_int_range(rng, 0, depth > 3 ? 6 : 8);

	switch (kind) {
	case 0:
		return json_integer(random_integer(rng));
	case 1:
		return json_real(random_real(rng));
	case 2: {
		char *s = random_ascii(rng);
		json_t *v = json_string(s);

		g_free(s);
		return v;
	}
	case 3:
		return json_true();
	case 4:
		return json_false();
	case 5:
		return json_null();
	case 6: {
		json_t *a = json_array();
		int n = g_rand_int_range(rng, 0, 5);

		for (int i = 0; i < n; i++)
			json_array_append_new(a, random_value(rng, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		int n = g_rand_int_range(rng, 0, 6);

		for (int i = 0; i < n; i++) {
			char *k = random_ascii(rng);

			json_object_set_new(o, k, random_value(rng, depth + 1));
			g_free(k);
		}
		return o;
	}
	}
}

static void test_random_documents(void)
{
	GRand *rng = g_rand_new_with_seed(20261125);

	for (int i = 0; i < 20000; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "v", random_value(rng, 0));
		assert_same(o);
	}
	g_rand_free(rng);
}

static void test_every_real_shape(void)
{
	GRand *rng = g_rand_new_with_seed(7);

	for (int i = 0; i < 200000; i++)
		assert_same(json_pack("[f]", random_real(rng)));
	g_rand_free(rng);
}

static void test_served_time_shapes(void)
{
	static const char *const formats[] = { "json", "unix", "iso8601" };
	static const char *ids[] = { "node-1", "ntp:\"quoted\"", "b\\c", "d\te" };
	struct timefields fields = { .accepted = ids, .rejected = ids + 1 };
	GRand *rng = g_rand_new_with_seed(42);

	for (int i = 0; i < 3000; i++) {
		struct quorum_clock_reading now = { 0 };

		now.status = 1;
		now.n = (uint32_t)g_rand_int_range(rng, 1, 32);
		now.f = now.n / 3;
		now.accepted = now.n - now.f;
		now.estimate_ns = (int64_t)g_rand_int_range(rng, 0, INT32_MAX) * 1000000000 +
				  g_rand_int_range(rng, 0, 1000000000);
		now.error_bound_ns = g_rand_int_range(rng, 0, 1000000000);
		now.earliest_ns = now.estimate_ns - now.error_bound_ns;
		now.latest_ns = now.estimate_ns + now.error_bound_ns;
		now.drift_ns = g_rand_int_range(rng, -1000000, 1000000);
		now.agreement_age_ns = g_rand_int_range(rng, 0, INT32_MAX);
		now.round = g_rand_int(rng);
		for (size_t b = 0; b < sizeof(now.quorum_hash); b++)
			now.quorum_hash[b] = (uint8_t)g_rand_int(rng);
		fields.drift_ppm = random_real(rng);
		fields.n_accepted = (size_t)g_rand_int_range(rng, 0, 4);
		fields.n_rejected = (size_t)g_rand_int_range(rng, 0, 4);
		assert_same(timejson_body(&now, &fields, formats[i % 3]));
	}
	g_rand_free(rng);
}

static void test_leaves_non_ascii_to_jansson(void)
{
	json_t *v = json_pack("{s:s}", "k", "caf\xc3\xa9");
	char out[64];

	g_assert_cmpint(jsontext_dump(v, out, sizeof(out)), ==, -EILSEQ);
	json_decref(v);
	v = json_string("top-level scalar");
	g_assert_cmpint(jsontext_dump(v, out, sizeof(out)), ==, -EILSEQ);
	json_decref(v);
}

static void test_no_space(void)
{
	json_t *v = json_pack("{s:s}", "key", "value");
	char out[64];

	g_assert_cmpint(jsontext_dump(v, out, 16), ==, 15); /* {"key":"value"} and its NUL */
	g_assert_cmpstr(out, ==, "{\"key\":\"value\"}");
	g_assert_cmpint(jsontext_dump(v, out, 15), ==, -ENOSPC);
	g_assert_cmpint(jsontext_dump(v, out, 0), ==, -ENOSPC);
	json_decref(v);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/jsontext/same-bytes-as-jansson/random-documents",
			test_random_documents);
	g_test_add_func("/jsontext/same-bytes-as-jansson/reals", test_every_real_shape);
	g_test_add_func("/jsontext/same-bytes-as-jansson/served-time-shapes",
			test_served_time_shapes);
	g_test_add_func("/jsontext/leaves-non-ascii-to-jansson",
			test_leaves_non_ascii_to_jansson);
	g_test_add_func("/jsontext/refuses-what-does-not-fit", test_no_space);
	return g_test_run();
}
