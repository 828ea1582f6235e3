/* conf.c -- quorum.conf: libconfig parsing, the host's strict schema, typed results.
 * Relative file names are resolved against the config file's folder, never the cwd. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <quorum/plugin.h>
#include <quorum/time.h>

#include "conf-internal.h"
#include "conflex-internal.h"
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
	{ .name = "state_dir",
	  .type = QUORUM_SETTING_STRING,
	  .help = "folder for the node's persistent state" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting peer_link_schema[] = {
	{ .name = "address",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "numeric address the peer link listens on" },
	{ .name = "port",
	  .type = QUORUM_SETTING_INT,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .min = 1,
	  .max = 65535,
	  .help = "UDP port of the peer link" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting authority_schema[] = {
	{ .name = "radius_ns",
	  .type = QUORUM_SETTING_INT,
	  .min = 0,
	  .max = 3600000000000LL,
	  .help = "uncertainty this node claims for its clock" },
	{ .name = "kernel_status",
	  .type = QUORUM_SETTING_BOOL,
	  .help = "say unsynchronised when the kernel does, and add its maxerror" },
	{ .name = "max_answers_per_second",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 1000000,
	  .help = "answers per second to askers that are not configured authorities, "
		  "together" },
	{ .name = "max_answers_per_source",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 1000000,
	  .help = "answers per second to one address that is not a configured authority" },
	{ .name = "max_answers_per_authority",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 1000000,
	  .help = "answers per second to each configured authority" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting rounds_schema[] = {
	{ .name = "interval_ms",
	  .type = QUORUM_SETTING_INT,
	  .min = 50,
	  .max = 3600000,
	  .help = "how often this node asks its authorities" },
	{ .name = "timeout_ms",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 60000,
	  .help = "answers arriving later are too old" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting clock_schema[] = {
	{ .name = "shm",
	  .type = QUORUM_SETTING_STRING,
	  .help = "file of the shared-memory page quorum_now() reads" },
	{ .name = "max_drift_ppm",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 100000,
	  .help = "bound growth per second since the last agreement" },
	{ .name = "max_error_ns",
	  .type = QUORUM_SETTING_INT,
	  .min = 1000,
	  .max = 3600000000000LL,
	  .help = "beyond this error bound the node is unsynchronised" },
	{ .name = "slew_ppm",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 100000,
	  .help = "rate at which a backwards correction is absorbed" },
	{ .type = QUORUM_SETTING_END },
};

static const char *const authority_types[] = { "quorumd", "ntp", NULL };

static const struct quorum_setting authorities_schema[] = {
	{ .name = "id", .type = QUORUM_SETTING_STRING, .flags = QUORUM_SETTING_REQUIRED },
	{ .name = "type",
	  .type = QUORUM_SETTING_STRING,
	  .choices = authority_types,
	  .help = "quorumd (signed, counted in n) or ntp (unauthenticated)" },
	{ .name = "address", .type = QUORUM_SETTING_STRING, .flags = QUORUM_SETTING_REQUIRED },
	{ .name = "port",
	  .type = QUORUM_SETTING_INT,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .min = 1,
	  .max = 65535 },
	{ .name = "key",
	  .type = QUORUM_SETTING_STRING,
	  .help = "its Ed25519 public key (PEM); required for quorumd" },
	{ .type = QUORUM_SETTING_END },
};

static const struct quorum_setting key_scope_schema[] = {
	{ .name = "key",
	  .type = QUORUM_SETTING_STRING,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "a public key listed in trusted_plugin_keys" },
	{ .name = "names",
	  .type = QUORUM_SETTING_STRINGS,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "the only plugin names it may sign" },
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
	{ .name = "refusal_summary_s",
	  .type = QUORUM_SETTING_INT,
	  .min = 1,
	  .max = 3600,
	  .help = "interval of the one line and record per kind of unauthenticated refusal" },
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
	{ .name = "user",
	  .type = QUORUM_SETTING_STRING,
	  .help = "the user quorumd becomes once started (keeping CAP_NET_BIND_SERVICE)" },
	{ .name = "plugin_dir", .type = QUORUM_SETTING_STRING },
	{ .name = "drain_timeout_ms", .type = QUORUM_SETTING_INT, .min = 0, .max = 600000 },
	{ .name = "trusted_plugin_keys",
	  .type = QUORUM_SETTING_STRINGS,
	  .flags = QUORUM_SETTING_REQUIRED,
	  .help = "public keys that may sign plugins" },
	{ .name = "allow_legacy_signatures",
	  .type = QUORUM_SETTING_BOOL,
	  .help = "also accept plugin signatures of format 1 (no version, kind, role or ABI)" },
	{ .name = "plugin_key_scopes",
	  .type = QUORUM_SETTING_LIST,
	  .children = key_scope_schema,
	  .help = "trusted plugin keys that may sign only some plugin names" },
	{ .name = "peer_link", .type = QUORUM_SETTING_GROUP, .children = peer_link_schema },
	{ .name = "authority", .type = QUORUM_SETTING_GROUP, .children = authority_schema },
	{ .name = "rounds", .type = QUORUM_SETTING_GROUP, .children = rounds_schema },
	{ .name = "clock", .type = QUORUM_SETTING_GROUP, .children = clock_schema },
	{ .name = "authorities", .type = QUORUM_SETTING_LIST, .children = authorities_schema },
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

/* plugin_key_scopes: each a key (resolved like trusted_plugin_keys) and its plugin names. */
static int conf_read_key_scopes(struct conf *conf, char *why, size_t why_size)
{
	const config_setting_t *list = config_lookup(&conf->cfg, "plugin_key_scopes");
	int n = list != NULL ? config_setting_length(list) : 0;

	conf->key_scopes = calloc((size_t)n + 1, sizeof(*conf->key_scopes));
	if (conf->key_scopes == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *entry = config_setting_get_elem(list, (unsigned)i);
		const config_setting_t *names = config_setting_get_member(entry, "names");
		struct conf_key_scope *scope = &conf->key_scopes[conf->key_scope_count++];
		const char *key;
		int count = config_setting_length(names);

		settings_get_string(entry, "key", &key);
		scope->key = conf_resolve_dup(conf->dir, key);
		scope->file =
			conf_resolve_dup(conf->dir, settings_file_name(entry, conf->path));
		scope->line = (int)config_setting_source_line(entry);
		scope->names = calloc((size_t)count + 1, sizeof(*scope->names));
		if (scope->key == NULL || scope->file == NULL || scope->names == NULL)
			return -ENOMEM;
		if (count == 0)
			return conf_error(
				conf, entry, why, why_size,
				"plugin_key_scopes: '%s' may sign no plugin: list its names",
				key);
		for (int j = 0; j < count; j++) {
			scope->names[j] = config_setting_get_string_elem(names, j);
			if (!plugin_name_valid(scope->names[j]))
				return conf_error(conf, entry, why, why_size,
						  "plugin_key_scopes: invalid plugin name '%s'",
						  scope->names[j]);
			scope->name_count++;
		}
	}
	return 0;
}

static int address_numeric(const char *address)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	int ok = getaddrinfo(address, NULL, &hints, &res) == 0;

	if (res != NULL)
		freeaddrinfo(res);
	return ok;
}

static int64_t conf_int(const config_setting_t *root, const char *path, int64_t fallback)
{
	int64_t value;

	return settings_get_int(root, path, &value) == 0 ? value : fallback;
}

/* The time core: peer link, answers, rounds, served clock and the authorities. */
static int conf_read_time(struct conf *conf, char *why, size_t why_size)
{
	const config_setting_t *root = config_root_setting(&conf->cfg);
	const config_setting_t *list = config_lookup(&conf->cfg, "authorities");
	const char *value;
	int count = list != NULL ? config_setting_length(list) : 0;
	int64_t port;

	conf->has_peer_link = config_lookup(&conf->cfg, "peer_link") != NULL;
	if (conf->has_peer_link) {
		settings_get_string(root, "peer_link.address", &conf->peer_address);
		settings_get_int(root, "peer_link.port", &port);
		conf->peer_port = (uint16_t)port;
		if (!address_numeric(conf->peer_address))
			return conf_error(conf, settings_lookup(root, "peer_link.address"), why,
					  why_size,
					  "peer_link.address '%s' is not a numeric address",
					  conf->peer_address);
		if (conf->node_key == NULL || conf->state_dir == NULL)
			return conf_error(conf, settings_lookup(root, "peer_link"), why,
					  why_size,
					  "a peer_link needs node.key and node.state_dir");
	} else if (count > 0) {
		return conf_error(
			conf, list, why, why_size,
			"authorities are asked over the peer_link, which is not configured");
	}
	conf->authority_radius_ns = conf_int(root, "authority.radius_ns", 1000000);
	conf->authority_kernel_status = 1;
	settings_get_bool(root, "authority.kernel_status", &conf->authority_kernel_status);
	conf->authority_rate = conf_int(root, "authority.max_answers_per_second", 2000);
	conf->authority_rate_per_source =
		conf_int(root, "authority.max_answers_per_source", 20);
	conf->authority_rate_per_authority =
		conf_int(root, "authority.max_answers_per_authority", 50);
	conf->round_interval_ms = conf_int(root, "rounds.interval_ms", 1000);
	conf->round_timeout_ms = conf_int(root, "rounds.timeout_ms", 250);
	if (conf->round_timeout_ms >= conf->round_interval_ms)
		return conf_error(conf, settings_lookup(root, "rounds.timeout_ms"), why,
				  why_size,
				  "rounds.timeout_ms must be shorter than rounds.interval_ms");
	conf->clock_max_drift_ppm = conf_int(root, "clock.max_drift_ppm", 50);
	conf->clock_max_error_ns = conf_int(root, "clock.max_error_ns", 10000000);
	conf->clock_slew_ppm = conf_int(root, "clock.slew_ppm", 500);
	if (settings_get_string(root, "clock.shm", &value) == 0) {
		conf->clock_shm = conf_resolve_dup(conf->dir, value);
		if (conf->clock_shm == NULL)
			return -ENAMETOOLONG;
	}
	if (count > QUORUM_AUTHORITIES_MAX)
		return conf_error(conf, list, why, why_size, "more than %d authorities",
				  QUORUM_AUTHORITIES_MAX);
	conf->authorities = calloc((size_t)count + 1, sizeof(*conf->authorities));
	if (conf->authorities == NULL)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		const config_setting_t *entry = config_setting_get_elem(list, (unsigned)i);
		struct conf_authority *a = &conf->authorities[conf->authority_count];
		const char *type = "quorumd", *key = NULL;

		settings_get_string(entry, "id", &a->id);
		settings_get_string(entry, "type", &type);
		settings_get_string(entry, "address", &a->address);
		settings_get_int(entry, "port", &port);
		settings_get_string(entry, "key", &key);
		a->port = (uint16_t)port;
		a->type = strcmp(type, "ntp") == 0 ? QUORUM_AUTHORITY_NTP
						   : QUORUM_AUTHORITY_QUORUMD;
		a->file = conf_resolve_dup(conf->dir, settings_file_name(entry, conf->path));
		a->line = (int)config_setting_source_line(entry);
		conf->authority_count++;
		if (a->file == NULL)
			return -ENOMEM;
		if (a->id[0] == '\0' || strlen(a->id) > QUORUM_NODE_ID_MAX ||
		    strpbrk(a->id, " \t\"=") != NULL)
			return conf_error(conf, entry, why, why_size,
					  "authorities: id '%s' must be 1 to 64 characters "
					  "without spaces, quotes or '='",
					  a->id);
		if (!address_numeric(a->address))
			return conf_error(
				conf, entry, why, why_size,
				"authorities: '%s' has address '%s', which is not numeric",
				a->id, a->address);
		if ((a->type == QUORUM_AUTHORITY_QUORUMD) != (key != NULL))
			return conf_error(conf, entry, why, why_size,
					  "authorities: '%s': a quorumd authority needs a key, "
					  "an ntp source has none",
					  a->id);
		if (key != NULL) {
			a->key = conf_resolve_dup(conf->dir, key);
			if (a->key == NULL)
				return -ENAMETOOLONG;
		}
		for (size_t j = 0; j + 1 < conf->authority_count; j++) {
			if (strcmp(conf->authorities[j].id, a->id) == 0)
				return conf_error(conf, entry, why, why_size,
						  "authorities: '%s' is listed twice", a->id);
		}
	}
	if (conf->authority_count > 0) {
		size_t quorumd = 0;

		for (size_t i = 0; i < conf->authority_count; i++)
			quorumd += conf->authorities[i].type == QUORUM_AUTHORITY_QUORUMD;
		/* NTP sources only narrow what the authorities agreed: with none, every round
		 * would fail (insufficient_quorum) for ever. */
		if (quorumd == 0)
			return conf_error(
				conf, list, why, why_size,
				"authorities: only NTP sources (%zu); they can narrow an "
				"agreement but never reach one, so this node would never serve "
				"time: add quorumd authorities (n >= 1; n >= 4 tolerates a "
				"faulty one)",
				conf->authority_count);
	}
	{
		/* Everything above must stay as it is across a reload. */
		const char *groups[] = { "node",   "peer_link", "authority",
					 "rounds", "clock",	"authorities" };
		size_t len = 0;

		conf->time_text = strdup("");
		for (size_t i = 0;
		     conf->time_text != NULL && i < sizeof(groups) / sizeof(*groups); i++) {
			char *part = settings_canonical(config_lookup(&conf->cfg, groups[i]));
			char *joined =
				part != NULL
					? malloc(len + strlen(part) + strlen(groups[i]) + 3)
					: NULL;

			if (joined != NULL) {
				sprintf(joined, "%s%s=%s;", conf->time_text, groups[i], part);
				len = strlen(joined);
			}
			free(part);
			free(conf->time_text);
			conf->time_text = joined;
		}
		if (conf->time_text == NULL)
			return -ENOMEM;
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
	if (settings_get_string(root, "node.state_dir", &value) == 0) {
		conf->state_dir = conf_resolve_dup(conf->dir, value);
		if (conf->state_dir == NULL)
			return -ENAMETOOLONG;
	}

	conf->log_destination = LOG_TO_STDERR;
	if (settings_get_string(root, "log.destination", &value) == 0 &&
	    strcmp(value, "syslog") == 0)
		conf->log_destination = LOG_TO_SYSLOG;
	conf->log_level = QUORUM_LOG_INFO;
	if (settings_get_string(root, "log.level", &value) == 0)
		conf->log_level = log_level_parse(value);
	conf->refusal_summary_s = 60;
	settings_get_int(root, "log.refusal_summary_s", &conf->refusal_summary_s);

	if (settings_get_string(root, "pidfile", &value) == 0) {
		conf->pidfile = conf_resolve_dup(conf->dir, value);
		if (conf->pidfile == NULL)
			return -ENAMETOOLONG;
	}
	if (settings_get_string(root, "user", &value) == 0) {
		conf->user = strdup(value);
		if (conf->user == NULL)
			return -ENOMEM;
	}
	if (settings_get_string(root, "plugin_dir", &value) != 0)
		value = default_plugin_dir;
	conf->plugin_dir = conf_resolve_dup(conf->dir, value);
	if (conf->plugin_dir == NULL)
		return -ENAMETOOLONG;
	conf->drain_timeout_ms = 5000;
	settings_get_int(root, "drain_timeout_ms", &conf->drain_timeout_ms);

	settings_get_bool(root, "allow_legacy_signatures", &conf->allow_legacy_signatures);
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

	err = conf_read_key_scopes(conf, why, why_size);
	if (err != 0)
		return err;
	err = conf_read_time(conf, why, why_size);
	if (err != 0)
		return err;
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

/* Remembers an @include for conf_check_trust. */
static int conf_note_include(void *arg, const char *included, const char *file, int line)
{
	struct conf *conf = arg;
	char *copy;

	(void)file; /* a refusal names the included file itself */
	(void)line;
	if (conf->include_count == CONF_INCLUDES_MAX)
		return -E2BIG;
	copy = strdup(included);
	if (copy == NULL)
		return -ENOMEM;
	conf->includes[conf->include_count++] = copy;
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
	conf->includes = calloc(CONF_INCLUDES_MAX, sizeof(*conf->includes));
	if (conf->path == NULL || conf->dir == NULL || conf->includes == NULL) {
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
	/* Before libconfig, which would silently wrap 64-bit literals without their L. */
	err = conflex_check(conf->path, conf->dir, conf_note_include, conf, why, why_size);
	if (err == -E2BIG)
		errbuf_set(why, why_size, "%s: more than %d @include files", conf->path,
			   CONF_INCLUDES_MAX);
	if (err == -ENOMEM)
		errbuf_set(why, why_size, "%s: out of memory", conf->path);
	if (err == -EINVAL || err == -E2BIG || err == -ENOMEM)
		goto out_unref;
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
	for (size_t i = 0; conf->key_scopes != NULL && i < conf->key_scope_count; i++) {
		free(conf->key_scopes[i].key);
		free(conf->key_scopes[i].file);
		free(conf->key_scopes[i].names);
	}
	free(conf->key_scopes);
	for (size_t i = 0; conf->authorities != NULL && i < conf->authority_count; i++) {
		free(conf->authorities[i].key);
		free(conf->authorities[i].file);
	}
	free(conf->authorities);
	free(conf->time_text);
	free(conf->clock_shm);
	free(conf->state_dir);
	free(conf->plugin_dir);
	free(conf->pidfile);
	free(conf->user);
	free(conf->node_key);
	for (size_t i = 0; i < conf->include_count; i++)
		free(conf->includes[i]);
	free(conf->includes);
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
	    !strings_equal(cur->node_key, next->node_key) ||
	    !strings_equal(cur->state_dir, next->state_dir))
		what = "node";
	else if (!strings_equal(cur->time_text, next->time_text))
		what = "peer_link, authority, rounds, clock or authorities";
	else if (cur->log_destination != next->log_destination)
		what = "log.destination";
	else if (cur->refusal_summary_s != next->refusal_summary_s)
		what = "log.refusal_summary_s";
	else if (!strings_equal(cur->pidfile, next->pidfile))
		what = "pidfile";
	else if (!strings_equal(cur->user, next->user))
		what = "user";
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
