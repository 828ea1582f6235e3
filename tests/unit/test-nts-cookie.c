/* test-nts-cookie.c -- unit tests of NTS cookies and their master keys (nts-cookie.c,
 * nts-keystore.c): a cookie opens to the keys sealed in it and to nothing once altered or
 * under another key; the ring rotates and keeps KEPT keys; its text form is read strictly;
 * the key file is written 0600, read back, refused when others may read it, and rotated
 * when due. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/rand.h>

#include "nts-cookie.h"
#include "nts-keystore.h"

static struct nts_cookie_keys random_keys(void)
{
	struct nts_cookie_keys k;

	RAND_bytes(k.c2s, sizeof(k.c2s));
	RAND_bytes(k.s2c, sizeof(k.s2c));
	return k;
}

/* Sealed then opened: the same keys; the id is in the clear; every bit matters. */
static void test_cookie_round_trip_and_tamper(void)
{
	struct nts_aead master;
	uint8_t key[32], nonce[NTS_COOKIE_NONCE_LEN], cookie[NTS_COOKIE_LEN];
	struct nts_cookie_keys in = random_keys(), out;
	uint32_t id;

	g_assert_cmpint(NTS_COOKIE_LEN % 4, ==, 0); /* fits an extension field unpadded */
	RAND_bytes(key, sizeof(key));
	RAND_bytes(nonce, sizeof(nonce));
	g_assert_cmpint(nts_aead_init(&master), ==, 0);
	g_assert_cmpint(nts_aead_set_key(&master, key), ==, 0);
	g_assert_cmpint(nts_cookie_seal(&master, 0xa1b2c3d4u, nonce, &in, cookie), ==, 0);
	g_assert_cmpint(nts_cookie_key_id(cookie, sizeof(cookie), &id), ==, 0);
	g_assert_cmphex(id, ==, 0xa1b2c3d4u);
	g_assert_cmpint(nts_cookie_open(&master, cookie, sizeof(cookie), &out), ==, 0);
	g_assert_cmpmem(&in, sizeof(in), &out, sizeof(out));
	/* The keys do not appear in the clear. */
	g_assert_null(memmem(cookie, sizeof(cookie), in.c2s, 8));
	for (size_t bit = 0; bit < sizeof(cookie) * 8; bit += 5) {
		cookie[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		g_assert_cmpint(nts_cookie_open(&master, cookie, sizeof(cookie), &out), ==,
				-EBADMSG);
		cookie[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	g_assert_cmpint(nts_cookie_open(&master, cookie, sizeof(cookie) - 4, &out), ==,
			-EINVAL);
	g_assert_cmpint(nts_cookie_key_id(cookie, sizeof(cookie) + 4, &id), ==, -EINVAL);
	key[0] ^= 1; /* another master key */
	g_assert_cmpint(nts_aead_set_key(&master, key), ==, 0);
	g_assert_cmpint(nts_cookie_open(&master, cookie, sizeof(cookie), &out), ==, -EBADMSG);
	nts_aead_release(&master);
}

/* Rotation: a new key in front, ids counting up, at most KEPT kept; find by id. */
static void test_ring_rotation_keeps_kept(void)
{
	struct nts_keyring r = { 0 };
	uint32_t first;

	g_assert_cmpint(nts_keyring_rotate(&r, 0, 1), ==, -EINVAL);
	g_assert_cmpint(nts_keyring_rotate(&r, 3, 100), ==, 0);
	first = r.keys[0].id;
	for (int i = 1; i <= 5; i++)
		g_assert_cmpint(nts_keyring_rotate(&r, 3, 100 + i), ==, 0);
	g_assert_cmpuint(r.count, ==, 3);
	g_assert_cmphex(r.keys[0].id, ==, first + 5);
	g_assert_cmphex(r.keys[2].id, ==, first + 3);
	g_assert_cmpint(r.keys[0].created_s, ==, 105);
	g_assert_nonnull(nts_keyring_find(&r, first + 4));
	g_assert_null(nts_keyring_find(&r, first + 2)); /* dropped */
	g_assert_cmpmem(r.keys[1].key, 32, nts_keyring_find(&r, first + 4)->key, 32);
	nts_keyring_wipe(&r);
	g_assert_cmpuint(r.count, ==, 0);
}

/* Formatted and parsed back: the same ring; broken texts refused with the line. */
static void test_ring_text_strict(void)
{
	static const char *const bad[] = {
		"quorum-nts-keys-v2\n",
		"quorum-nts-keys-v1\n",
		"quorum-nts-keys-v1\n0000000g 5 "
		"0000000000000000000000000000000000000000000000000000000000000000\n",
		"quorum-nts-keys-v1\n00000001 5 00\n",
		"quorum-nts-keys-v1\n00000001 05 "
		"0000000000000000000000000000000000000000000000000000000000000000\n",
		"quorum-nts-keys-v1\n00000001 5 "
		"0000000000000000000000000000000000000000000000000000000000000000",
		"quorum-nts-keys-v1\n00000001 5 "
		"0000000000000000000000000000000000000000000000000000000000000000\n"
		"00000001 4 "
		"0000000000000000000000000000000000000000000000000000000000000000\n",
		"quorum-nts-keys-v1\n00000001 5 "
		"0000000000000000000000000000000000000000000000000000000000000000\n"
		"00000002 6 "
		"0000000000000000000000000000000000000000000000000000000000000000\n",
		"quorum-nts-keys-v1\n00000001 5 "
		"000000000000000000000000000000000000000000000000000000000000000A\n",
	};
	struct nts_keyring r = { 0 }, back;
	char text[4096], why[256];
	int len;

	for (int i = 0; i < 4; i++)
		g_assert_cmpint(nts_keyring_rotate(&r, 4, 1000 + i), ==, 0);
	len = nts_keyring_format(&r, text, sizeof(text));
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(nts_keyring_parse(text, (size_t)len, &back, why, sizeof(why)), ==, 0);
	g_assert_true(nts_keyring_equal(&r, &back));
	g_assert_cmpint(nts_keyring_format(&r, text, 40), ==, -ENOSPC);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		why[0] = '\0';
		g_assert_cmpint(
			nts_keyring_parse(bad[i], strlen(bad[i]), &back, why, sizeof(why)), ==,
			-EINVAL);
		g_assert_cmpstr(why, !=, "");
		g_assert_cmpuint(back.count, ==, 0);
	}
}

/* The file: made 0600 in a folder made 0700, read back equal; refused once group-readable
 * (naming the file and chmod 600); rotated when due, loaded as is before. */
static void test_keystore_file(void)
{
	char *dir = g_dir_make_tmp("nts-keys-XXXXXX", NULL), *sub, *file, why[512];
	struct nts_keyring r, back;
	struct stat st;
	int rotated;
	uint32_t id;

	g_assert_nonnull(dir);
	sub = g_build_filename(dir, "nts", NULL);
	file = g_build_filename(sub, NTS_KEYSTORE_FILE, NULL);
	g_assert_cmpint(nts_keystore_load(sub, &r, why, sizeof(why)), ==, -ENOENT);
	g_assert_cmpint(nts_keystore_sync(sub, 3600, 3, 5000, &r, &rotated, why, sizeof(why)),
			==, 0);
	g_assert_cmpint(rotated, ==, 1);
	g_assert_cmpuint(r.count, ==, 1);
	id = r.keys[0].id;
	g_assert_cmpint(stat(sub, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
	g_assert_cmpint(stat(file, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(nts_keystore_load(sub, &back, why, sizeof(why)), ==, 0);
	g_assert_true(nts_keyring_equal(&r, &back));

	/* Not due: the same key, nothing written. */
	g_assert_cmpint(
		nts_keystore_sync(sub, 3600, 3, 5000 + 3599, &back, &rotated, why, sizeof(why)),
		==, 0);
	g_assert_cmpint(rotated, ==, 0);
	g_assert_cmphex(back.keys[0].id, ==, id);
	/* Due: a new key in front, the old one kept behind it, and saved. */
	g_assert_cmpint(
		nts_keystore_sync(sub, 3600, 3, 5000 + 3600, &back, &rotated, why, sizeof(why)),
		==, 0);
	g_assert_cmpint(rotated, ==, 1);
	g_assert_cmpuint(back.count, ==, 2);
	g_assert_cmphex(back.keys[1].id, ==, id);
	g_assert_cmpint(nts_keystore_load(sub, &r, why, sizeof(why)), ==, 0);
	g_assert_true(nts_keyring_equal(&r, &back));

	g_assert_cmpint(chmod(file, 0640), ==, 0);
	g_assert_cmpint(nts_keystore_load(sub, &r, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, file));
	g_assert_nonnull(strstr(why, "chmod 600"));
	g_assert_cmpint(nts_keystore_sync(sub, 3600, 3, 9000, &r, &rotated, why, sizeof(why)),
			==, -EPERM);

	g_assert_cmpint(unlink(file), ==, 0);
	g_assert_cmpint(rmdir(sub), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
	g_free(file);
	g_free(sub);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nts-cookie/round-trip-and-any-change-refused",
			test_cookie_round_trip_and_tamper);
	g_test_add_func("/nts-cookie/ring/rotation-keeps-kept", test_ring_rotation_keeps_kept);
	g_test_add_func("/nts-cookie/ring/text-read-strictly", test_ring_text_strict);
	g_test_add_func("/nts-cookie/keystore/file-0600-rotated-when-due", test_keystore_file);
	return g_test_run();
}
