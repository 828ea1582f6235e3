/* conf.c -- quorum.conf: libconfig parsing, the host's strict schema, typed results.
 * Relative file names are resolved against the config file's folder, never the cwd. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <quorum/plugin.h>

#include "conf-internal.h"
#include "plugin-sig-internal.h"
#include "settings-internal.h"
#include "util-internal.h"

static const char *const log_destinations[] = { "stderr", "syslog", NULL };
static const char *const log_levels[] = { "error", "warning", "notice", "info", "debug", NULL };

static const struct quorum_setting node_schema[] = {
	{ .name = "id",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "this node's identity in the quorum" },
	{ .name = "key",
	  .type = QUORUM_SETTING_STRING,
	  .help = "PEM file of this node's Ed25519 private key" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting log_schema[] = {
	{ .name = "destination",
	  .type = QUORUM_SETTING_STRING,
	  .choices = log_destinations,
	  .help = "stderr or syslog" },
	{ .name = "level",
	  .type = QUORUM_SETTING_STRING,
	  .choices = log_levels,
	  .help = "most verbose level written" },
	{ .type = QUORUM_SETTING_END },
};

/* A plugin entry; its `settings` group is checked later against the plugin's own schema. */
static const struct quorum_setting plugin_entry_schema[] = {
	{ .name = "name",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "the plugin's name, as signed" },
	{ .name = "path",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "the .so file, relative to plugin_dir" },
	{ .name = "enabled", .type = QUORUM_SETTING_BOOL, .help = "false skips the entry" },
	{ .name = "settings",
	  .type = QUORUM_SETTING_GROUP,
	  .children = NULL,
	  .help = "the plugin's own settings" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting top_schema[] = {
	{ .name = "node",
	  .type = QUORUM_SETTING_GROUP,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .children = node_schema,
	  .help = "node = { id = \"...\"; }" },
	{ .name = "log", .type = QUORUM_SETTING_GROUP, .children = log_schema },
	{ .name = "pidfile", .type = QUORUM_SETTING_STRING },
	{ .name = "plugin_dir", .type = QUORUM_SETTING_STRING },
	{ .name = "drain_timeout_ms", .type = QUORUM_SETTING_INT, .min = 0, .max = 600000 },
	{ .name = "trusted_plugin_keys",
	  .type = QUORUM_SETTING_STRINGS,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "public keys that may sign plugins" },
	{ .name = "stages", .type = QUORUM_SETTING_LIST, .children = plugin_entry_schema },
	{ .name = "transports", .type = QUORUM_SETTING_LIST, .children = plugin_entry_schema },
	{ .type = QUORUM_SETTING_END },
};

int conf_resolve(const char *dir, const char *name, char *out, size_t size)
{
	int n;

	if (name[0] == '/')
		n = snprintf(out, size, "%s", name);
	else
		n = snprintf(out, size, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static char *conf_resolve_dup(const char *dir, const char *name)
{
	char buf[PATH_MAX];

	if (conf_resolve(dir, name, buf, sizeof(buf)) != 0)
		return NULL;
	return strdup(buf);
}

static int conf_error(const struct conf *conf, const config_setting_t *s, char *why,
		      size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int conf_error(const struct conf *conf, const config_setting_t *s, char *why,
		      size_t why_size, const char *fmt, ...)
{
	char what[ERRBUF_SIZE], location[PATH_MAX + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	errbuf_set(why, why_size, "%s: %s",
		   settings_location(s, conf->dir, conf->path, 0, location, sizeof(location)),
		   what);
	return -EINVAL;
}

/* Reads the `stages` or `transports` list into *OUT / *COUNT, skipping disabled entries. */
static int conf_read_plugins(struct conf *conf, const char *list_name, uint32_t kind,
			     struct conf_plugin **out, size_t *count, char *why,
			     size_t why_size)
{
	const config_setting_t *list = config_lookup(&conf->cfg, list_name);
	int n = list != NULL ? config_setting_length(list) : 0;

	*out = calloc((size_t)n + 1, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	*count = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *entry = config_setting_get_elem(list, (unsigned)i);
		struct conf_plugin *p = &(*out)[*count];
		const char *path;
		int enabled = 1;

		settings_get_bool(entry, "enabled", &enabled);
		if (!enabled)
			continue;
		settings_get_string(entry, "name", &p->name);
		settings_get_string(entry, "path", &path);
		if (!plugin_name_valid(p->name))
			return conf_error(
				conf, entry, why, why_size,
				"%s: invalid plugin name '%s' (want [a-z][a-z0-9_-]{0,31})",
				list_name, p->name);
		for (size_t j = 0; j < *count; j++) {
			if (strcmp((*out)[j].name, p->name) == 0)
				return conf_error(conf, entry, why, why_size,
						  "%s: plugin '%s' is listed twice", list_name,
						  p->name);
		}
		p->path = conf_resolve_dup(conf->plugin_dir, path);
		if (p->path == NULL)
			return conf_error(conf, entry, why, why_size,
					  "%s: path of '%s' is too long", list_name, p->name);
		p->kind = kind;
		p->settings = config_setting_get_member(entry, "settings");
		p->settings_text = settings_canonical(p->settings);
		if (p->settings_text == NULL)
			return -ENOMEM;
		p->file =
			config_setting_source_file(entry) != NULL
				? conf_resolve_dup(conf->dir, config_setting_source_file(entry))
				: strdup(conf->path);
		if (p->file == NULL)
			return -ENOMEM;
		p->line = (int)config_setting_source_line(entry);
		(*count)++;
	}
	return 0;
}

static int conf_read(struct conf *conf, const char *default_plugin_dir, char *why,
		     size_t why_size)
{
	const config_setting_t *root = config_root_setting(&conf->cfg);
	const config_setting_t *keys;
	const char *value;
	int err;

	err = settings_validate(root, top_schema, "quorum.conf", conf->dir, conf->path, 1, why,
				why_size);
	if (err != 0)
		return err;

	settings_get_string(root, "node.id", &conf->node_id);
	if (conf->node_id[0] == '\0' || strlen(conf->node_id) > 64)
		return conf_error(conf, settings_lookup(root, "node.id"), why, why_size,
				  "node.id must be 1 to 64 characters");
	if (settings_get_string(root, "node.key", &value) == 0) {
		conf->node_key = conf_resolve_dup(conf->dir, value);
		if (conf->node_key == NULL)
			return -ENAMETOOLONG;
	}

	conf->log_destination = LOG_TO_STDERR;
	if (settings_get_string(root, "log.destination", &value) == 0 &&
	    strcmp(value, "syslog") == 0)
		conf->log_destination = LOG_TO_SYSLOG;
	conf->log_level = QUORUM_LOG_INFO;
	if (settings_get_string(root, "log.level", &value) == 0)
		conf->log_level = log_level_parse(value);

	if (settings_get_string(root, "pidfile", &value) == 0) {
		conf->pidfile = conf_resolve_dup(conf->dir, value);
		if (conf->pidfile == NULL)
			return -ENAMETOOLONG;
	}
	if (settings_get_string(root, "plugin_dir", &value) != 0)
		value = default_plugin_dir;
	conf->plugin_dir = conf_resolve_dup(conf->dir, value);
	if (conf->plugin_dir == NULL)
		return -ENAMETOOLONG;
	conf->drain_timeout_ms = 5000;
	settings_get_int(root, "drain_timeout_ms", &conf->drain_timeout_ms);

	keys = config_setting_get_member(root, "trusted_plugin_keys");
	conf->trusted_key_count = (size_t)config_setting_length(keys);
	conf->trusted_keys = calloc(conf->trusted_key_count + 1, sizeof(char *));
	if (conf->trusted_keys == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < conf->trusted_key_count; i++) {
		const char *name = config_setting_get_string_elem(keys, (int)i);

		conf->trusted_keys[i] = conf_resolve_dup(conf->dir, name);
		if (conf->trusted_keys[i] == NULL)
			return -ENAMETOOLONG;
	}

	err = conf_read_plugins(conf, "stages", QUORUM_PLUGIN_STAGE, &conf->stages,
				&conf->stage_count, why, why_size);
	if (err != 0)
		return err;
	err = conf_read_plugins(conf, "transports", QUORUM_PLUGIN_TRANSPORT, &conf->transports,
				&conf->transport_count, why, why_size);
	if (err != 0)
		return err;
	for (size_t i = 0; i < conf->transport_count; i++) {
		for (size_t j = 0; j < conf->stage_count; j++) {
			if (strcmp(conf->transports[i].name, conf->stages[j].name) == 0) {
				errbuf_set(why, why_size,
					   "%s:%d: plugin '%s' is listed both as a stage and "
					   "as a transport",
					   conf->transports[i].file, conf->transports[i].line,
					   conf->transports[i].name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int conf_load(const char *path, const char *default_plugin_dir, struct conf **out, char *why,
	      size_t why_size)
{
	char absolute[PATH_MAX], *slash;
	struct conf *conf;
	int err;

	if (path[0] == '/') {
		if (snprintf(absolute, sizeof(absolute), "%s", path) >= (int)sizeof(absolute))
			return -ENAMETOOLONG;
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    conf_resolve(cwd, path, absolute, sizeof(absolute)) != 0) {
			errbuf_set(why, why_size, "%s: cannot resolve the path", path);
			return -ENAMETOOLONG;
		}
	}
	conf = calloc(1, sizeof(*conf));
	if (conf == NULL)
		return -ENOMEM;
	conf->refs = 1;
	config_init(&conf->cfg);
	conf->path = strdup(absolute);
	conf->dir = strdup(absolute);
	if (conf->path == NULL || conf->dir == NULL) {
		err = -ENOMEM;
		goto out_unref;
	}
	slash = strrchr(conf->dir, '/');
	if (slash == conf->dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	/* libconfig 1.5 resolves @include against the cwd unless told otherwise. */
	config_set_include_dir(&conf->cfg, conf->dir);
	if (access(conf->path, R_OK) != 0) {
		err = -errno;
		errbuf_set(why, why_size, "%s: cannot read: %s", conf->path, strerror(errno));
		goto out_unref;
	}
	if (config_read_file(&conf->cfg, conf->path) != CONFIG_TRUE) {
		const char *file = config_error_file(&conf->cfg);

		err = -EINVAL;
		if (file == NULL)
			file = conf->path;
		errbuf_set(why, why_size, "%s%s%s:%d: %s", file[0] == '/' ? "" : conf->dir,
			   file[0] == '/' ? "" : "/", file, config_error_line(&conf->cfg),
			   config_error_text(&conf->cfg));
		goto out_unref;
	}
	err = conf_read(conf, default_plugin_dir, why, why_size);
	if (err != 0) {
		if (err == -ENOMEM)
			errbuf_set(why, why_size, "%s: out of memory", conf->path);
		else if (err == -ENAMETOOLONG)
			errbuf_set(why, why_size, "%s: a file name is too long", conf->path);
		goto out_unref;
	}
	*out = conf;
	return 0;
out_unref:
	conf_unref(conf);
	return err;
}

struct conf *conf_ref(struct conf *conf)
{
	conf->refs++;
	return conf;
}

static void conf_plugins_free(struct conf_plugin *plugins, size_t count)
{
	if (plugins == NULL)
		return;
	/* Entries past COUNT may hold allocations from a failed read: free to the sentinel. */
	for (size_t i = 0; plugins[i].name != NULL || i < count; i++) {
		free(plugins[i].path);
		free(plugins[i].file);
		free(plugins[i].settings_text);
	}
	free(plugins);
}

void conf_unref(struct conf *conf)
{
	if (conf == NULL || --conf->refs > 0)
		return;
	conf_plugins_free(conf->stages, conf->stage_count);
	conf_plugins_free(conf->transports, conf->transport_count);
	for (size_t i = 0; conf->trusted_keys != NULL && i < conf->trusted_key_count; i++)
		free(conf->trusted_keys[i]);
	free(conf->trusted_keys);
	free(conf->plugin_dir);
	free(conf->pidfile);
	free(conf->node_key);
	free(conf->dir);
	free(conf->path);
	config_destroy(&conf->cfg);
	free(conf);
}

const struct conf_plugin *conf_find_transport(const struct conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->transport_count; i++) {
		if (strcmp(conf->transports[i].name, name) == 0)
			return &conf->transports[i];
	}
	return NULL;
}

static int strings_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int conf_reload_compatible(const struct conf *cur, const struct conf *next, char *why,
			   size_t why_size)
{
	const char *what = NULL;

	if (!strings_equal(cur->node_id, next->node_id) ||
	    !strings_equal(cur->node_key, next->node_key))
		what = "node";
	else if (cur->log_destination != next->log_destination)
		what = "log.destination";
	else if (!strings_equal(cur->pidfile, next->pidfile))
		what = "pidfile";
	else if (cur->stage_count != next->stage_count)
		what = "stages";
	for (size_t i = 0; what == NULL && i < cur->stage_count; i++) {
		const struct conf_plugin *a = &cur->stages[i], *b = &next->stages[i];

		if (strcmp(a->name, b->name) != 0 || strcmp(a->path, b->path) != 0 ||
		    strcmp(a->settings_text, b->settings_text) != 0)
			what = "stages";
	}
	if (what == NULL)
		return 0;
	errbuf_set(why, why_size,
		   "%s: '%s' changed; stages and node settings cannot be reloaded, restart "
		   "quorumd",
		   next->path, what);
	return -EBUSY;
}
