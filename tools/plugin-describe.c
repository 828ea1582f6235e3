/* plugin-describe.c -- reads a plugin build's descriptor for the statement quorum-sign
 * signs: the plugin says what it is, the signer vouches for it. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/plugin.h>

#include "plugin-describe.h"
#include "util-internal.h"

/* Copies the descriptor string TEXT into OUT (SIZE bytes). 0, or -EINVAL when absent or
 * too long. */
static int copy_field(const char *text, char *out, size_t size)
{
	size_t len = text != NULL ? strnlen(text, size) : size;

	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(out, text, len + 1);
	return 0;
}

int plugin_describe(const char *path, struct plugin_statement *out, char *why, size_t why_size)
{
	const struct quorum_plugin *d;
	char absolute[PATH_MAX];
	void *handle;
	int err = 0;

	memset(out, 0, sizeof(*out));
	/* dlopen searches the library path for a name without a slash: give it the file. */
	if (realpath(path, absolute) == NULL) {
		err = -errno;
		errbuf_set(why, why_size, "cannot resolve %s: %s", path, strerror(errno));
		return err;
	}
	handle = dlopen(absolute, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		errbuf_set(why, why_size,
			   "cannot load %s to read its descriptor (%s); give --kind, --role, "
			   "--version and --abi instead",
			   path, dlerror());
		return -ENOEXEC;
	}
	d = dlsym(handle, QUORUM_PLUGIN_SYMBOL);
	if (d == NULL || d->magic != QUORUM_PLUGIN_MAGIC) {
		errbuf_set(why, why_size, "%s is not a Quorum Time plugin (%s)", path,
			   d == NULL ? "no " QUORUM_PLUGIN_SYMBOL " symbol"
				     : "bad descriptor magic");
		err = -ENOEXEC;
		goto out_close;
	}
	if (copy_field(d->name, out->name, sizeof(out->name)) != 0 ||
	    copy_field(d->version, out->version, sizeof(out->version)) != 0) {
		errbuf_set(why, why_size,
			   "%s: its descriptor's name or version is missing or too long", path);
		err = -EINVAL;
		goto out_close;
	}
	out->kind = d->kind;
	out->role = d->role;
	out->abi_major = d->abi_major;
	out->abi_minor = d->abi_minor;
out_close:
	dlclose(handle);
	return err;
}
