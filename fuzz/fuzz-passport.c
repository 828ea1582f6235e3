/* fuzz-passport.c -- libFuzzer target: a passport document
 * (plugins/stages/passport/passportdoc.c) as the passport stage reads it from its folder and
 * from uml001.passport.update events: passport_parse, then passport_verify against a trust
 * root, the key lookups the stage makes, and the registry installing it. Properties: a
 * parsed passport is the same as itself, finds each of its keys, and once signed by the
 * root over its signed bytes it verifies. The root key is fixed (fuzz/make-seeds signs the
 * seeds with it). */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "fuzz.h"
#include "passportdoc.h"
#include "registry.h"

static EVP_PKEY *root;
static char root_id[PASSPORT_KEY_ID_LEN + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t seed[32] = { 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22,
					  21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
					  10, 9,  8,  7,  6,  5,  4,  3,  2,  1 };

	root = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	return root != NULL && passport_key_id_of_pkey(root, root_id) == 0 ? 0 : -1;
}

/* Signs P's signed bytes with the root, as if the trust root had issued it. */
static void sign(struct passport *p)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = PASSPORT_SIGNATURE_LEN;

	FUZZ_ASSERT(ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, root) == 1 &&
		    EVP_DigestSign(ctx, p->signature, &len, p->signed_bytes, p->signed_len) ==
			    1);
	EVP_MD_CTX_free(ctx);
	memcpy(p->signer_key_id, root_id, sizeof(root_id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passport *p = NULL;
	struct registry reg;
	struct registry_change change;
	char why[512];
	int rc;

	rc = passport_parse(data, size, &p, why, sizeof(why));
	if (rc != 0) {
		FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_ASSERT(p == NULL && why[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(p->key_count >= 1 && p->key_count <= PASSPORT_KEYS_MAX);
	FUZZ_ASSERT(passport_same(p, p));
	for (size_t i = 0; i < p->key_count; i++)
		FUZZ_ASSERT(passport_find_key(p, p->keys[i].key_id) == &p->keys[i]);
	rc = passport_verify(p, root, root_id, why, sizeof(why));
	FUZZ_ASSERT(rc == 0 || rc == -EKEYREJECTED || rc == -EBADMSG);
	sign(p);
	FUZZ_ASSERT(passport_verify(p, root, root_id, why, sizeof(why)) == 0);
	FUZZ_ASSERT(registry_init(&reg, 180000000000LL) == 0);
	if (registry_install(&reg, p, 1750000000000000000LL, NULL, &change, why, sizeof(why)) ==
	    0) {
		const struct passport *held = registry_get(&reg, p->authority_id);
		struct registry_match match;

		FUZZ_ASSERT(held == p);
		for (size_t i = 0; i < held->key_count; i++)
			FUZZ_ASSERT(registry_lookup(&reg, held->authority_id,
						    held->keys[i].key_id,
						    held->keys[i].not_before_ns, 0,
						    &match) == REGISTRY_OK ||
				    held->keys[i].not_before_ns >= held->keys[i].not_after_ns);
	} else {
		passport_free(p);
	}
	registry_release(&reg);
	return 0;
}
