/* quorum/settings.h -- how a plugin declares the schema of its quorum.conf settings group.
 * The host validates the group against it before init: unknown names, wrong types and
 * missing required settings stop quorumd with "file:line: what is wrong". */
#ifndef QUORUM_SETTINGS_H
#define QUORUM_SETTINGS_H

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

/* One entry of a schema. The array's element size is part of ABI 1: never grows. */
struct quorum_setting {
	const char *name;
	uint32_t type;	/* enum quorum_setting_type */
	uint32_t flags; /* QUORUM_SETTING_REQUIRED */
	int64_t min;	/* INT: inclusive bounds, used when min < max */
	int64_t max;
	const char *const *choices; /* STRING: NULL-terminated allowed values, or NULL */
	const struct quorum_setting *children; /* GROUP, LIST: END-terminated, or NULL */
	const char *help;  /* one line, for --check-config diagnostics and documentation */
	void *reserved[2]; /* must be NULL */
};

#ifdef __cplusplus
}
#endif

#endif /* QUORUM_SETTINGS_H */
