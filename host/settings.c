/* settings.c -- validation and typed access of libconfig groups against a quorum_setting
 * schema; one validator serves quorum.conf itself and every plugin's settings group. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings-internal.h"
#include "util-internal.h"

static const char *const setting_type_names[] = {
	[QUORUM_SETTING_END] = "end",
	[QUORUM_SETTING_STRING] = "a string",
	[QUORUM_SETTING_INT] = "an integer",
	[QUORUM_SETTING_FLOAT] = "a number",
	[QUORUM_SETTING_BOOL] = "a boolean (true or false)",
	[QUORUM_SETTING_GROUP] = "a group { ... }",
	[QUORUM_SETTING_LIST] = "a list of groups ( { ... }, ... )",
	[QUORUM_SETTING_STRINGS] = "an array of strings [ \"...\", ... ]",
};

static const char *config_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "an unknown type";
	}
}

const char *settings_file_name(const config_setting_t *s, const char *fallback)
{
	const char *file = s != NULL ? config_setting_source_file(s) : NULL;

	return file != NULL ? file : fallback;
}

const char *settings_location(const config_setting_t *s, const char *base_dir,
			      const char *fallback, int fallback_line, char *buf, size_t size)
{
	const char *file = s != NULL ? config_setting_source_file(s) : NULL;
	int line = s != NULL && config_setting_source_line(s) > 0
			   ? (int)config_setting_source_line(s)
			   : fallback_line; /* the root group has no line */

	if (file == NULL)
		file = fallback;
	if (file[0] != '/' && base_dir != NULL)
		snprintf(buf, size, "%s/%s:%d", base_dir, file, line);
	else
		snprintf(buf, size, "%s:%d", file, line);
	return buf;
}

static int schema_check_level(const struct quorum_setting *schema, int depth, char *why,
			      size_t why_size)
{
	if (depth > SETTINGS_DEPTH_MAX) {
		errbuf_set(why, why_size, "settings schema nests deeper than %d levels",
			   SETTINGS_DEPTH_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; schema[i].type != QUORUM_SETTING_END; i++) {
		const struct quorum_setting *s = &schema[i];
		int nested = s->type == QUORUM_SETTING_GROUP || s->type == QUORUM_SETTING_LIST;

		if (i >= 256) {
			errbuf_set(why, why_size, "settings schema has more than 256 entries");
			return -EINVAL;
		}
		if (s->name == NULL || s->name[0] == '\0' || strlen(s->name) > 64) {
			errbuf_set(why, why_size, "settings schema entry %zu has no valid name",
				   i);
			return -EINVAL;
		}
		if (s->type > QUORUM_SETTING_STRINGS) {
			errbuf_set(why, why_size, "setting '%s' has unknown type %u", s->name,
				   s->type);
			return -EINVAL;
		}
		if ((s->flags & ~QUORUM_SETTING_REQUIRED) != 0 || s->reserved[0] != NULL ||
		    s->reserved[1] != NULL) {
			errbuf_set(why, why_size,
				   "setting '%s' uses flags or reserved fields this host does "
				   "not know",
				   s->name);
			return -EINVAL;
		}
		if (nested != (s->children != NULL)) {
			errbuf_set(why, why_size,
				   "setting '%s': children must be given exactly for groups "
				   "and lists",
				   s->name);
			return -EINVAL;
		}
		if (s->choices != NULL && s->type != QUORUM_SETTING_STRING) {
			errbuf_set(why, why_size, "setting '%s': choices are only for strings",
				   s->name);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(schema[j].name, s->name) == 0) {
				errbuf_set(why, why_size, "setting '%s' is declared twice",
					   s->name);
				return -EINVAL;
			}
		}
		if (nested) {
			int err = schema_check_level(s->children, depth + 1, why, why_size);

			if (err != 0)
				return err;
		}
	}
	return 0;
}

int settings_schema_check(const struct quorum_setting *schema, char *why, size_t why_size)
{
	static const struct quorum_setting empty[] = { { .type = QUORUM_SETTING_END } };

	return schema_check_level(schema != NULL ? schema : empty, 1, why, why_size);
}

static const struct quorum_setting *schema_find(const struct quorum_setting *schema,
						const char *name)
{
	for (size_t i = 0; schema[i].type != QUORUM_SETTING_END; i++) {
		if (strcmp(schema[i].name, name) == 0)
			return &schema[i];
	}
	return NULL;
}

/* Context of one validation, so that nested messages carry the whole path. */
struct validation {
	const char *where;
	const char *base_dir;
	const char *main_file;
	char *why;
	size_t why_size;
};

static int invalid(struct validation *v, const config_setting_t *s, int line_fallback,
		   const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int invalid(struct validation *v, const config_setting_t *s, int line_fallback,
		   const char *path, const char *fmt, ...)
{
	char what[ERRBUF_SIZE], location[PATH_MAX + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	errbuf_set(v->why, v->why_size, "%s: %s: setting '%s' %s",
		   settings_location(s, v->base_dir, v->main_file, line_fallback, location,
				     sizeof(location)),
		   v->where, path, what);
	return -EINVAL;
}

static int validate_group(struct validation *v, const config_setting_t *group,
			  const struct quorum_setting *schema, const char *prefix, int line);

static int validate_value(struct validation *v, const config_setting_t *s,
			  const struct quorum_setting *decl, const char *path)
{
	int type = config_setting_type(s);

	switch (decl->type) {
	case QUORUM_SETTING_STRING:
		if (type != CONFIG_TYPE_STRING)
			break;
		if (decl->choices != NULL) {
			const char *value = config_setting_get_string(s);
			char list[256] = "";

			for (size_t i = 0; decl->choices[i] != NULL; i++) {
				if (strcmp(decl->choices[i], value) == 0)
					return 0;
				snprintf(list + strlen(list), sizeof(list) - strlen(list),
					 "%s%s", i ? ", " : "", decl->choices[i]);
			}
			return invalid(v, s, 0, path, "is \"%s\"; it must be one of: %s", value,
				       list);
		}
		return 0;
	case QUORUM_SETTING_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			break;
		if (decl->min < decl->max) {
			long long value = config_setting_get_int64(s);

			if (value < decl->min || value > decl->max)
				return invalid(v, s, 0, path,
					       "is %lld; it must lie between %" PRId64
					       " and %" PRId64,
					       value, decl->min, decl->max);
		}
		return 0;
	case QUORUM_SETTING_FLOAT:
		if (type != CONFIG_TYPE_FLOAT && type != CONFIG_TYPE_INT &&
		    type != CONFIG_TYPE_INT64)
			break;
		return 0;
	case QUORUM_SETTING_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			break;
		return 0;
	case QUORUM_SETTING_GROUP:
		if (type != CONFIG_TYPE_GROUP)
			break;
		if (decl->children == NULL)
			return 0;
		return validate_group(v, s, decl->children, path, 0);
	case QUORUM_SETTING_LIST:
		if (type != CONFIG_TYPE_LIST)
			break;
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);
			char elem_path[300];

			snprintf(elem_path, sizeof(elem_path), "%s.[%d]", path, i);
			if (config_setting_type(elem) != CONFIG_TYPE_GROUP)
				return invalid(v, elem, 0, elem_path,
					       "is %s; it must be a group { ... }",
					       config_type_name(config_setting_type(elem)));
			if (decl->children != NULL) {
				int err = validate_group(v, elem, decl->children, elem_path, 0);

				if (err != 0)
					return err;
			}
		}
		return 0;
	case QUORUM_SETTING_STRINGS:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			break;
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);

			if (config_setting_type(elem) != CONFIG_TYPE_STRING)
				return invalid(v, elem, 0, path,
					       "element %d is %s; it must be a string", i,
					       config_type_name(config_setting_type(elem)));
		}
		return 0;
	default:
		break;
	}
	return invalid(v, s, 0, path, "is %s; it must be %s", config_type_name(type),
		       setting_type_names[decl->type]);
}

static int validate_group(struct validation *v, const config_setting_t *group,
			  const struct quorum_setting *schema, const char *prefix, int line)
{
	int count = group != NULL ? config_setting_length(group) : 0;

	for (int i = 0; i < count; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct quorum_setting *decl = schema_find(schema, name);
		char path[256];
		int err;

		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", name);
		if (decl == NULL)
			return invalid(v, s, 0, path, "is unknown");
		err = validate_value(v, s, decl, path);
		if (err != 0)
			return err;
	}
	for (size_t i = 0; schema[i].type != QUORUM_SETTING_END; i++) {
		char path[256];

		if (!(schema[i].flags & QUORUM_SETTING_REQUIRED))
			continue;
		if (group != NULL && config_setting_get_member(group, schema[i].name) != NULL)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "",
			 schema[i].name);
		return invalid(v, group, line, path, "is required but missing (%s)",
			       schema[i].help != NULL ? schema[i].help
						      : setting_type_names[schema[i].type]);
	}
	return 0;
}

int settings_validate(const config_setting_t *group, const struct quorum_setting *schema,
		      const char *where, const char *base_dir, const char *file, int line,
		      char *why, size_t why_size)
{
	static const struct quorum_setting empty[] = { { .type = QUORUM_SETTING_END } };
	struct validation v = { .where = where,
				.base_dir = base_dir,
				.main_file = file,
				.why = why,
				.why_size = why_size };

	if (group != NULL && config_setting_type(group) != CONFIG_TYPE_GROUP)
		return invalid(&v, group, line,
			       config_setting_name(group) ? config_setting_name(group) : "",
			       "is %s; it must be a group { ... }",
			       config_type_name(config_setting_type(group)));
	return validate_group(&v, group, schema != NULL ? schema : empty, "", line);
}

config_setting_t *settings_lookup(const config_setting_t *group, const char *path)
{
	config_setting_t *cur = (config_setting_t *)group;
	const char *p = path;

	while (cur != NULL && *p != '\0') {
		char part[128];
		size_t len = strcspn(p, ".");
		int type = config_setting_type(cur);

		if (len == 0 || len >= sizeof(part))
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		p += len;
		if (*p == '.')
			p++;
		if (type == CONFIG_TYPE_GROUP && part[0] != '[') {
			cur = config_setting_get_member(cur, part);
		} else if (type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY) {
			char *digits = part[0] == '[' ? part + 1 : part, *end;
			long index = strtol(digits, &end, 10);

			if (end == digits || index < 0 ||
			    (part[0] == '[' ? strcmp(end, "]") != 0 : *end != '\0'))
				return NULL;
			cur = config_setting_get_elem(cur, (unsigned)index);
		} else {
			return NULL;
		}
	}
	return cur;
}

static config_setting_t *settings_lookup_typed(const config_setting_t *group, const char *path,
					       int *err)
{
	config_setting_t *s = settings_lookup(group, path);

	*err = s == NULL ? -ENOENT : -EINVAL;
	return s;
}

int settings_get_string(const config_setting_t *group, const char *path, const char **out)
{
	int err;
	config_setting_t *s = settings_lookup_typed(group, path, &err);

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return s == NULL ? -ENOENT : err;
	*out = config_setting_get_string(s);
	return 0;
}

int settings_get_int(const config_setting_t *group, const char *path, int64_t *out)
{
	int err;
	config_setting_t *s = settings_lookup_typed(group, path, &err);

	if (s == NULL)
		return -ENOENT;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return err;
	*out = config_setting_get_int64(s);
	return 0;
}

int settings_get_float(const config_setting_t *group, const char *path, double *out)
{
	int err;
	config_setting_t *s = settings_lookup_typed(group, path, &err);

	if (s == NULL)
		return -ENOENT;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		*out = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT ||
		 config_setting_type(s) == CONFIG_TYPE_INT64)
		*out = (double)config_setting_get_int64(s);
	else
		return err;
	return 0;
}

int settings_get_bool(const config_setting_t *group, const char *path, int *out)
{
	int err;
	config_setting_t *s = settings_lookup_typed(group, path, &err);

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_BOOL)
		return s == NULL ? -ENOENT : err;
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

int settings_length(const config_setting_t *group, const char *path)
{
	config_setting_t *s =
		path[0] != '\0' ? settings_lookup(group, path) : (config_setting_t *)group;

	if (s == NULL)
		return -ENOENT;
	if (!config_setting_is_aggregate(s))
		return -EINVAL;
	return config_setting_length(s);
}

/* A growable string for settings_canonical. */
struct text {
	char *data;
	size_t len, cap;
	int failed;
};

static void text_append(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_append(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *grown = realloc(t->data, t->cap * 2 + (size_t)n);

		if (grown == NULL) {
			t->failed = 1;
			return;
		}
		t->data = grown;
		t->cap = t->cap * 2 + (size_t)n;
	}
}

static int compare_names(const void *a, const void *b)
{
	const config_setting_t *const *x = a, *const *y = b;

	return strcmp(config_setting_name(*x), config_setting_name(*y));
}

static void canonical_value(struct text *t, const config_setting_t *s)
{
	int count;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		text_append(t, "i%lld;", config_setting_get_int64(s));
		return;
	case CONFIG_TYPE_FLOAT:
		text_append(t, "f%.17g;", config_setting_get_float(s));
		return;
	case CONFIG_TYPE_BOOL:
		text_append(t, "b%d;", config_setting_get_bool(s) ? 1 : 0);
		return;
	case CONFIG_TYPE_STRING: {
		const char *value = config_setting_get_string(s);

		text_append(t, "s%zu:%s;", strlen(value), value);
		return;
	}
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		count = config_setting_length(s);
		text_append(t, "%c%d(", config_setting_type(s) == CONFIG_TYPE_ARRAY ? 'a' : 'l',
			    count);
		for (int i = 0; i < count; i++)
			canonical_value(t, config_setting_get_elem(s, (unsigned)i));
		text_append(t, ")");
		return;
	case CONFIG_TYPE_GROUP: {
		const config_setting_t **members;

		count = config_setting_length(s);
		members = calloc((size_t)count + 1, sizeof(*members));
		if (members == NULL) {
			t->failed = 1;
			return;
		}
		for (int i = 0; i < count; i++)
			members[i] = config_setting_get_elem(s, (unsigned)i);
		qsort(members, (size_t)count, sizeof(*members), compare_names);
		text_append(t, "g%d{", count);
		for (int i = 0; i < count; i++) {
			const char *name = config_setting_name(members[i]);

			text_append(t, "%zu:%s=", strlen(name), name);
			canonical_value(t, members[i]);
		}
		text_append(t, "}");
		free(members);
		return;
	}
	default:
		text_append(t, "?;");
		return;
	}
}

char *settings_canonical(const config_setting_t *group)
{
	struct text t = { .data = malloc(256), .cap = 256 };

	if (t.data == NULL)
		return NULL;
	t.data[0] = '\0';
	if (group != NULL)
		canonical_value(&t, group);
	if (t.failed) {
		free(t.data);
		return NULL;
	}
	return t.data;
}
