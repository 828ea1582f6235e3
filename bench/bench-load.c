/* bench-load.c -- how long quorumd takes to verify and load a plugin: for each plugin given,
 * signs a copy with a fresh key, then times plugin_image_read (read + SHA-256 + Ed25519 verify)
 * and plugin_module_load (sealed memfd + dlopen + descriptor checks) over many rounds.
 * Usage: bench-load ROUNDS PLUGIN.so[=NAME:KIND] ...   KIND is stage or transport. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keys-internal.h"
#include "loader-internal.h"
#include "plugin-describe.h"
#include "plugin-sig-internal.h"
#include "util-internal.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double percentile(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), compare_double);
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static int prepare(const char *src, const char *dir, const char *name, EVP_PKEY *key,
		   char *path, size_t size)
{
	char why[ERRBUF_SIZE], sig_path[4300], *text;
	struct plugin_statement st;
	uint8_t *data;
	size_t len, text_len;

	snprintf(path, size, "%s/%s.so", dir, name);
	snprintf(sig_path, sizeof(sig_path), "%s.sig", path);
	if (plugin_describe(src, &st, why, sizeof(why)) != 0 ||
	    snprintf(st.name, sizeof(st.name), "%s", name) < 0 ||
	    file_read_checked(src, PLUGIN_FILE_MAX, 0, &data, &len, why, sizeof(why)) != 0 ||
	    file_write_new(path, data, len, 0644, 1, why, sizeof(why)) != 0 ||
	    plugin_signature_create(key, 2, &st, data, len, &text, &text_len, why,
				    sizeof(why)) != 0 ||
	    file_write_new(sig_path, text, text_len, 0644, 1, why, sizeof(why)) != 0) {
		fprintf(stderr, "bench-load: %s\n", why);
		return -1;
	}
	free(text);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/quorum-bench-XXXXXX", pub[64], why[ERRBUF_SIZE];
	struct keyring ring = { 0 };
	/* As quorumd reads a plugin: StrictModes on the paths included. */
	struct plugin_policy policy = { .trusted = &ring,
					.service_uid = geteuid(),
					.check_paths = 1 };
	EVP_PKEY *key;
	int rounds, status = 0;

	if (argc < 3 || (rounds = atoi(argv[1])) < 2) {
		fprintf(stderr, "usage: bench-load ROUNDS PLUGIN.so=NAME:KIND ...\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL || loader_init() != 0)
		return 1;
	key = key_generate();
	snprintf(pub, sizeof(pub), "%s/bench.pub", dir);
	if (key == NULL || key_save_public(key, pub, 1, why, sizeof(why)) != 0 ||
	    keyring_add_file(&ring, pub, why, sizeof(why)) != 0) {
		fprintf(stderr, "bench-load: cannot prepare the key\n");
		return 1;
	}
	printf("%-22s %9s %12s %12s %12s %12s\n", "plugin", "bytes", "verify_us", "load_us",
	       "total_us", "total_p99_us");
	for (int a = 2; a < argc; a++) {
		char spec[4096], *eq, *colon, path[4200];
		const char *name, *kind_name;
		uint32_t kind;
		double *verify = calloc((size_t)rounds, sizeof(double));
		double *load = calloc((size_t)rounds, sizeof(double));
		double *total = calloc((size_t)rounds, sizeof(double));
		size_t bytes = 0;

		snprintf(spec, sizeof(spec), "%s", argv[a]);
		eq = strchr(spec, '=');
		colon = eq != NULL ? strchr(eq, ':') : NULL;
		if (eq == NULL || colon == NULL) {
			fprintf(stderr, "bench-load: want PLUGIN.so=NAME:KIND, got %s\n",
				argv[a]);
			return 2;
		}
		*eq = *colon = '\0';
		name = eq + 1;
		kind_name = colon + 1;
		kind = strcmp(kind_name, "stage") == 0 ? QUORUM_PLUGIN_STAGE
						       : QUORUM_PLUGIN_TRANSPORT;
		if (prepare(spec, dir, name, key, path, sizeof(path)) != 0)
			return 1;
		for (int r = 0; r < rounds; r++) {
			struct plugin_image image;
			struct plugin_module *module;
			double t0 = now_us(), t1, t2;

			if (plugin_image_read(path, name, kind, &policy, &image, why,
					      sizeof(why)) != 0) {
				fprintf(stderr, "bench-load: %s\n", why);
				return 1;
			}
			t1 = now_us();
			if (plugin_module_load(&image, kind, &policy, NULL, &module, why,
					       sizeof(why)) != 0) {
				fprintf(stderr, "bench-load: %s\n", why);
				return 1;
			}
			t2 = now_us();
			bytes = image.len;
			plugin_image_release(&image);
			plugin_module_unload(module);
			verify[r] = t1 - t0;
			load[r] = t2 - t1;
			total[r] = t2 - t0;
		}
		printf("%-22s %9zu %12.0f %12.0f %12.0f %12.0f\n", name, bytes,
		       percentile(verify, (size_t)rounds, 0.5),
		       percentile(load, (size_t)rounds, 0.5),
		       percentile(total, (size_t)rounds, 0.5),
		       percentile(total, (size_t)rounds, 0.99));
		free(verify);
		free(load);
		free(total);
		unlink(path);
		strcat(path, ".sig");
		unlink(path);
	}
	unlink(pub);
	rmdir(dir);
	keyring_release(&ring);
	EVP_PKEY_free(key);
	loader_exit();
	return status;
}
