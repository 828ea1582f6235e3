/* quorumctl-passport.c -- the trust root's commands for authorities' passports
 * (schemas/passport.json), with the passport stage's own parser (passportdoc.c):
 *   passport create   a passport signed by the trust root's private key, printed as JSON
 *   passport verify   checks a passport file against the trust root's public key
 *   passport event    the uml001.passport.update SignedState carrying a passport, signed by
 *                     the trust root, written to stdout for delivery to the nodes */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <quorum/passport.h>

#include "keys-internal.h"
#include "passportdoc.h"
#include "protodecode-internal.h"
#include "quorumctl-passport.h"
#include "signed_state.pb-c.h"
#include "timecodec-internal.h"
#include "util-internal.h"
#include "clocks.h"

#define DEFAULT_BEFORE_NS (86400LL * 1000000000)     /* valid from a day ago ... */
#define DEFAULT_AFTER_NS  (315576000LL * 1000000000) /* ... for 10 (Julian) years */

static void passport_usage(FILE *out)
{
	fprintf(out, "Usage: quorumctl passport create --root-key ROOT.key --authority ID "
		     "--serial N\n"
		     "                                 --key "
		     "PUB.pem[,NOT_BEFORE_NS,NOT_AFTER_NS]...\n"
		     "                                 --capability attest_time[,control]\n"
		     "                                 [--issued-ns NS]\n"
		     "       quorumctl passport verify --root ROOT.pub FILE\n"
		     "       quorumctl passport event --root-key ROOT.key FILE > update.bin\n"
		     "\n"
		     "create  prints an authority's passport (schemas/passport.json) signed by "
		     "the trust\n"
		     "        root: each --key an Ed25519 public key of the authority with its "
		     "validity\n"
		     "        window in ns since 1970 (default: from a day ago for 10 years); "
		     "--capability\n"
		     "        lists what it may sign (\"\" for nothing). A later passport of "
		     "the same\n"
		     "        authority needs a greater --serial.\n"
		     "verify  checks a passport strictly (members, types, key ids, windows) "
		     "and its trust\n"
		     "        root signature. Exit status 0 valid, 1 invalid, 2 usage or I/O "
		     "error.\n"
		     "event   writes the uml001.passport.update event (a binary SignedState, "
		     "signed by\n"
		     "        the trust root) that installs FILE on the nodes it is delivered "
		     "to.\n");
}

static int parse_i64(const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0')
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

/* One --key argument: PATH or PATH,NOT_BEFORE_NS,NOT_AFTER_NS. Appends its JSON to KEYS. */
static int add_key(json_t *keys, const char *arg, int64_t now)
{
	char *copy = strdup(arg), *first, *second, why[ERRBUF_SIZE],
	     key_id[PASSPORT_KEY_ID_LEN + 1];
	char text[4 * ((PASSPORT_PUBLIC_LEN + 2) / 3) + 1];
	uint8_t raw[PASSPORT_PUBLIC_LEN];
	size_t raw_len = sizeof(raw);
	int64_t before = now - DEFAULT_BEFORE_NS, after = now + DEFAULT_AFTER_NS;
	EVP_PKEY *key = NULL;
	int status = 2;

	if (copy == NULL)
		return 2;
	first = strchr(copy, ',');
	if (first != NULL) {
		*first++ = '\0';
		second = strchr(first, ',');
		if (second != NULL)
			*second++ = '\0';
		if (second == NULL || parse_i64(first, &before) != 0 ||
		    parse_i64(second, &after) != 0) {
			fprintf(stderr,
				"quorumctl: --key %s: want PUB.pem or "
				"PUB.pem,NOT_BEFORE_NS,NOT_AFTER_NS\n",
				arg);
			goto out_free;
		}
	}
	if (key_load_public(copy, &key, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		goto out_free;
	}
	if (EVP_PKEY_get_raw_public_key(key, raw, &raw_len) != 1 || raw_len != sizeof(raw)) {
		fprintf(stderr, "quorumctl: %s: not an Ed25519 public key\n", copy);
		goto out_free;
	}
	passport_key_id_of(raw, key_id);
	passport_base64_encode(raw, sizeof(raw), text);
	if (json_array_append_new(keys, json_pack("{s:s, s:s, s:I, s:I}", "key_id", key_id,
						  "public_key", text, "not_before_ns",
						  (json_int_t)before, "not_after_ns",
						  (json_int_t)after)) == 0)
		status = 0;
out_free:
	EVP_PKEY_free(key);
	free(copy);
	return status;
}

/* The capabilities of --capability ("attest_time,control"; "" for none) into CAPS. */
static int add_capabilities(json_t *caps, const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	int status = 0;

	if (copy == NULL)
		return 2;
	for (char *name = strtok_r(copy, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		if (passport_capability_bit(name) == 0) {
			fprintf(stderr,
				"quorumctl: --capability: \"%s\" is not attest_time or "
				"control\n",
				name);
			status = 2;
			break;
		}
		json_array_append_new(caps, json_string(name));
	}
	free(copy);
	return status;
}

/* Checks TEXT (LEN bytes) as a passport signed by ROOT; prints the verdict when VERBOSE.
 * RETURN VALUE: 0 valid, 1 invalid. */
static int check_passport(const void *text, size_t len, EVP_PKEY *root, const char *name,
			  int verbose)
{
	char root_id[PASSPORT_KEY_ID_LEN + 1], why[ERRBUF_SIZE];
	struct passport *p = NULL;
	int err;

	if (passport_key_id_of_pkey(root, root_id) != 0) {
		fprintf(stderr, "quorumctl: the trust root is not an Ed25519 key\n");
		return 1;
	}
	err = passport_parse(text, len, &p, why, sizeof(why));
	if (err == 0)
		err = passport_verify(p, root, root_id, why, sizeof(why));
	if (err != 0) {
		printf("INVALID: %s: %s\n", name, why);
		passport_free(p);
		return 1;
	}
	if (verbose) {
		printf("VALID: passport of %s, serial %" PRId64
		       ", signed by the trust root %s\n",
		       p->authority_id, p->serial, root_id);
		printf("  capabilities:");
		for (unsigned bit = 1; bit <= PASSPORT_CAP_CONTROL; bit <<= 1)
			if (p->capabilities & bit)
				printf(" %s", passport_capability_name(bit));
		printf("%s\n", p->capabilities == 0 ? " none" : "");
		for (size_t i = 0; i < p->key_count; i++)
			printf("  key %s  not_before_ns %" PRId64 "  not_after_ns %" PRId64
			       "\n",
			       p->keys[i].key_id, p->keys[i].not_before_ns,
			       p->keys[i].not_after_ns);
	}
	passport_free(p);
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option options[] = {
		{ "root-key", required_argument, NULL, 'r' },
		{ "authority", required_argument, NULL, 'a' },
		{ "serial", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "capability", required_argument, NULL, 'c' },
		{ "issued-ns", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root_path = NULL, *authority = NULL;
	char why[ERRBUF_SIZE], *text = NULL;
	int64_t serial = 0, now = realtime_now_ns(), issued = now;
	int opt, status = 2, has_caps = 0;
	json_t *keys = json_array(), *caps = json_array(), *doc = NULL;
	EVP_PKEY *root = NULL;

	if (keys == NULL || caps == NULL)
		goto out_free;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'r') {
			root_path = optarg;
		} else if (opt == 'a') {
			authority = optarg;
		} else if (opt == 's') {
			if (parse_i64(optarg, &serial) != 0 || serial < 1) {
				fprintf(stderr, "quorumctl: --serial wants an integer >= 1\n");
				goto out_free;
			}
		} else if (opt == 'k') {
			if (add_key(keys, optarg, now) != 0)
				goto out_free;
		} else if (opt == 'c') {
			has_caps = 1;
			if (add_capabilities(caps, optarg) != 0)
				goto out_free;
		} else if (opt == 'i') {
			if (parse_i64(optarg, &issued) != 0 || issued < 0) {
				fprintf(stderr,
					"quorumctl: --issued-ns wants an integer >= 0\n");
				goto out_free;
			}
		} else {
			goto out_free;
		}
	}
	if (root_path == NULL || authority == NULL || serial == 0 ||
	    json_array_size(keys) == 0 || !has_caps || optind != argc) {
		passport_usage(stderr);
		goto out_free;
	}
	if (key_load_private(root_path, &root, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		goto out_free;
	}
	doc = json_pack("{s:s, s:s, s:I, s:I, s:O, s:O}", "format", PASSPORT_FORMAT,
			"authority_id", authority, "serial", (json_int_t)serial, "issued_ns",
			(json_int_t)issued, "capabilities", caps, "keys", keys);
	if (doc == NULL || passport_sign_document(doc, root) != 0) {
		fprintf(stderr, "quorumctl: cannot sign the passport\n");
		goto out_free;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	/* What we print must be what the stage accepts (the authority id, the windows). */
	if (text == NULL ||
	    check_passport(text, strlen(text), root, "the new passport", 0) != 0)
		goto out_free;
	printf("%s\n", text);
	status = 0;
out_free:
	free(text);
	json_decref(doc);
	json_decref(keys);
	json_decref(caps);
	EVP_PKEY_free(root);
	return status;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "root", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root_path = NULL;
	char why[ERRBUF_SIZE];
	uint8_t *data = NULL;
	size_t len;
	int opt, status = 2;
	EVP_PKEY *root = NULL;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'r')
			root_path = optarg;
		else
			return 2;
	}
	if (root_path == NULL || optind + 1 != argc) {
		passport_usage(stderr);
		return 2;
	}
	if (key_load_public(root_path, &root, why, sizeof(why)) != 0 ||
	    file_read_checked(argv[optind], PASSPORT_DOCUMENT_MAX, 0, &data, &len, why,
			      sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		goto out_free;
	}
	status = check_passport(data, len, root, argv[optind], 1);
out_free:
	free(data);
	EVP_PKEY_free(root);
	return status;
}

static int cmd_event(int argc, char **argv)
{
	static const struct option options[] = {
		{ "root-key", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root_path = NULL;
	char why[ERRBUF_SIZE], root_id[KEY_ID_HEX_LEN + 1];
	uint8_t *data = NULL, *out = NULL, sig[KEY_SIGNATURE_LEN];
	size_t len, out_len;
	int opt, status = 2;
	EVP_PKEY *root = NULL;
	struct quorum_signed_state view = { 0 };
	Uml001__SignedState s = UML001__SIGNED_STATE__INIT;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'r')
			root_path = optarg;
		else
			return 2;
	}
	if (root_path == NULL || optind + 1 != argc) {
		passport_usage(stderr);
		return 2;
	}
	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, "quorumctl: the event is binary: redirect stdout to a file\n");
		return 2;
	}
	if (key_load_private(root_path, &root, why, sizeof(why)) != 0 ||
	    file_read_checked(argv[optind], PASSPORT_DOCUMENT_MAX, 0, &data, &len, why,
			      sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		goto out_free;
	}
	/* Refuse to wrap what the nodes would refuse. */
	if (check_passport(data, len, root, argv[optind], 0) != 0) {
		status = 1;
		goto out_free;
	}
	key_id(root, root_id);
	view.event_id = QUORUM_EVENT_PASSPORT_UPDATE;
	view.key_id = root_id;
	view.logical_time_ns = (uint64_t)realtime_now_ns();
	view.payload.data = data;
	view.payload.len = len;
	if (signed_state_sign(root, &view, sig) != 0) {
		fprintf(stderr, "quorumctl: cannot sign the event\n");
		goto out_free;
	}
	s.logical_time_ns = view.logical_time_ns;
	s.event_id = (char *)view.event_id;
	s.key_id = root_id;
	s.payload.data = data;
	s.payload.len = len;
	s.signature.data = sig;
	s.signature.len = sizeof(sig);
	if (proto_encode(&s.base, &out, &out_len) != 0 ||
	    fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0) {
		fprintf(stderr, "quorumctl: cannot write the event\n");
		goto out_free;
	}
	status = 0;
out_free:
	free(out);
	free(data);
	EVP_PKEY_free(root);
	return status;
}

int cmd_passport(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		passport_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "create") == 0)
		return cmd_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "event") == 0)
		return cmd_event(argc - 1, argv + 1);
	fprintf(stderr, "quorumctl: unknown passport command '%s'\n", argv[1]);
	passport_usage(stderr);
	return 2;
}
