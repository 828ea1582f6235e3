/* test-note.c -- C2SP checkpoints and signed notes: format/parse round trips, strict
 * parsing, and signatures that verify only for the signed text, name and key. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "note.h"

struct signer {
	EVP_PKEY *key;
	uint8_t pub[NOTE_PUB_LEN];
};

static void signer_new(struct signer *s)
{
	size_t len = NOTE_PUB_LEN;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);

	s->key = NULL;
	g_assert_nonnull(ctx);
	g_assert_cmpint(EVP_PKEY_keygen_init(ctx), ==, 1);
	g_assert_cmpint(EVP_PKEY_keygen(ctx, &s->key), ==, 1);
	EVP_PKEY_CTX_free(ctx);
	g_assert_cmpint(EVP_PKEY_get_raw_public_key(s->key, s->pub, &len), ==, 1);
}

static void sign(const struct signer *s, const char *text, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = 64;

	g_assert_cmpint(EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key), ==, 1);
	g_assert_cmpint(EVP_DigestSign(ctx, sig, &sig_len, (const uint8_t *)text, len), ==, 1);
	EVP_MD_CTX_free(ctx);
}

static struct checkpoint sample(void)
{
	struct checkpoint cp = { .size = 1042, .has_time = 1, .synchronised = 1,
				 .earliest_ns = 1764000000000000000LL,
				 .latest_ns = 1764000000000150000LL };

	strcpy(cp.origin, "quorum-time/node-1");
	for (int i = 0; i < NOTE_HASH_LEN; i++)
		cp.root[i] = (uint8_t)(i * 7 + 1);
	return cp;
}

static void test_round_trip(void)
{
	struct checkpoint cp = sample(), back;
	char text[1024];
	const char *why = "";
	int n = checkpoint_format(&cp, text, sizeof(text));

	g_assert_cmpint(n, >, 0);
	g_assert_true(g_str_has_prefix(text, "quorum-time/node-1\n1042\n"));
	g_assert_nonnull(strstr(text, "\ntime 1764000000000000000 1764000000000150000 synchronised\n"));
	g_assert_cmpint(checkpoint_parse(text, (size_t)n, &back, &why), ==, 0);
	g_assert_cmpstr(back.origin, ==, cp.origin);
	g_assert_cmpuint(back.size, ==, cp.size);
	g_assert_cmpmem(back.root, NOTE_HASH_LEN, cp.root, NOTE_HASH_LEN);
	g_assert_true(back.has_time && back.synchronised);
	g_assert_cmpint(back.earliest_ns, ==, cp.earliest_ns);
	g_assert_cmpint(back.latest_ns, ==, cp.latest_ns);
}

static void test_strict_parse(void)
{
	static const char *const bad[] = {
		"",					     /* nothing */
		"origin\n",				     /* no size */
		"origin\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", /* leading zero */
		"origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"origin\n5\nAAAA\n",			     /* short root */
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* no newline */
		"has space\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", /* empty extension */
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 2 1 synchronised\n",
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 1 2 maybe\n",
	};
	struct checkpoint cp;
	const char *why;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		why = NULL;
		g_assert_cmpint(checkpoint_parse(bad[i], strlen(bad[i]), &cp, &why), ==, -EINVAL);
		g_assert_nonnull(why);
	}
	/* an unknown extension line is allowed */
	{
		const char *ok = "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nother 1\n";

		g_assert_cmpint(checkpoint_parse(ok, strlen(ok), &cp, &why), ==, 0);
	}
}

static void test_signed_note(void)
{
	struct signer a, b;
	struct checkpoint cp = sample();
	char text[1024], note[NOTE_MAX], tampered[NOTE_MAX];
	uint8_t sig[64];
	const char *why = "";
	size_t tl = 0;
	int n, len;

	signer_new(&a);
	signer_new(&b);
	n = checkpoint_format(&cp, text, sizeof(text));
	sign(&a, text, (size_t)n, sig);
	len = note_format(text, (size_t)n, cp.origin, a.pub, sig, note, sizeof(note));
	g_assert_cmpint(len, >, n);
	g_assert_nonnull(strstr(note, "\n\n\xe2\x80\x94 quorum-time/node-1 "));
	g_assert_cmpint(note_verify(note, (size_t)len, cp.origin, a.pub, &tl, &why), ==, 0);
	g_assert_cmpuint(tl, ==, (size_t)n);
	/* another key, another name: no signature by them */
	g_assert_cmpint(note_verify(note, (size_t)len, cp.origin, b.pub, &tl, &why), ==, -ENOKEY);
	g_assert_cmpint(note_verify(note, (size_t)len, "quorum-time/node-2", a.pub, &tl, &why), ==,
			-ENOKEY);
	/* one changed character of the text: the signature fails */
	memcpy(tampered, note, (size_t)len + 1);
	tampered[20] = tampered[20] == '1' ? '2' : '1';
	g_assert_cmpint(note_verify(tampered, (size_t)len, cp.origin, a.pub, &tl, &why), ==, -EPERM);
	/* one changed character of the signature */
	memcpy(tampered, note, (size_t)len + 1);
	tampered[len - 10] = tampered[len - 10] == 'A' ? 'B' : 'A';
	g_assert_cmpint(note_verify(tampered, (size_t)len, cp.origin, a.pub, &tl, &why), ==, -EPERM);
	/* no signature lines at all */
	g_assert_cmpint(note_verify(note, (size_t)n + 1, cp.origin, a.pub, &tl, &why), !=, 0);
	EVP_PKEY_free(a.key);
	EVP_PKEY_free(b.key);
}

/* The C2SP signed-note key hash: SHA-256(name || "\n" || 0x01 || key), first 4 bytes.
 * Known answer computed independently (Python hashlib) for a fixed key. */
static void test_key_hash(void)
{
	uint8_t pub[NOTE_PUB_LEN];

	for (int i = 0; i < NOTE_PUB_LEN; i++)
		pub[i] = (uint8_t)i;
	g_assert_cmphex(note_key_hash("example.com/log", pub), ==, 0xa06c8792u);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/note/round-trip", test_round_trip);
	g_test_add_func("/note/strict-parse", test_strict_parse);
	g_test_add_func("/note/signed", test_signed_note);
	g_test_add_func("/note/key-hash", test_key_hash);
	return g_test_run();
}
