/* conftrust.c -- StrictModes for the trust material quorum.conf names: the configuration
 * itself and its @includes, the keys, and the plugin folder (see conf_check_trust). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conf-internal.h"
#include "trustpath-internal.h"
#include "util-internal.h"

/* Whether a configured plugin lies in plugin_dir (its name there was relative). */
static int conf_uses_plugin_dir(const struct conf *conf)
{
	size_t len = strlen(conf->plugin_dir);

	for (size_t kind = 0; kind < 2; kind++) {
		const struct conf_plugin *list = kind == 0 ? conf->stages : conf->transports;
		size_t n = kind == 0 ? conf->stage_count : conf->transport_count;

		for (size_t i = 0; i < n; i++) {
			if (strncmp(list[i].path, conf->plugin_dir, len) == 0 &&
			    list[i].path[len] == '/')
				return 1;
		}
	}
	return 0;
}

int conf_check_trust(const struct conf *conf, uid_t *service_uid, char *why, size_t why_size)
{
	char detail[ERRBUF_SIZE];
	uid_t uid;
	int err;

	err = trust_service_uid(conf->user, &uid, detail, sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "%s: user: %s", conf->path, detail);
		return err;
	}
	err = trust_path_check(conf->path, uid, 0, detail, sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "configuration refused: %s", detail);
		return err;
	}
	for (size_t i = 0; i < conf->include_count; i++) {
		err = trust_path_check(conf->includes[i], uid, 0, detail, sizeof(detail));
		if (err != 0) {
			errbuf_set(why, why_size, "%s: @include \"%s\" refused: %s", conf->path,
				   conf->includes[i], detail);
			return err;
		}
	}
	for (size_t i = 0; i < conf->trusted_key_count; i++) {
		err = trust_path_check(conf->trusted_keys[i], uid, 0, detail, sizeof(detail));
		if (err != 0) {
			errbuf_set(why, why_size, "%s: trusted_plugin_keys: %s", conf->path,
				   detail);
			return err;
		}
	}
	for (size_t i = 0; i < conf->key_scope_count; i++) {
		const struct conf_key_scope *scope = &conf->key_scopes[i];

		err = trust_path_check(scope->key, uid, 0, detail, sizeof(detail));
		if (err != 0) {
			errbuf_set(why, why_size, "%s:%d: plugin_key_scopes: %s", scope->file,
				   scope->line, detail);
			return err;
		}
	}
	for (size_t i = 0; i < conf->authority_count; i++) {
		const struct conf_authority *a = &conf->authorities[i];

		if (a->key == NULL)
			continue;
		err = trust_path_check(a->key, uid, 0, detail, sizeof(detail));
		if (err != 0) {
			errbuf_set(why, why_size, "%s:%d: authority '%s': key refused: %s",
				   a->file, a->line, a->id, detail);
			return err;
		}
	}
	if (conf->node_key != NULL) {
		err = trust_path_check(conf->node_key, uid, TRUST_PATH_PRIVATE, detail,
				       sizeof(detail));
		if (err != 0) {
			errbuf_set(why, why_size, "%s: node.key refused: %s", conf->path,
				   detail);
			return err;
		}
	}
	if (conf_uses_plugin_dir(conf)) {
		err = trust_path_check(conf->plugin_dir, uid, TRUST_PATH_DIRECTORY, detail,
				       sizeof(detail));
		if (err != 0) {
			errbuf_set(why, why_size, "%s: plugin_dir refused: %s", conf->path,
				   detail);
			return err;
		}
	}
	*service_uid = uid;
	return 0;
}
