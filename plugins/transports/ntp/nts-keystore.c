/* nts-keystore.c -- the NTS master keys' file in the state folder (see nts-keystore.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "nts-keystore.h"
#include "statedir.h"

#define KEYSTORE_TMP  ".nts-keys.tmp"
#define KEYSTORE_MAX  8192 /* 16 keys take 1.6 KiB */
#define KEYSTORE_MODE 0600

int nts_keystore_load(const char *dir, struct nts_keyring *r, char *why, size_t why_size)
{
	char text[KEYSTORE_MAX + 1], detail[256];
	struct statedir d;
	struct stat st;
	ssize_t n = 0;
	size_t len = 0;
	int fd, err;

	memset(r, 0, sizeof(*r));
	err = statedir_open(&d, dir, STATEDIR_CREATE, why, why_size);
	if (err != 0)
		return err;
	fd = statedir_openat(&d, NTS_KEYSTORE_FILE, O_RDONLY, 0, why, why_size);
	if (fd < 0) {
		err = fd;
		goto out_close_dir;
	}
	if (fstat(fd, &st) != 0) {
		err = -errno;
		snprintf(why, why_size, "%s/%s: %s", dir, NTS_KEYSTORE_FILE, strerror(errno));
		goto out_close;
	}
	if ((st.st_mode & 077) != 0) {
		err = -EPERM;
		snprintf(why, why_size,
			 "%s/%s: mode %04o: secret keys must be readable by their owner only "
			 "(chmod 600)",
			 dir, NTS_KEYSTORE_FILE, (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	while (len < sizeof(text) - 1) {
		n = read(fd, text + len, sizeof(text) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0 || len >= KEYSTORE_MAX) {
		err = n < 0 ? -errno : -EFBIG;
		snprintf(why, why_size, "%s/%s: %s", dir, NTS_KEYSTORE_FILE,
			 n < 0 ? strerror(errno) : "larger than 8 KiB");
		goto out_wipe;
	}
	err = nts_keyring_parse(text, len, r, detail, sizeof(detail));
	if (err != 0)
		snprintf(why, why_size, "%s/%s: %s", dir, NTS_KEYSTORE_FILE, detail);
out_wipe:
	OPENSSL_cleanse(text, sizeof(text));
out_close:
	close(fd);
out_close_dir:
	statedir_close(&d);
	return err;
}

int nts_keystore_save(const char *dir, const struct nts_keyring *r, char *why, size_t why_size)
{
	char text[KEYSTORE_MAX];
	struct statedir d;
	ssize_t n;
	int fd, err, len;

	len = nts_keyring_format(r, text, sizeof(text));
	if (len < 0) {
		snprintf(why, why_size, "%s/%s: the keys do not fit in 8 KiB", dir,
			 NTS_KEYSTORE_FILE);
		return len;
	}
	err = statedir_open(&d, dir, STATEDIR_CREATE, why, why_size);
	if (err != 0)
		goto out_wipe;
	unlinkat(d.fd, KEYSTORE_TMP, 0); /* a failed save's leftover */
	fd = statedir_openat(&d, KEYSTORE_TMP, O_WRONLY | O_CREAT | O_EXCL, KEYSTORE_MODE, why,
			     why_size);
	if (fd < 0) {
		err = fd;
		goto out_close_dir;
	}
	n = write(fd, text, (size_t)len);
	err = n == len ? 0 : n < 0 ? -errno : -EIO;
	if (err == 0 && fsync(fd) != 0)
		err = -errno;
	close(fd);
	if (err == 0 && renameat(d.fd, KEYSTORE_TMP, d.fd, NTS_KEYSTORE_FILE) != 0)
		err = -errno;
	if (err == 0 && fsync(d.fd) != 0)
		err = -errno;
	if (err != 0) {
		snprintf(why, why_size, "%s/%s: %s", dir, KEYSTORE_TMP, strerror(-err));
		unlinkat(d.fd, KEYSTORE_TMP, 0);
	}
out_close_dir:
	statedir_close(&d);
out_wipe:
	OPENSSL_cleanse(text, sizeof(text));
	return err;
}

int nts_keystore_sync(const char *dir, int64_t rotation_s, unsigned kept, int64_t now_s,
		      struct nts_keyring *r, int *rotated, char *why, size_t why_size)
{
	int err = nts_keystore_load(dir, r, why, why_size);

	*rotated = 0;
	if (err != 0 && err != -ENOENT)
		return err;
	/* A key "from the future" (a clock set back) is rotated away too: its age is unknown.
	 */
	if (r->count > 0 && now_s - r->keys[0].created_s < rotation_s &&
	    r->keys[0].created_s <= now_s + 60) {
		if (r->count > kept) { /* fewer kept now: drop the oldest */
			for (unsigned i = kept; i < r->count; i++)
				OPENSSL_cleanse(&r->keys[i], sizeof(r->keys[i]));
			r->count = kept;
		}
		return 0;
	}
	err = nts_keyring_rotate(r, kept, now_s);
	if (err != 0) {
		snprintf(why, why_size, "%s/%s: no randomness for a new key", dir,
			 NTS_KEYSTORE_FILE);
		nts_keyring_wipe(r);
		return err;
	}
	err = nts_keystore_save(dir, r, why, why_size);
	if (err != 0) {
		nts_keyring_wipe(r);
		return err;
	}
	*rotated = 1;
	return 0;
}
