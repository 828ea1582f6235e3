/* plugin-floor-internal.h -- rollback protection: per plugin name, the highest version this
 * node has loaded; a lower one is refused until the operator lowers the floor. */
#ifndef QUORUM_PLUGIN_FLOOR_INTERNAL_H
#define QUORUM_PLUGIN_FLOOR_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "plugin-sig-internal.h"

#define PLUGIN_FLOORS_DIR "plugin-floors" /* under node.state_dir */
#define PLUGIN_FLOORS_MAX 256		  /* plugin names remembered without a state folder */

/*
 * The floors. With a state folder each is the file STATE_DIR/plugin-floors/NAME holding
 * "VERSION\n", replaced atomically (temporary file, fsync, rename, fsync of the folder), and
 * read again at every check, so a floor the operator lowers applies at the next load.
 * Without one they live in memory and last as long as the process.
 */
struct plugin_floors {
	char *dir;   /* STATE_DIR/plugin-floors, or NULL: in memory */
	uid_t owner; /* the service user: owns what is written, so it can write after */
	gid_t group; /* the privilege drop */
	size_t count;
	struct plugin_floor {
		char name[PLUGIN_NAME_MAX + 1];
		char version[PLUGIN_VERSION_MAX + 1];
	} * memory; /* without a folder: PLUGIN_FLOORS_MAX entries */
};

/*
 * plugin_floors_open: the floors of the node whose state folder is STATE_DIR (NULL: in
 * memory). With CREATE, the folders are created (0700; the floors folder given to
 * SERVICE_UID/SERVICE_GID when quorumd runs as root); without it a missing folder holds no
 * floor. The folder must pass trust_path_check for SERVICE_UID.
 * RETURN VALUE: 0 with FLOORS filled (plugin_floors_release), or -errno with WHY.
 */
int plugin_floors_open(struct plugin_floors *floors, const char *state_dir, int create,
		       uid_t service_uid, gid_t service_gid, char *why, size_t why_size);

/* plugin_floors_release: frees the contents of FLOORS. */
void plugin_floors_release(struct plugin_floors *floors);

/*
 * plugin_floor_get: NAME's floor into VERSION (PLUGIN_VERSION_MAX + 1 bytes).
 * RETURN VALUE: 0, -ENOENT when there is none, or -errno with WHY (a floor file that cannot
 * be read, is not the service user's or root's, or holds no valid version).
 */
int plugin_floor_get(const struct plugin_floors *floors, const char *name, char *version,
		     char *why, size_t why_size);

/*
 * plugin_floor_check: whether VERSION of plugin NAME may be loaded: it must be a valid
 * version (plugin_version_parse) not older than NAME's floor.
 * RETURN VALUE: 0, -ESTALE for a rollback (WHY names both versions and how to lower the
 * floor), -EINVAL for an invalid version, or another -errno from plugin_floor_get.
 */
int plugin_floor_check(const struct plugin_floors *floors, const char *name,
		       const char *version, char *why, size_t why_size);

/* plugin_floor_raise: NAME was loaded at VERSION: raises its floor to it when higher (or
 * absent). RETURN VALUE: 1 raised, 0 unchanged, or -errno with WHY (nothing changed). */
int plugin_floor_raise(struct plugin_floors *floors, const char *name, const char *version,
		       char *why, size_t why_size);

/* plugin_floor_set: the operator's command: sets NAME's floor to VERSION, lower or higher;
 * *PREVIOUS (PLUGIN_VERSION_MAX + 1 bytes) receives the old one ("" when none).
 * RETURN VALUE: 0, or -errno with WHY. */
int plugin_floor_set(struct plugin_floors *floors, const char *name, const char *version,
		     char *previous, char *why, size_t why_size);

#endif /* QUORUM_PLUGIN_FLOOR_INTERNAL_H */
