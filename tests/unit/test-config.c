/* test-config.c -- quorum.conf and plugin settings: strict checking with "file:line: what is
 * wrong", file names relative to the config's folder, canonical text for reload decisions. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "conf-internal.h"
#include "settings-internal.h"
#include "testutil.h"
#include "util-internal.h"

#define MINIMAL "node = { id = \"n1\"; };\ntrusted_plugin_keys = [ \"k.pub\" ];\n"

struct fixture {
	char *dir;
	char why[ERRBUF_SIZE];
	struct conf *conf;
};

static void setup(struct fixture *f, gconstpointer data)
{
	f->dir = testutil_scratch_new();
	f->conf = NULL;
}

static void teardown(struct fixture *f, gconstpointer data)
{
	conf_unref(f->conf);
	testutil_scratch_free(f->dir);
}

static int load_text(struct fixture *f, const char *text)
{
	char *path = testutil_write(f->dir, "quorum.conf", text, 0644);
	int err;

	conf_unref(f->conf);
	f->conf = NULL;
	f->why[0] = '\0';
	err = conf_load(path, "/usr/lib/quorum-time", &f->conf, f->why, sizeof(f->why));
	g_free(path);
	return err;
}

/* The load fails with WHY equal to "<dir>/quorum.conf:EXPECTED". */
static void assert_error(struct fixture *f, const char *text, const char *expected)
{
	char *full = g_strdup_printf("%s/quorum.conf:%s", f->dir, expected);

	g_assert_cmpint(load_text(f, text), ==, -EINVAL);
	g_assert_cmpstr(f->why, ==, full);
	g_assert_null(f->conf);
	g_free(full);
}

static void test_minimal(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(load_text(f, MINIMAL), ==, 0);
	g_assert_cmpstr(f->conf->node_id, ==, "n1");
	g_assert_cmpuint(f->conf->trusted_key_count, ==, 1);
	g_assert_true(g_str_has_prefix(f->conf->trusted_keys[0], f->dir));
	g_assert_cmpstr(f->conf->plugin_dir, ==, "/usr/lib/quorum-time");
	g_assert_cmpint(f->conf->drain_timeout_ms, ==, 5000);
	g_assert_cmpint(f->conf->log_level, ==, QUORUM_LOG_INFO);
	g_assert_cmpuint(f->conf->stage_count, ==, 0);
}

static void test_full(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(
		load_text(f, MINIMAL
			  "log = { destination = \"syslog\"; level = \"debug\"; };\n"
			  "pidfile = \"run/q.pid\";\nplugin_dir = \"plugins\";\n"
			  "drain_timeout_ms = 250;\n"
			  "stages = ( { name = \"vault\"; path = \"stages/vault.so\"; "
			  "settings = { dir = \"v\"; }; },\n"
			  "  { name = \"off\"; path = \"x.so\"; enabled = false; } );\n"
			  "transports = ( { name = \"rest\"; path = \"/abs/rest.so\"; } );\n"),
		==, 0);
	g_assert_cmpint(f->conf->log_destination, ==, LOG_TO_SYSLOG);
	g_assert_cmpint(f->conf->log_level, ==, QUORUM_LOG_DEBUG);
	g_assert_cmpint(f->conf->drain_timeout_ms, ==, 250);
	g_assert_true(g_str_has_suffix(f->conf->pidfile, "/run/q.pid"));
	g_assert_cmpuint(f->conf->stage_count, ==, 1); /* the disabled one is skipped */
	g_assert_cmpstr(f->conf->stages[0].name, ==, "vault");
	g_assert_true(g_str_has_suffix(f->conf->stages[0].path, "/plugins/stages/vault.so"));
	g_assert_nonnull(f->conf->stages[0].settings);
	g_assert_cmpint(f->conf->stages[0].line, ==, 7);
	g_assert_cmpstr(f->conf->transports[0].path, ==, "/abs/rest.so");
	g_assert_null(f->conf->transports[0].settings);
}

static void test_syntax_error(struct fixture *f, gconstpointer data)
{
	assert_error(f, MINIMAL "stages = ( { name = \"x\"; path = ; } );\n",
		     "3: syntax error");
}

/* libconfig 1.5 would wrap 7200000000000 to 1634811904: refused unless written 7200...L. */
static void test_wrapping_integer(struct fixture *f, gconstpointer data)
{
	char *inc;
	char *expected;

	assert_error(
		f, MINIMAL "drain_timeout_ms = 7200000000000;\n",
		"3: the integer 7200000000000 does not fit in 32 bits, and libconfig would "
		"silently wrap it: write it with the L suffix (7200000000000L)");
	assert_error(f, MINIMAL "# a comment\nclock = { max_error_ns = -3000000000; };\n",
		     "4: the integer -3000000000 does not fit in 32 bits, and libconfig would "
		     "silently wrap it: write it with the L suffix (-3000000000L)");
	assert_error(f, MINIMAL "drain_timeout_ms = 0x100000000;\n",
		     "3: the integer 0x100000000 does not fit in 32 bits, and libconfig would "
		     "silently wrap it: write it with the L suffix (0x100000000L)");
	/* In range, with L, in strings and comments, as floats, in names: fine. */
	g_assert_cmpint(load_text(f, MINIMAL "clock = { max_error_ns = 2147483647; };\n"
					     "# 7200000000000 in a comment\n"
					     "/* 9999999999 */ // 8888888888\n"
					     "pidfile = \"run/7200000000000.pid\";\n"),
			==, 0);
	g_assert_cmpint(f->conf->clock_max_error_ns, ==, 2147483647);
	g_assert_cmpint(load_text(f, MINIMAL "drain_timeout_ms = 5000L;\n"), ==, 0);
	g_assert_cmpint(f->conf->drain_timeout_ms, ==, 5000);
	/* The same in an included file names that file. */
	inc = testutil_write(f->dir, "big.inc", "\n\ndrain_timeout_ms = 99999999999;\n", 0644);
	expected =
		g_strdup_printf("%s:3: the integer 99999999999 does not fit in 32 bits, and "
				"libconfig would silently wrap it: write it with the L suffix "
				"(99999999999L)",
				inc);
	g_assert_cmpint(load_text(f, MINIMAL "@include \"big.inc\"\n"), ==, -EINVAL);
	g_assert_cmpstr(f->why, ==, expected);
	g_free(expected);
	g_free(inc);
	/* libconfig 1.5 would exit the process on a folder: refused first (found by fuzzing) */
	assert_error(f, MINIMAL "@include \".\"\n", "3: @include \".\" is not a regular file");
}

static void test_unknown_setting(struct fixture *f, gconstpointer data)
{
	assert_error(f, MINIMAL "\n\nfrobnicate = 1;\n",
		     "5: quorum.conf: setting 'frobnicate' is unknown");
}

static void test_unknown_nested_setting(struct fixture *f, gconstpointer data)
{
	assert_error(f,
		     "node = {\n  id = \"n1\";\n  colour = \"red\";\n};\n"
		     "trusted_plugin_keys = [ ];\n",
		     "3: quorum.conf: setting 'node.colour' is unknown");
}

static void test_wrong_type(struct fixture *f, gconstpointer data)
{
	assert_error(f, MINIMAL "drain_timeout_ms = \"5s\";\n",
		     "3: quorum.conf: setting 'drain_timeout_ms' is a string; it must be an "
		     "integer");
	assert_error(f, "node = { id = 7; };\ntrusted_plugin_keys = [ ];\n",
		     "1: quorum.conf: setting 'node.id' is an integer; it must be a string");
	assert_error(
		f, MINIMAL "stages = ( \"vault\" );\n",
		"3: quorum.conf: setting 'stages.[0]' is a string; it must be a group { ... }");
}

static void test_missing_required(struct fixture *f, gconstpointer data)
{
	assert_error(f, "node = { id = \"n1\"; };\n",
		     "1: quorum.conf: setting 'trusted_plugin_keys' is required but missing "
		     "(public keys that may sign plugins)");
	assert_error(f, "trusted_plugin_keys = [ ];\nnode = {\n};\n",
		     "2: quorum.conf: setting 'node.id' is required but missing "
		     "(this node's identity in the quorum)");
	assert_error(f, MINIMAL "transports = ( { name = \"rest\"; } );\n",
		     "3: quorum.conf: setting 'transports.[0].path' is required but missing "
		     "(the .so file, relative to plugin_dir)");
}

static void test_out_of_range_and_choices(struct fixture *f, gconstpointer data)
{
	assert_error(f, MINIMAL "drain_timeout_ms = -1;\n",
		     "3: quorum.conf: setting 'drain_timeout_ms' is -1; it must lie between 0 "
		     "and 600000");
	assert_error(f, MINIMAL "log = { level = \"chatty\"; };\n",
		     "3: quorum.conf: setting 'log.level' is \"chatty\"; it must be one of: "
		     "error, warning, notice, info, debug");
}

static void test_duplicate_plugin(struct fixture *f, gconstpointer data)
{
	assert_error(f,
		     MINIMAL "transports = ( { name = \"rest\"; path = \"a.so\"; },\n"
			     "  { name = \"rest\"; path = \"b.so\"; } );\n",
		     "4: transports: plugin 'rest' is listed twice");
}

static void test_bad_plugin_name(struct fixture *f, gconstpointer data)
{
	assert_error(f, MINIMAL "stages = ( { name = \"../evil\"; path = \"a.so\"; } );\n",
		     "3: stages: invalid plugin name '../evil' (want [a-z][a-z0-9_-]{0,31})");
}

static void test_stage_and_transport_same_name(struct fixture *f, gconstpointer data)
{
	assert_error(f,
		     MINIMAL "stages = ( { name = \"x\"; path = \"a.so\"; } );\n"
			     "transports = ( { name = \"x\"; path = \"b.so\"; } );\n",
		     "4: plugin 'x' is listed both as a stage and as a transport");
}

/* @include is resolved against the config's folder whatever the working directory. */
static void test_include_relative_to_config(struct fixture *f, gconstpointer data)
{
	char cwd[PATH_MAX];
	char *inc = testutil_write(
		f->dir, "transports.inc",
		"transports = ( { name = \"rest\"; path = \"rest.so\"; } );\n", 0644);

	g_assert_nonnull(getcwd(cwd, sizeof(cwd)));
	g_assert_cmpint(chdir("/"), ==, 0);
	g_assert_cmpint(load_text(f, MINIMAL "@include \"transports.inc\"\n"), ==, 0);
	g_assert_cmpint(chdir(cwd), ==, 0);
	g_assert_cmpuint(f->conf->transport_count, ==, 1);
	g_free(inc);
}

/* Errors inside an included file name that file. */
static void test_error_in_include_names_file(struct fixture *f, gconstpointer data)
{
	char *inc = testutil_write(f->dir, "bad.inc", "\nbogus = true;\n", 0644);
	char *expected = g_strdup_printf("%s:2: quorum.conf: setting 'bogus' is unknown", inc);

	g_assert_cmpint(load_text(f, MINIMAL "@include \"bad.inc\"\n"), ==, -EINVAL);
	g_assert_cmpstr(f->why, ==, expected);
	g_free(expected);
	g_free(inc);
}

static void test_missing_file(struct fixture *f, gconstpointer data)
{
	char *path = testutil_path(f->dir, "absent.conf");

	g_assert_cmpint(conf_load(path, "/x", &f->conf, f->why, sizeof(f->why)), ==, -ENOENT);
	g_assert_nonnull(strstr(f->why, "cannot read"));
	g_free(path);
}

static void test_reload_compatibility(struct fixture *f, gconstpointer data)
{
	const char *base = MINIMAL "stages = ( { name = \"vault\"; path = \"v.so\"; "
				   "settings = { a = 1; b = \"x\"; }; } );\n";
	struct conf *cur, *next;

	g_assert_cmpint(load_text(f, base), ==, 0);
	cur = conf_ref(f->conf);
	/* Same stage settings written in another order: compatible. */
	g_assert_cmpint(load_text(f, MINIMAL
				  "stages = ( { name = \"vault\"; path = \"v.so\"; "
				  "settings = { b = \"x\"; a = 1; }; } );\n"
				  "transports = ( { name = \"r\"; path = \"r.so\"; } );\n"
				  "log = { level = \"debug\"; };\n"),
			==, 0);
	next = f->conf;
	g_assert_cmpint(conf_reload_compatible(cur, next, f->why, sizeof(f->why)), ==, 0);
	/* A changed stage setting needs a restart. */
	g_assert_cmpint(load_text(f, MINIMAL "stages = ( { name = \"vault\"; path = \"v.so\"; "
					     "settings = { a = 2; b = \"x\"; }; } );\n"),
			==, 0);
	g_assert_cmpint(conf_reload_compatible(cur, f->conf, f->why, sizeof(f->why)), ==,
			-EBUSY);
	g_assert_nonnull(strstr(f->why, "'stages' changed"));
	/* So does the node id. */
	g_assert_cmpint(load_text(f, "node = { id = \"n2\"; };\ntrusted_plugin_keys = [ ];\n"
				     "stages = ( { name = \"vault\"; path = \"v.so\"; "
				     "settings = { a = 1; b = \"x\"; }; } );\n"),
			==, 0);
	g_assert_cmpint(conf_reload_compatible(cur, f->conf, f->why, sizeof(f->why)), ==,
			-EBUSY);
	g_assert_nonnull(strstr(f->why, "'node' changed"));
	conf_unref(cur);
}

/* ---- plugin schemas, as a plugin declares them ---- */

static const char *const modes[] = { "dev", "production", NULL };
static const struct quorum_setting peer_schema[] = {
	{ .name = "id", .type = QUORUM_SETTING_STRING, .flags = QUORUM_SETTING_REQUIRED },
	{ .name = "port", .type = QUORUM_SETTING_INT, .min = 1, .max = 65535 },
	{ .type = QUORUM_SETTING_END },
};
static const struct quorum_setting tls_schema[] = {
	{ .name = "cert", .type = QUORUM_SETTING_STRING },
	{ .type = QUORUM_SETTING_END },
};
static const struct quorum_setting plugin_schema[] = {
	{ .name = "mode", .type = QUORUM_SETTING_STRING, .choices = modes },
	{ .name = "ratio", .type = QUORUM_SETTING_FLOAT },
	{ .name = "on", .type = QUORUM_SETTING_BOOL },
	{ .name = "tls", .type = QUORUM_SETTING_GROUP, .children = tls_schema },
	{ .name = "peers", .type = QUORUM_SETTING_LIST, .children = peer_schema },
	{ .name = "tokens", .type = QUORUM_SETTING_STRINGS },
	{ .name = "port",
	  .type = QUORUM_SETTING_INT,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .min = 1,
	  .max = 65535,
	  .help = "TCP port" },
	{ .type = QUORUM_SETTING_END },
};

static int validate(struct fixture *f, const char *group_text)
{
	config_t cfg;
	char *path = testutil_write(f->dir, "p.conf", group_text, 0644);
	int err;

	config_init(&cfg);
	g_assert_cmpint(config_read_file(&cfg, path), ==, CONFIG_TRUE);
	err = settings_validate(config_lookup(&cfg, "settings"), plugin_schema, "transport 'x'",
				NULL, path, 1, f->why, sizeof(f->why));
	config_destroy(&cfg);
	g_free(path);
	return err;
}

static void assert_invalid(struct fixture *f, const char *group_text, const char *expected)
{
	g_assert_cmpint(validate(f, group_text), ==, -EINVAL);
	g_assert_nonnull(strstr(f->why, "/p.conf:"));
	if (strstr(f->why, expected) == NULL)
		g_error("expected \"%s\" in \"%s\"", expected, f->why);
}

static void test_plugin_schema(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(
		validate(f, "settings = { port = 80; mode = \"dev\"; ratio = 1; on = true;\n"
			    "tls = { cert = \"c\"; }; peers = ( { id = \"a\"; port = 2; } );\n"
			    "tokens = [ \"t1\", \"t2\" ]; };\n"),
		==, 0);
	assert_invalid(f, "settings = {\n mode = \"dev\"; };\n",
		       ":1: transport 'x': setting 'port' is required but missing (TCP port)");
	assert_invalid(
		f, "settings = { port = 70000; };\n",
		":1: transport 'x': setting 'port' is 70000; it must lie between 1 and 65535");
	assert_invalid(f, "settings = { port = 1;\n mode = \"test\"; };\n",
		       ":2: transport 'x': setting 'mode' is \"test\"; it must be one of: dev, "
		       "production");
	assert_invalid(f, "settings = { port = 1; on = 1; };\n",
		       "setting 'on' is an integer; it must be a boolean (true or false)");
	assert_invalid(f, "settings = { port = 1;\n tls = { key = \"k\"; }; };\n",
		       ":2: transport 'x': setting 'tls.key' is unknown");
	assert_invalid(f, "settings = { port = 1; peers = (\n { port = 3; } ); };\n",
		       ":2: transport 'x': setting 'peers.[0].id' is required but missing");
	assert_invalid(f, "settings = { port = 1; tokens = [ 1, 2 ]; };\n",
		       "setting 'tokens' element 0 is an integer; it must be a string");
	assert_invalid(f, "settings = { port = 1; ratio = \"1.5\"; };\n",
		       "setting 'ratio' is a string; it must be a number");
}

static void test_absent_group_with_required(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(settings_validate(NULL, plugin_schema, "transport 'x'", NULL,
					  "/etc/q.conf", 12, f->why, sizeof(f->why)),
			==, -EINVAL);
	g_assert_cmpstr(f->why, ==,
			"/etc/q.conf:12: transport 'x': setting 'port' is required but "
			"missing (TCP port)");
}

static void test_schema_check(struct fixture *f, gconstpointer data)
{
	static const struct quorum_setting no_children[] = {
		{ .name = "g", .type = QUORUM_SETTING_GROUP },
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting twice[] = {
		{ .name = "a", .type = QUORUM_SETTING_INT },
		{ .name = "a", .type = QUORUM_SETTING_STRING },
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting bad_type[] = {
		{ .name = "a", .type = 99 },
		{ .type = QUORUM_SETTING_END },
	};

	g_assert_cmpint(settings_schema_check(plugin_schema, f->why, sizeof(f->why)), ==, 0);
	g_assert_cmpint(settings_schema_check(NULL, f->why, sizeof(f->why)), ==, 0);
	g_assert_cmpint(settings_schema_check(no_children, f->why, sizeof(f->why)), ==,
			-EINVAL);
	g_assert_cmpint(settings_schema_check(twice, f->why, sizeof(f->why)), ==, -EINVAL);
	g_assert_nonnull(strstr(f->why, "declared twice"));
	g_assert_cmpint(settings_schema_check(bad_type, f->why, sizeof(f->why)), ==, -EINVAL);
}

/* ---- ABI 1.12: defaults and bindings ---- */

struct bound_settings {
	const char *dir;
	const char *mode;
	int64_t limit;
	double ratio;
	int on;
	int64_t unset; /* bound, no default: stays zero when absent */
};

static const struct quorum_setting bound_schema[] = {
	QUORUM_SETTING_STRING_REQUIRED_AT("dir", struct bound_settings, dir, "a folder"),
	QUORUM_SETTING_STRING_AT("mode", struct bound_settings, mode, modes, "dev", "mode"),
	QUORUM_SETTING_INT_AT("limit", struct bound_settings, limit, 1, 1000, "5", "limit"),
	QUORUM_SETTING_FLOAT_AT("ratio", struct bound_settings, ratio, "0.25", "ratio"),
	QUORUM_SETTING_BOOL_AT("on", struct bound_settings, on, "true", "on"),
	QUORUM_SETTING_INT_AT("unset", struct bound_settings, unset, 0, 0, NULL, "unset"),
	{ .name = "free", .type = QUORUM_SETTING_INT, .default_value = "7" },
	{ .type = QUORUM_SETTING_END },
};

/* The struct the host fills for the group `settings` of TEXT, after validation (as
 * instance_check_settings does). NULL when validation refused it (f->why says why). */
static struct settings_struct *bound_fill(struct fixture *f, const char *text)
{
	struct settings_struct *st = NULL;
	char *path = testutil_write(f->dir, "b.conf", text, 0644);
	config_t cfg;
	int err;

	config_init(&cfg);
	g_assert_cmpint(config_read_file(&cfg, path), ==, CONFIG_TRUE);
	err = settings_validate(config_lookup(&cfg, "settings"), bound_schema, "stage 'b'",
				NULL, path, 1, f->why, sizeof(f->why));
	if (err == 0)
		g_assert_cmpint(settings_struct_new(config_lookup(&cfg, "settings"),
						    bound_schema, sizeof(struct bound_settings),
						    &st, f->why, sizeof(f->why)),
				==, 0);
	/* The struct owns copies: nothing points into the parsed file. */
	config_destroy(&cfg);
	g_free(path);
	return st;
}

static void test_bound_defaults(struct fixture *f, gconstpointer data)
{
	struct settings_struct *st = bound_fill(f, "settings = { dir = \"d\"; };\n");
	const struct bound_settings *b = settings_struct_data(st);

	g_assert_cmpint(settings_schema_check(bound_schema, f->why, sizeof(f->why)), ==, 0);
	g_assert_nonnull(b);
	g_assert_cmpstr(b->dir, ==, "d");
	g_assert_cmpstr(b->mode, ==, "dev");
	g_assert_cmpint(b->limit, ==, 5);
	g_assert_cmpfloat(b->ratio, ==, 0.25);
	g_assert_cmpint(b->on, ==, 1);
	g_assert_cmpint(b->unset, ==, 0);
	settings_struct_free(st);
}

static void test_bound_configured_override(struct fixture *f, gconstpointer data)
{
	struct settings_struct *st = bound_fill(
		f, "settings = { dir = \"d2\"; mode = \"production\"; limit = 1000;\n"
		   " ratio = 3; on = false; unset = -4; };\n");
	const struct bound_settings *b = settings_struct_data(st);

	g_assert_nonnull(b);
	g_assert_cmpstr(b->dir, ==, "d2");
	g_assert_cmpstr(b->mode, ==, "production");
	g_assert_cmpint(b->limit, ==, 1000);
	g_assert_cmpfloat(b->ratio, ==, 3.0);
	g_assert_cmpint(b->on, ==, 0);
	g_assert_cmpint(b->unset, ==, -4);
	settings_struct_free(st);
}

static void test_bound_invalid_refused(struct fixture *f, gconstpointer data)
{
	g_assert_null(bound_fill(f, "settings = { dir = \"d\"; limit = 1001; };\n"));
	g_assert_nonnull(strstr(f->why, "setting 'limit' is 1001; it must lie between 1 and "
					"1000"));
	g_assert_null(bound_fill(f, "settings = { dir = \"d\"; on = \"yes\"; };\n"));
	g_assert_nonnull(strstr(f->why, "setting 'on' is a string"));
	g_assert_null(bound_fill(f, "settings = { limit = 2; };\n"));
	g_assert_nonnull(strstr(f->why, "setting 'dir' is required but missing"));
}

static void assert_schema_refused(struct fixture *f, const struct quorum_setting *schema,
				  size_t struct_size, const char *expected)
{
	int err = settings_schema_check(schema, f->why, sizeof(f->why));

	if (err == 0)
		err = settings_bindings_check(schema, struct_size, f->why, sizeof(f->why));
	g_assert_cmpint(err, ==, -EINVAL);
	if (strstr(f->why, expected) == NULL)
		g_error("expected \"%s\" in \"%s\"", expected, f->why);
}

static void test_bound_schema_checked(struct fixture *f, gconstpointer data)
{
	static const struct quorum_setting out_of_range[] = {
		QUORUM_SETTING_INT_AT("a", struct bound_settings, limit, 1, 10, "11", "a"),
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting not_a_number[] = {
		QUORUM_SETTING_FLOAT_AT("a", struct bound_settings, ratio, "0.5x", "a"),
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting bad_choice[] = {
		QUORUM_SETTING_STRING_AT("a", struct bound_settings, mode, modes, "test", "a"),
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting required_default[] = {
		{ .name = "a",
		  .type = QUORUM_SETTING_INT,
		  .flags = QUORUM_SETTING_REQUIRED,
		  .default_value = "1" },
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting bound_child[] = {
		QUORUM_SETTING_INT_AT("a", struct bound_settings, limit, 1, 10, "2", "a"),
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting nested_bind[] = {
		{ .name = "g", .type = QUORUM_SETTING_GROUP, .children = bound_child },
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting overlap[] = {
		QUORUM_SETTING_INT_AT("a", struct bound_settings, limit, 0, 0, NULL, "a"),
		{ .name = "b",
		  .type = QUORUM_SETTING_BOOL,
		  .flags = QUORUM_SETTING_BIND,
		  .offset = offsetof(struct bound_settings, limit) + 4 },
		{ .type = QUORUM_SETTING_END },
	};
	static const struct quorum_setting unknown_flag[] = {
		{ .name = "a", .type = QUORUM_SETTING_INT, .flags = 0x80 },
		{ .type = QUORUM_SETTING_END },
	};

	assert_schema_refused(f, out_of_range, sizeof(struct bound_settings),
			      "setting 'a': default 11 lies outside [1, 10]");
	assert_schema_refused(f, not_a_number, sizeof(struct bound_settings),
			      "setting 'a': default \"0.5x\" is not a number");
	assert_schema_refused(f, bad_choice, sizeof(struct bound_settings),
			      "default \"test\" is not among its choices");
	assert_schema_refused(f, required_default, 0, "a default is only for an optional");
	assert_schema_refused(f, nested_bind, sizeof(struct bound_settings),
			      "only top-level strings");
	assert_schema_refused(f, overlap, sizeof(struct bound_settings), "overlapping");
	assert_schema_refused(f, unknown_flag, 0, "flags this host does not know");
	/* A bound schema without a struct to bind into, or a struct too small. */
	assert_schema_refused(f, bound_schema, 0, "outside or misaligned");
	assert_schema_refused(f, bound_schema, offsetof(struct bound_settings, unset),
			      "setting 'unset' is bound at offset");
	assert_schema_refused(f, bound_schema, SETTINGS_STRUCT_MAX + 1, "settings struct of");
	/* An ABI 1.11 schema (no defaults, no bindings) needs no struct. */
	g_assert_cmpint(settings_bindings_check(plugin_schema, 0, f->why, sizeof(f->why)), ==,
			0);
}

static char *canonical_of(struct fixture *f, const char *text)
{
	config_t cfg;
	char *path = testutil_write(f->dir, "c.conf", text, 0644), *out;

	config_init(&cfg);
	g_assert_cmpint(config_read_file(&cfg, path), ==, CONFIG_TRUE);
	out = settings_canonical(config_lookup(&cfg, "s"));
	config_destroy(&cfg);
	g_free(path);
	return out;
}

static void test_canonical(struct fixture *f, gconstpointer data)
{
	char *a = canonical_of(f, "s = { x = 1; y = \"a\"; l = ( { p = true; } ); };");
	char *b = canonical_of(
		f, "# comment\ns = {\n  l = ( { p = true; } );\n  y = \"a\";\n  x = 1;\n};");
	char *c = canonical_of(f, "s = { x = 1; y = \"a\"; l = ( { p = false; } ); };");
	char *d = canonical_of(f, "s = { x = 1; y = \"a;\"; l = ( { p = true; } ); };");

	g_assert_cmpstr(a, ==, b);
	g_assert_cmpstr(a, !=, c);
	g_assert_cmpstr(a, !=, d);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_lookup_paths(struct fixture *f, gconstpointer data)
{
	config_t cfg;
	char *path =
		testutil_write(f->dir, "l.conf",
			       "s = { a = { b = 5; }; l = ( { x = \"p\"; }, { x = \"q\"; } );"
			       " arr = [ \"u\", \"v\" ]; r = 2.5; i = 3; };",
			       0644);
	const config_setting_t *s;
	const char *str;
	int64_t i;
	double d;

	config_init(&cfg);
	g_assert_cmpint(config_read_file(&cfg, path), ==, CONFIG_TRUE);
	s = config_lookup(&cfg, "s");
	g_assert_cmpint(settings_get_int(s, "a.b", &i), ==, 0);
	g_assert_cmpint(i, ==, 5);
	g_assert_cmpint(settings_get_string(s, "l.[1].x", &str), ==, 0);
	g_assert_cmpstr(str, ==, "q");
	g_assert_cmpint(settings_get_string(s, "l.0.x", &str), ==, 0);
	g_assert_cmpstr(str, ==, "p");
	g_assert_cmpint(settings_get_string(s, "arr.[1]", &str), ==, 0);
	g_assert_cmpstr(str, ==, "v");
	g_assert_cmpint(settings_get_float(s, "r", &d), ==, 0);
	g_assert_cmpfloat(d, ==, 2.5);
	g_assert_cmpint(settings_get_float(s, "i", &d), ==, 0);
	g_assert_cmpfloat(d, ==, 3.0);
	g_assert_cmpint(settings_get_int(s, "r", &i), ==, -EINVAL);
	g_assert_cmpint(settings_get_int(s, "absent", &i), ==, -ENOENT);
	g_assert_cmpint(settings_get_string(s, "l.[9].x", &str), ==, -ENOENT);
	g_assert_cmpint(settings_length(s, "l"), ==, 2);
	g_assert_cmpint(settings_length(s, "i"), ==, -EINVAL);
	config_destroy(&cfg);
	g_free(path);
}

/* StrictModes: conf_check_trust on the loaded F->conf fails with WHY containing FRAGMENT. */
static void assert_untrusted(struct fixture *f, const char *fragment)
{
	uid_t uid;
	int err = conf_check_trust(f->conf, &uid, f->why, sizeof(f->why));

	if (err == 0 || strstr(f->why, fragment) == NULL)
		g_error("expected a refusal with \"%s\", got %d: %s", fragment, err, f->why);
}

#define TRUSTED_NODE                                                                           \
	"node = { id = \"n1\"; key = \"node.key\"; state_dir = \"s\"; };\n"                    \
	"trusted_plugin_keys = [ \"k.pub\" ];\n"
#define TRUSTED_TEXT                                                                           \
	TRUSTED_NODE "@include \"more.inc\"\n"                                                 \
		     "plugin_dir = \"plugins\";\n"                                             \
		     "stages = ( { name = \"a\"; path = \"a.so\"; } );\n"

/* Everything the configuration names as trust material is StrictModes-checked. */
static void test_trust_material_checked(struct fixture *f, gconstpointer data)
{
	char *pub = testutil_write(f->dir, "k.pub", "key", 0644);
	char *inc = testutil_write(f->dir, "more.inc", "drain_timeout_ms = 100;\n", 0644);
	char *node_key = testutil_write(f->dir, "node.key", "secret", 0600);
	char *plugins = testutil_path(f->dir, "plugins"), *conf_path, *expected;
	uid_t uid = 12345;

	g_assert_cmpint(g_mkdir(plugins, 0755), ==, 0);
	g_assert_cmpint(load_text(f, TRUSTED_TEXT), ==, 0);
	g_assert_cmpuint(f->conf->include_count, ==, 1);
	g_assert_cmpstr(f->conf->includes[0], ==, inc);
	g_assert_cmpint(conf_check_trust(f->conf, &uid, f->why, sizeof(f->why)), ==, 0);
	g_assert_cmpuint(uid, ==, geteuid());

	conf_path = testutil_path(f->dir, "quorum.conf");
	g_assert_cmpint(chmod(conf_path, 0664), ==, 0);
	expected = g_strdup_printf("configuration refused: %s is writable by group or others "
				   "(mode 0664)",
				   conf_path);
	assert_untrusted(f, expected);
	g_assert_cmpint(chmod(conf_path, 0644), ==, 0);
	g_free(expected);

	g_assert_cmpint(chmod(inc, 0646), ==, 0);
	expected = g_strdup_printf("@include \"%s\" refused: %s is writable by group or others "
				   "(mode 0646)",
				   inc, inc);
	assert_untrusted(f, expected);
	g_assert_cmpint(chmod(inc, 0644), ==, 0);
	g_free(expected);

	g_assert_cmpint(chmod(pub, 0666), ==, 0);
	expected =
		g_strdup_printf("trusted_plugin_keys: %s is writable by group or others", pub);
	assert_untrusted(f, expected);
	g_assert_cmpint(chmod(pub, 0644), ==, 0);
	g_free(expected);

	g_assert_cmpint(chmod(node_key, 0640), ==, 0);
	assert_untrusted(f, "node.key refused: ");
	assert_untrusted(f, "(mode 0640); it must be 0600");
	g_assert_cmpint(chmod(node_key, 0600), ==, 0);

	g_assert_cmpint(chmod(plugins, 0777), ==, 0);
	expected =
		g_strdup_printf("plugin_dir refused: folder %s is writable by group or others "
				"(mode 0777)",
				plugins);
	assert_untrusted(f, expected);
	g_assert_cmpint(chmod(plugins, 0755), ==, 0);
	g_free(expected);

	g_assert_cmpint(conf_check_trust(f->conf, &uid, f->why, sizeof(f->why)), ==, 0);
	g_free(conf_path);
	g_free(plugins);
	g_free(node_key);
	g_free(inc);
	g_free(pub);
}

/* An authority's key given to another user, and a service user that does not exist. */
static void test_trust_owner_and_user(struct fixture *f, gconstpointer data)
{
	char *pub = testutil_write(f->dir, "k.pub", "key", 0644);
	char *peer = testutil_write(f->dir, "peer.pub", "key", 0644);
	char *node_key = testutil_write(f->dir, "node.key", "secret", 0600);
	char *expected;
	uid_t uid;

	g_assert_cmpint(load_text(f, TRUSTED_NODE
				  "peer_link = { address = \"127.0.0.1\"; port = 7101; };\n"
				  "authorities = ( { id = \"p\"; address = \"127.0.0.1\"; "
				  "port = 7102; key = \"peer.pub\"; } );\n"),
			==, 0);
	g_assert_cmpint(conf_check_trust(f->conf, &uid, f->why, sizeof(f->why)), ==, 0);
	if (geteuid() == 0) {
		g_assert_cmpint(chown(peer, 65534, 65534), ==, 0);
		expected =
			g_strdup_printf("authority 'p': key refused: file %s is owned by uid "
					"65534, not by root or the service user (uid 0)",
					peer);
		assert_untrusted(f, expected);
		g_free(expected);
	}
	g_assert_cmpint(load_text(f, MINIMAL "user = \"no-such-user-here\";\n"), ==, 0);
	assert_untrusted(f, "user: user 'no-such-user-here': no such user");
	g_free(node_key);
	g_free(peer);
	g_free(pub);
}

/* plugin_key_scopes: a key and the plugin names it alone may sign. */
static void test_key_scopes(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(load_text(f, MINIMAL "plugin_key_scopes = ( { key = \"v.pub\"; "
					     "names = [ \"min-sources\", \"other\" ]; } );\n"),
			==, 0);
	g_assert_cmpuint(f->conf->key_scope_count, ==, 1);
	g_assert_true(g_str_has_suffix(f->conf->key_scopes[0].key, "/v.pub"));
	g_assert_cmpuint(f->conf->key_scopes[0].name_count, ==, 2);
	g_assert_cmpstr(f->conf->key_scopes[0].names[1], ==, "other");
	assert_error(f,
		     MINIMAL
		     "plugin_key_scopes = ( { key = \"v.pub\"; names = [ \"Bad\" ]; } );\n",
		     "3: plugin_key_scopes: invalid plugin name 'Bad'");
	assert_error(f, MINIMAL "plugin_key_scopes = ( { key = \"v.pub\"; names = [ ]; } );\n",
		     "3: plugin_key_scopes: 'v.pub' may sign no plugin: list its names");
}

/* Authorities that are all NTP sources: no round could ever agree, so the configuration is
 * refused (it passed --check-config and then failed every round, silently). */
static void test_ntp_sources_only(struct fixture *f, gconstpointer data)
{
	assert_error(f,
		     "node = { id = \"n1\"; key = \"node.key\"; state_dir = \"s\"; };\n"
		     "trusted_plugin_keys = [ \"k.pub\" ];\n"
		     "peer_link = { address = \"127.0.0.1\"; port = 7101; };\n"
		     "authorities = ( { id = \"pool\"; type = \"ntp\"; address = \"192.0.2.1\";"
		     " port = 123; } );\n",
		     "4: authorities: only NTP sources (1); they can narrow an agreement but "
		     "never reach one, so this node would never serve time: add quorumd "
		     "authorities (n >= 1; n >= 4 tolerates a faulty one)");
}

/* The shipped sample and the build-tree configuration are valid. */
static void test_shipped_configs(struct fixture *f, gconstpointer data)
{
	const char *builddir = g_getenv("QUORUM_BUILDDIR");
	const char *names[] = { "conf/quorum.conf", "conf/quorum-dev.conf" };

	g_assert_nonnull(builddir);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *path = g_build_filename(builddir, names[i], NULL);
		struct conf *conf = NULL;

		if (conf_load(path, "/x", &conf, f->why, sizeof(f->why)) != 0)
			g_error("%s: %s", names[i], f->why);
		conf_unref(conf);
		g_free(path);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/config/accepts/minimal", test_minimal);
	ADD("/config/accepts/every-setting", test_full);
	ADD("/config/accepts/shipped-configurations", test_shipped_configs);
	ADD("/config/refuses/syntax-error-with-line", test_syntax_error);
	ADD("/config/refuses/integer-libconfig-would-wrap", test_wrapping_integer);
	ADD("/config/refuses/unknown-setting", test_unknown_setting);
	ADD("/config/refuses/unknown-nested-setting", test_unknown_nested_setting);
	ADD("/config/refuses/wrong-type", test_wrong_type);
	ADD("/config/refuses/missing-required", test_missing_required);
	ADD("/config/refuses/out-of-range-and-bad-choice", test_out_of_range_and_choices);
	ADD("/config/refuses/duplicate-plugin", test_duplicate_plugin);
	ADD("/config/refuses/invalid-plugin-name", test_bad_plugin_name);
	ADD("/config/refuses/stage-and-transport-with-one-name",
	    test_stage_and_transport_same_name);
	ADD("/config/refuses/missing-file", test_missing_file);
	ADD("/config/include-resolved-against-config-folder", test_include_relative_to_config);
	ADD("/config/error-in-include-names-the-included-file",
	    test_error_in_include_names_file);
	ADD("/config/reload-may-change-only-transports-and-log", test_reload_compatibility);
	ADD("/config/trust/material-named-by-the-configuration", test_trust_material_checked);
	ADD("/config/trust/owner-and-service-user", test_trust_owner_and_user);
	ADD("/config/plugin-key-scopes", test_key_scopes);
	ADD("/config/refuses/ntp-sources-only", test_ntp_sources_only);
	ADD("/settings/plugin-schema-strict", test_plugin_schema);
	ADD("/settings/absent-group-missing-required", test_absent_group_with_required);
	ADD("/settings/schema-itself-checked", test_schema_check);
	ADD("/settings/bound/host-fills-defaults", test_bound_defaults);
	ADD("/settings/bound/configured-value-overrides-default",
	    test_bound_configured_override);
	ADD("/settings/bound/invalid-refused-before-fill", test_bound_invalid_refused);
	ADD("/settings/bound/schema-defaults-and-offsets-checked", test_bound_schema_checked);
	ADD("/settings/canonical-text-ignores-order-and-layout", test_canonical);
	ADD("/settings/lookup-by-path", test_lookup_paths);
	return g_test_run();
}
