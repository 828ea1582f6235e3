/* quorum-sign.c -- signs a plugin: writes NAME.so.sig, an Ed25519 signature over what the
 * plugin is (name, kind, role, version, ABI) and the SHA-256 of the file (see
 * host/plugin-sig-internal.h); also verifies one. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/plugin.h>

#include "keys-internal.h"
#include "loader-internal.h"
#include "plugin-describe.h"
#include "plugin-sig-internal.h"
#include "util-internal.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: quorum-sign --key KEY.key [--name NAME] [--output FILE.sig]\n"
		"                   [--kind KIND --role ROLE --version VERSION --abi M.N]\n"
		"                   [--format 2|1] PLUGIN.so\n"
		"       quorum-sign --verify --trust KEY.pub [--trust ...] [--name NAME]\n"
		"                   [--allow-legacy] PLUGIN.so\n"
		"Signs PLUGIN.so, writing PLUGIN.so.sig: a statement of the plugin's name, "
		"kind,\n"
		"role, version and ABI, read from its descriptor (the plugin is loaded to "
		"read\n"
		"it), and the SHA-256 of the file; or checks such a signature as quorumd "
		"does.\n"
		"\n"
		"  -k, --key FILE      Ed25519 private key (PEM, from quorum-keygen)\n"
		"  -n, --name NAME     plugin name, [a-z][a-z0-9_-]{0,31}; must be the\n"
		"                      descriptor's (default: the descriptor's; with "
		"--verify,\n"
		"                      the file name without .so)\n"
		"      --kind KIND     stage or transport  } what the descriptor says; all of\n"
		"      --role ROLE     a stage's role      } them (--role for stages only):\n"
		"      --version V     dotted numbers      } sign without loading the plugin\n"
		"      --abi M.N       the plugin's ABI    } (say, one built for another CPU)\n"
		"      --format N      2 (default) or 1, the legacy format older quorumd read\n"
		"  -o, --output FILE   where to write the signature (default PLUGIN.so.sig)\n"
		"  -v, --verify        verify instead of signing\n"
		"  -t, --trust FILE    a trusted public key for --verify (repeatable)\n"
		"      --allow-legacy  with --verify, accept a format-1 signature\n"
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

/* What the command line says about the plugin; NULL where it says nothing. */
struct sign_request {
	const char *name;
	const char *kind;
	const char *role;
	const char *version;
	const char *abi;
	unsigned format;
};

/* Fills ST from the command line alone. RETURN VALUE: 0, or 2 (usage error, printed). */
static int statement_from_options(const struct sign_request *req, struct plugin_statement *st)
{
	const char *role = req->role != NULL ? req->role : "none";
	const char *dot = strchr(req->abi, '.');
	unsigned long major, minor;

	if (plugin_kind_parse(req->kind, strlen(req->kind), &st->kind) != 0 ||
	    plugin_role_parse(role, strlen(role), &st->role) != 0) {
		fprintf(stderr,
			"quorum-sign: --kind is stage or transport; --role a stage role\n");
		return 2;
	}
	/* Digits, one dot, digits. */
	major = strtoul(req->abi, NULL, 10);
	minor = dot != NULL ? strtoul(dot + 1, NULL, 10) : 0;
	if (dot == NULL || dot == req->abi || dot[1] == '\0' || strchr(dot + 1, '.') != NULL ||
	    strspn(req->abi, "0123456789.") != strlen(req->abi) || major > UINT16_MAX ||
	    minor > UINT16_MAX) {
		fprintf(stderr, "quorum-sign: --abi wants MAJOR.MINOR, like %d.%d\n",
			QUORUM_ABI_MAJOR, QUORUM_ABI_MINOR);
		return 2;
	}
	st->abi_major = (uint16_t)major;
	st->abi_minor = (uint16_t)minor;
	snprintf(st->version, sizeof(st->version), "%s", req->version);
	if (strlen(req->version) >= sizeof(st->version)) /* refused by the statement check */
		st->version[0] = '\0';
	return 0;
}

/* Each field the command line gives must be the descriptor's. 0, or 1 (printed). */
static int options_agree(const struct sign_request *req, const struct plugin_statement *st)
{
	char abi[16];
	const char *what = NULL, *given = NULL, *found = NULL;

	snprintf(abi, sizeof(abi), "%u.%u", (unsigned)st->abi_major, (unsigned)st->abi_minor);
	if (req->name != NULL && strcmp(req->name, st->name) != 0)
		what = "name", given = req->name, found = st->name;
	else if (req->kind != NULL &&
		 strcmp(req->kind, st->kind == QUORUM_PLUGIN_STAGE ? "stage" : "transport") !=
			 0)
		what = "kind", given = req->kind, found = "another kind";
	else if (req->role != NULL && strcmp(req->role, quorum_role_name(st->role)) != 0)
		what = "role", given = req->role, found = quorum_role_name(st->role);
	else if (req->version != NULL && strcmp(req->version, st->version) != 0)
		what = "version", given = req->version, found = st->version;
	else if (req->abi != NULL && strcmp(req->abi, abi) != 0)
		what = "abi", given = req->abi, found = abi;
	if (what == NULL)
		return 0;
	fprintf(stderr, "quorum-sign: --%s %s, but the plugin's descriptor says %s\n", what,
		given, found);
	return 1;
}

/* What to sign: from the options when they say everything, else from the descriptor.
 * RETURN VALUE: 0, or the exit status (the reason printed). */
static int sign_statement(const char *plugin, const struct sign_request *req,
			  struct plugin_statement *st)
{
	int explicit = req->kind != NULL && req->version != NULL && req->abi != NULL;
	char why[ERRBUF_SIZE];

	memset(st, 0, sizeof(*st));
	if (req->format == 1 || explicit) {
		if (req->name != NULL)
			snprintf(st->name, sizeof(st->name), "%s", req->name);
		else if (default_name(plugin, st->name, sizeof(st->name)) != 0) {
			fprintf(stderr,
				"quorum-sign: cannot derive a plugin name; use --name\n");
			return 2;
		}
		return req->format == 1 ? 0 : statement_from_options(req, st);
	}
	if (plugin_describe(plugin, st, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorum-sign: %s\n", why);
		return 1;
	}
	return options_agree(req, st);
}

static int sign(const char *plugin, const struct sign_request *req, const char *key_path,
		const char *output)
{
	char sig_path[PATH_MAX], why[ERRBUF_SIZE], *text = NULL;
	struct plugin_statement st;
	uint8_t *data = NULL;
	size_t len, text_len;
	EVP_PKEY *key = NULL;
	int status;

	if (output == NULL) {
		if (snprintf(sig_path, sizeof(sig_path), "%s.sig", plugin) >=
		    (int)sizeof(sig_path)) {
			fprintf(stderr, "quorum-sign: %s: name too long\n", plugin);
			return 1;
		}
		output = sig_path;
	}
	status = sign_statement(plugin, req, &st);
	if (status != 0)
		return status;
	status = 1;
	if (key_load_private(key_path, &key, why, sizeof(why)) != 0 ||
	    file_read_checked(plugin, PLUGIN_FILE_MAX, 0, &data, &len, why, sizeof(why)) != 0 ||
	    plugin_signature_create(key, req->format, &st, data, len, &text, &text_len, why,
				    sizeof(why)) != 0 ||
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

static int verify(const char *plugin, const char *name, char **trust, int trust_count,
		  int allow_legacy)
{
	struct keyring ring = { 0 };
	/* The signature only: owner and mode are the deployment's, checked by quorumd. */
	struct plugin_policy policy = { .trusted = &ring,
					.check_paths = 0,
					.allow_legacy = allow_legacy };
	struct plugin_image image;
	char why[ERRBUF_SIZE];
	int status = 1;

	for (int i = 0; i < trust_count; i++) {
		if (keyring_add_file(&ring, trust[i], why, sizeof(why)) != 0) {
			fprintf(stderr, "quorum-sign: %s\n", why);
			goto out_release;
		}
	}
	if (plugin_image_read(plugin, name, 0, &policy, &image, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorum-sign: %s\n", why);
		goto out_release;
	}
	if (image.sig_format == 1)
		printf("ok plugin %s signed by key %s (legacy format 1: no kind, role, version "
		       "or ABI)\n",
		       name, image.key_id);
	else
		printf("ok plugin %s %s role %s version %s abi %u.%u signed by key %s\n", name,
		       plugin_kind_name(image.statement.kind),
		       quorum_role_name(image.statement.role), image.statement.version,
		       (unsigned)image.statement.abi_major, (unsigned)image.statement.abi_minor,
		       image.key_id);
	plugin_image_release(&image);
	status = 0;
out_release:
	keyring_release(&ring);
	return status;
}

enum { OPT_KIND = 256, OPT_ROLE, OPT_VERSION, OPT_ABI, OPT_FORMAT, OPT_ALLOW_LEGACY };

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "abi", required_argument, NULL, OPT_ABI },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "verify", no_argument, NULL, 'v' },
		{ "trust", required_argument, NULL, 't' },
		{ "allow-legacy", no_argument, NULL, OPT_ALLOW_LEGACY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sign_request req = { .format = 2 };
	const char *key = NULL, *output = NULL;
	char *trust[16], name_buf[PLUGIN_NAME_MAX + 8];
	int do_verify = 0, allow_legacy = 0, trust_count = 0, opt;

	while ((opt = getopt_long(argc, argv, "k:n:o:vt:h", options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key = optarg;
			break;
		case 'n':
			req.name = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_KIND:
			req.kind = optarg;
			break;
		case OPT_ROLE:
			req.role = optarg;
			break;
		case OPT_VERSION:
			req.version = optarg;
			break;
		case OPT_ABI:
			req.abi = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
				fprintf(stderr, "quorum-sign: --format is 2 or 1\n");
				return 2;
			}
			req.format = (unsigned)(optarg[0] - '0');
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
		case OPT_ALLOW_LEGACY:
			allow_legacy = 1;
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
	if (req.name != NULL && !plugin_name_valid(req.name)) {
		fprintf(stderr,
			"quorum-sign: invalid plugin name '%s' (want [a-z][a-z0-9_-]{0,31})\n",
			req.name);
		return 2;
	}
	if (!do_verify)
		return sign(argv[optind], &req, key, output);
	if (req.name == NULL) {
		if (default_name(argv[optind], name_buf, sizeof(name_buf)) != 0 ||
		    !plugin_name_valid(name_buf)) {
			fprintf(stderr,
				"quorum-sign: cannot derive a plugin name; use --name\n");
			return 2;
		}
		req.name = name_buf;
	}
	return verify(argv[optind], req.name, trust, trust_count, allow_legacy);
}
