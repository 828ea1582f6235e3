/* loader-internal.h -- loading a plugin: read the file once, verify its signature, copy
 * exactly the verified bytes into a sealed memfd, load that, check the descriptor. */
#ifndef QUORUM_LOADER_INTERNAL_H
#define QUORUM_LOADER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ltdl.h>
#include <openssl/sha.h>

#include <quorum/plugin.h>

#include "keys-internal.h"
#include "plugin-floor-internal.h"
#include "plugin-sig-internal.h"

#define PLUGIN_FILE_MAX (64u << 20) /* bound on a plugin's size */

/* The verified bytes of a plugin file, and what its signature states. */
struct plugin_image {
	char name[PLUGIN_NAME_MAX + 1];
	char *path;
	uint8_t *data;
	size_t len;
	uint8_t sha256[SHA256_DIGEST_LENGTH];
	char key_id[KEY_ID_HEX_LEN + 1];
	unsigned sig_format; /* 2, or 1 (legacy: the statement has the name only) */
	struct plugin_statement statement; /* format 2: what the descriptor must say */
};

/* What a plugin must satisfy besides being well-formed. */
struct plugin_policy {
	const struct keyring *trusted; /* the keys that may sign plugins */
	uid_t service_uid; /* the file, its .sig and their folders belong to root or it */
	int check_paths;   /* 1: trust_path_check on both (quorumd); 0: the signature only */
	int allow_legacy;  /* 1: accept format-1 signatures (allow_legacy_signatures) */
	const struct plugin_floors *floors; /* version floors (rollbacks), or NULL: none */
};

/*
 * plugin_image_read: reads PATH and PATH.sig once each (no symlink, regular file, not
 * writable by group or others; with POLICY->check_paths, StrictModes on both paths) and
 * verifies that the signature names plugin NAME, comes from a key in POLICY->trusted and
 * covers exactly the bytes read. Before any of the plugin's code runs, a format-2
 * statement must give KIND (0: any), an ABI this host loads and a version not below NAME's
 * floor in POLICY->floors; a format-1 signature is refused unless POLICY->allow_legacy.
 * RETURN VALUE: 0 with OUT filled (plugin_image_release), or -errno with WHY.
 */
int plugin_image_read(const char *path, const char *name, uint32_t kind,
		      const struct plugin_policy *policy, struct plugin_image *out, char *why,
		      size_t why_size);

/* plugin_image_release: frees the contents of IMAGE. */
void plugin_image_release(struct plugin_image *image);

/* Loaded code: the verified image, mapped. */
struct plugin_module {
	char name[PLUGIN_NAME_MAX + 1];
	uint8_t sha256[SHA256_DIGEST_LENGTH];
	char key_id[KEY_ID_HEX_LEN + 1];
	unsigned sig_format; /* the image's signature format */
	int fd; /* the memfd (or private copy) dlopen'd as /proc/self/fd/N; kept open until
		   after lt_dlclose (for good if the object stays loaded), as a reused fd
		   number would make ltdl and glibc return this object */
	int private_copy; /* 1 when the no-exec-memfd fallback was used */
	lt_dlhandle handle;
	const struct quorum_plugin *descriptor;
};

/* Test hooks; NULL in quorumd. */
struct loader_options {
	int force_private_copy; /* take the fallback for kernels forbidding exec memfds */
	void (*after_verify)(void *arg); /* runs between verification and loading */
	void *arg;
};

/* loader_init: initialises libltdl once per process. 0 or -EIO. */
int loader_init(void);

/* loader_exit: releases libltdl (after every module is unloaded). */
void loader_exit(void);

/*
 * plugin_module_load: loads IMAGE's verified bytes, checks that the object loaded is the
 * image (its descriptor mapped from the memfd, not from an object left loaded under the
 * same /proc/self/fd name), then checks the descriptor against the expected KIND and the
 * image's name, and against the signed statement (format 2): kind, role, version and ABI
 * must be the ones signed, else the code is unloaded again.
 * A format-1 image, whose version is known only now, is checked against POLICY->floors
 * here (POLICY may be NULL: no floors). OPTIONS may be NULL.
 * RETURN VALUE: 0 with *OUT (new; plugin_module_unload), or -errno with WHY.
 */
int plugin_module_load(const struct plugin_image *image, uint32_t kind,
		       const struct plugin_policy *policy, const struct loader_options *options,
		       struct plugin_module **out, char *why, size_t why_size);

/* plugin_module_unload: unloads and frees MODULE; NULL is a no-op. Call only after the
 * plugin's fini, once nothing can call into its code. When the code stays loaded anyway
 * (a plugin linked with -z nodelete), its memfd is kept open for good, so that the number
 * it was loaded by never names a later plugin (logged as plugin.unload.kept). */
void plugin_module_unload(struct plugin_module *module);

/*
 * plugin_descriptor_check: the ABI rules of plugin.h applied to D: magic, major equal,
 * minor not newer, size, kind, name, role, flags and reserved slots zero, required
 * callbacks and ops, and a well-formed settings schema.
 * RETURN VALUE: 0, or -EPROTO (ABI mismatch) / -EINVAL with WHY.
 */
int plugin_descriptor_check(const struct quorum_plugin *d, const char *expected_name,
			    uint32_t kind, char *why, size_t why_size);

/* plugin_load: plugin_image_read + plugin_module_load. */
int plugin_load(const char *path, const char *name, uint32_t kind,
		const struct plugin_policy *policy, const struct loader_options *options,
		struct plugin_module **out, char *why, size_t why_size);

/* plugin_kind_name: "stage" or "transport". */
const char *plugin_kind_name(uint32_t kind);

#endif /* QUORUM_LOADER_INTERNAL_H */
