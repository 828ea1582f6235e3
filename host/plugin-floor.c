/* plugin-floor.c -- per plugin name, the highest version this node has loaded, kept in
 * node.state_dir (or in memory without one): older versions are rollbacks and refused. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin-floor-internal.h"
#include "statefile.h"
#include "trustpath-internal.h"
#include "util-internal.h"

#define FLOOR_FILE_MAX (PLUGIN_VERSION_MAX + 1) /* "VERSION\n" */

int plugin_floors_open(struct plugin_floors *floors, const char *state_dir, int create,
		       uid_t service_uid, gid_t service_gid, char *why, size_t why_size)
{
	char dir[PATH_MAX], detail[ERRBUF_SIZE];
	struct stat st;
	int err;

	memset(floors, 0, sizeof(*floors));
	floors->owner = service_uid;
	floors->group = service_gid;
	if (state_dir == NULL) {
		floors->memory = calloc(PLUGIN_FLOORS_MAX, sizeof(*floors->memory));
		return floors->memory != NULL ? 0 : -ENOMEM;
	}
	if (statefile_join(dir, sizeof(dir), state_dir, PLUGIN_FLOORS_DIR) != 0) {
		errbuf_set(why, why_size, "state folder name too long: %s", state_dir);
		return -ENAMETOOLONG;
	}
	floors->dir = strdup(dir);
	if (floors->dir == NULL)
		return -ENOMEM;
	if (!create && stat(dir, &st) != 0 && errno == ENOENT)
		return 0; /* nothing loaded yet with this state folder: no floor */
	if (create) {
		err = statefile_mkdir(state_dir, detail, sizeof(detail));
		if (err == 0)
			err = statefile_mkdir(dir, detail, sizeof(detail));
		/* Started as root: the service user must still write it after the drop. */
		if (err == 0 && geteuid() == 0 && stat(dir, &st) == 0 &&
		    st.st_uid != service_uid && chown(dir, service_uid, service_gid) != 0) {
			err = -errno;
			errbuf_set(detail, sizeof(detail), "cannot give %s to uid %u: %s", dir,
				   (unsigned)service_uid, strerror(errno));
		}
		if (err != 0) {
			errbuf_set(why, why_size, "plugin version floors: %s", detail);
			goto out_release;
		}
	}
	err = trust_path_check(dir, service_uid, TRUST_PATH_DIRECTORY, detail, sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "plugin version floors refused: %s", detail);
		goto out_release;
	}
	return 0;
out_release:
	plugin_floors_release(floors);
	return err;
}

void plugin_floors_release(struct plugin_floors *floors)
{
	free(floors->dir);
	free(floors->memory);
	memset(floors, 0, sizeof(*floors));
}

static struct plugin_floor *floor_in_memory(const struct plugin_floors *floors,
					    const char *name)
{
	for (size_t i = 0; i < floors->count; i++) {
		if (strcmp(floors->memory[i].name, name) == 0)
			return &floors->memory[i];
	}
	return NULL;
}

int plugin_floor_get(const struct plugin_floors *floors, const char *name, char *version,
		     char *why, size_t why_size)
{
	char path[PATH_MAX], detail[ERRBUF_SIZE];
	uint8_t *data;
	size_t len;
	int err, valid;

	if (floors->dir == NULL) {
		const struct plugin_floor *floor = floor_in_memory(floors, name);

		if (floor == NULL)
			return -ENOENT;
		memcpy(version, floor->version, sizeof(floor->version));
		return 0;
	}
	if (statefile_join(path, sizeof(path), floors->dir, name) != 0)
		return -ENAMETOOLONG;
	err = file_read_checked(path, FLOOR_FILE_MAX, FILE_CHECK_NOT_GROUP_WRITABLE, &data,
				&len, detail, sizeof(detail));
	if (err == -ENOENT)
		return err;
	if (err != 0) {
		errbuf_set(why, why_size, "version floor of '%s': %s", name, detail);
		return err;
	}
	valid = len >= 2 && data[len - 1] == '\n' && memchr(data, '\n', len - 1) == NULL;
	if (valid) {
		data[len - 1] = '\0';
		valid = plugin_version_parse((const char *)data, NULL) == 0;
	}
	if (!valid) {
		errbuf_set(why, why_size,
			   "version floor file %s holds no version: set it again with quorumd "
			   "--set-plugin-floor %s=VERSION",
			   path, name);
		free(data);
		return -EINVAL;
	}
	memcpy(version, data, len); /* with its NUL, at most PLUGIN_VERSION_MAX + 1 bytes */
	free(data);
	return 0;
}

int plugin_floor_check(const struct plugin_floors *floors, const char *name,
		       const char *version, char *why, size_t why_size)
{
	struct plugin_version wanted, floor;
	char floor_text[PLUGIN_VERSION_MAX + 1];
	int err;

	if (plugin_version_parse(version, &wanted) != 0) {
		errbuf_set(
			why, why_size,
			"version '%.40s' is not dotted decimal numbers: it cannot be ordered "
			"against the version floor",
			version);
		return -EINVAL;
	}
	err = plugin_floor_get(floors, name, floor_text, why, why_size);
	if (err == -ENOENT)
		return 0;
	if (err != 0)
		return err;
	plugin_version_parse(floor_text, &floor); /* valid: plugin_floor_get checked it */
	if (plugin_version_compare(&wanted, &floor) >= 0)
		return 0;
	errbuf_set(why, why_size,
		   "version %s is older than %s, the highest version of '%s' this node has "
		   "loaded (a rollback); to allow it, lower the floor: quorumd --config ... "
		   "--set-plugin-floor %s=%s",
		   version, floor_text, name, name, version);
	return -ESTALE;
}

/* Records VERSION as NAME's floor. */
static int floor_write(struct plugin_floors *floors, const char *name, const char *version,
		       char *why, size_t why_size)
{
	char text[PLUGIN_VERSION_MAX + 2], path[PATH_MAX];
	int n, err;

	if (floors->dir == NULL) {
		struct plugin_floor *floor = floor_in_memory(floors, name);

		if (floor == NULL && floors->count == PLUGIN_FLOORS_MAX) {
			errbuf_set(why, why_size, "more than %d plugin names to remember",
				   PLUGIN_FLOORS_MAX);
			return -ENOSPC;
		}
		if (floor == NULL) {
			floor = &floors->memory[floors->count++];
			snprintf(floor->name, sizeof(floor->name), "%s", name);
		}
		snprintf(floor->version, sizeof(floor->version), "%s", version);
		return 0;
	}
	n = snprintf(text, sizeof(text), "%s\n", version);
	err = statefile_write_atomic(floors->dir, name, text, (size_t)n, why, why_size);
	if (err != 0 || geteuid() != 0 || floors->owner == 0)
		return err;
	/* Written by root: the service user must read and replace it after the drop. */
	statefile_join(path, sizeof(path), floors->dir, name);
	if (chown(path, floors->owner, floors->group) != 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot give %s to uid %u: %s", path,
			   (unsigned)floors->owner, strerror(errno));
	}
	return err;
}

int plugin_floor_raise(struct plugin_floors *floors, const char *name, const char *version,
		       char *why, size_t why_size)
{
	struct plugin_version loaded, floor;
	char current[PLUGIN_VERSION_MAX + 1];
	int err;

	if (plugin_version_parse(version, &loaded) != 0) {
		errbuf_set(why, why_size,
			   "version '%.40s' of '%s' is not dotted decimal numbers", version,
			   name);
		return -EINVAL;
	}
	err = plugin_floor_get(floors, name, current, why, why_size);
	if (err == 0) {
		plugin_version_parse(current, &floor);
		if (plugin_version_compare(&loaded, &floor) <= 0)
			return 0;
	} else if (err != -ENOENT) {
		return err;
	}
	err = floor_write(floors, name, version, why, why_size);
	return err != 0 ? err : 1;
}

int plugin_floor_set(struct plugin_floors *floors, const char *name, const char *version,
		     char *previous, char *why, size_t why_size)
{
	int err;

	if (!plugin_name_valid(name)) {
		errbuf_set(why, why_size, "invalid plugin name '%s'", name);
		return -EINVAL;
	}
	if (plugin_version_parse(version, NULL) != 0) {
		errbuf_set(why, why_size, "version '%s' is not 1 to %d dotted decimal numbers",
			   version, PLUGIN_VERSION_PARTS);
		return -EINVAL;
	}
	err = plugin_floor_get(floors, name, previous, why, why_size);
	if (err == -ENOENT || err == -EINVAL) /* none, or one to repair */
		previous[0] = '\0';
	else if (err != 0)
		return err;
	return floor_write(floors, name, version, why, why_size);
}
