/* settings-doc.c -- prints the settings table of each plugin given (a built .so) as the roff
 * block man/quorum.conf.5 carries, so that tests/e2e/settings-doc.sh finds a drift.
 * Usage: settings-doc PLUGIN.so...  Only plugins with bound settings (ABI 1.12) print. */
#include "config.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <quorum/plugin.h>

static const char *type_text(uint32_t type)
{
	switch (type) {
	case QUORUM_SETTING_STRING:
		return "string";
	case QUORUM_SETTING_INT:
		return "integer";
	case QUORUM_SETTING_FLOAT:
		return "number";
	case QUORUM_SETTING_BOOL:
		return "boolean";
	case QUORUM_SETTING_GROUP:
		return "group";
	case QUORUM_SETTING_LIST:
		return "list of groups";
	case QUORUM_SETTING_STRINGS:
		return "array of strings";
	default:
		return "unknown";
	}
}

/* TEXT with roff's special characters escaped: a backslash, and a leading dot or quote. */
static void roff_text(const char *text)
{
	if (text[0] == '.' || text[0] == '\'')
		fputs("\\&", stdout);
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\e", stdout);
		else if (*p == '-')
			fputs("\\-", stdout);
		else
			putchar(*p);
	}
}

static void print_setting(const struct quorum_setting *s)
{
	printf(".TP\n.B %s\n", s->name);
	roff_text(type_text(s->type));
	if (s->type == QUORUM_SETTING_INT && s->min < s->max)
		printf(", %lld to %lld", (long long)s->min, (long long)s->max);
	for (size_t i = 0; s->choices != NULL && s->choices[i] != NULL; i++) {
		fputs(i == 0 ? ", one of " : ", ", stdout);
		roff_text(s->choices[i]);
	}
	if (s->flags & QUORUM_SETTING_REQUIRED)
		fputs(", required", stdout);
	else if (s->default_value != NULL) {
		fputs(", default ", stdout);
		if (s->type == QUORUM_SETTING_STRING)
			putchar('"');
		roff_text(s->default_value);
		if (s->type == QUORUM_SETTING_STRING)
			putchar('"');
	}
	if (s->help != NULL) {
		fputs(": ", stdout);
		roff_text(s->help);
	}
	putchar('\n');
}

static int print_plugin(const char *path)
{
	const struct quorum_plugin *d;
	char absolute[PATH_MAX];
	void *handle;

	if (realpath(path, absolute) == NULL) {
		fprintf(stderr, "settings-doc: cannot resolve %s\n", path);
		return 1;
	}
	handle = dlopen(absolute, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		fprintf(stderr, "settings-doc: cannot load %s: %s\n", path, dlerror());
		return 1;
	}
	d = dlsym(handle, QUORUM_PLUGIN_SYMBOL);
	if (d == NULL || d->magic != QUORUM_PLUGIN_MAGIC) {
		fprintf(stderr, "settings-doc: %s is not a Quorum Time plugin\n", path);
		dlclose(handle);
		return 1;
	}
	if (d->settings_size != 0 && d->settings != NULL) {
		printf(".\\\" settings of %s: generated from its table by "
		       "tests/tools/settings-doc\n",
		       d->name);
		printf(".SS \"%s %s\"\n",
		       d->kind == QUORUM_PLUGIN_STAGE ? "Stage" : "Transport", d->name);
		for (size_t i = 0; d->settings[i].type != QUORUM_SETTING_END; i++)
			print_setting(&d->settings[i]);
		printf(".\\\" end of the settings of %s\n", d->name);
	}
	dlclose(handle);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: settings-doc PLUGIN.so...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		status |= print_plugin(argv[i]);
	return status;
}
