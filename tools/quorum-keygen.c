/* quorum-keygen.c -- creates an Ed25519 key pair as PEM files: PREFIX.key (PKCS#8, mode 0600)
 * and PREFIX.pub (SubjectPublicKeyInfo), and prints the key id. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys-internal.h"
#include "util-internal.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: quorum-keygen [--force] --out PREFIX\n"
		"Creates an Ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub.\n"
		"Prints the key id (first 8 bytes of SHA-256 of the public key, hex).\n"
		"\n"
		"  -o, --out PREFIX   where to write the two files\n"
		"  -f, --force        replace existing files (by a new file renamed over "
		"them)\n"
		"  -h, --help         show this help\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = NULL;
	char key_path[PATH_MAX], pub_path[PATH_MAX], id[KEY_ID_HEX_LEN + 1], why[ERRBUF_SIZE];
	int force = 0, opt, status = 1;
	EVP_PKEY *key;

	while ((opt = getopt_long(argc, argv, "o:fh", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			prefix = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (prefix == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (snprintf(key_path, sizeof(key_path), "%s.key", prefix) >= (int)sizeof(key_path) ||
	    snprintf(pub_path, sizeof(pub_path), "%s.pub", prefix) >= (int)sizeof(pub_path)) {
		fprintf(stderr, "quorum-keygen: %s: name too long\n", prefix);
		return 1;
	}
	key = key_generate();
	if (key == NULL || key_id(key, id) != 0) {
		fprintf(stderr, "quorum-keygen: cannot generate an Ed25519 key\n");
		EVP_PKEY_free(key);
		return 1;
	}
	if (key_save_private(key, key_path, force, why, sizeof(why)) != 0 ||
	    key_save_public(key, pub_path, force, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorum-keygen: %s\n", why);
		goto out_free;
	}
	printf("key-id %s\nprivate %s\npublic %s\n", id, key_path, pub_path);
	status = 0;
out_free:
	EVP_PKEY_free(key);
	return status;
}
