/* quorum/settings.h -- how a plugin declares the schema of its quorum.conf settings group.
 * The host validates the group against it before init: unknown names, wrong types and
 * missing required settings stop quorumd with "file:line: what is wrong". */
#ifndef QUORUM_SETTINGS_H
#define QUORUM_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum quorum_setting_type {
	QUORUM_SETTING_END = 0, /* terminates an array of struct quorum_setting */
	QUORUM_SETTING_STRING = 1,
	QUORUM_SETTING_INT = 2, /* 64-bit integer; checked against [min, max] when min < max */
	QUORUM_SETTING_FLOAT = 3, /* an integer literal is accepted too */
	QUORUM_SETTING_BOOL = 4,
	QUORUM_SETTING_GROUP = 5, /* { ... } whose members follow `children` */
	QUORUM_SETTING_LIST =
		6, /* ( {...}, {...} ): each element a group following `children` */
	QUORUM_SETTING_STRINGS = 7, /* [ "a", "b" ] or ( "a", "b" ) */
};

#define QUORUM_SETTING_REQUIRED 0x1u
/* ABI 1.12: the host stores the setting's value (the configured one, else default_value)
 * at `offset` in the plugin's settings struct (struct quorum_plugin.settings_size bytes,
 * read with api->settings). Only top-level STRING, INT, FLOAT and BOOL settings bind; the
 * field's C type is fixed by the setting's type:
 *   INT    int64_t
 *   FLOAT  double
 *   BOOL   int (0 or 1)
 *   STRING const char *: a copy owned by the host, NUL-terminated, valid as long as the
 *          struct (see api->settings); NULL when the setting is absent and has no default.
 * A field without a binding is left zero. */
#define QUORUM_SETTING_BIND 0x2u

/* One entry of a schema. The array's element size is part of ABI 1: never grows. */
struct quorum_setting {
	const char *name;
	uint32_t type;	/* enum quorum_setting_type */
	uint32_t flags; /* QUORUM_SETTING_REQUIRED, QUORUM_SETTING_BIND */
	int64_t min;	/* INT: inclusive bounds, used when min < max */
	int64_t max;
	const char *const *choices; /* STRING: NULL-terminated allowed values, or NULL */
	const struct quorum_setting *children; /* GROUP, LIST: END-terminated, or NULL */
	const char *help; /* one line, for --check-config diagnostics and documentation */
	/* ABI 1.12, carved out of `void *reserved[2]` (both NULL in older plugins): the value
	 * an absent setting takes, as written in quorum.conf without quotes ("5", "0.25",
	 * "true", "every"), or NULL (none). Only for STRING, INT, FLOAT and BOOL; never
	 * with QUORUM_SETTING_REQUIRED. The host checks it against the type, bounds and
	 * choices when it loads the plugin, fills bound fields from it, and prints it in
	 * --check-config and the man page. */
	const char *default_value;
	size_t offset; /* with QUORUM_SETTING_BIND: the field's offsetof in the struct */
};

/* The layout of ABI 1.0 is kept: the two carved fields occupy exactly `reserved[2]`.
 * quorum_setting_abi10_ is the entry as ABI 1.0 to 1.11 declared it, for these checks. */
struct quorum_setting_abi10_ {
	const char *name;
	uint32_t type, flags;
	int64_t min, max;
	const char *const *choices;
	const struct quorum_setting *children;
	const char *help;
	void *reserved[2];
};
#ifdef __cplusplus
#define QUORUM_SETTINGS_STATIC_ASSERT static_assert
#else
#define QUORUM_SETTINGS_STATIC_ASSERT _Static_assert
#endif
QUORUM_SETTINGS_STATIC_ASSERT(sizeof(struct quorum_setting) ==
				      sizeof(struct quorum_setting_abi10_),
			      "struct quorum_setting changed size");
QUORUM_SETTINGS_STATIC_ASSERT(offsetof(struct quorum_setting, help) ==
				      offsetof(struct quorum_setting_abi10_, help),
			      "struct quorum_setting's ABI 1.0 fields moved");
QUORUM_SETTINGS_STATIC_ASSERT(offsetof(struct quorum_setting, default_value) ==
				      offsetof(struct quorum_setting_abi10_, reserved),
			      "quorum_setting.default_value is not reserved[0]");
QUORUM_SETTINGS_STATIC_ASSERT(offsetof(struct quorum_setting, offset) ==
					      offsetof(struct quorum_setting_abi10_, reserved) +
						      sizeof(void *) &&
				      sizeof(size_t) == sizeof(void *),
			      "quorum_setting.offset is not reserved[1]");

/* Schema entries bound to a field of the plugin's settings struct, nginx-style:
 *   static const struct quorum_setting vault_schema[] = {
 *           QUORUM_SETTING_INT_AT("batch_ms", struct vault_settings, batch_ms, 1, 1000,
 *                                 "5", "group-commit window"),
 *           { .type = QUORUM_SETTING_END },
 *   };
 * DEFAULT is the default's text (see default_value) or NULL. The _AT macros check at
 * compile time that the field has the C type the binding writes. */
#if defined(__GNUC__) && !defined(__cplusplus)
#define QUORUM_SETTING_FIELD_CHECK_(struct_, field_, ctype_)                                   \
	__builtin_choose_expr(                                                                 \
		__builtin_types_compatible_p(__typeof__(((struct_ *)0)->field_), ctype_),      \
		offsetof(struct_, field_), (void)"field type does not match the setting type")
#else
#define QUORUM_SETTING_FIELD_CHECK_(struct_, field_, ctype_) offsetof(struct_, field_)
#endif
#define QUORUM_SETTING_BOUND_(name_, type_, flags_, struct_, field_, ctype_, default_, help_)  \
	.name = (name_), .type = (type_), .flags = QUORUM_SETTING_BIND | (flags_),             \
	.default_value = (default_), .help = (help_),                                          \
	.offset = QUORUM_SETTING_FIELD_CHECK_(struct_, field_, ctype_)
#define QUORUM_SETTING_INT_AT(name_, struct_, field_, min_, max_, default_, help_)             \
	{                                                                                      \
		QUORUM_SETTING_BOUND_(name_, QUORUM_SETTING_INT, 0, struct_, field_, int64_t,  \
				      default_, help_),                                        \
			.min = (min_), .max = (max_)                                           \
	}
#define QUORUM_SETTING_FLOAT_AT(name_, struct_, field_, default_, help_)                       \
	{                                                                                      \
		QUORUM_SETTING_BOUND_(name_, QUORUM_SETTING_FLOAT, 0, struct_, field_, double, \
				      default_, help_)                                         \
	}
#define QUORUM_SETTING_BOOL_AT(name_, struct_, field_, default_, help_)                        \
	{                                                                                      \
		QUORUM_SETTING_BOUND_(name_, QUORUM_SETTING_BOOL, 0, struct_, field_, int,     \
				      default_, help_)                                         \
	}
/* CHOICES: NULL or a NULL-terminated array of allowed values. */
#define QUORUM_SETTING_STRING_AT(name_, struct_, field_, choices_, default_, help_)            \
	{                                                                                      \
		QUORUM_SETTING_BOUND_(name_, QUORUM_SETTING_STRING, 0, struct_, field_,        \
				      const char *, default_, help_),                          \
			.choices = (choices_)                                                  \
	}
/* A required string: no default, quorumd refuses a configuration without it. */
#define QUORUM_SETTING_STRING_REQUIRED_AT(name_, struct_, field_, help_)                       \
	{                                                                                      \
		QUORUM_SETTING_BOUND_(name_, QUORUM_SETTING_STRING, QUORUM_SETTING_REQUIRED,   \
				      struct_, field_, const char *, NULL, help_)              \
	}

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_SETTINGS_H */
