/* replay.c -- a main() for the fuzz targets when libFuzzer is not there (gcc builds): runs
 * LLVMFuzzerTestOneInput once on each file named, or on each file of each folder named, so
 * `make check` replays every seed and regression input of fuzz/corpus under the build's
 * sanitizers. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Runs the target on the file at PATH. RETURN VALUE: 0, or -1 when it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			uint8_t *p = realloc(data, cap ? 2 * cap : 4096);

			if (p == NULL) {
				fclose(f);
				free(data);
				return -1;
			}
			data = p;
			cap = cap ? 2 * cap : 4096;
		}
		got = fread(data + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	/* An exact-size copy, so reads past the end are caught as they are under libFuzzer. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			free(data);
			return -1;
		}
		memcpy(exact, data, len);
		free(data);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

static int name_order(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the target on every regular file of DIR, in name order. RETURN VALUE: the count, or
 * -1. */
static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t count = 0;
	int ran = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char **p;

		if (e->d_name[0] == '.')
			continue;
		p = realloc(names, (count + 1) * sizeof(*names));
		if (p == NULL)
			break;
		names = p;
		names[count] = strdup(e->d_name);
		if (names[count] != NULL)
			count++;
	}
	closedir(d);
	qsort(names, count, sizeof(*names), name_order);
	for (size_t i = 0; i < count; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) == 0)
			ran++;
		free(names[i]);
	}
	free(names);
	return ran;
}

int main(int argc, char **argv)
{
	int ran = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		n = S_ISDIR(st.st_mode)		? replay_dir(argv[i])
		    : replay_file(argv[i]) == 0 ? 1
						: -1;
		if (n < 0)
			return 2;
		ran += n;
	}
	printf("replayed %d inputs\n", ran);
	return 0;
}
