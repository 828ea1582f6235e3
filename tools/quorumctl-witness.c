/* quorumctl-witness.c -- `quorumctl checkpoint verify`, offline, trusting nothing but the keys
 * it is given: the log's signature (--node-key), each witness's C2SP tlog-cosignature/v1
 * (--witness-key [NAME=]FILE, a cosignature counting once per key), at least --min of them,
 * and with --vault whether that vault folder still extends the checkpoint: a node started on
 * a rolled-back folder is shown the checkpoint it signed that its log no longer has (its
 * merkle/rollback-evidence), and told how to resolve it. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "cosign.h"
#include "keys-internal.h"
#include "mtree.h"
#include "note.h"
#include "quorumctl-witness.h"
#include "util-internal.h"
#include "vaultlog.h"

#define WITNESS_KEYS_MAX 64
#define INPUT_MAX	 (64 * 1024)

static void checkpoint_usage(FILE *out)
{
	fprintf(out,
		"Usage: quorumctl checkpoint verify [--node-key NODE.pub]\n"
		"                 [--witness-key [NAME=]WITNESS.pub]... [--min K]\n"
		"                 [--vault DIR [--vault-key FILE]] FILE|-\n"
		"\n"
		"Checks a signed checkpoint (a C2SP signed note, e.g. GET /v1/checkpoint) "
		"offline:\n"
		"  --node-key     the log's signature (origin = the key name) by NODE.pub\n"
		"  --witness-key  a C2SP tlog-cosignature/v1 by that witness key (a quorumd "
		"node\n"
		"                 key; NAME, when given, must be the cosigner name, e.g.\n"
		"                 quorum-time/node-2/witness); each key counts once\n"
		"  --min K        at least K of the witness keys cosigned it (default: all "
		"given)\n"
		"  --vault DIR    (with --node-key) the node's vault folder still extends the\n"
		"                 checkpoint: its tree\n"
		"                 has the checkpoint's root at the checkpoint's size. A vault "
		"that\n"
		"                 is shorter, or has another root there, was rolled back or "
		"forked\n"
		"                 after the node signed the checkpoint; the resolution is "
		"printed.\n"
		"Exit status 0 verified, 1 not, 2 usage or I/O error.\n");
}

struct witness_key {
	const char *file;
	char name[NOTE_ORIGIN_MAX]; /* "" any */
	uint8_t pub[NOTE_PUB_LEN];
};

static int load_pub(const char *path, uint8_t pub[NOTE_PUB_LEN])
{
	char why[512];

	if (key_load_public_raw(path, pub, why, sizeof(why)) != 0) {
		fprintf(stderr, "quorumctl: %s\n", why);
		return -1;
	}
	return 0;
}

/* FILE, or standard input for "-", at most INPUT_MAX bytes, NUL-terminated. */
static char *read_input(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "quorumctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(INPUT_MAX + 1);
	n = buf != NULL ? fread(buf, 1, INPUT_MAX + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (buf == NULL || n == 0 || n > INPUT_MAX) {
		fprintf(stderr, "quorumctl: %s: %s\n", path,
			buf == NULL ? "out of memory"
			: n == 0    ? "empty"
				    : "larger than 64 KiB");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void format_utc(uint64_t seconds, char out[32])
{
	time_t t = (time_t)seconds;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct vault_tree {
	struct mtree *tree;
};

static int add_leaf(void *arg, const struct vault_record *rec)
{
	struct vault_tree *vt = arg;
	uint8_t leaf[MTREE_HASH_LEN];

	mtree_leaf_hash(rec->raw, rec->raw_len, leaf);
	return mtree_append(vt->tree, leaf);
}

static void print_resolution(const struct checkpoint *cp)
{
	printf("\nThe node signed this checkpoint, so its log once had these %" PRIu64
	       " records; this vault does not.\n"
	       "A node started on it signs no checkpoint and serves no time "
	       "(merkle.rolled_back).\n"
	       "To resolve it:\n"
	       "  1. stop the node; keep its vault and merkle folders as they are, as "
	       "evidence\n"
	       "     (move them aside, e.g. vault.rolled-back and merkle.rolled-back);\n"
	       "  2. if the node's latest folders still exist (the restore was a mistake), put "
	       "them\n"
	       "     back and start the node: its witnesses will find its log consistent "
	       "again;\n"
	       "  3. otherwise the records after the restore point are lost, and this log "
	       "(origin\n"
	       "     %s) cannot continue without forking: start a new log with empty vault "
	       "and\n"
	       "     merkle folders and a new merkle `origin` (e.g. %s/2), and tell the "
	       "clients\n"
	       "     that verify checkpoints about the new origin. The witnesses keep the old\n"
	       "     log's last checkpoint, and witness the new log from its first record.\n",
	       cp->size, cp->origin, cp->origin);
}

/* Whether the vault at DIR extends CP. 0 yes, 1 no (rolled back or forked), 2 error. */
static int check_vault(const char *dir, const char *vault_key, const struct checkpoint *cp)
{
	struct vault_options opt = { 0 };
	struct vault_tree vt = { NULL };
	struct vault *v = NULL;
	uint8_t key[VAULT_KEY_LEN], root[MTREE_HASH_LEN];
	char why[512] = "", want[65], got[65];
	uint64_t count;
	int err, rc = 2;

	if (vault_key != NULL) {
		err = vault_load_key(vault_key, key, why, sizeof(why));
		if (err != 0) {
			fprintf(stderr, "quorumctl: %s: %s\n", vault_key, why);
			return 2;
		}
		opt.key = key;
	}
	opt.dir = dir;
	opt.read_only = 1;
	opt.full_verify = 1;
	err = vault_open(&opt, &v, why, sizeof(why));
	OPENSSL_cleanse(key, sizeof(key));
	if (err != 0) {
		fprintf(stderr, "quorumctl: vault %s: %s\n", dir,
			why[0] ? why : strerror(-err));
		return 2;
	}
	count = vault_count(v);
	if (cp->size > count) {
		printf("ROLLED BACK: the vault %s has %" PRIu64
		       " records, fewer than the %" PRIu64 " this checkpoint covers\n",
		       dir, count, cp->size);
		print_resolution(cp);
		rc = 1;
		goto out_close;
	}
	if (mtree_open(NULL, &vt.tree, why, sizeof(why)) != 0)
		goto out_close;
	err = vault_iterate(v, 0, cp->size, add_leaf, &vt, why, sizeof(why));
	if (err != 0) {
		fprintf(stderr, "quorumctl: vault %s: %s\n", dir,
			why[0] ? why : strerror(-err));
		goto out_close;
	}
	mtree_root(vt.tree, cp->size, root);
	hex_encode(cp->root, MTREE_HASH_LEN, want);
	hex_encode(root, MTREE_HASH_LEN, got);
	if (memcmp(root, cp->root, MTREE_HASH_LEN) != 0) {
		printf("FORKED: the vault %s has %" PRIu64 " records, but its first %" PRIu64
		       " have root %s, not the checkpoint's %s\n",
		       dir, count, cp->size, got, want);
		print_resolution(cp);
		rc = 1;
	} else {
		printf("vault %s extends the checkpoint: %" PRIu64
		       " records, root %s at size %" PRIu64 "\n",
		       dir, count, got, cp->size);
		rc = 0;
	}
out_close:
	mtree_close(vt.tree);
	vault_close(v);
	return rc;
}

static int parse_witness_key(const char *arg, struct witness_key *k)
{
	const char *eq = strchr(arg, '=');

	memset(k, 0, sizeof(*k));
	k->file = arg;
	if (eq != NULL) {
		size_t n = (size_t)(eq - arg);

		if (n == 0 || n >= sizeof(k->name)) {
			fprintf(stderr, "quorumctl: --witness-key %s: bad name\n", arg);
			return -1;
		}
		memcpy(k->name, arg, n);
		k->file = eq + 1;
	}
	return load_pub(k->file, k->pub);
}

int cmd_checkpoint(int argc, char **argv)
{
	static const struct option options[] = {
		{ "node-key", required_argument, NULL, 'n' },
		{ "witness-key", required_argument, NULL, 'w' },
		{ "min", required_argument, NULL, 'm' },
		{ "vault", required_argument, NULL, 'v' },
		{ "vault-key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct witness_key *keys;
	const char *node_key = NULL, *vault = NULL, *vault_key = NULL, *why = "";
	size_t key_count = 0, len = 0, tlen, cosigned = 0;
	long min = -1;
	struct checkpoint cp;
	char *note = NULL, root[65], *end;
	int opt, rc = 2;

	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		checkpoint_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	keys = calloc(WITNESS_KEYS_MAX, sizeof(*keys));
	if (keys == NULL)
		return 2;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			node_key = optarg;
			break;
		case 'w':
			if (key_count == WITNESS_KEYS_MAX ||
			    parse_witness_key(optarg, &keys[key_count]) != 0)
				goto out_free;
			key_count++;
			break;
		case 'm':
			min = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || min < 0 ||
			    min > WITNESS_KEYS_MAX) {
				fprintf(stderr, "quorumctl: --min %s: not a count\n", optarg);
				goto out_free;
			}
			break;
		case 'v':
			vault = optarg;
			break;
		case 'k':
			vault_key = optarg;
			break;
		default:
			checkpoint_usage(stderr);
			goto out_free;
		}
	}
	/* A vault is compared with a checkpoint only once the node's signature on it held. */
	if (optind + 1 != argc || (size_t)(min < 0 ? 0 : min) > key_count ||
	    (vault_key != NULL && vault == NULL) || (vault != NULL && node_key == NULL)) {
		if (min > 0 && (size_t)min > key_count)
			fprintf(stderr, "quorumctl: --min %ld with %zu witness keys\n", min,
				key_count);
		checkpoint_usage(stderr);
		goto out_free;
	}
	note = read_input(argv[optind], &len);
	if (note == NULL)
		goto out_free;
	rc = 1;
	if (memchr(note, '\0', len) != NULL || note_text_length(note, len, &tlen) != 0 ||
	    checkpoint_parse(note, tlen, &cp, &why) != 0) {
		printf("invalid: not a signed checkpoint (%s)\n", why);
		goto out_free;
	}
	hex_encode(cp.root, NOTE_HASH_LEN, root);
	printf("checkpoint: origin %s size %" PRIu64 " root %s\n", cp.origin, cp.size, root);
	if (node_key != NULL) {
		uint8_t pub[NOTE_PUB_LEN];

		if (load_pub(node_key, pub) != 0) {
			rc = 2;
			goto out_free;
		}
		if (note_verify(note, len, cp.origin, pub, &tlen, &why) != 0) {
			printf("invalid: log signature by %s: %s\n", cp.origin, why);
			goto out_free;
		}
		printf("log signature: valid (%s, %s)\n", cp.origin, node_key);
	}
	for (size_t i = 0; i < key_count; i++) {
		struct cosig c;
		char when[32];
		int err = cosig_verify(note, len, keys[i].name[0] != '\0' ? keys[i].name : NULL,
				       keys[i].pub, &c, &why);

		if (err != 0) {
			printf("no cosignature by %s%s%s (%s)\n", keys[i].name,
			       keys[i].name[0] != '\0' ? "=" : "", keys[i].file,
			       err == -EPERM ? "its signature does not verify" : why);
			continue;
		}
		format_utc(c.timestamp, when);
		printf("cosigned by %s at %s (%" PRIu64 ", key %s)\n", c.name, when,
		       c.timestamp, keys[i].file);
		cosigned++;
	}
	if (min < 0)
		min = (long)key_count;
	if (key_count > 0)
		printf("cosignatures: %zu of %zu witness keys, %ld required: %s\n", cosigned,
		       key_count, min, cosigned >= (size_t)min ? "enough" : "too few");
	if (cosigned < (size_t)min)
		goto out_free;
	rc = 0;
	if (vault != NULL)
		rc = check_vault(vault, vault_key, &cp);
out_free:
	free(note);
	free(keys);
	return rc;
}
