/* test-vault.c -- the vault log (audit/vaultlog.c): round trips plain and sealed, rotation,
 * crash recovery of a torn tail, checkpoints, and tampering of every kind detected with a
 * message that names the segment file and the byte offset, without changing the disk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <openssl/evp.h>

#include "vaultlog.h"

#define WHY_SIZE  512
#define TYPE_NOTE 16

/* ---- helpers ---- */

struct fixture {
	char *dir;
	GPtrArray *logs; /* log lines (g_free) */
};

static void log_cb(void *arg, int level, const char *msg)
{
	struct fixture *f = arg;

	g_ptr_array_add(f->logs, g_strdup_printf("%d %s", level, msg));
}

static int has_log(struct fixture *f, const char *line)
{
	for (guint i = 0; i < f->logs->len; i++) {
		if (strstr(g_ptr_array_index(f->logs, i), line) != NULL)
			return 1;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(struct fixture *f, gconstpointer data)
{
	GError *error = NULL;
	char *tmp = g_dir_make_tmp("test-vault-XXXXXX", &error);

	g_assert_no_error(error);
	f->dir = g_build_filename(tmp, "vault", NULL); /* vault_open creates it */
	g_free(tmp);
	f->logs = g_ptr_array_new_with_free_func(g_free);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	char *parent = g_path_get_dirname(f->dir);

	g_assert_cmpint(nftw(parent, rm_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
	g_free(parent);
	g_free(f->dir);
	g_ptr_array_unref(f->logs);
}

static struct vault_options options(struct fixture *f)
{
	struct vault_options o = { .dir = f->dir, .log = log_cb, .log_arg = f };

	return o;
}

static struct vault *open_ok(const struct vault_options *o)
{
	char why[WHY_SIZE];
	struct vault *v = NULL;
	int err = vault_open(o, &v, why, sizeof(why));

	if (err)
		g_error("vault_open: %s (%s)", g_strerror(-err), why);
	g_assert_nonnull(v);
	return v;
}

/* Opens expecting failure ERR; returns WHY (g_free). */
static char *open_fails(const struct vault_options *o, int want)
{
	char why[WHY_SIZE];
	struct vault *v = NULL;
	int err = vault_open(o, &v, why, sizeof(why));

	g_assert_cmpint(err, ==, want);
	g_assert_null(v);
	g_assert_cmpstr(why, !=, "");
	return g_strdup(why);
}

static char *payload_text(uint64_t i, size_t len)
{
	char *p = g_malloc(len + 1);
	size_t n = (size_t)snprintf(p, len + 1, "payload-%06" PRIu64 "-", i);

	for (size_t k = n; k < len; k++)
		p[k] = (char)('a' + (i + k) % 26);
	return p;
}

static void append_n(struct vault *v, uint64_t n, size_t len)
{
	for (uint64_t i = 0; i < n; i++) {
		char *p = payload_text(vault_count(v), len);

		g_assert_cmpint(vault_append(v, TYPE_NOTE, p, len, NULL), ==, 0);
		g_free(p);
	}
}

/* A record as read back, copied out of the iterate callback. */
struct copy {
	uint64_t index, segment, offset;
	uint16_t type, flags;
	int sealed;
	uint8_t hash[VAULT_HASH_LEN], prev[VAULT_HASH_LEN];
	GBytes *payload;
	size_t raw_len;
};

static void copy_free(gpointer p)
{
	struct copy *c = p;

	g_bytes_unref(c->payload);
	g_free(c);
}

static int collect_cb(void *arg, const struct vault_record *rec)
{
	struct copy *c = g_new0(struct copy, 1);

	c->index = rec->index;
	c->segment = rec->segment;
	c->offset = rec->offset;
	c->type = rec->type;
	c->flags = rec->flags;
	c->sealed = rec->sealed;
	memcpy(c->hash, rec->hash, VAULT_HASH_LEN);
	memcpy(c->prev, rec->prev_hash, VAULT_HASH_LEN);
	c->payload = g_bytes_new(rec->payload, rec->payload_len);
	c->raw_len = rec->raw_len;
	g_assert_true(rec->raw + rec->raw_len == rec->hash + VAULT_HASH_LEN);
	g_ptr_array_add(arg, c);
	return 0;
}

static GPtrArray *collect(struct vault *v, uint64_t from, uint64_t to)
{
	GPtrArray *all = g_ptr_array_new_with_free_func(copy_free);
	char why[WHY_SIZE];
	int err = vault_iterate(v, from, to, collect_cb, all, why, sizeof(why));

	if (err)
		g_error("vault_iterate: %s (%s)", g_strerror(-err), why);
	return all;
}

#define COPY(all, i) ((struct copy *)g_ptr_array_index((all), (i)))

/* Every record's prev_hash is its predecessor's hash and the indices are consecutive. */
static void assert_chain(GPtrArray *all, const uint8_t *last_hash)
{
	static const uint8_t zero[VAULT_HASH_LEN];

	for (guint i = 0; i < all->len; i++) {
		g_assert_cmpuint(COPY(all, i)->index, ==, i);
		g_assert_true(memcmp(COPY(all, i)->prev, i ? COPY(all, i - 1)->hash : zero,
				     VAULT_HASH_LEN) == 0);
	}
	g_assert_true(memcmp(COPY(all, all->len - 1)->hash, last_hash, VAULT_HASH_LEN) == 0);
}

static void assert_payload(const struct copy *c, const void *want, size_t len)
{
	gsize n;
	const void *p = g_bytes_get_data(c->payload, &n);

	g_assert_cmpmem(p, n, want, len);
}

static char *seg_path(struct fixture *f, uint64_t n)
{
	return g_strdup_printf("%s/segment-%012" PRIu64 ".qv", f->dir, n);
}

static char *seg_name(uint64_t n)
{
	return g_strdup_printf("segment-%012" PRIu64 ".qv", n);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	g_assert_cmpint(stat(path, &sb), ==, 0);
	return sb.st_size;
}

static void flip_bit(const char *path, uint64_t offset, unsigned bit)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t b;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, &b, 1, (off_t)offset), ==, 1);
	b ^= (uint8_t)(1u << bit);
	g_assert_cmpint(pwrite(fd, &b, 1, (off_t)offset), ==, 1);
	close(fd);
}

/* Removes bytes [OFFSET, OFFSET+LEN) of PATH, in place. */
static void cut_bytes(const char *path, uint64_t offset, uint64_t len)
{
	gchar *data;
	gsize size;
	int fd;

	g_assert_true(g_file_get_contents(path, &data, &size, NULL));
	g_assert_cmpuint(offset + len, <=, size);
	memmove(data + offset, data + offset + len, size - offset - len);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, size - len), ==, (ssize_t)(size - len));
	close(fd);
	g_free(data);
}

static void append_bytes(const char *path, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, bytes, len), ==, (ssize_t)len);
	close(fd);
}

static int file_contains(const char *path, const char *needle)
{
	gchar *data;
	gsize size;
	int found;

	g_assert_true(g_file_get_contents(path, &data, &size, NULL));
	found = memmem(data, size, needle, strlen(needle)) != NULL;
	g_free(data);
	return found;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names, sizes and SHA-256 of every file in the vault: to prove nothing changed. */
static char *snapshot(struct fixture *f)
{
	GString *s = g_string_new(NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(f->dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	for (name = g_dir_read_name(d); name != NULL; name = g_dir_read_name(d))
		g_ptr_array_add(names, g_strdup(name));
	g_dir_close(d);
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++) {
		char *path = g_build_filename(f->dir, g_ptr_array_index(names, i), NULL);
		gchar *data, *sum;
		gsize size;

		g_assert_true(g_file_get_contents(path, &data, &size, NULL));
		sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data,
						  size);
		g_string_append_printf(s, "%s %zu %s\n", (char *)g_ptr_array_index(names, i),
				       size, sum);
		g_free(sum);
		g_free(data);
		g_free(path);
	}
	g_ptr_array_unref(names);
	return g_string_free(s, FALSE);
}

static const uint8_t test_key[VAULT_KEY_LEN] = {
	0x42, 0x13, 0x37, 0x99, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
	0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c,
};

/* ---- round trips ---- */

static int stop_after_three(void *arg, const struct vault_record *rec)
{
	int *seen = arg;

	return ++*seen == 3 ? 7 : 0;
}

static void test_round_trip_plain(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	size_t sizes[] = { 0, 1, 200, 4096, 100000, VAULT_PAYLOAD_MAX };
	char why[WHY_SIZE], *big = g_malloc(VAULT_PAYLOAD_MAX + 1);
	struct vault_record rec;
	struct vault *v = open_ok(&o);
	GPtrArray *all;
	int seen = 0;

	g_assert_cmpuint(vault_count(v), ==, 1);
	g_assert_cmpuint(vault_durable(v), ==, 1);
	g_assert_cmpuint(vault_segment_count(v), ==, 1);
	for (size_t i = 0; i <= VAULT_PAYLOAD_MAX; i++)
		big[i] = (char)(i * 7 + 3);
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_assert_cmpint(vault_append(v, (uint16_t)(TYPE_NOTE + i), big, sizes[i], &rec),
				==, 0);
		g_assert_cmpuint(rec.index, ==, i + 1);
		g_assert_cmpuint(rec.raw_len, ==, sizes[i] + VAULT_RECORD_MIN);
		g_assert_cmpmem(rec.payload, rec.payload_len, big, sizes[i]);
		g_assert_true(memcmp(rec.hash, vault_last_hash(v), VAULT_HASH_LEN) == 0);
	}
	g_assert_cmpint(vault_append(v, TYPE_NOTE, big, VAULT_PAYLOAD_MAX + 1, NULL), ==,
			-EINVAL);
	g_assert_cmpint(vault_append(v, 15, "x", 1, NULL), ==, -EINVAL);
	g_assert_cmpint(vault_append(v, VAULT_RECORD_ROTATE, "x", 1, NULL), ==, -EINVAL);
	append_n(v, 50, 200);
	g_assert_cmpuint(vault_count(v), ==, 57);

	all = collect(v, 0, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, 57);
	assert_chain(all, vault_last_hash(v));
	g_assert_cmpuint(COPY(all, 0)->type, ==, VAULT_RECORD_BOOT);
	assert_payload(COPY(all, 0), "vault.initial_boot", strlen("vault.initial_boot"));
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_assert_cmpuint(COPY(all, i + 1)->type, ==, TYPE_NOTE + i);
		g_assert_cmpuint(COPY(all, i + 1)->flags, ==, 0);
		assert_payload(COPY(all, i + 1), big, sizes[i]);
	}
	for (uint64_t i = 7; i < 57; i++) {
		char *p = payload_text(i, 200);

		assert_payload(COPY(all, i), p, 200);
		g_free(p);
	}
	g_ptr_array_unref(all);

	/* A window, an empty window, the end, past the end, and a callback's stop. */
	all = collect(v, 10, 20);
	g_assert_cmpuint(all->len, ==, 10);
	g_assert_cmpuint(COPY(all, 0)->index, ==, 10);
	g_ptr_array_unref(all);
	all = collect(v, 57, 100);
	g_assert_cmpuint(all->len, ==, 0);
	g_ptr_array_unref(all);
	g_assert_cmpint(vault_iterate(v, 58, 60, collect_cb, NULL, why, sizeof(why)), ==,
			-ERANGE);
	g_assert_cmpint(vault_iterate(v, 5, 50, stop_after_three, &seen, why, sizeof(why)), ==,
			7);
	g_assert_cmpint(seen, ==, 3);
	vault_close(v);
	g_free(big);
}

static void test_round_trip_sealed(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	uint8_t wrong[VAULT_KEY_LEN];
	char *path = seg_path(f, 1), *why;
	struct vault_record rec;
	struct vault *v;
	GPtrArray *all;

	o.key = test_key;
	v = open_ok(&o);
	for (int i = 0; i < 20; i++) {
		char *p = g_strdup_printf("SECRET-PAYLOAD-%03d", i);

		g_assert_cmpint(vault_append(v, TYPE_NOTE, p, strlen(p), &rec), ==, 0);
		g_assert_cmpuint(rec.flags, ==, VAULT_FLAG_SEALED);
		g_assert_cmpmem(rec.payload, rec.payload_len, p, strlen(p));
		g_assert_cmpuint(rec.raw_len, ==, VAULT_RECORD_MIN + strlen(p) + 28);
		g_free(p);
	}
	g_assert_cmpint(vault_append(v, TYPE_NOTE, NULL, 0, NULL), ==, 0);
	all = collect(v, 0, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, 22);
	assert_chain(all, vault_last_hash(v));
	assert_payload(COPY(all, 0), "vault.initial_boot", strlen("vault.initial_boot"));
	for (int i = 0; i < 20; i++) {
		char *p = g_strdup_printf("SECRET-PAYLOAD-%03d", i);

		g_assert_cmpuint(COPY(all, i + 1)->flags, ==, VAULT_FLAG_SEALED);
		g_assert_false(COPY(all, i + 1)->sealed);
		assert_payload(COPY(all, i + 1), p, strlen(p));
		g_free(p);
	}
	assert_payload(COPY(all, 21), "", 0);
	g_ptr_array_unref(all);
	vault_close(v);

	/* Sealed on disk: no plaintext anywhere in the segment. */
	g_assert_false(file_contains(path, "SECRET-PAYLOAD"));
	g_assert_false(file_contains(path, "vault.initial_boot"));

	/* Reopened with the key: the chain and the plaintext are back. */
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, 22);
	all = collect(v, 5, 6);
	assert_payload(COPY(all, 0), "SECRET-PAYLOAD-004", 18);
	g_ptr_array_unref(all);
	vault_close(v);

	/* A full verification with the key opens every record. */
	o.full_verify = 1;
	o.read_only = 1;
	vault_close(open_ok(&o));

	/* Read-only without the key: verified, and the sealed bytes are handed out. */
	o.key = NULL;
	v = open_ok(&o);
	all = collect(v, 0, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, 22);
	g_assert_true(COPY(all, 5)->sealed);
	g_assert_cmpuint(g_bytes_get_size(COPY(all, 5)->payload), ==, 18 + 28);
	g_ptr_array_unref(all);
	vault_close(v);

	/* A writer without the key would append plaintext to a sealed log. */
	o.read_only = 0;
	o.full_verify = 0;
	why = open_fails(&o, -ENOKEY);
	g_assert_nonnull(strstr(why, "segment-000000000001.qv is sealed and no key"));
	g_free(why);

	/* The wrong key does not open the records. */
	memcpy(wrong, test_key, sizeof(wrong));
	wrong[31] ^= 1;
	o.key = wrong;
	why = open_fails(&o, -ENOKEY);
	g_assert_nonnull(strstr(why,
				"segment-000000000001.qv offset 104: record 0 does not open "
				"with this key"));
	g_free(why);
	o.read_only = 1;
	o.full_verify = 1;
	why = open_fails(&o, -ENOKEY);
	g_assert_nonnull(strstr(why, "does not open with this key"));
	g_free(why);
	g_free(path);
}

/* Control for the test above: without a key the plaintext is in the file. */
static void test_round_trip_plain_on_disk(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	char *path = seg_path(f, 1);

	g_assert_cmpint(vault_append(v, TYPE_NOTE, "SECRET-PAYLOAD-000", 18, NULL), ==, 0);
	vault_close(v);
	g_assert_true(file_contains(path, "SECRET-PAYLOAD-000"));
	g_free(path);
}

/* A plain vault opened with a key starts a sealed segment before its next record. */
static void test_seal_existing(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	char *path2 = seg_path(f, 2);
	GPtrArray *all;

	g_assert_cmpint(vault_append(v, TYPE_NOTE, "plain-one", 9, NULL), ==, 0);
	vault_close(v);
	o.key = test_key;
	v = open_ok(&o);
	g_assert_cmpint(vault_append(v, TYPE_NOTE, "SECRET-two", 10, NULL), ==, 0);
	g_assert_cmpuint(vault_segment_count(v), ==, 2);
	all = collect(v, 0, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, 4);
	assert_chain(all, vault_last_hash(v));
	assert_payload(COPY(all, 1), "plain-one", 9);
	g_assert_cmpuint(COPY(all, 2)->type, ==, VAULT_RECORD_ROTATE);
	assert_payload(COPY(all, 2), "vault.rotate_boundary previous_segment=1 reason=seal",
		       strlen("vault.rotate_boundary previous_segment=1 reason=seal"));
	g_assert_cmpuint(COPY(all, 3)->flags, ==, VAULT_FLAG_SEALED);
	assert_payload(COPY(all, 3), "SECRET-two", 10);
	g_ptr_array_unref(all);
	vault_close(v);
	g_assert_false(file_contains(path2, "SECRET-two"));
	o.full_verify = 1;
	vault_close(open_ok(&o));
	g_free(path2);
}

/* ---- reopen, sync ---- */

static void test_reopen_continues(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	uint8_t last[VAULT_HASH_LEN];
	struct vault *v = open_ok(&o);
	GPtrArray *all;

	append_n(v, 10, 120);
	memcpy(last, vault_last_hash(v), VAULT_HASH_LEN);
	vault_close(v);

	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, 11);
	g_assert_cmpuint(vault_durable(v), ==, 11);
	g_assert_true(memcmp(vault_last_hash(v), last, VAULT_HASH_LEN) == 0);
	append_n(v, 5, 120);
	vault_close(v);

	o.full_verify = 1;
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, 16);
	all = collect(v, 0, UINT64_MAX);
	assert_chain(all, vault_last_hash(v));
	for (uint64_t i = 1; i < 16; i++) {
		char *p = payload_text(i, 120);

		assert_payload(COPY(all, i), p, 120);
		g_free(p);
	}
	g_ptr_array_unref(all);
	vault_close(v);
}

static void test_sync_durable(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);

	append_n(v, 3, 50);
	g_assert_cmpuint(vault_count(v), ==, 4);
	g_assert_cmpuint(vault_durable(v), ==, 1);
	g_assert_cmpint(vault_mark_checkpoint(v, 2), ==, -ERANGE);
	g_assert_cmpint(vault_sync(v), ==, 0);
	g_assert_cmpuint(vault_durable(v), ==, 4);
	g_assert_cmpint(vault_mark_checkpoint(v, 2), ==, 0);
	g_assert_cmpint(vault_mark_checkpoint(v, 4), ==, -ERANGE);
	vault_close(v);
}

/* ---- rotation ---- */

static void assert_rotations(GPtrArray *all, const char *reason)
{
	uint64_t segment = 1;

	for (guint i = 1; i < all->len; i++) {
		struct copy *c = COPY(all, i);

		if (c->segment == segment) {
			g_assert_cmpuint(c->type, ==, TYPE_NOTE);
			continue;
		}
		g_assert_cmpuint(c->segment, ==, segment + 1);
		g_assert_cmpuint(c->offset, ==, VAULT_SEGMENT_HEADER);
		g_assert_cmpuint(c->type, ==, VAULT_RECORD_ROTATE);
		{
			char *want = g_strdup_printf(
				"vault.rotate_boundary previous_segment=%" PRIu64 " reason=%s",
				segment, reason);

			assert_payload(c, want, strlen(want));
			g_free(want);
		}
		segment++;
	}
}

static void test_rotate_by_size(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v;
	GPtrArray *all;
	uint64_t segments;

	o.segment_max_bytes = 1024;
	v = open_ok(&o);
	append_n(v, 60, 200);
	segments = vault_segment_count(v);
	g_assert_cmpuint(segments, >=, 20);
	/* The boot record, 60 of ours, and one ROTATE record opening each later segment. */
	g_assert_cmpuint(vault_count(v), ==, 1 + 60 + (segments - 1));
	all = collect(v, 0, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, vault_count(v));
	assert_chain(all, vault_last_hash(v));
	assert_rotations(all, "size");
	g_assert_cmpuint(COPY(all, all->len - 1)->segment, ==, segments);
	g_ptr_array_unref(all);
	vault_close(v);
	for (uint64_t n = 1; n <= segments; n++) {
		char *path = seg_path(f, n);

		g_assert_cmpint(file_size(path), <=, 1024);
		g_free(path);
	}
	{
		char *tmp = g_strdup_printf("%s/.segment-%" PRIu64 ".tmp", f->dir, segments);

		g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
		g_free(tmp);
	}

	/* The chain goes on across segments after a reopen, verified in full. */
	o.full_verify = 1;
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, 60 + segments);
	g_assert_cmpuint(vault_segment_count(v), ==, segments);
	append_n(v, 10, 200);
	segments = vault_segment_count(v);
	vault_close(v);
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, 70 + segments);
	all = collect(v, 0, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, 70 + segments);
	assert_chain(all, vault_last_hash(v));
	assert_rotations(all, "size");
	g_ptr_array_unref(all);
	vault_close(v);
}

static void test_rotate_by_age(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v;
	GPtrArray *all;

	o.segment_max_age_ns = 1000000; /* 1 ms */
	v = open_ok(&o);
	for (int i = 0; i < 5; i++) {
		g_usleep(3000);
		append_n(v, 1, 30);
	}
	g_assert_cmpuint(vault_segment_count(v), ==, 6);
	/* Young segments take more records. */
	o.segment_max_age_ns = 0;
	vault_close(v);
	v = open_ok(&o);
	append_n(v, 3, 30);
	g_assert_cmpuint(vault_segment_count(v), ==, 6);
	all = collect(v, 0, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, 14);
	assert_chain(all, vault_last_hash(v));
	assert_rotations(all, "age");
	g_ptr_array_unref(all);
	vault_close(v);
}

/* Writes CREATED_NS into segment N's header and seals the header again, as anyone who can
 * write the file can (its hash is a checksum, not a signature). */
static void set_segment_created(struct fixture *f, uint64_t n, int64_t created_ns)
{
	static const char domain[] = "quorum-vault-segment-v1";
	char *path = seg_path(f, n);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t head[VAULT_SEGMENT_HEADER];
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, head, sizeof(head), 0), ==, sizeof(head));
	for (int i = 0; i < 8; i++)
		head[56 + i] = (uint8_t)((uint64_t)created_ns >> (8 * i));
	g_assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		      EVP_DigestUpdate(md, domain, sizeof(domain)) == 1 &&
		      EVP_DigestUpdate(md, head, 72) == 1 &&
		      EVP_DigestFinal_ex(md, head + 72, NULL) == 1);
	g_assert_cmpint(pwrite(fd, head, sizeof(head), 0), ==, sizeof(head));
	EVP_MD_CTX_free(md);
	close(fd);
	g_free(path);
}

/* A creation time from the disk can be anything: a segment "created" at the most negative
 * instant is old (it rotates; the age is taken without overflow, found by
 * fuzz/fuzz-vault-recovery), one created in the far future is young. */
static void test_rotate_by_age_created_out_of_range(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);

	append_n(v, 2, 30);
	vault_close(v);
	set_segment_created(f, 1, INT64_MAX);
	v = open_ok(&o);
	append_n(v, 1, 30);
	g_assert_cmpuint(vault_segment_count(v), ==, 1);
	vault_close(v);
	set_segment_created(f, 1, INT64_MIN);
	v = open_ok(&o);
	append_n(v, 1, 30);
	g_assert_cmpuint(vault_segment_count(v), ==, 2);
	vault_close(v);
}

/* ---- recovery ---- */

struct last_record {
	uint64_t count, offset, len, segment;
};

static struct last_record last_record(struct vault *v)
{
	GPtrArray *all = collect(v, vault_count(v) - 1, vault_count(v));
	struct last_record l = { vault_count(v), COPY(all, 0)->offset, COPY(all, 0)->raw_len,
				 COPY(all, 0)->segment };

	g_ptr_array_unref(all);
	return l;
}

static void test_recovery_torn_tail(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	struct last_record l;
	char *path, *line, *name;
	GPtrArray *all;

	append_n(v, 20, 300);
	l = last_record(v);
	vault_close(v);
	path = seg_path(f, l.segment);
	name = seg_name(l.segment);
	g_assert_cmpint(truncate(path, (off_t)(l.offset + l.len / 2)), ==, 0);

	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, l.count - 1);
	line = g_strdup_printf("vault.recover.torn_tail segment=%s offset=%" PRIu64
			       " bytes=%" PRIu64,
			       name, l.offset, l.len / 2);
	g_assert_true(has_log(f, line));
	g_assert_cmpint(file_size(path), ==, (off_t)l.offset);

	/* Appending goes on at the same index, in the same place. */
	append_n(v, 2, 300);
	g_assert_cmpuint(vault_count(v), ==, l.count + 1);
	all = collect(v, l.count - 1, l.count);
	g_assert_cmpuint(COPY(all, 0)->offset, ==, l.offset);
	g_ptr_array_unref(all);
	vault_close(v);

	o.full_verify = 1;
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, l.count + 1);
	all = collect(v, 0, UINT64_MAX);
	assert_chain(all, vault_last_hash(v));
	g_ptr_array_unref(all);
	vault_close(v);
	g_free(line);
	g_free(name);
	g_free(path);
}

/* Zeros (a file extended but never written) and a length cut short are torn tails too. */
static void test_recovery_zero_and_short_tail(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	uint8_t zeros[100] = { 0 };
	char *path = seg_path(f, 1), *line;
	off_t size;

	append_n(v, 5, 64);
	vault_close(v);
	size = file_size(path);
	append_bytes(path, zeros, sizeof(zeros));
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, 6);
	line = g_strdup_printf("vault.recover.torn_tail segment=segment-000000000001.qv "
			       "offset=%lld bytes=100",
			       (long long)size);
	g_assert_true(has_log(f, line));
	g_free(line);
	vault_close(v);
	g_assert_cmpint(file_size(path), ==, size);

	append_bytes(path, "\x58\x01", 2);
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, 6);
	line = g_strdup_printf("vault.recover.torn_tail segment=segment-000000000001.qv "
			       "offset=%lld bytes=2",
			       (long long)size);
	g_assert_true(has_log(f, line));
	g_free(line);
	vault_close(v);
	g_assert_cmpint(file_size(path), ==, size);
	g_free(path);
}

static void test_recovery_read_only_reports_torn_tail(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	struct last_record l;
	char *path, *why, *want, *before, *after;

	append_n(v, 20, 300);
	l = last_record(v);
	vault_close(v);
	path = seg_path(f, l.segment);
	g_assert_cmpint(truncate(path, (off_t)(l.offset + 10)), ==, 0);
	before = snapshot(f);

	o.read_only = 1;
	why = open_fails(&o, -EBADMSG);
	want = g_strdup_printf("segment-%012" PRIu64 ".qv offset %" PRIu64
			       ": torn tail (10 bytes",
			       l.segment, l.offset);
	g_assert_nonnull(strstr(why, want));
	o.full_verify = 1;
	g_free(why);
	why = open_fails(&o, -EBADMSG);
	g_assert_nonnull(strstr(why, want));
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpint(file_size(path), ==, (off_t)(l.offset + 10));
	g_assert_false(has_log(f, "torn_tail"));
	g_free(why);
	g_free(want);
	g_free(before);
	g_free(after);
	g_free(path);
}

/* A write cut short (here by RLIMIT_FSIZE) at the group commit leaves nothing behind: the
 * sync fails, the handle refuses everything after, and the reopened log is the durable one. */
static void test_append_partial_write_undone(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	struct rlimit old, lim;
	char *path = seg_path(f, 1), payload[300];
	void (*old_handler)(int);
	off_t size;
	int err, err2;

	/* Larger than this program's TAP output, which may go to a file. */
	append_n(v, 4000, 250);
	g_assert_cmpint(vault_sync(v), ==, 0);
	size = file_size(path);
	memset(payload, 'p', sizeof(payload));

	g_assert_cmpint(vault_append(v, TYPE_NOTE, payload, sizeof(payload), NULL), ==, 0);
	g_assert_cmpint(vault_append(v, TYPE_NOTE, payload, sizeof(payload), NULL), ==, 0);
	g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 100;
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
	err = vault_sync(v);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
	signal(SIGXFSZ, old_handler);

	g_assert_cmpint(err, ==, -EFBIG);
	g_assert_cmpint(file_size(path), ==, size); /* the partial write was cut back */
	g_assert_cmpuint(vault_durable(v), ==, 4001);
	err2 = vault_append(v, TYPE_NOTE, payload, sizeof(payload), NULL);
	g_assert_cmpint(err2, ==, -EFBIG); /* poisoned: fail closed */
	vault_close(v);
	o.full_verify = 1;
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==,
			 4001); /* the unsynced records were never durable */
	g_assert_false(has_log(f, "torn_tail"));
	g_assert_cmpint(vault_append(v, TYPE_NOTE, payload, sizeof(payload), NULL), ==, 0);
	g_assert_cmpint(vault_sync(v), ==, 0);
	g_assert_cmpuint(vault_count(v), ==, 4002);
	vault_close(v);
	g_free(path);
}

/* ---- tampering ---- */

/* 70 records of 200 bytes in segments of at most 4 KiB (six or so); records are copied
 * out in *ALL, and *MID is a record with neighbours in its own segment, segment 2 or 3. */
static GPtrArray *tamper_setup(struct fixture *f, guint *mid)
{
	struct vault_options o = options(f);
	struct vault *v;
	GPtrArray *all;

	o.segment_max_bytes = 4096;
	v = open_ok(&o);
	append_n(v, 69, 200);
	g_assert_cmpuint(vault_segment_count(v), >=, 5);
	all = collect(v, 0, UINT64_MAX);
	vault_close(v);
	for (*mid = 30; *mid < all->len - 1; (*mid)++) {
		if (COPY(all, *mid - 1)->segment == COPY(all, *mid)->segment &&
		    COPY(all, *mid + 1)->segment == COPY(all, *mid)->segment &&
		    COPY(all, *mid - 1)->type == TYPE_NOTE)
			break;
	}
	g_assert_cmpuint(COPY(all, *mid)->segment, >, 1);
	g_assert_cmpuint(COPY(all, *mid)->segment, <, COPY(all, all->len - 1)->segment);
	return all;
}

/* Both a full verification and a writer's ordinary open (there is no checkpoint) fail
 * with WANT and leave the files as they were. */
static void assert_tamper_detected(struct fixture *f, const char *want)
{
	struct vault_options o = options(f);
	char *before = snapshot(f), *after, *why;

	o.read_only = 1;
	o.full_verify = 1;
	why = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(why, ==, want);
	g_free(why);
	o.read_only = 0;
	why = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(why, ==, want);
	g_free(why);
	o.full_verify = 0;
	why = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(why, ==, want);
	g_free(why);
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
	g_assert_false(has_log(f, "torn_tail"));
}

static void test_tamper_payload_bit(struct fixture *f, gconstpointer data)
{
	guint mid;
	GPtrArray *all = tamper_setup(f, &mid);
	struct copy *c = COPY(all, mid);
	char *path = seg_path(f, c->segment), *want;

	flip_bit(path, c->offset + VAULT_RECORD_HEADER + 17, 3);
	want = g_strdup_printf("segment-%012" PRIu64 ".qv offset %" PRIu64 ": record %u hash "
			       "mismatch",
			       c->segment, c->offset, mid);
	assert_tamper_detected(f, want);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

/* In the last segment a damaged record is not mistaken for a torn tail. */
static void test_tamper_payload_bit_last_segment(struct fixture *f, gconstpointer data)
{
	guint mid;
	GPtrArray *all = tamper_setup(f, &mid);
	struct copy *c = COPY(all, all->len - 3);
	char *path = seg_path(f, c->segment), *want;

	g_assert_cmpuint(COPY(all, all->len - 1)->segment, ==, c->segment);
	flip_bit(path, c->offset + VAULT_RECORD_HEADER, 0);
	want = g_strdup_printf("segment-%012" PRIu64 ".qv offset %" PRIu64 ": record %" PRIu64
			       " hash mismatch",
			       c->segment, c->offset, c->index);
	assert_tamper_detected(f, want);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

static void test_tamper_prev_hash_bit(struct fixture *f, gconstpointer data)
{
	guint mid;
	GPtrArray *all = tamper_setup(f, &mid);
	struct copy *c = COPY(all, mid);
	char *path = seg_path(f, c->segment), *want;

	flip_bit(path, c->offset + 24 + 5, 6);
	want = g_strdup_printf("segment-%012" PRIu64 ".qv offset %" PRIu64
			       ": record %u previous "
			       "hash mismatch",
			       c->segment, c->offset, mid);
	assert_tamper_detected(f, want);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

static void test_tamper_deleted_record(struct fixture *f, gconstpointer data)
{
	guint mid;
	GPtrArray *all = tamper_setup(f, &mid);
	struct copy *c = COPY(all, mid);
	char *path = seg_path(f, c->segment), *want;

	cut_bytes(path, c->offset, c->raw_len);
	want = g_strdup_printf("segment-%012" PRIu64 ".qv offset %" PRIu64
			       ": index %u where %u "
			       "was expected",
			       c->segment, c->offset, mid + 1, mid);
	assert_tamper_detected(f, want);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

static void test_tamper_swapped_segments(struct fixture *f, gconstpointer data)
{
	guint mid;
	GPtrArray *all = tamper_setup(f, &mid);
	char *two = seg_path(f, 2), *three = seg_path(f, 3), *tmp = seg_path(f, 99);

	g_assert_cmpint(rename(two, tmp), ==, 0);
	g_assert_cmpint(rename(three, two), ==, 0);
	g_assert_cmpint(rename(tmp, three), ==, 0);
	assert_tamper_detected(f, "segment-000000000002.qv offset 8: header names segment 3");
	g_free(two);
	g_free(three);
	g_free(tmp);
	g_ptr_array_unref(all);
}

static void test_tamper_deleted_segment(struct fixture *f, gconstpointer data)
{
	guint mid;
	GPtrArray *all = tamper_setup(f, &mid);
	char *three = seg_path(f, 3);

	g_assert_cmpint(unlink(three), ==, 0);
	assert_tamper_detected(f,
			       "segment-000000000003.qv: segment 3 missing (found segment 4)");
	g_free(three);
	g_ptr_array_unref(all);
}

static void test_tamper_segment_header_bit(struct fixture *f, gconstpointer data)
{
	guint mid;
	GPtrArray *all = tamper_setup(f, &mid);
	char *two = seg_path(f, 2);

	flip_bit(two, 40, 1); /* inside the previous segment's hash */
	assert_tamper_detected(
		f, "segment-000000000002.qv offset 0: segment header hash mismatch");
	g_free(two);
	g_ptr_array_unref(all);
}

/* A record changed under an open vault is caught when it is read back. */
static void test_tamper_iterate_checks_hash(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	char why[WHY_SIZE], *path = seg_path(f, 1), *want;
	GPtrArray *all, *none = g_ptr_array_new_with_free_func(copy_free);

	append_n(v, 10, 100);
	all = collect(v, 0, UINT64_MAX);
	flip_bit(path, COPY(all, 6)->offset + VAULT_RECORD_HEADER + 50, 2);
	g_assert_cmpint(vault_iterate(v, 6, 7, collect_cb, none, why, sizeof(why)), ==,
			-EBADMSG);
	want = g_strdup_printf("segment-000000000001.qv offset %" PRIu64
			       ": record 6 hash mismatch",
			       COPY(all, 6)->offset);
	g_assert_cmpstr(why, ==, want);
	g_assert_cmpuint(none->len, ==, 0);
	g_free(want);
	vault_close(v);
	g_ptr_array_unref(none);
	g_ptr_array_unref(all);
	g_free(path);
}

/* ---- checkpoints ---- */

/* CHECKPOINT: the record to mark; below zero, counted back from the end (-1: the last). */
static GPtrArray *checkpoint_setup(struct fixture *f, int64_t checkpoint)
{
	struct vault_options o = options(f);
	struct vault *v;
	GPtrArray *all;

	o.segment_max_bytes = 4096;
	v = open_ok(&o);
	append_n(v, 69, 200);
	g_assert_cmpint(vault_sync(v), ==, 0);
	if (checkpoint < 0)
		checkpoint += (int64_t)vault_count(v);
	g_assert_cmpint(vault_mark_checkpoint(v, (uint64_t)checkpoint), ==, 0);
	all = collect(v, 0, UINT64_MAX);
	vault_close(v);
	return all;
}

static void test_checkpoint_skips_verified_prefix(struct fixture *f, gconstpointer data)
{
	GPtrArray *all = checkpoint_setup(f, -3);
	struct vault_options o = options(f);
	struct copy *c = COPY(all, 3);
	char why[WHY_SIZE], *path = seg_path(f, 1), *want, *got, *line;
	GPtrArray *some = g_ptr_array_new_with_free_func(copy_free);
	struct vault *v;

	g_assert_cmpuint(c->segment, ==, 1);
	g_assert_cmpuint(COPY(all, all->len - 3)->segment, >, 3);
	flip_bit(path, c->offset + VAULT_RECORD_HEADER + 1, 0);
	want = g_strdup_printf("segment-000000000001.qv offset %" PRIu64
			       ": record 3 hash mismatch",
			       c->offset);

	/* The ordinary open starts at the checkpoint: the damage before it goes unread... */
	v = open_ok(&o);
	g_assert_cmpuint(vault_count(v), ==, all->len);
	line = g_strdup_printf("records=%u verified_from=%u", all->len, all->len - 3);
	g_assert_true(has_log(f, line));
	g_free(line);
	/* ...until the record is read back... */
	g_assert_cmpint(vault_iterate(v, 0, 10, collect_cb, some, why, sizeof(why)), ==,
			-EBADMSG);
	g_assert_cmpstr(why, ==, want);
	g_assert_cmpuint(some->len, ==, 3); /* records 0..2 were good */
	g_ptr_array_unref(some);
	vault_close(v);

	/* ...or the vault is verified in full. */
	o.full_verify = 1;
	o.read_only = 1;
	got = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

static void test_checkpoint_detects_damage_after(struct fixture *f, gconstpointer data)
{
	GPtrArray *all = checkpoint_setup(f, 40);
	struct vault_options o = options(f);
	struct copy *c = COPY(all, 45);
	char *path = seg_path(f, c->segment), *want, *got, *before = NULL, *after;

	flip_bit(path, c->offset + VAULT_RECORD_HEADER + 3, 5);
	before = snapshot(f);
	want = g_strdup_printf("segment-%012" PRIu64 ".qv offset %" PRIu64 ": record 45 hash "
			       "mismatch",
			       c->segment, c->offset);
	got = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	after = snapshot(f);
	g_assert_cmpstr(before, ==, after);
	g_free(after);
	g_free(before);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

/* Before vault.state, each segment's last record is checked against the next header: a
 * segment whose last record went (or whose last record is another one) stops the open. */
static void test_checkpoint_checks_linkage_before_state(struct fixture *f, gconstpointer data)
{
	GPtrArray *all = checkpoint_setup(f, -3);
	struct vault_options o = options(f);
	char *path = seg_path(f, 2), *got;
	struct copy *last = NULL;

	for (guint i = 0; i < all->len; i++)
		if (COPY(all, i)->segment == 2)
			last = COPY(all, i);
	g_assert_nonnull(last);
	g_assert_cmpuint(COPY(all, all->len - 3)->segment, >, 3);
	/* the last record's hash field: the record no longer verifies */
	flip_bit(path, (uint64_t)file_size(path) - 1, 0);
	got = open_fails(&o, -EBADMSG);
	g_assert_nonnull(strstr(got, "segment-000000000002.qv offset"));
	g_assert_nonnull(strstr(got, "hash mismatch"));
	g_free(got);
	flip_bit(path, (uint64_t)file_size(path) - 1, 0);
	/* the last record cut off */
	cut_bytes(path, last->offset, (uint64_t)file_size(path) - last->offset);
	got = open_fails(&o, -EBADMSG);
	g_assert_nonnull(strstr(got, "segment-000000000002.qv: does not end with record"));
	g_assert_nonnull(strstr(got, "the chain does not link"));
	g_free(got);
	g_free(path);
	g_ptr_array_unref(all);
}

/* The background verifier reads back every durable record from the first, a bounded step
 * at a time, and finds what the open (from vault.state) did not read. */
static void test_verifier_finds_old_damage(struct fixture *f, gconstpointer data)
{
	GPtrArray *all = checkpoint_setup(f, -3);
	struct vault_options o = options(f);
	struct vault_verifier *c;
	struct copy *rec = COPY(all, 5);
	char why[WHY_SIZE], *path = seg_path(f, rec->segment), *want;
	uint64_t next = 0, passes = 0, total = 0;
	struct vault *v;
	int n;

	/* intact: steps of 7 records make complete passes */
	v = open_ok(&o);
	g_assert_cmpint(vault_verifier_new(v, &c), ==, 0);
	for (int i = 0; i < 40 && passes == 0; i++) {
		n = vault_verifier_step(v, c, 7, why, sizeof(why));
		g_assert_cmpint(n, >=, 0);
		g_assert_cmpint(n, <=, 7);
		total += (uint64_t)n;
		vault_verifier_progress(c, &next, &passes);
	}
	g_assert_cmpuint(passes, ==, 1);
	g_assert_cmpuint(total, ==, all->len);
	vault_verifier_free(c);
	vault_close(v);

	flip_bit(path, rec->offset + VAULT_RECORD_HEADER + 2, 3);
	want = g_strdup_printf("segment-%012" PRIu64 ".qv offset %" PRIu64
			       ": record 5 hash mismatch",
			       rec->segment, rec->offset);
	v = open_ok(&o); /* before vault.state: not re-read at open */
	g_assert_cmpint(vault_verifier_new(v, &c), ==, 0);
	g_assert_cmpint(vault_verifier_step(v, c, 5, why, sizeof(why)), ==, 5);
	g_assert_cmpint(vault_verifier_step(v, c, 5, why, sizeof(why)), ==, -EBADMSG);
	g_assert_cmpstr(why, ==, want);
	vault_verifier_free(c);
	vault_close(v);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

/* vault.state copied from a vault of the same shape names a record with another hash. */
static void test_checkpoint_state_hash_mismatch(struct fixture *f, gconstpointer data)
{
	struct fixture other = { 0 };
	GPtrArray *all = checkpoint_setup(f, 50), *all2;
	struct vault_options o;
	struct vault *v;
	char *src, *dst, *got, *want;
	gchar *state;
	gsize size;

	setup(&other, NULL);
	o = options(&other);
	o.segment_max_bytes = 4096;
	v = open_ok(&o);
	append_n(v, 69, 200);
	/* The same sizes, other bytes. */
	g_assert_cmpint(vault_sync(v), ==, 0);
	all2 = collect(v, 50, 51);
	vault_close(v);
	g_assert_cmpuint(COPY(all2, 0)->offset, ==, COPY(all, 50)->offset);
	g_assert_true(memcmp(COPY(all2, 0)->hash, COPY(all, 50)->hash, VAULT_HASH_LEN) != 0);

	src = g_build_filename(f->dir, "vault.state", NULL);
	dst = g_build_filename(other.dir, "vault.state", NULL);
	g_assert_true(g_file_get_contents(src, &state, &size, NULL));
	g_assert_cmpuint(size, ==, 96);
	g_assert_true(g_file_set_contents(dst, state, (gssize)size, NULL));

	want = g_strdup_printf("vault.state names record 50 at segment-%012" PRIu64
			       ".qv offset "
			       "%" PRIu64,
			       COPY(all, 50)->segment, COPY(all, 50)->offset);
	got = open_fails(&o, -EBADMSG);
	g_assert_true(g_str_has_prefix(got, want));
	g_assert_nonnull(strstr(got, "hash mismatch"));
	g_free(got);
	/* A full verification checks vault.state too. */
	o.full_verify = 1;
	o.read_only = 1;
	got = open_fails(&o, -EBADMSG);
	g_assert_true(g_str_has_prefix(got, want));
	g_free(got);

	g_free(want);
	g_free(state);
	g_free(src);
	g_free(dst);
	g_ptr_array_unref(all2);
	g_ptr_array_unref(all);
	teardown(&other, NULL);
}

static void test_checkpoint_state_damaged(struct fixture *f, gconstpointer data)
{
	GPtrArray *all = checkpoint_setup(f, 50);
	struct vault_options o = options(f);
	char *state = g_build_filename(f->dir, "vault.state", NULL), *got;

	flip_bit(state, 20, 0); /* the offset */
	got = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(got, ==, "vault.state: checksum mismatch");
	g_free(got);
	g_assert_cmpint(truncate(state, 50), ==, 0);
	got = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(got, ==, "vault.state: 50 bytes where 96 were expected");
	g_free(got);
	g_free(state);
	g_ptr_array_unref(all);
}

/* A durable record is never a torn tail: cutting the checkpointed record is corruption. */
static void test_checkpoint_record_cut(struct fixture *f, gconstpointer data)
{
	GPtrArray *all = checkpoint_setup(f, -1);
	struct vault_options o = options(f);
	struct copy *c = COPY(all, all->len - 1);
	char *path = seg_path(f, c->segment), *got, *want, *before;

	g_assert_cmpint(truncate(path, (off_t)(c->offset + 40)), ==, 0);
	before = snapshot(f);
	want = g_strdup_printf("vault.state names record %" PRIu64 " at segment-%012" PRIu64
			       ".qv offset %" PRIu64 ", where there is no whole record",
			       c->index, c->segment, c->offset);
	got = open_fails(&o, -EBADMSG);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	o.full_verify = 1;
	got = open_fails(&o, -EBADMSG);
	g_assert_true(g_str_has_prefix(got, "vault.state names record "));
	g_free(got);
	{
		char *after = snapshot(f);

		g_assert_cmpstr(before, ==, after);
		g_free(after);
	}
	g_free(before);
	g_free(want);
	g_free(path);
	g_ptr_array_unref(all);
}

/* ---- lock and keys ---- */

static void test_lock_one_writer(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o), *r1, *r2;
	char *why;

	why = open_fails(&o, -EWOULDBLOCK);
	g_assert_nonnull(strstr(why, "is open by another process"));
	g_free(why);
	o.read_only = 1;
	why = open_fails(&o, -EWOULDBLOCK);
	g_free(why);
	vault_close(v);

	/* Readers share; a writer waits for them. */
	r1 = open_ok(&o);
	r2 = open_ok(&o);
	g_assert_cmpint(vault_append(r1, TYPE_NOTE, "x", 1, NULL), ==, -EROFS);
	o.read_only = 0;
	why = open_fails(&o, -EWOULDBLOCK);
	g_free(why);
	vault_close(r1);
	vault_close(r2);
	v = open_ok(&o);
	vault_close(v);
}

/* The folder and its files are opened by audit/statedir.h's rule, as the merkle tree's:
 * a link planted for a segment or for vault.state's temporary file is never followed, and
 * a folder another user could have made is refused to a writer (not to an auditor). */
static void test_open_refuses_planted_files(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	struct vault *v = open_ok(&o);
	char *parent = g_path_get_dirname(f->dir), *victim, *path, *why;
	struct vault_record rec;
	gchar *text = NULL;
	struct stat st;

	victim = g_build_filename(parent, "victim", NULL);
	g_assert_true(g_file_set_contents(victim, "root only", -1, NULL));
	path = g_build_filename(f->dir, "vault.state.tmp", NULL);
	g_assert_cmpint(symlink(victim, path), ==, 0);
	g_assert_cmpint(vault_append(v, TYPE_NOTE, "x", 1, &rec), ==, 0);
	g_assert_cmpint(vault_sync(v), ==, 0);
	g_assert_cmpint(vault_mark_checkpoint(v, rec.index), ==, 0);
	vault_close(v);
	g_free(path);
	g_assert_true(g_file_get_contents(victim, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "root only");
	g_free(text);
	path = g_build_filename(f->dir, "vault.state", NULL);
	g_assert_cmpint(lstat(path, &st), ==, 0);
	g_assert_true(S_ISREG(st.st_mode));
	g_free(path);

	path = g_build_filename(f->dir, "segment-000000000001.qv", NULL);
	g_assert_cmpint(rename(path, victim), ==, 0);
	g_assert_cmpint(symlink(victim, path), ==, 0);
	why = open_fails(&o, -ELOOP);
	g_assert_nonnull(strstr(why, "segment-000000000001.qv is a symbolic link"));
	g_free(why);
	o.read_only = 1;
	why = open_fails(&o, -ELOOP);
	g_free(why);
	g_assert_cmpint(unlink(path), ==, 0);
	g_assert_cmpint(rename(victim, path), ==, 0);
	g_free(path);

	if (geteuid() == 0) {
		/* made by another user in a folder everyone may write (/tmp-like) */
		g_assert_cmpint(chmod(parent, 01777), ==, 0);
		g_assert_cmpint(chown(f->dir, 65534, (gid_t)-1), ==, 0);
		o.read_only = 0;
		why = open_fails(&o, -EPERM);
		g_assert_nonnull(strstr(why, "another user could have made it"));
		g_free(why);
		o.read_only = 1; /* an audit only reads, and checks every hash */
		vault_close(open_ok(&o));
		g_assert_cmpint(chown(f->dir, 0, (gid_t)-1), ==, 0);
		g_assert_cmpint(chmod(parent, 0700), ==, 0);
	}
	o.read_only = 0;
	vault_close(open_ok(&o));
	g_free(victim);
	g_free(parent);
}

static void test_open_read_only_missing(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	char *why;

	o.read_only = 1;
	why = open_fails(&o, -ENOENT);
	g_free(why);
	g_assert_false(g_file_test(f->dir, G_FILE_TEST_EXISTS));
	g_assert_cmpint(mkdir(f->dir, 0700), ==, 0);
	why = open_fails(&o, -ENOENT);
	g_assert_nonnull(strstr(why, "no segment file"));
	g_free(why);
}

static char *write_key_file(struct fixture *f, const char *name, const void *data, size_t len,
			    mode_t mode)
{
	char *path = g_build_filename(f->dir, name, NULL);
	int fd;

	g_mkdir_with_parents(f->dir, 0700);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
	g_assert_cmpint(fchmod(fd, mode), ==, 0);
	close(fd);
	return path;
}

static void test_load_key(struct fixture *f, gconstpointer data)
{
	uint8_t key[VAULT_KEY_LEN];
	char why[WHY_SIZE], hex[2 * VAULT_KEY_LEN + 2], *path, *lower;

	for (int i = 0; i < VAULT_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02X", test_key[i]);

	path = write_key_file(f, "raw.key", test_key, VAULT_KEY_LEN, 0600);
	memset(key, 0, sizeof(key));
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, 0);
	g_assert_cmpmem(key, sizeof(key), test_key, sizeof(test_key));
	g_free(path);

	path = write_key_file(f, "hex.key", hex, 2 * VAULT_KEY_LEN, 0400);
	memset(key, 0, sizeof(key));
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, 0);
	g_assert_cmpmem(key, sizeof(key), test_key, sizeof(test_key));
	g_free(path);

	hex[2 * VAULT_KEY_LEN] = '\n';
	lower = g_ascii_strdown(hex, 2 * VAULT_KEY_LEN + 1);
	path = write_key_file(f, "hexnl.key", lower, 2 * VAULT_KEY_LEN + 1, 0600);
	g_free(lower);
	memset(key, 0, sizeof(key));
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, 0);
	g_assert_cmpmem(key, sizeof(key), test_key, sizeof(test_key));
	g_free(path);

	path = write_key_file(f, "open.key", test_key, VAULT_KEY_LEN, 0644);
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, -EPERM);
	g_assert_nonnull(strstr(why, "mode 0644"));
	g_free(path);
	path = write_key_file(f, "group.key", test_key, VAULT_KEY_LEN, 0640);
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, -EPERM);
	g_free(path);

	path = write_key_file(f, "short.key", test_key, VAULT_KEY_LEN - 1, 0600);
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "31 bytes"));
	g_free(path);
	hex[7] = 'g';
	path = write_key_file(f, "bad.key", hex, 2 * VAULT_KEY_LEN + 1, 0600);
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "byte 7 is not a hex digit"));
	g_free(path);
	hex[7] = '0';
	hex[2 * VAULT_KEY_LEN] = ' ';
	path = write_key_file(f, "space.key", hex, 2 * VAULT_KEY_LEN + 1, 0600);
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, -EINVAL);
	g_free(path);

	g_assert_cmpint(vault_load_key(f->dir, key, why, sizeof(why)), ==, -EINVAL);
	path = g_build_filename(f->dir, "missing.key", NULL);
	g_assert_cmpint(vault_load_key(path, key, why, sizeof(why)), ==, -ENOENT);
	g_free(path);
}

/* ---- retention ---- */

/* An anchor for a log that keeps segment NUMBER on: tree base LEAVES records before its first
 * record, with made-up hashes (the log keeps them, it does not compute them). */
static struct vault_anchor anchor_for(struct vault *v, uint64_t number, uint64_t leaves,
				      uint8_t (*leaf_buf)[VAULT_HASH_LEN])
{
	struct vault_anchor a = { .segment = number };
	struct vault_segment_info seg;

	for (size_t i = 0; vault_segment_info(v, i, &seg) == 0; i++) {
		if (seg.number == number)
			break;
	}
	g_assert_cmpuint(seg.number, ==, number);
	a.tree_base = seg.first_index - leaves;
	a.range_count = (size_t)__builtin_popcountll(a.tree_base);
	memset(a.range, 0xa5, sizeof(a.range));
	a.leaf_count = leaves;
	memset(leaf_buf, 0x5a, leaves * VAULT_HASH_LEN);
	a.leaves = leaf_buf;
	return a;
}

static void test_retain(struct fixture *f, gconstpointer data)
{
	struct vault_options o = options(f);
	char *parent = g_path_get_dirname(f->dir),
	     *archive = g_build_filename(parent, "archive", NULL);
	uint8_t leaves[4][VAULT_HASH_LEN];
	struct vault_anchor a;
	struct vault_segment_info seg3;
	char why[WHY_SIZE], *path, *text;
	struct vault *v;
	GPtrArray *all;
	uint64_t segments, first, count;

	o.segment_max_bytes = 1024;
	v = open_ok(&o);
	append_n(v, 60, 200);
	segments = vault_segment_count(v);
	g_assert_cmpuint(segments, >=, 10);
	g_assert_null(vault_anchor(v));
	g_assert_cmpuint(vault_first(v), ==, 0);
	/* What cannot start the log: the first, one past the last, or counts that do not
	 * fit. */
	a = anchor_for(v, 1, 0, leaves);
	g_assert_cmpint(vault_retain(v, &a, NULL, why, sizeof(why)), ==, -ERANGE);
	a = anchor_for(v, segments, 2, leaves);
	a.segment = segments + 1;
	g_assert_cmpint(vault_retain(v, &a, NULL, why, sizeof(why)), ==, -ERANGE);
	g_assert_nonnull(strstr(why, "cannot start the log"));
	a = anchor_for(v, 3, 2, leaves);
	a.leaf_count = 1;
	g_assert_cmpint(vault_retain(v, &a, NULL, why, sizeof(why)), ==, -EINVAL);
	/* Segments 1 and 2 go to the archive; the log starts at segment 3. */
	g_assert_cmpint(vault_segment_info(v, 2, &seg3), ==, 0);
	a = anchor_for(v, 3, 2, leaves);
	g_assert_cmpint(vault_retain(v, &a, archive, why, sizeof(why)), ==, 0);
	first = seg3.first_index;
	g_assert_cmpuint(vault_first(v), ==, first);
	g_assert_cmpuint(vault_segment_count(v), ==, segments - 2);
	g_assert_cmpuint(vault_anchor(v)->tree_base, ==, first - 2);
	g_assert_cmpmem(vault_anchor(v)->leaves[1], VAULT_HASH_LEN, leaves[1], VAULT_HASH_LEN);
	for (uint64_t n = 1; n <= 2; n++) {
		char *name = seg_name(n), *moved = g_build_filename(archive, name, NULL);

		path = seg_path(f, n);
		g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
		g_assert_true(g_file_test(moved, G_FILE_TEST_EXISTS));
		g_free(path);
		g_free(moved);
		g_free(name);
	}
	g_assert_cmpint(vault_iterate(v, 0, vault_count(v), collect_cb, NULL, why, sizeof(why)),
			==, -ERANGE);
	all = collect(v, first, UINT64_MAX);
	g_assert_cmpuint(COPY(all, 0)->index, ==, first);
	g_assert_cmpmem(COPY(all, 0)->prev, VAULT_HASH_LEN, vault_anchor(v)->prev_hash,
			VAULT_HASH_LEN);
	g_ptr_array_unref(all);
	append_n(v, 5, 200);
	count = vault_count(v);
	vault_close(v);
	/* It reopens from there, in full, and read-only. */
	o.full_verify = 1;
	v = open_ok(&o);
	g_assert_cmpuint(vault_first(v), ==, first);
	g_assert_cmpuint(vault_count(v), ==, count);
	vault_close(v);
	o.read_only = 1;
	v = open_ok(&o);
	all = collect(v, first, UINT64_MAX);
	g_assert_cmpuint(all->len, ==, count - first);
	g_ptr_array_unref(all);
	vault_close(v);
	o.read_only = 0;
	/* A segment a crash left behind the anchor is ignored, and the next retention (here
	 * without an archive) removes it with the others. */
	{
		char *name = seg_name(2), *moved = g_build_filename(archive, name, NULL);
		gchar *bytes;
		gsize len;

		g_assert_true(g_file_get_contents(moved, &bytes, &len, NULL));
		path = seg_path(f, 2);
		g_assert_true(g_file_set_contents(path, bytes, (gssize)len, NULL));
		g_assert_cmpint(chmod(path, 0600), ==, 0);
		g_free(bytes);
		g_free(moved);
		g_free(name);
	}
	v = open_ok(&o);
	g_assert_true(has_log(f, "5 vault.recover.retained_segment_ignored segment=2"));
	a = anchor_for(v, 5, 0, leaves);
	g_assert_cmpint(vault_retain(v, &a, NULL, why, sizeof(why)), ==, 0);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_free(path);
	path = seg_path(f, 4);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_free(path);
	/* The segment vault.state names stays. */
	g_assert_cmpint(vault_sync(v), ==, 0);
	g_assert_cmpint(vault_mark_checkpoint(v, vault_first(v) + 1), ==, 0);
	a = anchor_for(v, 7, 0, leaves);
	g_assert_cmpint(vault_retain(v, &a, NULL, why, sizeof(why)), ==, -ERANGE);
	g_assert_nonnull(strstr(why, "vault.state names segment 5"));
	vault_close(v);
	/* A damaged anchor, or a missing first segment, stops the open. */
	path = g_build_filename(f->dir, "vault.anchor", NULL);
	flip_bit(path, 20, 0);
	text = open_fails(&o, -EBADMSG);
	g_assert_nonnull(strstr(text, "vault.anchor"));
	g_free(text);
	flip_bit(path, 20, 0);
	g_free(path);
	path = seg_path(f, 5);
	g_assert_cmpint(unlink(path), ==, 0);
	text = open_fails(&o, -EBADMSG);
	g_assert_nonnull(strstr(text, "segment 5"));
	g_free(text);
	g_free(path);
	g_free(archive);
	g_free(parent);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/vault/append/round-trip", test_round_trip_plain);
	ADD("/vault/append/plaintext-on-disk-without-key", test_round_trip_plain_on_disk);
	ADD("/vault/append/sealed-round-trip", test_round_trip_sealed);
	ADD("/vault/append/key-seals-from-next-segment", test_seal_existing);
	ADD("/vault/append/partial-write-undone", test_append_partial_write_undone);
	ADD("/vault/reopen/continues-chain", test_reopen_continues);
	ADD("/vault/sync/tracks-durable-count", test_sync_durable);
	ADD("/vault/rotate/by-size", test_rotate_by_size);
	ADD("/vault/rotate/by-age", test_rotate_by_age);
	ADD("/vault/rotate/by-age-created-out-of-range",
	    test_rotate_by_age_created_out_of_range);
	ADD("/vault/recovery/truncates-torn-tail", test_recovery_torn_tail);
	ADD("/vault/recovery/truncates-zero-and-short-tail", test_recovery_zero_and_short_tail);
	ADD("/vault/recovery/read-only-reports-torn-tail",
	    test_recovery_read_only_reports_torn_tail);
	ADD("/vault/tamper/payload-bit", test_tamper_payload_bit);
	ADD("/vault/tamper/payload-bit-in-last-segment", test_tamper_payload_bit_last_segment);
	ADD("/vault/tamper/prev-hash-bit", test_tamper_prev_hash_bit);
	ADD("/vault/tamper/deleted-record", test_tamper_deleted_record);
	ADD("/vault/tamper/swapped-segments", test_tamper_swapped_segments);
	ADD("/vault/tamper/deleted-segment", test_tamper_deleted_segment);
	ADD("/vault/tamper/segment-header-bit", test_tamper_segment_header_bit);
	ADD("/vault/tamper/iterate-checks-hash", test_tamper_iterate_checks_hash);
	ADD("/vault/checkpoint/skips-verified-prefix", test_checkpoint_skips_verified_prefix);
	ADD("/vault/checkpoint/checks-linkage-before-state",
	    test_checkpoint_checks_linkage_before_state);
	ADD("/vault/verifier/finds-old-damage", test_verifier_finds_old_damage);
	ADD("/vault/checkpoint/detects-damage-after", test_checkpoint_detects_damage_after);
	ADD("/vault/checkpoint/state-hash-mismatch", test_checkpoint_state_hash_mismatch);
	ADD("/vault/checkpoint/state-damaged", test_checkpoint_state_damaged);
	ADD("/vault/checkpoint/record-cut-is-corruption", test_checkpoint_record_cut);
	ADD("/vault/lock/one-writer", test_lock_one_writer);
	ADD("/vault/open/read-only-needs-a-vault", test_open_read_only_missing);
	ADD("/vault/open/refuses-planted-links-and-folders", test_open_refuses_planted_files);
	ADD("/vault/key/load", test_load_key);
	ADD("/vault/retain/removes-old-segments-and-starts-at-the-anchor", test_retain);
	return g_test_run();
}
