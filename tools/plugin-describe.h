/* plugin-describe.h -- the signer's side of a format-2 signature: what a plugin build is
 * (name, kind, role, version, ABI), read from its own descriptor. Never used by quorumd. */
#ifndef QUORUM_PLUGIN_DESCRIBE_H
#define QUORUM_PLUGIN_DESCRIBE_H

#include <stddef.h>

#include "plugin-sig-internal.h"

/*
 * plugin_describe: loads the plugin at PATH with dlopen (so its constructors run: do this
 * only with a build you are about to sign), reads the identity fields of its descriptor,
 * which come first in every ABI, and unloads it.
 * RETURN VALUE: 0 with OUT filled, or -errno with WHY (-ENOEXEC: not loadable here, no
 * descriptor, or not a Quorum Time plugin; -EINVAL: a name or version that cannot be
 * signed).
 */
int plugin_describe(const char *path, struct plugin_statement *out, char *why, size_t why_size);

#endif /* QUORUM_PLUGIN_DESCRIBE_H */
