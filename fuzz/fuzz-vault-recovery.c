/* fuzz-vault-recovery.c -- libFuzzer target: the vault's recovery at open (audit/vaultlog.c)
 * on a folder whose files the input describes, as a crash or a tampered disk leaves them:
 * segment headers and records checked and chained, a torn tail truncated, vault.state
 * followed or refused, leftovers of unfinished renames removed; then every record read
 * back (vault_iterate) and, when writable, one more appended, synced and checkpointed.
 * Input: one byte of flags, then files, each a kind byte (bits 0-2: segment 1-4, vault.state,
 * a temporary segment, a temporary vault.state, segment 0), a 16-bit big-endian length and
 * the bytes. Flags: bit 0 recomputes every hash the files carry (segment header, each
 * record, vault.state) so the checks behind them are reached; bit 1 opens read-only; bit 2
 * asks for a full verification; bit 3 opens with a sealing key; bit 4 also chains each
 * record's previous hash. The folder is a per-process temporary one under $TMPDIR (else
 * /dev/shm when there is one, so fsync costs nothing), emptied after each input and removed
 * at exit; fuzz/run.sh points TMPDIR at its scratch folder, gone even after a crash. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "fuzz.h"
#include "vaultlog.h"

static char dir[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/quorum-fuzz-vault.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("fuzz-vault-recovery: mkdtemp");
		return -1;
	}
	return 0;
}

static void empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

__attribute__((destructor)) static void cleanup(void)
{
	if (dir[0] != '\0') {
		empty_dir();
		rmdir(dir);
	}
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void domain_hash(const char *domain, size_t domain_len, const uint8_t *data, size_t len,
			uint8_t out[SHA256_DIGEST_LENGTH])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	FUZZ_ASSERT(ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		    EVP_DigestUpdate(ctx, domain, domain_len) == 1 &&
		    EVP_DigestUpdate(ctx, data, len) == 1 &&
		    EVP_DigestFinal_ex(ctx, out, NULL) == 1);
	EVP_MD_CTX_free(ctx);
}

#define DOMAIN_HASH(domain, data, len, out) domain_hash(domain, sizeof(domain), data, len, out)

/* Recomputes the hashes of a segment file's header and records (and, with CHAIN, each
 * record's previous hash from the record before it). */
static void fix_segment(uint8_t *f, size_t len, int chain)
{
	uint8_t prev[SHA256_DIGEST_LENGTH];
	size_t off = VAULT_SEGMENT_HEADER;

	if (len < VAULT_SEGMENT_HEADER)
		return;
	DOMAIN_HASH("quorum-vault-segment-v1", f, 72, f + 72);
	memcpy(prev, f + 24, sizeof(prev));
	while (len - off >= VAULT_RECORD_MIN) {
		uint8_t *r = f + off;
		size_t rlen = (size_t)le(r, 4);

		if (rlen < VAULT_RECORD_MIN || rlen > len - off)
			break;
		if (chain)
			memcpy(r + 24, prev, sizeof(prev));
		DOMAIN_HASH("quorum-vault-record-v1", r, rlen - VAULT_HASH_LEN,
			    r + rlen - VAULT_HASH_LEN);
		memcpy(prev, r + rlen - VAULT_HASH_LEN, sizeof(prev));
		off += rlen;
	}
}

static void write_file(const char *name, const uint8_t *data, size_t len)
{
	char path[4400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(len == 0 || write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static int count_record(void *arg, const struct vault_record *rec)
{
	uint64_t *next = arg;

	FUZZ_ASSERT(rec->index == *next);
	FUZZ_ASSERT(rec->raw_len >= VAULT_RECORD_MIN);
	(*next)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"segment-000000000001.qv",
		"segment-000000000002.qv",
		"segment-000000000003.qv",
		"segment-000000000004.qv",
		"vault.state",
		".segment-2.tmp",
		"vault.state.tmp",
		"segment-000000000000.qv",
	};
	uint8_t key[VAULT_KEY_LEN];
	struct vault_options opt = { 0 };
	struct vault *v = NULL;
	char why[512];
	size_t off = 1;
	uint8_t flags;
	int rc;

	if (size < 1)
		return 0;
	flags = data[0];
	memset(key, 7, sizeof(key)); /* fuzz/make-seeds seals with it too */
	while (size - off >= 3) {
		unsigned kind = data[off] & 7;
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		uint8_t *copy;

		off += 3;
		if (len > size - off)
			len = size - off;
		copy = malloc(len ? len : 1);
		FUZZ_ASSERT(copy != NULL);
		memcpy(copy, data + off, len);
		if (flags & 1) {
			if (kind == 4 && len >= 96)
				DOMAIN_HASH("quorum-vault-state-v1", copy, 64, copy + 64);
			else if (kind < 4 || kind == 7)
				fix_segment(copy, len, flags & 16);
		}
		write_file(names[kind], copy, len);
		free(copy);
		off += len;
	}
	opt.dir = dir;
	opt.segment_max_bytes = 4096;
	opt.read_only = (flags & 2) != 0;
	opt.full_verify = (flags & 4) != 0;
	opt.key = (flags & 8) ? key : NULL;
	why[0] = '\0';
	rc = vault_open(&opt, &v, why, sizeof(why));
	if (rc == 0) {
		uint64_t next = 0, count = vault_count(v);

		/* Records before vault.state's checkpoint were not verified again at open:
		 * reading them may still find them corrupt, unless the open verified all. */
		rc = vault_iterate(v, 0, count, count_record, &next, why, sizeof(why));
		FUZZ_ASSERT(rc == 0 || (rc == -EBADMSG && !opt.full_verify));
		FUZZ_ASSERT(rc != 0 || next == count);
		if (!opt.read_only) {
			FUZZ_ASSERT(vault_append(v, 16, "fuzz", 4, NULL) == 0);
			FUZZ_ASSERT(vault_sync(v) == 0);
			FUZZ_ASSERT(vault_mark_checkpoint(v, vault_count(v) - 1) == 0);
		}
		vault_close(v);
	} else {
		FUZZ_ASSERT(v == NULL && why[0] != '\0');
	}
	empty_dir();
	return 0;
}
