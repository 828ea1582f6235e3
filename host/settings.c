/* settings.c -- validation and typed access of libconfig groups against a quorum_setting
 * schema; one validator serves quorum.conf itself and every plugin's settings group. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
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

static int setting_is_scalar(const struct quorum_setting *s)
{
	return s->type == QUORUM_SETTING_STRING || s->type == QUORUM_SETTING_INT ||
	       s->type == QUORUM_SETTING_FLOAT || s->type == QUORUM_SETTING_BOOL;
}

int settings_default_parse(const struct quorum_setting *s, union settings_value *out, char *why,
			   size_t why_size)
{
	const char *text = s->default_value;
	char *end = NULL;

	errno = 0;
	switch (s->type) {
	case QUORUM_SETTING_INT:
		out->i = strtoll(text, &end, 10);
		if (end == text || *end != '\0' || errno != 0)
			break;
		if (s->min < s->max && (out->i < s->min || out->i > s->max)) {
			errbuf_set(why, why_size,
				   "setting '%s': default %s lies outside [%" PRId64
				   ", %" PRId64 "]",
				   s->name, text, s->min, s->max);
			return -EINVAL;
		}
		return 0;
	case QUORUM_SETTING_FLOAT:
		out->f = strtod(text, &end);
		if (end == text || *end != '\0' || errno != 0 || !isfinite(out->f))
			break;
		return 0;
	case QUORUM_SETTING_BOOL:
		if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
			break;
		out->b = strcmp(text, "true") == 0;
		return 0;
	case QUORUM_SETTING_STRING:
		for (size_t i = 0; s->choices != NULL && s->choices[i] != NULL; i++) {
			if (strcmp(s->choices[i], text) == 0)
				break;
			if (s->choices[i + 1] == NULL) {
				errbuf_set(
					why, why_size,
					"setting '%s': default \"%s\" is not among its choices",
					s->name, text);
				return -EINVAL;
			}
		}
		out->s = text;
		return 0;
	default:
		break;
	}
	errbuf_set(why, why_size, "setting '%s': default \"%s\" is not %s", s->name, text,
		   setting_type_names[s->type]);
	return -EINVAL;
}

/* A default only for a scalar that may be absent, and one that its own checks accept. */
static int default_check(const struct quorum_setting *s, char *why, size_t why_size)
{
	union settings_value value;

	if (s->default_value == NULL)
		return 0;
	if (!setting_is_scalar(s) || (s->flags & QUORUM_SETTING_REQUIRED)) {
		errbuf_set(why, why_size,
			   "setting '%s': a default is only for an optional string, integer, "
			   "number or boolean",
			   s->name);
		return -EINVAL;
	}
	return settings_default_parse(s, &value, why, why_size);
}

/* Bindings only at the top level, only for scalars; an unbound entry has offset 0. The
 * offset against the struct's size is settings_bindings_check's. */
static int binding_check(const struct quorum_setting *s, int depth, char *why, size_t why_size)
{
	if (!(s->flags & QUORUM_SETTING_BIND)) {
		if (s->offset == 0)
			return 0;
		errbuf_set(why, why_size, "setting '%s' has an offset but no binding", s->name);
		return -EINVAL;
	}
	if (depth != 1 || !setting_is_scalar(s)) {
		errbuf_set(why, why_size,
			   "setting '%s': only top-level strings, integers, numbers and "
			   "booleans can be bound",
			   s->name);
		return -EINVAL;
	}
	return 0;
}

static size_t binding_field_size(uint32_t type, size_t *align)
{
	switch (type) {
	case QUORUM_SETTING_INT:
		*align = _Alignof(int64_t);
		return sizeof(int64_t);
	case QUORUM_SETTING_FLOAT:
		*align = _Alignof(double);
		return sizeof(double);
	case QUORUM_SETTING_BOOL:
		*align = _Alignof(int);
		return sizeof(int);
	default:
		*align = _Alignof(const char *);
		return sizeof(const char *);
	}
}

int settings_bindings_check(const struct quorum_setting *schema, size_t struct_size, char *why,
			    size_t why_size)
{
	if (struct_size > SETTINGS_STRUCT_MAX) {
		errbuf_set(why, why_size, "settings struct of %zu bytes (at most %d)",
			   struct_size, SETTINGS_STRUCT_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; schema != NULL && schema[i].type != QUORUM_SETTING_END; i++) {
		const struct quorum_setting *s = &schema[i];
		size_t align, size = binding_field_size(s->type, &align);

		if (!(s->flags & QUORUM_SETTING_BIND))
			continue;
		if (s->offset > struct_size || size > struct_size - s->offset ||
		    s->offset % align != 0) {
			errbuf_set(why, why_size,
				   "setting '%s' is bound at offset %zu, outside or misaligned "
				   "in a settings struct of %zu bytes",
				   s->name, s->offset, struct_size);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			size_t other_align,
				other = binding_field_size(schema[j].type, &other_align);

			if ((schema[j].flags & QUORUM_SETTING_BIND) &&
			    s->offset < schema[j].offset + other &&
			    schema[j].offset < s->offset + size) {
				errbuf_set(why, why_size,
					   "settings '%s' and '%s' are bound to overlapping "
					   "fields",
					   schema[j].name, s->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int settings_schema_bound(const struct quorum_setting *schema)
{
	for (size_t i = 0; schema != NULL && schema[i].type != QUORUM_SETTING_END; i++) {
		const struct quorum_setting *s = &schema[i];

		if (s->default_value != NULL || s->offset != 0 ||
		    (s->flags & QUORUM_SETTING_BIND) != 0)
			return 1;
		if ((s->type == QUORUM_SETTING_GROUP || s->type == QUORUM_SETTING_LIST) &&
		    settings_schema_bound(s->children))
			return 1;
	}
	return 0;
}

struct settings_struct {
	void *data;
	size_t size;
	char **strings; /* the copies the struct's string fields point to */
	size_t string_count;
};

void settings_struct_free(struct settings_struct *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->string_count; i++)
		free(st->strings[i]);
	free(st->strings);
	free(st->data);
	free(st);
}

const void *settings_struct_data(const struct settings_struct *st)
{
	return st != NULL ? st->data : NULL;
}

static int bind_string(struct settings_struct *st, size_t offset, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -ENOMEM;
	st->strings[st->string_count++] = copy;
	memcpy((char *)st->data + offset, &copy, sizeof(copy));
	return 0;
}

/* One bound field: the configured value in GROUP when present (validated already), else
 * the default, else the zero calloc left. */
static int bind_one(struct settings_struct *st, const config_setting_t *group,
		    const struct quorum_setting *s, char *why, size_t why_size)
{
	char *field = (char *)st->data + s->offset;
	union settings_value value;
	int present, err;

	switch (s->type) {
	case QUORUM_SETTING_INT:
		present = settings_get_int(group, s->name, &value.i) == 0;
		break;
	case QUORUM_SETTING_FLOAT:
		present = settings_get_float(group, s->name, &value.f) == 0;
		break;
	case QUORUM_SETTING_BOOL:
		present = settings_get_bool(group, s->name, &value.b) == 0;
		break;
	default:
		present = settings_get_string(group, s->name, &value.s) == 0;
		break;
	}
	if (!present && s->default_value == NULL)
		return 0;
	if (!present) {
		err = settings_default_parse(s, &value, why, why_size);
		if (err != 0)
			return err;
	}
	switch (s->type) {
	case QUORUM_SETTING_INT:
		memcpy(field, &value.i, sizeof(value.i));
		return 0;
	case QUORUM_SETTING_FLOAT:
		memcpy(field, &value.f, sizeof(value.f));
		return 0;
	case QUORUM_SETTING_BOOL:
		memcpy(field, &value.b, sizeof(value.b));
		return 0;
	default:
		err = bind_string(st, s->offset, value.s);
		if (err != 0)
			errbuf_set(why, why_size, "out of memory for setting '%s'", s->name);
		return err;
	}
}

int settings_struct_new(const config_setting_t *group, const struct quorum_setting *schema,
			size_t struct_size, struct settings_struct **out, char *why,
			size_t why_size)
{
	struct settings_struct *st;
	size_t count = 0;
	int err;

	*out = NULL;
	if (struct_size == 0)
		return 0;
	err = settings_bindings_check(schema, struct_size, why, why_size);
	if (err != 0)
		return err;
	for (size_t i = 0; schema != NULL && schema[i].type != QUORUM_SETTING_END; i++)
		count++;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		goto out_nomem;
	st->size = struct_size;
	st->data = calloc(1, struct_size);
	st->strings = calloc(count + 1, sizeof(*st->strings));
	if (st->data == NULL || st->strings == NULL)
		goto out_nomem;
	for (size_t i = 0; i < count; i++) {
		if (!(schema[i].flags & QUORUM_SETTING_BIND))
			continue;
		err = bind_one(st, group, &schema[i], why, why_size);
		if (err != 0) {
			settings_struct_free(st);
			return err;
		}
	}
	*out = st;
	return 0;
out_nomem:
	settings_struct_free(st);
	errbuf_set(why, why_size, "out of memory for a settings struct of %zu bytes",
		   struct_size);
	return -ENOMEM;
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
		if ((s->flags & ~(QUORUM_SETTING_REQUIRED | QUORUM_SETTING_BIND)) != 0) {
			errbuf_set(why, why_size,
				   "setting '%s' uses flags this host does not know", s->name);
			return -EINVAL;
		}
		if (default_check(s, why, why_size) != 0 ||
		    binding_check(s, depth, why, why_size) != 0)
			return -EINVAL;
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

char *settings_struct_text(const struct settings_struct *st, const config_setting_t *group,
			   const struct quorum_setting *schema)
{
	struct text values = { .data = malloc(256), .cap = 256 };
	struct text defaulted = { .data = malloc(64), .cap = 64 };
	char *out = NULL;

	if (values.data == NULL || defaulted.data == NULL)
		goto out_free;
	values.data[0] = defaulted.data[0] = '\0';
	for (size_t i = 0; st != NULL && schema[i].type != QUORUM_SETTING_END; i++) {
		const struct quorum_setting *s = &schema[i];
		const char *field = (const char *)st->data + s->offset, *str;
		int64_t i64;
		double f;
		int b;

		if (!(s->flags & QUORUM_SETTING_BIND))
			continue;
		switch (s->type) {
		case QUORUM_SETTING_INT:
			memcpy(&i64, field, sizeof(i64));
			text_append(&values, " %s=%" PRId64, s->name, i64);
			break;
		case QUORUM_SETTING_FLOAT:
			memcpy(&f, field, sizeof(f));
			text_append(&values, " %s=%g", s->name, f);
			break;
		case QUORUM_SETTING_BOOL:
			memcpy(&b, field, sizeof(b));
			text_append(&values, " %s=%s", s->name, b ? "true" : "false");
			break;
		default:
			memcpy(&str, field, sizeof(str));
			if (str == NULL)
				continue; /* absent, no default */
			text_append(&values, " %s=\"", s->name);
			for (const char *p = str; *p != '\0'; p++)
				text_append(&values, "%s%c",
					    *p == '"' || *p == '\\' ? "\\" : "", *p);
			text_append(&values, "\"");
			break;
		}
		if (settings_lookup(group, s->name) == NULL)
			text_append(&defaulted, "%s%s", defaulted.len > 0 ? "," : "", s->name);
	}
	text_append(&values, " defaults=%s", defaulted.len > 0 ? defaulted.data : "none");
	if (values.failed || defaulted.failed)
		goto out_free;
	out = values.data[0] == ' ' ? strdup(values.data + 1) : strdup(values.data);
out_free:
	free(values.data);
	free(defaulted.data);
	return out;
}
