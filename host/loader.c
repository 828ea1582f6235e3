/* loader.c -- plugin loading as the kernel's module signing does it: read once, verify
 * those bytes, load those bytes (a sealed memfd), then check the descriptor's ABI. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "loader-internal.h"
#include "log-internal.h"
#include "settings-internal.h"
#include "trustpath-internal.h"
#include "util-internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3; older kernels reject it with EINVAL */
#endif

static int loader_users;

int loader_init(void)
{
	if (loader_users++ > 0)
		return 0;
	if (lt_dlinit() != 0) {
		loader_users--;
		return -EIO;
	}
	return 0;
}

void loader_exit(void)
{
	if (loader_users > 0 && --loader_users == 0)
		lt_dlexit();
}

const char *plugin_kind_name(uint32_t kind)
{
	switch (kind) {
	case QUORUM_PLUGIN_STAGE:
		return "stage";
	case QUORUM_PLUGIN_TRANSPORT:
		return "transport";
	default:
		return "unknown";
	}
}

/* The ABI rule of plugin.h: major equal, minor not newer. -EPROTO with WHY otherwise. */
static int abi_check(uint16_t major, uint16_t minor, char *why, size_t why_size)
{
	if (major != QUORUM_ABI_MAJOR) {
		errbuf_set(why, why_size,
			   "plugin ABI %u.%u, host ABI %u.%u: the major versions differ", major,
			   minor, QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);
		return -EPROTO;
	}
	if (minor > QUORUM_ABI_MINOR) {
		errbuf_set(why, why_size, "plugin ABI %u.%u is newer than the host's ABI %u.%u",
			   major, minor, QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);
		return -EPROTO;
	}
	return 0;
}

/* What can be refused from the signature alone, before the plugin's code runs. */
static int image_statement_check(const struct plugin_image *image, uint32_t kind,
				 const struct plugin_policy *policy, char *why, size_t why_size)
{
	const struct plugin_statement *st = &image->statement;

	if (image->sig_format == 1) {
		if (policy->allow_legacy)
			return 0;
		errbuf_set(why, why_size,
			   "its signature has the legacy format 1, which binds neither kind, "
			   "role, version nor ABI: sign it again with this release's "
			   "quorum-sign, or set allow_legacy_signatures = true");
		return -EPERM;
	}
	if (kind != 0 && st->kind != kind) {
		errbuf_set(why, why_size, "plugin is a %s, configured as a %s",
			   plugin_kind_name(st->kind), plugin_kind_name(kind));
		return -EINVAL;
	}
	return abi_check(st->abi_major, st->abi_minor, why, why_size);
}

int plugin_image_read(const char *path, const char *name, uint32_t kind,
		      const struct plugin_policy *policy, struct plugin_image *out, char *why,
		      size_t why_size)
{
	char sig_path[PATH_MAX], detail[ERRBUF_SIZE];
	struct plugin_signature verified;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!plugin_name_valid(name)) {
		errbuf_set(why, why_size, "invalid plugin name '%s'", name);
		return -EINVAL;
	}
	if (snprintf(sig_path, sizeof(sig_path), "%s.sig", path) >= (int)sizeof(sig_path)) {
		errbuf_set(why, why_size, "plugin path too long: %s", path);
		return -ENAMETOOLONG;
	}
	err = policy->check_paths
		      ? trust_path_check(path, policy->service_uid, 0, detail, sizeof(detail))
		      : 0;
	if (err == 0)
		err = file_read_checked(path, PLUGIN_FILE_MAX, FILE_CHECK_NOT_GROUP_WRITABLE,
					&out->data, &out->len, detail, sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "plugin '%s' refused: %s", name, detail);
		return err;
	}
	err = policy->check_paths ? trust_path_check(sig_path, policy->service_uid, 0, detail,
						     sizeof(detail))
				  : 0;
	if (err == 0)
		err = file_read_checked(sig_path, PLUGIN_SIG_MAX, FILE_CHECK_NOT_GROUP_WRITABLE,
					&sig, &sig_len, detail, sizeof(detail));
	if (err == -ENOENT) {
		errbuf_set(why, why_size, "plugin '%s' refused: unsigned (no %s)", name,
			   sig_path);
		goto out_release;
	}
	if (err != 0) {
		errbuf_set(why, why_size, "plugin '%s' refused: %s", name, detail);
		goto out_release;
	}
	err = plugin_signature_verify(sig, sig_len, out->data, out->len, name, policy->trusted,
				      &verified, detail, sizeof(detail));
	free(sig);
	if (err != 0) {
		errbuf_set(why, why_size, "plugin '%s' refused: %s (%s)", name, detail,
			   sig_path);
		goto out_release;
	}
	memcpy(out->key_id, verified.key_id, sizeof(out->key_id));
	out->sig_format = verified.format;
	out->statement = verified.statement;
	err = image_statement_check(out, kind, policy, detail, sizeof(detail));
	if (err == 0 && out->sig_format == 2 && policy->floors != NULL)
		err = plugin_floor_check(policy->floors, name, out->statement.version, detail,
					 sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "plugin '%s' refused: %s (%s)", name, detail,
			   sig_path);
		goto out_release;
	}
	SHA256(out->data, out->len, out->sha256);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->path = strdup(path);
	if (out->path == NULL) {
		err = -ENOMEM;
		goto out_release;
	}
	return 0;
out_release:
	plugin_image_release(out);
	return err;
}

void plugin_image_release(struct plugin_image *image)
{
	free(image->data);
	free(image->path);
	memset(image, 0, sizeof(*image));
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* A sealed memfd holding exactly DATA: nobody, us included, can change it afterwards. */
static int image_memfd(const struct plugin_image *image, char *why, size_t why_size)
{
	char label[64];
	int fd, err;

	snprintf(label, sizeof(label), "quorum-plugin:%s", image->name);
	fd = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL) /* kernel older than 6.3: no MFD_EXEC, exec allowed */
		fd = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno; /* EACCES: vm.memfd_noexec=2 forbids executable memfds */
	err = write_all(fd, image->data, image->len);
	if (err == 0 && fcntl(fd, F_ADD_SEALS,
			      F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		err = -errno;
	if (err != 0) {
		errbuf_set(why, why_size, "cannot prepare a sealed memfd: %s", strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

/* Fallback where executable memfds are forbidden: a private copy in a 0700 folder that is
 * opened and then unlinked at once, so only this process holds it. */
static int image_private_copy(const struct plugin_image *image, char *why, size_t why_size)
{
	const char *base = getenv("RUNTIME_DIRECTORY");
	char dir[PATH_MAX], file[PATH_MAX + 16];
	int fd, err;

	if (base == NULL || base[0] == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (snprintf(dir, sizeof(dir), "%s/quorumd-plugin.XXXXXX", base) >= (int)sizeof(dir) ||
	    mkdtemp(dir) == NULL) {
		errbuf_set(why, why_size, "cannot create a private folder in %s: %s", base,
			   strerror(errno));
		return -EIO;
	}
	snprintf(file, sizeof(file), "%s/plugin.so", dir);
	err = file_write_new(file, image->data, image->len, 0500, 0, why, why_size);
	fd = err == 0 ? open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	if (err == 0 && fd < 0) {
		err = -errno;
		errbuf_set(why, why_size, "cannot reopen %s: %s", file, strerror(errno));
	}
	unlink(file);
	rmdir(dir);
	return err != 0 ? err : fd;
}

static int reserved_zero(void *const *slots, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (slots[i] != NULL)
			return 0;
	}
	return 1;
}

int plugin_descriptor_check(const struct quorum_plugin *d, const char *expected_name,
			    uint32_t kind, char *why, size_t why_size)
{
	char detail[ERRBUF_SIZE];

	if (d->magic != QUORUM_PLUGIN_MAGIC) {
		errbuf_set(why, why_size, "bad descriptor magic 0x%08x (expected 0x%08x)",
			   d->magic, QUORUM_PLUGIN_MAGIC);
		return -EPROTO;
	}
	if (abi_check(d->abi_major, d->abi_minor, why, why_size) != 0)
		return -EPROTO;
	if (d->size != sizeof(struct quorum_plugin)) {
		errbuf_set(why, why_size, "descriptor size %u, host expects %zu for ABI %u",
			   d->size, sizeof(struct quorum_plugin), QUORUM_ABI_MAJOR);
		return -EPROTO;
	}
	if (d->flags != 0 || !reserved_zero(d->reserved, ARRAY_SIZE(d->reserved))) {
		errbuf_set(why, why_size,
			   "descriptor uses flags or reserved slots unknown to ABI %u.%u",
			   QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);
		return -EPROTO;
	}
	if (d->name == NULL || strcmp(d->name, expected_name) != 0) {
		errbuf_set(why, why_size, "descriptor names plugin '%s', not '%s'",
			   d->name != NULL ? d->name : "(null)", expected_name);
		return -EINVAL;
	}
	if (d->version == NULL || d->version[0] == '\0') {
		errbuf_set(why, why_size, "descriptor has no version");
		return -EINVAL;
	}
	if (d->kind != kind) {
		errbuf_set(why, why_size, "plugin is a %s, configured as a %s",
			   plugin_kind_name(d->kind), plugin_kind_name(kind));
		return -EINVAL;
	}
	if (d->init == NULL || d->fini == NULL) {
		errbuf_set(why, why_size, "descriptor lacks init or fini");
		return -EINVAL;
	}
	if (kind == QUORUM_PLUGIN_STAGE) {
		const struct quorum_stage_ops *ops = d->ops;

		if (d->role < QUORUM_ROLE_PASSPORT || d->role > QUORUM_ROLE_CONTROL) {
			errbuf_set(why, why_size, "stage declares unknown role %u", d->role);
			return -EINVAL;
		}
		if (ops == NULL || ops->size != sizeof(*ops) || ops->process == NULL ||
		    !reserved_zero(ops->reserved, ARRAY_SIZE(ops->reserved))) {
			errbuf_set(why, why_size,
				   "stage ops missing, of the wrong size, without process, or "
				   "using reserved slots");
			return -EINVAL;
		}
		if (d->reload != NULL) {
			errbuf_set(why, why_size,
				   "stages cannot be reloaded, but the descriptor has reload");
			return -EINVAL;
		}
	} else {
		const struct quorum_transport_ops *ops = d->ops;

		if (d->role != QUORUM_ROLE_NONE) {
			errbuf_set(why, why_size, "a transport must have role none, not %u",
				   d->role);
			return -EINVAL;
		}
		if (ops != NULL && (ops->size != sizeof(*ops) ||
				    !reserved_zero(ops->reserved, ARRAY_SIZE(ops->reserved)))) {
			errbuf_set(why, why_size,
				   "transport ops of the wrong size or using reserved slots");
			return -EINVAL;
		}
	}
	if (settings_schema_check(d->settings, detail, sizeof(detail)) != 0) {
		errbuf_set(why, why_size, "bad settings schema: %s", detail);
		return -EINVAL;
	}
	/* What ABI 1.12 carved out of reserved slots must still be NULL in an older plugin. */
	if (d->abi_minor < 12 &&
	    (d->settings_size != 0 || settings_schema_bound(d->settings))) {
		errbuf_set(why, why_size,
			   "descriptor uses flags or reserved slots unknown to ABI %u.%u",
			   d->abi_major, d->abi_minor);
		return -EPROTO;
	}
	if (settings_bindings_check(d->settings, d->settings_size, detail, sizeof(detail)) !=
	    0) {
		errbuf_set(why, why_size, "bad settings schema: %s", detail);
		return -EINVAL;
	}
	return 0;
}

/* The loaded descriptor D must say what was signed: the same kind, role, version and ABI
 * (its name was checked against the signed one already). */
static int descriptor_matches_statement(const struct quorum_plugin *d,
					const struct plugin_statement *st, char *why,
					size_t why_size)
{
	if (d->kind != st->kind || d->role != st->role) {
		errbuf_set(why, why_size,
			   "the descriptor says %s of role %s, the signature %s of role %s",
			   plugin_kind_name(d->kind), quorum_role_name(d->role),
			   plugin_kind_name(st->kind), quorum_role_name(st->role));
		return -EBADMSG;
	}
	if (strcmp(d->version, st->version) != 0) {
		errbuf_set(why, why_size,
			   "the descriptor says version %.40s, the signature version %s",
			   d->version, st->version);
		return -EBADMSG;
	}
	if (d->abi_major != st->abi_major || d->abi_minor != st->abi_minor) {
		errbuf_set(why, why_size,
			   "the descriptor says ABI %u.%u, the signature ABI %u.%u",
			   d->abi_major, d->abi_minor, st->abi_major, st->abi_minor);
		return -EBADMSG;
	}
	return 0;
}

/* Device and inode of the file mapped at ADDR in this process, from /proc/self/maps. */
static int mapping_identity(const void *addr, dev_t *dev, ino_t *ino)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;

	if (maps == NULL)
		return -errno;
	while (getline(&line, &cap, maps) > 0) {
		unsigned long start, end, inode;
		unsigned dev_major, dev_minor;

		if (sscanf(line, "%lx-%lx %*s %*x %x:%x %lu", &start, &end, &dev_major,
			   &dev_minor, &inode) != 5)
			continue;
		if ((uintptr_t)addr >= start && (uintptr_t)addr < end) {
			*dev = makedev(dev_major, dev_minor);
			*ino = (ino_t)inode;
			err = 0;
			break;
		}
	}
	free(line);
	fclose(maps);
	return err;
}

/*
 * The object dlopen answered with must be the verified image in MODULE->fd. glibc (and ltdl)
 * answer a name already loaded with the object loaded under it: a plugin linked with
 * -z nodelete outlives its dlclose as "/proc/self/fd/N", and a later image in a memfd that
 * reused N would run the old code. Its descriptor must lie in a mapping of our file.
 */
static int module_is_image(const struct plugin_module *module, const char *proc_path, char *why,
			   size_t why_size)
{
	struct stat st;
	dev_t dev = 0;
	ino_t ino = 0;

	if (fstat(module->fd, &st) != 0 ||
	    mapping_identity(module->descriptor, &dev, &ino) != 0) {
		errbuf_set(why, why_size,
			   "cannot tell which file its descriptor is mapped from");
		return -ENOEXEC;
	}
	if (dev != st.st_dev || ino != st.st_ino) {
		errbuf_set(why, why_size,
			   "the object loaded as %s is not the verified image (its descriptor "
			   "lies "
			   "in device %u:%u inode %lu, the image is inode %lu): an object left "
			   "loaded under that name (linked with -z nodelete?)",
			   proc_path, major(dev), minor(dev), (unsigned long)ino,
			   (unsigned long)st.st_ino);
		return -ENOEXEC;
	}
	return 0;
}

int plugin_module_load(const struct plugin_image *image, uint32_t kind,
		       const struct plugin_policy *policy, const struct loader_options *options,
		       struct plugin_module **out, char *why, size_t why_size)
{
	struct plugin_module *module;
	char proc_path[64], detail[ERRBUF_SIZE] = "";
	lt_dladvise advise;
	int err;

	if (options != NULL && options->after_verify != NULL)
		options->after_verify(options->arg);
	module = calloc(1, sizeof(*module));
	if (module == NULL)
		return -ENOMEM;
	module->fd = -1;
	memcpy(module->name, image->name, sizeof(module->name));
	memcpy(module->sha256, image->sha256, sizeof(module->sha256));
	memcpy(module->key_id, image->key_id, sizeof(module->key_id));
	module->sig_format = image->sig_format;

	err = options != NULL && options->force_private_copy
		      ? -EACCES
		      : image_memfd(image, detail, sizeof(detail));
	if (err == -EACCES) {
		module->private_copy = 1;
		err = image_private_copy(image, detail, sizeof(detail));
	}
	if (err < 0) {
		errbuf_set(why, why_size, "plugin '%s' not loaded: %s", image->name,
			   detail[0] ? detail : strerror(-err));
		goto out_free;
	}
	module->fd = err;
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", module->fd);

	if (lt_dladvise_init(&advise) != 0 || lt_dladvise_local(&advise) != 0) {
		err = -ENOMEM;
		errbuf_set(why, why_size, "plugin '%s' not loaded: ltdl advise failed",
			   image->name);
		goto out_free;
	}
	module->handle = lt_dlopenadvise(proc_path, advise);
	lt_dladvise_destroy(&advise);
	if (module->handle == NULL) {
		err = -ENOEXEC;
		errbuf_set(why, why_size, "plugin '%s' not loaded: %s", image->name,
			   lt_dlerror());
		goto out_free;
	}
	module->descriptor = lt_dlsym(module->handle, QUORUM_PLUGIN_SYMBOL);
	if (module->descriptor == NULL) {
		err = -ENOEXEC;
		errbuf_set(why, why_size, "plugin '%s' refused: it exports no '%s' symbol",
			   image->name, QUORUM_PLUGIN_SYMBOL);
		goto out_free;
	}
	err = module_is_image(module, proc_path, detail, sizeof(detail));
	if (err == 0)
		err = plugin_descriptor_check(module->descriptor, image->name, kind, detail,
					      sizeof(detail));
	if (err == 0 && image->sig_format == 2)
		err = descriptor_matches_statement(module->descriptor, &image->statement,
						   detail, sizeof(detail));
	if (err == 0 && image->sig_format == 1 && policy != NULL && policy->floors != NULL)
		err = plugin_floor_check(policy->floors, image->name,
					 module->descriptor->version, detail, sizeof(detail));
	if (err != 0) {
		errbuf_set(why, why_size, "plugin '%s' refused: %s", image->name, detail);
		goto out_free;
	}
	*out = module;
	return 0;
out_free:
	plugin_module_unload(module);
	return err;
}

/* Whether an object is still loaded under the name "/proc/self/fd/FD" (after dlclose). */
static int object_still_loaded(int fd)
{
	char proc_path[64];
	void *handle;

	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	handle = dlopen(proc_path, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
	if (handle == NULL)
		return 0;
	dlclose(handle);
	return 1;
}

void plugin_module_unload(struct plugin_module *module)
{
	int kept = 0;

	if (module == NULL)
		return;
	if (module->handle != NULL) {
		lt_dlclose(module->handle);
		kept = module->fd >= 0 && object_still_loaded(module->fd);
	}
	/* An object that could not be unloaded (-z nodelete) keeps its name, so its number must
	 * never name another image: the descriptor stays open for the process's life, as the
	 * object's mapping does anyway. */
	if (kept)
		log_msg(QUORUM_LOG_WARNING, "host",
			"plugin.unload.kept name=%s fd=%d reason=still_loaded", module->name,
			module->fd);
	else if (module->fd >= 0)
		close(module->fd);
	free(module);
}

int plugin_load(const char *path, const char *name, uint32_t kind,
		const struct plugin_policy *policy, const struct loader_options *options,
		struct plugin_module **out, char *why, size_t why_size)
{
	struct plugin_image image;
	int err;

	err = plugin_image_read(path, name, kind, policy, &image, why, why_size);
	if (err != 0)
		return err;
	err = plugin_module_load(&image, kind, policy, options, out, why, why_size);
	plugin_image_release(&image);
	return err;
}
