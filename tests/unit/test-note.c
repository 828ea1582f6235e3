/* test-note.c -- C2SP checkpoints and signed notes: format/parse round trips, strict
 * parsing, and signatures that verify only for the signed text, name and key. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "note.h"
#include "testutil.h"

/* note_verify_fn: checks SIG with signer ARG's key (as the host would for a plugin). */
static int verify_with_a(void *arg, const void *text, size_t len,
			 const uint8_t sig[NOTE_SIG_LEN])
{
	const struct testutil_signer *s = arg;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY *key =
		EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, s->pub, NOTE_PUB_LEN);
	int ok;

	g_assert_cmpint(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key), ==, 1);
	ok = EVP_DigestVerify(ctx, sig, NOTE_SIG_LEN, text, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static struct checkpoint sample(void)
{
	struct checkpoint cp = { .size = 1042,
				 .has_time = 1,
				 .synchronised = 1,
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
	g_assert_nonnull(
		strstr(text, "\ntime 1764000000000000000 1764000000000150000 synchronised\n"));
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
		"",							      /* nothing */
		"origin\n",						      /* no size */
		"origin\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", /* leading zero */
		"origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"origin\n5\nAAAA\n",					   /* short root */
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* no newline */
		"has space\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", /* empty
										  extension */
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 2 1 "
		"synchronised\n",
		"origin\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 1 2 maybe\n",
	};
	struct checkpoint cp;
	const char *why;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		why = NULL;
		g_assert_cmpint(checkpoint_parse(bad[i], strlen(bad[i]), &cp, &why), ==,
				-EINVAL);
		g_assert_nonnull(why);
	}
	/* an unknown extension line is allowed */
	{
		const char *ok =
			"o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nother 1\n";

		g_assert_cmpint(checkpoint_parse(ok, strlen(ok), &cp, &why), ==, 0);
	}
}

static void test_signed_note(void)
{
	struct testutil_signer a, b;
	struct checkpoint cp = sample();
	char text[1024], note[NOTE_MAX], tampered[NOTE_MAX];
	uint8_t sig[64];
	const char *why = "";
	size_t tl = 0;
	int n, len;

	testutil_signer_new(&a);
	testutil_signer_new(&b);
	n = checkpoint_format(&cp, text, sizeof(text));
	testutil_signer_sign(&a, text, (size_t)n, sig);
	len = note_format(text, (size_t)n, cp.origin, a.pub, sig, note, sizeof(note));
	g_assert_cmpint(len, >, n);
	g_assert_nonnull(strstr(note, "\n\n\xe2\x80\x94 quorum-time/node-1 "));
	g_assert_cmpint(note_verify(note, (size_t)len, cp.origin, a.pub, &tl, &why), ==, 0);
	g_assert_cmpuint(tl, ==, (size_t)n);
	/* another key, another name: no signature by them */
	g_assert_cmpint(note_verify(note, (size_t)len, cp.origin, b.pub, &tl, &why), ==,
			-ENOKEY);
	g_assert_cmpint(note_verify(note, (size_t)len, "quorum-time/node-2", a.pub, &tl, &why),
			==, -ENOKEY);
	/* one changed character of the text: the signature fails */
	memcpy(tampered, note, (size_t)len + 1);
	tampered[20] = tampered[20] == '1' ? '2' : '1';
	g_assert_cmpint(note_verify(tampered, (size_t)len, cp.origin, a.pub, &tl, &why), ==,
			-EPERM);
	/* one changed character of the signature */
	memcpy(tampered, note, (size_t)len + 1);
	tampered[len - 10] = tampered[len - 10] == 'A' ? 'B' : 'A';
	g_assert_cmpint(note_verify(tampered, (size_t)len, cp.origin, a.pub, &tl, &why), ==,
			-EPERM);
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

/* A signature line "\u2014 NAME base64(KH || SIG)" (SIG_LEN bytes) appended to OUT. */
static void add_line(GString *out, const char *name, uint32_t kh, const uint8_t *sig,
		     size_t sig_len)
{
	uint8_t blob[4 + 128];
	char b64[200];

	g_assert_cmpuint(sig_len, <=, 128);
	blob[0] = (uint8_t)(kh >> 24);
	blob[1] = (uint8_t)(kh >> 16);
	blob[2] = (uint8_t)(kh >> 8);
	blob[3] = (uint8_t)kh;
	memcpy(blob + 4, sig, sig_len);
	EVP_EncodeBlock((unsigned char *)b64, blob, (int)(4 + sig_len));
	g_string_append_printf(out, "\xe2\x80\x94 %s %s\n", name, b64);
}

/* TEXT signed by S as NAME: the note TEXT "\n" LINE. */
static GString *signed_note(const struct testutil_signer *s, const char *name, const char *text)
{
	GString *note = g_string_new(text);
	uint8_t sig[64];

	testutil_signer_sign(s, text, strlen(text), sig);
	g_string_append_c(note, '\n');
	add_line(note, name, note_key_hash(name, s->pub), sig, sizeof(sig));
	return note;
}

static int verify(const GString *note, const char *name, const struct testutil_signer *s,
		  size_t *tl)
{
	const char *why = NULL;
	int err = note_verify(note->str, note->len, name, s->pub, tl, &why);

	if (err != 0)
		g_assert_nonnull(why);
	return err;
}

/* C2SP: the text ends at the LAST empty line; it may hold empty lines itself. */
static void test_text_ends_at_last_blank_line(void)
{
	static const char text[] = "quorum-time/node-1\n7\n\nsecond paragraph\n";
	struct testutil_signer a;
	GString *note;
	size_t tl = 0, tl2 = 0;

	testutil_signer_new(&a);
	note = signed_note(&a, "quorum-time/node-1", text);
	g_assert_cmpint(verify(note, "quorum-time/node-1", &a, &tl), ==, 0);
	g_assert_cmpuint(tl, ==, strlen(text));
	g_assert_cmpint(note_text_length(note->str, note->len, &tl2), ==, 0);
	g_assert_cmpuint(tl2, ==, strlen(text));
	g_string_free(note, TRUE);
	EVP_PKEY_free(a.key);
}

/* C2SP: valid UTF-8 and no ASCII control character but newline, anywhere in the note. */
static void test_control_characters_refused(void)
{
	static const char *const bad[] = {
		"origin\n5\rx\n",	  "origin\n5\tx\n", "origin\n5\x01x\n",
		"origin\n5\x1bx\n",	  "origin\n\xff\n", "origin\n\xc3\n",
		"origin\n\xc0\xaf\n",	  /* overlong '/' */
		"origin\n\xed\xa0\x80\n", /* a surrogate */
	};
	static const char *const good[] = { "origin\n5\x7fx\n",
					    "origin\nna\xc3\xafve \xe2\x82\xac\n" };
	struct testutil_signer a;
	size_t tl;

	testutil_signer_new(&a);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		GString *note = signed_note(&a, "origin", bad[i]);

		g_assert_cmpint(verify(note, "origin", &a, &tl), ==, -EBADMSG);
		g_string_free(note, TRUE);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		GString *note = signed_note(&a, "origin", good[i]);

		g_assert_cmpint(verify(note, "origin", &a, &tl), ==, 0);
		g_string_free(note, TRUE);
	}
	EVP_PKEY_free(a.key);
}

/* Only canonical base64: padded, no whitespace, the bits left over zero. */
static void test_canonical_base64_only(void)
{
	static const char *const bad[] = { "QUI",      "QUI==", "QU=I",	 "QUJ=",
					   "QQ=A",     "QR==",	"Q UI=", "QUI=\n",
					   "QUI=QUI=", "=QUI",	"QUI*" };
	uint8_t out[16];
	size_t n = 0;
	struct testutil_signer a;
	GString *note, *bent;
	char *eq;
	size_t tl;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(
			note_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n), ==,
			-EINVAL);
	g_assert_cmpint(note_base64_decode("QUI=", 4, out, sizeof(out), &n), ==, 0);
	g_assert_cmpmem(out, n, "AB", 2);
	g_assert_cmpint(note_base64_decode("QQ==", 4, out, sizeof(out), &n), ==, 0);
	g_assert_cmpmem(out, n, "A", 1);
	g_assert_cmpint(note_base64_decode("QUJD", 4, out, 2, &n), ==, -ENOSPC);

	/* a signature whose base64 has a non-zero left-over bit refuses the note */
	testutil_signer_new(&a);
	note = signed_note(&a, "origin", "origin\n5\n");
	g_assert_cmpint(verify(note, "origin", &a, &tl), ==, 0);
	bent = g_string_new(note->str);
	eq = strrchr(bent->str, '=');
	g_assert_nonnull(eq);
	eq[-1] = (char)(eq[-1] == 'A' ? 'B' : eq[-1] ^ 1); /* 68 bytes: 2 left-over bits */
	g_assert_cmpint(verify(bent, "origin", &a, &tl), ==, -EBADMSG);
	/* nor may the padding go */
	g_string_assign(bent, note->str);
	g_string_erase(bent, (gssize)(strrchr(bent->str, '=') - bent->str), 1);
	g_assert_cmpint(verify(bent, "origin", &a, &tl), ==, -EBADMSG);
	g_string_free(bent, TRUE);
	g_string_free(note, TRUE);
	EVP_PKEY_free(a.key);
}

/* A line counts only when name AND key id are a known key's: same-name lines from other
 * keys (placed first), same-id lines of other names and other algorithms are ignored. */
static void test_unknown_keys_ignored(void)
{
	static const char text[] =
		"quorum-time/node-1\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	const char *name = "quorum-time/node-1", *why = NULL;
	struct testutil_signer a, b;
	uint8_t sig_a[64], sig_b[64], pq[100];
	GString *note = g_string_new(text);
	size_t tl = 0;

	testutil_signer_new(&a);
	testutil_signer_new(&b);
	testutil_signer_sign(&a, text, strlen(text), sig_a);
	testutil_signer_sign(&b, text, strlen(text), sig_b);
	memset(pq, 0x5a, sizeof(pq));
	g_string_append_c(note, '\n');
	add_line(note, name, note_key_hash(name, b.pub), sig_b, 64); /* same name, key b */
	add_line(note, "other.example/w", note_key_hash(name, a.pub), sig_a, 64); /* a's id */
	add_line(note, name, 0x01020304u, pq, sizeof(pq)); /* another algorithm's size */
	add_line(note, name, note_key_hash(name, a.pub), sig_a, 64);
	g_assert_cmpint(verify(note, name, &a, &tl), ==, 0);
	g_assert_cmpuint(tl, ==, strlen(text));
	g_assert_cmpint(verify(note, name, &b, &tl), ==, 0);
	/* through a callback that knows only a's key: b's line first does not refuse it */
	g_assert_cmpint(
		note_verify_by(note->str, note->len, name, verify_with_a, &a, &tl, &why), ==,
		0);
	/* only other keys' lines: no signature by a's key */
	g_string_assign(note, text);
	g_string_append_c(note, '\n');
	add_line(note, name, note_key_hash(name, b.pub), sig_b, 64);
	g_assert_cmpint(verify(note, name, &a, &tl), ==, -ENOKEY);
	g_assert_cmpint(
		note_verify_by(note->str, note->len, name, verify_with_a, &a, &tl, &why), ==,
		-ENOKEY);
	g_string_free(note, TRUE);
	EVP_PKEY_free(a.key);
	EVP_PKEY_free(b.key);
}

/* A line with the known key's name and id whose signature fails refuses the note, wherever
 * it stands (C2SP: SHOULD reject), and so does a malformed line or a bad key name. */
static void test_known_key_failure_and_malformed_lines(void)
{
	static const char text[] = "origin\n5\n";
	struct testutil_signer a, b;
	uint8_t sig_a[64], sig_b[64];
	GString *note = g_string_new(NULL);
	size_t tl;

	testutil_signer_new(&a);
	testutil_signer_new(&b);
	testutil_signer_sign(&a, text, strlen(text), sig_a);
	testutil_signer_sign(&b, text, strlen(text), sig_b);
	g_string_printf(note, "%s\n", text);
	add_line(note, "origin", note_key_hash("origin", a.pub), sig_a, 64);
	add_line(note, "origin", note_key_hash("origin", a.pub), sig_b,
		 64); /* a's id, b's sig */
	g_assert_cmpint(verify(note, "origin", &a, &tl), ==, -EPERM);
	/* a's id with a signature of the wrong length */
	g_string_printf(note, "%s\n", text);
	add_line(note, "origin", note_key_hash("origin", a.pub), sig_a, 63);
	g_assert_cmpint(verify(note, "origin", &a, &tl), ==, -EPERM);
	/* key names with '+' or a Unicode space, a line without the em dash, a bare name */
	{
		static const char *const names[] = { "ori+gin", "ori\xc2\xa0gin",
						     "ori\xe3\x80\x80gin" };

		for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
			g_string_printf(note, "%s\n", text);
			add_line(note, names[i], 1, sig_b, 64);
			add_line(note, "origin", note_key_hash("origin", a.pub), sig_a, 64);
			g_assert_cmpint(verify(note, "origin", &a, &tl), ==, -EBADMSG);
		}
	}
	g_string_printf(note, "%s\n- origin QUI=\n", text);
	g_assert_cmpint(verify(note, "origin", &a, &tl), ==, -EBADMSG);
	g_string_printf(note, "%s\n\xe2\x80\x94 origin\n", text);
	g_assert_cmpint(verify(note, "origin", &a, &tl), ==, -EBADMSG);
	/* more than NOTE_SIGNATURES_MAX lines */
	g_string_printf(note, "%s\n", text);
	for (int i = 0; i < NOTE_SIGNATURES_MAX; i++)
		add_line(note, "w", (uint32_t)i, sig_b, 1);
	add_line(note, "origin", note_key_hash("origin", a.pub), sig_a, 64);
	g_assert_cmpint(verify(note, "origin", &a, &tl), ==, -EBADMSG);
	g_string_free(note, TRUE);
	EVP_PKEY_free(a.key);
	EVP_PKEY_free(b.key);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/note/round-trip", test_round_trip);
	g_test_add_func("/note/strict-parse", test_strict_parse);
	g_test_add_func("/note/signed", test_signed_note);
	g_test_add_func("/note/key-hash", test_key_hash);
	g_test_add_func("/note/text-ends-at-last-blank-line",
			test_text_ends_at_last_blank_line);
	g_test_add_func("/note/control-characters-refused", test_control_characters_refused);
	g_test_add_func("/note/canonical-base64-only", test_canonical_base64_only);
	g_test_add_func("/note/unknown-keys-ignored", test_unknown_keys_ignored);
	g_test_add_func("/note/known-key-failure-and-malformed-lines",
			test_known_key_failure_and_malformed_lines);
	return g_test_run();
}
