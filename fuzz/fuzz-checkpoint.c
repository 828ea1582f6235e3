/* fuzz-checkpoint.c -- libFuzzer target: C2SP signed notes and the checkpoints they carry
 * (audit/note.c), as quorumctl, the merkle stage and a recovery epoch read them: the text's
 * length (note_text_length), the signature line by a known name and key (note_verify, and
 * note_verify_by as a plugin asks the host), then the checkpoint (checkpoint_parse).
 * Properties: a parsed checkpoint formats (checkpoint_format) to a text that parses back to
 * the same checkpoint. The key is fixed: fuzz/make-seeds signs the seeds with it. */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "fuzz.h"
#include "note.h"

#define SIGNER "quorum-time/node-1"

static EVP_PKEY *key;
static uint8_t pub[NOTE_PUB_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t seed[32] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
					  12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					  23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	size_t len = sizeof(pub);

	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	return key != NULL && EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 ? 0 : -1;
}

static int verify_cb(void *arg, const void *text, size_t len, const uint8_t sig[NOTE_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, sig, NOTE_SIG_LEN, text, len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int same(const struct checkpoint *a, const struct checkpoint *b)
{
	return strcmp(a->origin, b->origin) == 0 && a->size == b->size &&
	       memcmp(a->root, b->root, NOTE_HASH_LEN) == 0 && a->has_time == b->has_time &&
	       (!a->has_time ||
		(a->earliest_ns == b->earliest_ns && a->latest_ns == b->latest_ns &&
		 a->synchronised == b->synchronised));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *note = (const char *)data, *why = NULL;
	size_t text_len = 0, by_len = 0;
	struct checkpoint cp, back;
	char text[NOTE_MAX + 1];
	int n, rc;

	rc = note_verify(note, size, SIGNER, pub, &text_len, &why);
	FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ENOKEY || rc == -EPERM);
	if (rc == 0)
		FUZZ_ASSERT(text_len <= size);
	rc = note_verify_by(note, size, SIGNER, verify_cb, NULL, &by_len, &why);
	FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ENOKEY || rc == -EPERM);
	if (note_text_length(note, size, &text_len) != 0)
		text_len = size; /* a bare checkpoint text */
	FUZZ_ASSERT(text_len <= size);
	if (checkpoint_parse(note, text_len, &cp, &why) != 0)
		return 0;
	n = checkpoint_format(&cp, text, sizeof(text));
	FUZZ_ASSERT(n > 0 && (size_t)n < sizeof(text));
	FUZZ_ASSERT(checkpoint_parse(text, (size_t)n, &back, &why) == 0);
	FUZZ_ASSERT(same(&cp, &back));
	return 0;
}
