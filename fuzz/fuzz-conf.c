/* fuzz-conf.c -- libFuzzer target: quorum.conf as quorumd loads it (conf_load in
 * host/conf.c: libconfig's parser, then the strict checks of every setting in
 * host/settings.c), from a file in a temporary folder of this process (under $TMPDIR, else
 * /dev/shm when there is one), then each plugin's settings group validated against a schema
 * with every kind of setting (as instance.c does with a plugin's own schema) and read as
 * plugins read theirs. Properties: a loaded configuration may replace itself on reload, and
 * its groups' canonical texts are stable. Inputs with @include are skipped: an include names
 * any file of the machine (an operator's feature, not an attack surface), which would make
 * runs read outside the folder. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <quorum/plugin.h>

#include "conf-internal.h"
#include "fuzz.h"
#include "settings-internal.h"

static char dir[4096], path[4200];

static const char *const modes[] = { "fast", "safe", NULL };

static const struct quorum_setting peer_schema[] = {
	{ .name = "address", .type = QUORUM_SETTING_STRING, .flags = QUORUM_SETTING_REQUIRED },
	{ .name = "port", .type = QUORUM_SETTING_INT, .min = 1, .max = 65535 },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting tls_schema[] = {
	{ .name = "cert", .type = QUORUM_SETTING_STRING },
	{ .name = "key", .type = QUORUM_SETTING_STRING },
	{ .name = "verify", .type = QUORUM_SETTING_BOOL },
	{ .type = QUORUM_SETTING_END },
};

/* Every kind of setting a plugin may declare. */
static const struct quorum_setting plugin_schema[] = {
	{ .name = "address", .type = QUORUM_SETTING_STRING },
	{ .name = "port", .type = QUORUM_SETTING_INT, .min = 1, .max = 65535 },
	{ .name = "rate_limit", .type = QUORUM_SETTING_INT },
	{ .name = "warp", .type = QUORUM_SETTING_FLOAT },
	{ .name = "production", .type = QUORUM_SETTING_BOOL },
	{ .name = "mode", .type = QUORUM_SETTING_STRING, .choices = modes },
	{ .name = "tls", .type = QUORUM_SETTING_GROUP, .children = tls_schema },
	{ .name = "peers", .type = QUORUM_SETTING_LIST, .children = peer_schema },
	{ .name = "tokens", .type = QUORUM_SETTING_STRINGS },
	{ .type = QUORUM_SETTING_END },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL) /* a file written per input: memory rather than a disk */
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/quorum-fuzz-conf.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror("fuzz-conf: mkdtemp");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/quorum.conf", dir);
	return 0;
}

__attribute__((destructor)) static void cleanup(void)
{
	if (path[0] != '\0')
		unlink(path);
	if (dir[0] != '\0')
		rmdir(dir);
}

static void plugin_settings(const struct conf_plugin *p, size_t count)
{
	char why[512];

	for (size_t i = 0; i < count; i++) {
		const char *s;
		int64_t v;
		double d;
		int b;
		char *canon;

		if (settings_validate(p[i].settings, plugin_schema, "fuzz", dir, p[i].file,
				      p[i].line, why, sizeof(why)) != 0)
			FUZZ_ASSERT(why[0] != '\0');
		(void)settings_get_string(p[i].settings, "address", &s);
		(void)settings_get_int(p[i].settings, "peers.[0].port", &v);
		(void)settings_get_float(p[i].settings, "warp", &d);
		(void)settings_get_bool(p[i].settings, "tls.verify", &b);
		(void)settings_length(p[i].settings, "tokens");
		canon = settings_canonical(p[i].settings);
		FUZZ_ASSERT(canon != NULL);
		FUZZ_ASSERT(p[i].settings_text != NULL &&
			    strcmp(canon, p[i].settings_text) == 0);
		free(canon);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char include[] = "@include";
	struct conf *conf = NULL;
	char why[1024];
	FILE *f;

	if (memmem(data, size, include, sizeof(include) - 1) != NULL)
		return -1; /* not kept in the corpus */
	f = fopen(path, "wb");
	FUZZ_ASSERT(f != NULL);
	FUZZ_ASSERT(fwrite(data, 1, size, f) == size || size == 0);
	FUZZ_ASSERT(fclose(f) == 0);
	why[0] = '\0';
	if (conf_load(path, "/nonexistent/quorum-plugins", &conf, why, sizeof(why)) != 0) {
		FUZZ_ASSERT(conf == NULL && why[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(conf_reload_compatible(conf, conf, why, sizeof(why)) == 0);
	plugin_settings(conf->stages, conf->stage_count);
	plugin_settings(conf->transports, conf->transport_count);
	conf_unref(conf);
	return 0;
}
