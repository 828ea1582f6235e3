/* conf-internal.h -- quorum.conf: parsed with libconfig, checked strictly against the host's
 * schema, and turned into typed, reference-counted structs. Plugin settings groups are
 * kept as libconfig settings here and checked later against each plugin's own schema. */
#ifndef QUORUM_CONF_INTERNAL_H
#define QUORUM_CONF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <libconfig.h>

#include "log-internal.h"

/* One entry of the `stages` or `transports` list. */
struct conf_plugin {
	const char *name; /* borrowed from the libconfig tree */
	char *path;	  /* absolute path of the .so; the signature is PATH.sig */
	uint32_t kind;	  /* QUORUM_PLUGIN_STAGE or QUORUM_PLUGIN_TRANSPORT */
	const config_setting_t *settings; /* the plugin's group, or NULL when absent */
	char *settings_text;		  /* settings_canonical(settings) */
	char *file;			  /* absolute name of the file the entry is in */
	int line;
};

/* One entry of the `authorities` list: a source this node asks for the time. */
struct conf_authority {
	const char *id;	     /* borrowed from the libconfig tree */
	uint32_t type;	     /* QUORUM_AUTHORITY_QUORUMD or QUORUM_AUTHORITY_NTP */
	const char *address; /* numeric IPv4 or IPv6 */
	uint16_t port;
	char *key; /* absolute path of its Ed25519 public key (quorumd only), else NULL */
	char *file;
	int line;
};

#define CONF_INCLUDES_MAX 64 /* @include files, all levels together */

struct conf {
	unsigned refs;
	config_t cfg;
	char *path;	 /* absolute path of quorum.conf */
	char *dir;	 /* its folder: relative file names are resolved against it */
	char **includes; /* the files it @includes (absolute, as libconfig reads them) */
	size_t include_count;

	const char *node_id;
	char *node_key;	 /* absolute path of the node's private key, or NULL */
	char *state_dir; /* absolute path of the node's state folder, or NULL */

	/* The time core; all of it is off when there is no peer_link. */
	int has_peer_link;
	const char *peer_address;
	uint16_t peer_port;
	int64_t authority_radius_ns; /* what this node claims as its clock's uncertainty */
	int authority_kernel_status; /* also ask the kernel (adjtimex) whether it is synced */
	int64_t authority_rate;	     /* answers per second to all others together, at most */
	int64_t authority_rate_per_source;    /* ... to one address of the others */
	int64_t authority_rate_per_authority; /* ... to each configured authority */
	int64_t round_interval_ms;
	int64_t round_timeout_ms;
	char *clock_shm; /* absolute path of the shared-memory clock page */
	int64_t clock_max_drift_ppm;
	int64_t clock_max_error_ns;
	int64_t clock_slew_ppm;
	struct conf_authority *authorities;
	size_t authority_count;
	char *time_text; /* canonical text of every time-core setting (reload compatibility) */

	enum log_destination log_destination;
	int log_level;
	int64_t refusal_summary_s; /* interval of the refusal summaries */
	char *pidfile;		   /* absolute, or NULL */
	char *user;		   /* the user to become once started, or NULL */
	char *plugin_dir;
	int64_t drain_timeout_ms;

	char **trusted_keys; /* absolute paths of the trusted plugin public keys */
	size_t trusted_key_count;
	int allow_legacy_signatures; /* accept format-1 plugin signatures (default no) */
	struct conf_key_scope {
		char *key;	    /* absolute path of a key also in trusted_plugin_keys */
		const char **names; /* the only plugin names it may sign (borrowed strings) */
		size_t name_count;
		char *file;
		int line;
	} * key_scopes; /* plugin_key_scopes */
	size_t key_scope_count;

	struct conf_plugin *stages; /* enabled stages, in the order written */
	size_t stage_count;
	struct conf_plugin *transports; /* enabled transports, in the order written */
	size_t transport_count;
};

/*
 * conf_load: reads and checks PATH. DEFAULT_PLUGIN_DIR is used when plugin_dir is not set.
 * RETURN VALUE: 0 with *OUT a new reference (conf_unref), or -errno with WHY as
 * "file:line: what is wrong".
 */
int conf_load(const char *path, const char *default_plugin_dir, struct conf **out, char *why,
	      size_t why_size);

/*
 * conf_check_trust: StrictModes (trust_path_check) on the trust material CONF names:
 * quorum.conf and every @include, the trusted plugin keys, the authorities' keys, node.key
 * (private) and plugin_dir (when a configured plugin lies in it). Plugin files and their
 * signatures are checked by the loader. The service user is the `user` setting's, else
 * the effective user.
 * RETURN VALUE: 0 with *SERVICE_UID, or -errno with WHY naming the setting and the path.
 */
int conf_check_trust(const struct conf *conf, uid_t *service_uid, char *why, size_t why_size);

/* conf_ref: takes another reference to CONF; returns CONF. */
struct conf *conf_ref(struct conf *conf);

/* conf_unref: drops a reference; frees on the last. NULL is a no-op. */
void conf_unref(struct conf *conf);

/* conf_find_transport: the enabled transport named NAME, borrowed, or NULL. */
const struct conf_plugin *conf_find_transport(const struct conf *conf, const char *name);

/* conf_resolve: NAME resolved against DIR into OUT (SIZE bytes). 0 or -ENAMETOOLONG. */
int conf_resolve(const char *dir, const char *name, char *out, size_t size);

/*
 * conf_reload_compatible: whether NEXT may replace CUR on SIGHUP, where only transports, the
 * log level and trusted keys may change (not the node, the stages or the time core). RETURN
 * VALUE: 0, or -EBUSY with WHY naming the first setting that needs a restart.
 */
int conf_reload_compatible(const struct conf *cur, const struct conf *next, char *why,
			   size_t why_size);

#endif /* QUORUM_CONF_INTERNAL_H */
