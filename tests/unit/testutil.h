/* testutil.h -- helpers shared by the g_test programs: scratch folders, fixture plugins,
 * keys and signatures made with the same code quorum-keygen and quorum-sign use. */
#ifndef QUORUM_TESTUTIL_H
#define QUORUM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* A scratch folder removed (recursively) by testutil_scratch_free. */
char *testutil_scratch_new(void);
void testutil_scratch_free(char *dir);

/* testutil_path: g_strdup_printf("%s/%s", dir, name). */
char *testutil_path(const char *dir, const char *name);

/* testutil_write: writes TEXT to DIR/NAME with MODE; returns the path (g_free). */
char *testutil_write(const char *dir, const char *name, const char *text, unsigned mode);

/* testutil_fixture: copies the built fixture module FIXTURE ("fixture-stage") to
 * DIR/AS.so with mode 0644; returns the path (g_free). */
char *testutil_fixture(const char *dir, const char *fixture, const char *as);

/* testutil_key: a new Ed25519 key, its public half written to DIR/NAME.pub and the private
 * half to DIR/NAME.key (0600). Returns the key (EVP_PKEY_free). */
EVP_PKEY *testutil_key(const char *dir, const char *name);

/* testutil_sign: writes PATH.sig signing PATH (format 2) with KEY: the statement its
 * descriptor gives (quorum-sign's plugin_describe), but with plugin name NAME. */
void testutil_sign(EVP_PKEY *key, const char *path, const char *name);

struct plugin_statement;

/* testutil_sign_statement: writes PATH.sig signing PATH with KEY in FORMAT, stating ST. */
void testutil_sign_statement(EVP_PKEY *key, const char *path, unsigned format,
			     const struct plugin_statement *st);

/* An Ed25519 signer for the tests that sign raw messages (notes, cosignatures). */
struct testutil_signer {
	EVP_PKEY *key;
	uint8_t pub[32]; /* the raw public key */
};

/* testutil_signer_new: S with a new key (EVP_PKEY_free(S->key) when done). */
void testutil_signer_new(struct testutil_signer *s);

/* testutil_signer_sign: SIG is S's signature of MSG (LEN bytes). */
void testutil_signer_sign(const struct testutil_signer *s, const void *msg, size_t len,
			  uint8_t sig[64]);

/* testutil_flip_bit: flips bit BIT of byte OFFSET of the file PATH. */
void testutil_flip_bit(const char *path, size_t offset, unsigned bit);

/* testutil_file_size: the size of PATH. */
size_t testutil_file_size(const char *path);

struct quorum_plugin;
struct settings_struct;
/* testutil_settings: the settings struct (ABI 1.12) quorumd fills for plugin D from GROUP,
 * the text inside its settings group ("fanout = 2;"; NULL: empty), by the host's own code;
 * the group is not validated against the schema (a test's mock answers the settings read
 * through accessors, such as required paths). The test fails on a syntax error or a fill
 * error. RETURN VALUE: new (settings_struct_free), or NULL when D declares no struct. */
struct settings_struct *testutil_settings(const struct quorum_plugin *d, const char *group);

#endif
