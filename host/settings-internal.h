/* settings-internal.h -- libconfig settings against a struct quorum_setting schema: strict
 * validation with "file:line:" messages, typed reads by path, and a canonical text of a group
 * so that a reload can tell changed settings from unchanged ones. */
#ifndef QUORUM_SETTINGS_INTERNAL_H
#define QUORUM_SETTINGS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include <quorum/settings.h>

/* Deepest nesting of groups and lists a schema may declare. */
#define SETTINGS_DEPTH_MAX 8

/*
 * settings_schema_check: checks that a plugin's SCHEMA is well formed: names, known types,
 * children exactly for GROUP and LIST, sane bounds, defaults that their own type, bounds
 * and choices accept, bindings only for top-level scalars, depth bounded.
 * RETURN VALUE: 0, or -EINVAL with WHY.
 */
int settings_schema_check(const struct quorum_setting *schema, char *why, size_t why_size);

/* The largest settings struct a plugin may declare (struct quorum_plugin.settings_size). */
#define SETTINGS_STRUCT_MAX 65536

/* A default parsed by type: i for INT, f for FLOAT, b for BOOL, s for STRING (borrowed from
 * the schema). */
union settings_value {
	int64_t i;
	double f;
	int b;
	const char *s;
};

/*
 * settings_default_parse: S's default_value (not NULL) read as S's type, checked against
 * S's bounds or choices. RETURN VALUE: 0 with OUT, or -EINVAL with WHY.
 */
int settings_default_parse(const struct quorum_setting *s, union settings_value *out, char *why,
			   size_t why_size);

/*
 * settings_bindings_check: every QUORUM_SETTING_BIND entry of SCHEMA (top level) names an
 * aligned field inside a struct of STRUCT_SIZE bytes, no two overlap, and STRUCT_SIZE is
 * at most SETTINGS_STRUCT_MAX. RETURN VALUE: 0, or -EINVAL with WHY.
 */
int settings_bindings_check(const struct quorum_setting *schema, size_t struct_size, char *why,
			    size_t why_size);

/* settings_schema_bound: 1 when an entry of SCHEMA (NULL: none; checked already by
 * settings_schema_check, so of bounded depth), at any depth, has a default, a binding or an
 * offset (ABI 1.12), else 0. */
int settings_schema_bound(const struct quorum_setting *schema);

/* A plugin's filled settings struct and the string copies it points to; opaque. */
struct settings_struct;

/*
 * settings_struct_new: the settings struct of STRUCT_SIZE bytes for GROUP (validated
 * against SCHEMA already; may be NULL): zeroed, each bound field set to its default, then
 * to the configured value. Strings are copied. STRUCT_SIZE 0: *OUT = NULL and 0.
 * RETURN VALUE: 0 with *OUT (new: settings_struct_free), -EINVAL or -ENOMEM with WHY.
 */
int settings_struct_new(const config_setting_t *group, const struct quorum_setting *schema,
			size_t struct_size, struct settings_struct **out, char *why,
			size_t why_size);

/* settings_struct_data: the struct's bytes (borrowed from ST), or NULL for a NULL ST. */
const void *settings_struct_data(const struct settings_struct *st);

/* settings_struct_text: the bound values of ST (filled from GROUP by SCHEMA) as
 * `name=value ...` (strings quoted), then `defaults=a,b` naming those GROUP lacks, which
 * took the table's default ("none"). RETURN VALUE: new string (free()), or NULL on
 * allocation failure. */
char *settings_struct_text(const struct settings_struct *st, const config_setting_t *group,
			   const struct quorum_setting *schema);

/* settings_struct_free: frees ST and its strings; NULL is a no-op. */
void settings_struct_free(struct settings_struct *st);

/*
 * settings_validate: checks GROUP against SCHEMA: every member is declared and of the declared
 * type, INT values lie within bounds, STRING values among the choices, required members are
 * present. GROUP may be NULL (an absent group: only missing required settings are errors;
 * FILE and LINE then locate the message). A GROUP or LIST whose schema has children == NULL
 * is not looked into (the host checks plugin groups later against the plugin's schema).
 * WHERE prefixes the message ("transport 'rest'"). Files that libconfig names relatively
 * (@include) are shown relative to BASE_DIR (may be NULL).
 * RETURN VALUE: 0, or -EINVAL with WHY as "file:line: WHERE: what is wrong".
 */
int settings_validate(const config_setting_t *group, const struct quorum_setting *schema,
		      const char *where, const char *base_dir, const char *file, int line,
		      char *why, size_t why_size);

/* settings_lookup: the setting at PATH below GROUP ("a.b", "list.[2].c", "list.2"), or NULL.
 * GROUP may be NULL. */
config_setting_t *settings_lookup(const config_setting_t *group, const char *path);

/* Typed reads below GROUP. Each returns 0, -ENOENT when absent, -EINVAL for another type.
 * Strings are borrowed from the libconfig tree. FLOAT accepts integers; INT accepts both
 * libconfig integer widths. */
int settings_get_string(const config_setting_t *group, const char *path, const char **out);
int settings_get_int(const config_setting_t *group, const char *path, int64_t *out);
int settings_get_float(const config_setting_t *group, const char *path, double *out);
int settings_get_bool(const config_setting_t *group, const char *path, int *out);

/* settings_length: element count of the list, array or group at PATH, or -ENOENT / -EINVAL. */
int settings_length(const config_setting_t *group, const char *path);

/* settings_canonical: a text equal for two groups exactly when their settings are equal
 * (member order, comments and layout ignored; list order kept). GROUP may be NULL ("").
 * RETURN VALUE: new string (free()), or NULL on allocation failure. */
char *settings_canonical(const config_setting_t *group);

/* settings_file_name: the file S was read from as libconfig names it (relative for an
 * @include), or FALLBACK. */
const char *settings_file_name(const config_setting_t *s, const char *fallback);

/* settings_location: "FILE:LINE" of S into BUF: the file S was read from (FALLBACK when S is
 * NULL or libconfig lacks it), made absolute against BASE_DIR (may be NULL) when relative,
 * and S's line (FALLBACK_LINE when S is NULL). RETURN VALUE: BUF. */
const char *settings_location(const config_setting_t *s, const char *base_dir,
			      const char *fallback, int fallback_line, char *buf, size_t size);

#endif /* QUORUM_SETTINGS_INTERNAL_H */
