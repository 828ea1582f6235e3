/* quorum-sign.c -- signs a plugin: writes NAME.so.sig, an Ed25519 signature over the plugin's
 * name and the SHA-256 of the file (see host/plugin-sig-internal.h); also verifies one. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys-internal.h"
#include "loader-internal.h"
#include "plugin-sig-internal.h"
#include "util-internal.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: quorum-sign --key KEY.key [--name NAME] [--output FILE.sig] PLUGIN.so\n"
		"       quorum-sign --verify --trust KEY.pub [--trust ...] [--name NAME] "
		"PLUGIN.so\n"
		"Signs PLUGIN.so as plugin NAME (default: the file name without .so), writing\n"
		"PLUGIN.so.sig, or checks such a signature the way quorumd does.\n"
		"\n"
		"  -k, --key FILE      Ed25519 private key (PEM, from quorum-keygen)\n"
		"  -n, --name NAME     plugin name, [a-z][a-z0-9_-]{0,31}\n"
		"  -o, --output FILE   where to write the signature (default PLUGIN.so.sig)\n"
		"  -v, --verify        verify instead of signing\n"
		"  -t, --trust FILE    a trusted public key for --verify (repeatable)\n"
		"  -h, --help          show this help\n");
}

/* The default plugin name: the file's base name without ".so". */
static int default_name(const char *path, char *out, size_t size)
{
	char copy[PATH_MAX], *base, *dot;

	snprintf(copy, sizeof(copy), "%s", path);
	base = basename(copy);
	dot = strstr(base, ".so");
	if (dot != NULL && dot[3] == '\0')
		*dot = '\0';
	if (snprintf(out, size, "%s", base) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static int sign(const char *plugin, const char *name, const char *key_path, const char *output)
{
	char sig_path[PATH_MAX], why[ERRBUF_SIZE], *text = NULL;
	uint8_t *data = NULL;
	size_t len, text_len;
	EVP_PKEY *key = NULL;
	int status = 1;

	if (output == NULL) {
		if (snprintf(sig_path, sizeof(sig_path), "%s.sig", plugin) >=
		    (int)sizeof(sig_path)) {
			fprintf(stderr, "quorum-sign: %s: name too long\n", plugin);
			return 1;
		}
		output = sig_path;
	}
	if (key_load_private(key_path, &key, why, sizeof(why)) != 0 ||
	    file_read_checked(plugin, PLUGIN_FILE_MAX, 0, &data, &len, why, sizeof(why)) != 0 ||
	    plugin_signature_create(key, name, data, len, &text, &text_len, why, sizeof(why)) !=
		    0 ||
	    file_write_new(output, text, text_len, 0644, 1, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorum-sign: %s\n", why);
		goto out_free;
	}
	status = 0;
out_free:
	free(text);
	free(data);
	EVP_PKEY_free(key);
	return status;
}

static int verify(const char *plugin, const char *name, char **trust, int trust_count)
{
	struct keyring ring = { 0 };
	/* The signature only: owner and mode are the deployment's, checked by quorumd. */
	struct plugin_policy policy = { .trusted = &ring, .check_paths = 0 };
	struct plugin_image image;
	char why[ERRBUF_SIZE];
	int status = 1;

	for (int i = 0; i < trust_count; i++) {
		if (keyring_add_file(&ring, trust[i], why, sizeof(why)) != 0) {
			fprintf(stderr, "quorum-sign: %s\n", why);
			goto out_release;
		}
	}
	if (plugin_image_read(plugin, name, &policy, &image, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorum-sign: %s\n", why);
		goto out_release;
	}
	printf("ok plugin %s signed by key %s\n", name, image.key_id);
	plugin_image_release(&image);
	status = 0;
out_release:
	keyring_release(&ring);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "verify", no_argument, NULL, 'v' },
		{ "trust", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *name = NULL, *output = NULL;
	char *trust[16], name_buf[PLUGIN_NAME_MAX + 8];
	int do_verify = 0, trust_count = 0, opt;

	while ((opt = getopt_long(argc, argv, "k:n:o:vt:h", options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'v':
			do_verify = 1;
			break;
		case 't':
			if (trust_count == (int)ARRAY_SIZE(trust)) {
				fprintf(stderr, "quorum-sign: at most %zu --trust keys\n",
					ARRAY_SIZE(trust));
				return 2;
			}
			trust[trust_count++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || (do_verify ? trust_count == 0 : key == NULL)) {
		usage(stderr);
		return 2;
	}
	if (name == NULL) {
		if (default_name(argv[optind], name_buf, sizeof(name_buf)) != 0) {
			fprintf(stderr,
				"quorum-sign: cannot derive a plugin name; use --name\n");
			return 2;
		}
		name = name_buf;
	}
	if (!plugin_name_valid(name)) {
		fprintf(stderr,
			"quorum-sign: invalid plugin name '%s' (want [a-z][a-z0-9_-]{0,31})\n",
			name);
		return 2;
	}
	return do_verify ? verify(argv[optind], name, trust, trust_count)
			 : sign(argv[optind], name, key, output);
}
