/* keys.c -- Ed25519 keys through OpenSSL 3: generation, PEM files, key ids, one-shot
 * sign/verify (the streaming EVP API does not support Ed25519), the trusted keyring. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "keys-internal.h"
#include "util-internal.h"

EVP_PKEY *key_generate(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *key = NULL;

	if (ctx == NULL)
		return NULL;
	if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

int key_id(EVP_PKEY *key, char out[KEY_ID_HEX_LEN + 1])
{
	uint8_t raw[KEY_PUBLIC_LEN], digest[SHA256_DIGEST_LENGTH];
	size_t raw_len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(key, raw, &raw_len) != 1 || raw_len != sizeof(raw))
		return -EINVAL;
	SHA256(raw, raw_len, digest);
	hex_encode(digest, KEY_ID_BYTES, out);
	return 0;
}

static int key_check_ed25519(EVP_PKEY *key, const char *path, char *why, size_t why_size)
{
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		errbuf_set(why, why_size, "%s does not hold an Ed25519 key", path);
		return -EINVAL;
	}
	return 0;
}

static int key_load(const char *path, int private, EVP_PKEY **out, char *why, size_t why_size)
{
	uint8_t *text;
	size_t len;
	BIO *bio;
	EVP_PKEY *key;
	int err;

	err = file_read_checked(path, KEY_FILE_MAX, private ? FILE_CHECK_PRIVATE : 0, &text,
				&len, why, why_size);
	if (err != 0)
		return err;
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio == NULL) {
		err = -ENOMEM;
		errbuf_set(why, why_size, "out of memory reading %s", path);
		goto out_free;
	}
	key = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
		      : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL) {
		err = -EINVAL;
		errbuf_set(why, why_size, "%s is not a PEM %s key", path,
			   private ? "PKCS#8 private" : "public");
		goto out_free;
	}
	err = key_check_ed25519(key, path, why, why_size);
	if (err != 0) {
		EVP_PKEY_free(key);
		goto out_free;
	}
	*out = key;
out_free:
	OPENSSL_cleanse(text, len);
	free(text);
	return err;
}

int key_load_private(const char *path, EVP_PKEY **out, char *why, size_t why_size)
{
	return key_load(path, 1, out, why, why_size);
}

int key_load_public(const char *path, EVP_PKEY **out, char *why, size_t why_size)
{
	return key_load(path, 0, out, why, why_size);
}

int key_load_public_raw(const char *path, uint8_t pub[KEY_PUBLIC_LEN], char *why,
			size_t why_size)
{
	EVP_PKEY *key = NULL;
	size_t len = KEY_PUBLIC_LEN;
	int err = key_load(path, 0, &key, why, why_size);

	if (err != 0)
		return err;
	if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1 || len != KEY_PUBLIC_LEN) {
		errbuf_set(why, why_size, "%s: not an Ed25519 public key", path);
		err = -EINVAL;
	}
	EVP_PKEY_free(key);
	return err;
}

static int key_save(EVP_PKEY *key, const char *path, int private, int replace, char *why,
		    size_t why_size)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *pem;
	long len;
	int err;

	if (bio == NULL) {
		errbuf_set(why, why_size, "out of memory writing %s", path);
		return -ENOMEM;
	}
	if ((private ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_bio_PUBKEY(bio, key)) != 1) {
		BIO_free(bio);
		errbuf_set(why, why_size, "cannot encode the key for %s", path);
		return -EIO;
	}
	len = BIO_get_mem_data(bio, &pem);
	err = file_write_new(path, pem, (size_t)len, private ? 0600 : 0644, replace, why,
			     why_size);
	BIO_free(bio);
	return err;
}

int key_save_private(EVP_PKEY *key, const char *path, int replace, char *why, size_t why_size)
{
	return key_save(key, path, 1, replace, why, why_size);
}

int key_save_public(EVP_PKEY *key, const char *path, int replace, char *why, size_t why_size)
{
	return key_save(key, path, 0, replace, why, why_size);
}

/*
 * Setting up a signing or verifying context fetches Ed25519's implementation by name, which
 * in OpenSSL 3.0 walks the provider's name map: at n = 31 (30 answers signed and 30
 * verified a second) that was a third of the signing time. So each key gets its two
 * contexts set up once, on a copy of the key (a reference to the key itself would keep it
 * alive for ever), kept with the key (ex_data, freed with it) and duplicated for each
 * operation (EVP_PKEY_CTX_dup: no fetch).
 */
struct key_ops {
	EVP_PKEY *copy;
	EVP_MD_CTX *ctx[2]; /* signing, verifying: set up, never used, only duplicated */
};

static pthread_once_t key_ops_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t key_ops_lock = PTHREAD_MUTEX_INITIALIZER;
static int key_ops_index = -1;

static void key_ops_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	struct key_ops *o = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (o == NULL)
		return;
	EVP_MD_CTX_free(o->ctx[0]);
	EVP_MD_CTX_free(o->ctx[1]);
	EVP_PKEY_free(o->copy);
	free(o);
}

/* A duplicated key does not share them (each key frees its own). */
static int key_ops_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
		       long argl, void *argp)
{
	(void)to;
	(void)from;
	(void)idx;
	(void)argl;
	(void)argp;
	*from_d = NULL;
	return 1;
}

static void key_ops_init(void)
{
	key_ops_index = EVP_PKEY_get_ex_new_index(0, NULL, NULL, key_ops_dup, key_ops_free);
}

/* A context to sign (VERIFY 0) or verify (1) with KEY, duplicated from the one set up for
 * it; NULL when that cannot be had (the caller sets one up itself). */
static EVP_PKEY_CTX *key_ops_ctx(EVP_PKEY *key, int verify)
{
	EVP_PKEY_CTX *dup = NULL;
	struct key_ops *o;

	if (pthread_once(&key_ops_once, key_ops_init) != 0 || key_ops_index < 0)
		return NULL;
	pthread_mutex_lock(&key_ops_lock);
	o = EVP_PKEY_get_ex_data(key, key_ops_index);
	if (o == NULL && (o = calloc(1, sizeof(*o))) != NULL) {
		o->copy = EVP_PKEY_dup(key);
		if (o->copy == NULL || EVP_PKEY_set_ex_data(key, key_ops_index, o) != 1) {
			EVP_PKEY_free(o->copy);
			free(o);
			o = NULL;
		}
	}
	if (o != NULL && o->ctx[verify] == NULL) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		if (m != NULL &&
		    (verify ? EVP_DigestVerifyInit(m, NULL, NULL, NULL, o->copy)
			    : EVP_DigestSignInit(m, NULL, NULL, NULL, o->copy)) == 1)
			o->ctx[verify] = m;
		else
			EVP_MD_CTX_free(m);
	}
	if (o != NULL && o->ctx[verify] != NULL)
		dup = EVP_PKEY_CTX_dup(EVP_MD_CTX_get_pkey_ctx(o->ctx[verify]));
	pthread_mutex_unlock(&key_ops_lock);
	return dup;
}

/* CTX ready to sign (VERIFY 0) or verify with KEY; *PCTX is what the caller frees after
 * CTX (NULL when CTX was set up itself). 0 or -EIO. */
static int key_ops_start(EVP_MD_CTX *ctx, EVP_PKEY *key, int verify, EVP_PKEY_CTX **pctx)
{
	*pctx = key_ops_ctx(key, verify);
	if (*pctx != NULL) {
		EVP_MD_CTX_set_pkey_ctx(ctx, *pctx); /* CTX does not free it */
		return 0;
	}
	return (verify ? EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key)
		       : EVP_DigestSignInit(ctx, NULL, NULL, NULL, key)) == 1
		       ? 0
		       : -EIO;
}

int key_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[KEY_SIGNATURE_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t sig_len = KEY_SIGNATURE_LEN;
	int err = -EIO;

	if (ctx == NULL)
		return -ENOMEM;
	if (key_ops_start(ctx, key, 0, &pctx) == 0 &&
	    EVP_DigestSign(ctx, sig, &sig_len, msg, len) == 1 && sig_len == KEY_SIGNATURE_LEN)
		err = 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_CTX_free(pctx);
	return err;
}

int key_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx;
	int ok;

	if (sig_len != KEY_SIGNATURE_LEN)
		return -EBADMSG;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	ok = key_ops_start(ctx, key, 1, &pctx) == 0 &&
	     EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -EBADMSG;
}

int keyring_add_file(struct keyring *ring, const char *path, char *why, size_t why_size)
{
	struct keyring_entry *grown;
	EVP_PKEY *key;
	char id[KEY_ID_HEX_LEN + 1];
	int err;

	err = key_load_public(path, &key, why, why_size);
	if (err != 0)
		return err;
	if (key_id(key, id) != 0) {
		errbuf_set(why, why_size, "cannot compute the key id of %s", path);
		err = -EINVAL;
		goto out_free_key;
	}
	if (keyring_find(ring, id) != NULL) {
		errbuf_set(why, why_size, "%s repeats trusted key %s", path, id);
		err = -EEXIST;
		goto out_free_key;
	}
	grown = realloc(ring->entries, (ring->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		err = -ENOMEM;
		goto out_free_key;
	}
	ring->entries = grown;
	memcpy(grown[ring->count].id, id, sizeof(id));
	grown[ring->count].source = strdup(path);
	grown[ring->count].key = key;
	grown[ring->count].names = NULL;
	grown[ring->count].name_count = 0;
	if (grown[ring->count].source == NULL) {
		err = -ENOMEM;
		goto out_free_key;
	}
	ring->count++;
	return 0;
out_free_key:
	EVP_PKEY_free(key);
	return err;
}

EVP_PKEY *keyring_find(const struct keyring *ring, const char *id)
{
	for (size_t i = 0; i < ring->count; i++) {
		if (strcmp(ring->entries[i].id, id) == 0)
			return ring->entries[i].key;
	}
	return NULL;
}

static struct keyring_entry *keyring_entry(const struct keyring *ring, const char *id)
{
	for (size_t i = 0; i < ring->count; i++) {
		if (strcmp(ring->entries[i].id, id) == 0)
			return &ring->entries[i];
	}
	return NULL;
}

int keyring_scope(struct keyring *ring, const char *id, const char *const *names, size_t count)
{
	struct keyring_entry *entry = keyring_entry(ring, id);

	if (entry == NULL)
		return -ENOENT;
	if (entry->names != NULL)
		return -EEXIST;
	entry->names = calloc(count + 1, sizeof(*entry->names));
	if (entry->names == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		entry->names[i] = strdup(names[i]);
		if (entry->names[i] == NULL)
			return -ENOMEM; /* freed with the ring: the list ends at the first NULL
					 */
		entry->name_count++;
	}
	return 0;
}

int keyring_may_sign(const struct keyring *ring, const char *id, const char *name, char *scope,
		     size_t scope_size)
{
	const struct keyring_entry *entry = keyring_entry(ring, id);
	size_t used = 0;

	if (entry == NULL)
		return 0;
	if (entry->names == NULL)
		return 1;
	for (size_t i = 0; i < entry->name_count; i++) {
		if (strcmp(entry->names[i], name) == 0)
			return 1;
	}
	for (size_t i = 0; scope != NULL && i < entry->name_count && used < scope_size; i++) {
		int n = snprintf(scope + used, scope_size - used, "%s%s", i > 0 ? ", " : "",
				 entry->names[i]);

		used += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

void keyring_release(struct keyring *ring)
{
	for (size_t i = 0; i < ring->count; i++) {
		EVP_PKEY_free(ring->entries[i].key);
		free(ring->entries[i].source);
		for (size_t j = 0;
		     ring->entries[i].names != NULL && ring->entries[i].names[j] != NULL; j++)
			free(ring->entries[i].names[j]);
		free(ring->entries[i].names);
	}
	free(ring->entries);
	ring->entries = NULL;
	ring->count = 0;
}
