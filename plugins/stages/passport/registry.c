/* registry.c -- the passports a node holds: lookups with validity windows, capabilities and
 * the rotation overlap; updates (serial order, replays, key conflicts); the state folder's
 * passports/ and retired/ files, written atomically and read back at start. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry.h"
#include "statefile.h"

#define WHY(...) snprintf(why, why_size, __VA_ARGS__)

const char *registry_result_name(enum registry_result result)
{
	switch (result) {
	case REGISTRY_OK:
		return "ok";
	case REGISTRY_UNKNOWN_KEY:
		return "unknown_key";
	case REGISTRY_NOT_YET_VALID:
		return "key_not_yet_valid";
	case REGISTRY_EXPIRED:
		return "key_expired";
	case REGISTRY_CAPABILITY_MISSING:
		return "capability_missing";
	}
	return "unknown";
}

int registry_init(struct registry *r, int64_t overlap_ns)
{
	memset(r, 0, sizeof(*r));
	r->overlap_ns = overlap_ns;
	r->entries = calloc(REGISTRY_AUTHORITIES_MAX, sizeof(*r->entries));
	return r->entries != NULL ? 0 : -ENOMEM;
}

static void entry_release(struct registry_entry *e)
{
	passport_free(e->current);
	for (size_t i = 0; i < e->previous_count; i++)
		passport_free(e->previous[i].passport);
	memset(e, 0, sizeof(*e));
}

void registry_release(struct registry *r)
{
	for (size_t i = 0; r->entries != NULL && i < r->count; i++)
		entry_release(&r->entries[i]);
	free(r->entries);
	memset(r, 0, sizeof(*r));
}

static struct registry_entry *entry_find(const struct registry *r, const char *authority_id)
{
	for (size_t i = 0; i < r->count; i++) {
		if (strcmp(r->entries[i].current->authority_id, authority_id) == 0)
			return &r->entries[i];
	}
	return NULL;
}

const struct passport *registry_get(const struct registry *r, const char *authority_id)
{
	const struct registry_entry *e = entry_find(r, authority_id);

	return e != NULL ? e->current : NULL;
}

/* The window and capability checks, in the order the audit reports them. */
static enum registry_result key_check(const struct registry_match *m, int64_t now_ns,
				      unsigned capability)
{
	if (now_ns < m->key->not_before_ns)
		return REGISTRY_NOT_YET_VALID;
	if (now_ns >= m->key->not_after_ns || (m->retired && now_ns >= m->until_ns))
		return REGISTRY_EXPIRED;
	if ((m->passport->capabilities & capability) != capability)
		return REGISTRY_CAPABILITY_MISSING;
	return REGISTRY_OK;
}

static int64_t add_saturated(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

enum registry_result registry_lookup(const struct registry *r, const char *authority_id,
				     const char *key_id, int64_t now_ns, unsigned capability,
				     struct registry_match *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->count; i++) {
		const struct registry_entry *e = &r->entries[i];

		if (authority_id != NULL && strcmp(e->current->authority_id, authority_id) != 0)
			continue;
		out->key = passport_find_key(e->current, key_id);
		if (out->key != NULL) {
			out->passport = e->current;
			return key_check(out, now_ns, capability);
		}
	}
	/* Keys an update dropped: accepted for the overlap after it, with the capabilities
	 * of the authority's current passport (a capability withdrawn is withdrawn at once). */
	for (size_t i = 0; i < r->count; i++) {
		const struct registry_entry *e = &r->entries[i];

		if (authority_id != NULL && strcmp(e->current->authority_id, authority_id) != 0)
			continue;
		for (size_t j = 0; j < e->previous_count; j++) {
			out->key = passport_find_key(e->previous[j].passport, key_id);
			if (out->key == NULL)
				continue;
			out->passport = e->current;
			out->retired = 1;
			out->until_ns = add_saturated(e->previous[j].retired_ns, r->overlap_ns);
			return key_check(out, now_ns, capability);
		}
	}
	memset(out, 0, sizeof(*out));
	return REGISTRY_UNKNOWN_KEY;
}

/* -EEXIST when a key of P is in the current passport of another authority. */
static int key_conflict(const struct registry *r, const struct passport *p, char *why,
			size_t why_size)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct passport *other = r->entries[i].current;

		if (strcmp(other->authority_id, p->authority_id) == 0)
			continue;
		for (size_t k = 0; k < p->key_count; k++) {
			if (passport_find_key(other, p->keys[k].key_id) != NULL) {
				WHY("key %s of authority %s is also a key of authority %s",
				    p->keys[k].key_id, p->authority_id, other->authority_id);
				return -EEXIST;
			}
		}
	}
	return 0;
}

int registry_set(struct registry *r, struct passport *p, char *why, size_t why_size)
{
	struct registry_entry *e = entry_find(r, p->authority_id);
	int err = key_conflict(r, p, why, why_size);

	if (err != 0)
		return err;
	if (e == NULL) {
		if (r->count == REGISTRY_AUTHORITIES_MAX) {
			WHY("more than %d passports", REGISTRY_AUTHORITIES_MAX);
			return -ENOSPC;
		}
		e = &r->entries[r->count++];
	}
	passport_free(e->current);
	e->current = p;
	return 0;
}

enum registry_update registry_check_update(const struct registry *r, const struct passport *p)
{
	const struct passport *held = registry_get(r, p->authority_id);

	if (held == NULL || p->serial > held->serial)
		return REGISTRY_UPDATE_NEWER;
	if (p->serial == held->serial && passport_same(p, held))
		return REGISTRY_UPDATE_DUPLICATE;
	return REGISTRY_UPDATE_STALE;
}

/* Appends the key ids of FROM that are not in OTHER (NULL: all) to OUT, "-" when none. */
static void key_difference(const struct passport *from, const struct passport *other, char *out,
			   size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; from != NULL && i < from->key_count; i++) {
		if (other != NULL && passport_find_key(other, from->keys[i].key_id) != NULL)
			continue;
		len += (size_t)snprintf(out + len, size - len, "%s%s", len > 0 ? "," : "",
					from->keys[i].key_id);
	}
	if (len == 0)
		snprintf(out, size, "-");
}

/* Drops E's superseded passports whose overlap ended at NOW_NS, or that no longer hold a
 * key the current passport dropped. */
static void entry_prune(struct registry_entry *e, int64_t overlap_ns, int64_t now_ns)
{
	size_t kept = 0;

	for (size_t i = 0; i < e->previous_count; i++) {
		struct registry_previous *prev = &e->previous[i];
		int useful = add_saturated(prev->retired_ns, overlap_ns) > now_ns;

		for (size_t k = 0; useful && k < prev->passport->key_count; k++) {
			if (passport_find_key(e->current, prev->passport->keys[k].key_id) ==
			    NULL)
				break;
			if (k + 1 == prev->passport->key_count)
				useful = 0; /* every key of it is still current */
		}
		if (useful)
			e->previous[kept++] = *prev;
		else
			passport_free(prev->passport);
	}
	e->previous_count = kept;
}

static int entry_save(const struct registry_entry *e, const char *state_dir, char *why,
		      size_t why_size);

int registry_install(struct registry *r, struct passport *p, int64_t now_ns,
		     const char *state_dir, struct registry_change *change, char *why,
		     size_t why_size)
{
	struct registry_entry *e = entry_find(r, p->authority_id), next = { 0 };
	int err = key_conflict(r, p, why, why_size);

	if (err != 0)
		return err;
	if (e == NULL && r->count == REGISTRY_AUTHORITIES_MAX) {
		WHY("more than %d passports", REGISTRY_AUTHORITIES_MAX);
		return -ENOSPC;
	}
	memset(change, 0, sizeof(*change));
	key_difference(p, e != NULL ? e->current : NULL, change->added, sizeof(change->added));
	key_difference(e != NULL ? e->current : NULL, p, change->retired,
		       sizeof(change->retired));
	/* The next state, borrowing E's passports, so that it can be written before anything
	 * changes: the one superseded now first, then the older ones, the oldest dropped when
	 * full. */
	next.current = p;
	if (e != NULL) {
		change->previous_serial = e->current->serial;
		next.previous[next.previous_count++] =
			(struct registry_previous){ e->current, now_ns };
		for (size_t i = 0; i < e->previous_count && i + 1 < REGISTRY_PREVIOUS_MAX; i++)
			next.previous[next.previous_count++] = e->previous[i];
	}
	if (state_dir != NULL) {
		/* Written as pruned: only what will be kept. */
		struct registry_entry pruned = next;
		size_t kept = 0;

		for (size_t i = 0; i < next.previous_count; i++) {
			const struct registry_previous *prev = &next.previous[i];

			if (add_saturated(prev->retired_ns, r->overlap_ns) > now_ns)
				pruned.previous[kept++] = *prev;
		}
		pruned.previous_count = kept;
		err = entry_save(&pruned, state_dir, why, why_size);
		if (err != 0)
			return err;
	}
	if (e == NULL) {
		e = &r->entries[r->count++];
	} else {
		/* What did not fit in NEXT is freed; the rest moves. */
		for (size_t i = next.previous_count - 1; i < e->previous_count; i++)
			passport_free(e->previous[i].passport);
	}
	*e = next;
	entry_prune(e, r->overlap_ns, now_ns);
	return 0;
}

int registry_add_previous(struct registry *r, struct passport *p, int64_t retired_ns, char *why,
			  size_t why_size)
{
	struct registry_entry *e = entry_find(r, p->authority_id);
	size_t at;

	if (e == NULL || e->current->serial <= p->serial) {
		WHY("no newer passport of authority %s than serial %" PRId64, p->authority_id,
		    p->serial);
		return -ENOENT;
	}
	if (e->previous_count == REGISTRY_PREVIOUS_MAX) {
		WHY("more than %d superseded passports of authority %s", REGISTRY_PREVIOUS_MAX,
		    p->authority_id);
		return -ENOSPC;
	}
	for (at = 0; at < e->previous_count && e->previous[at].retired_ns >= retired_ns; at++)
		;
	memmove(&e->previous[at + 1], &e->previous[at],
		(e->previous_count - at) * sizeof(e->previous[0]));
	e->previous[at] = (struct registry_previous){ p, retired_ns };
	e->previous_count++;
	return 0;
}

/* ------------------------------- persistence ------------------------------- */

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json names of DIR (not starting with '.'), sorted. -ENOENT when DIR is missing. */
static int list_json(const char *dir, char ***names, size_t *count, char *why, size_t why_size)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char **list = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		int err = -errno;

		if (err != -ENOENT)
			WHY("cannot read the folder %s: %s", dir, strerror(-err));
		return err;
	}
	while ((ent = readdir(d)) != NULL) {
		if (ent->d_name[0] == '.' || !has_suffix(ent->d_name, ".json"))
			continue;
		if (n == cap) {
			char **grown =
				realloc(list, (cap = cap ? 2 * cap : 16) * sizeof(*list));

			if (grown == NULL)
				goto out_nomem;
			list = grown;
		}
		list[n] = strdup(ent->d_name);
		if (list[n] == NULL)
			goto out_nomem;
		n++;
		if (n > 4 * REGISTRY_AUTHORITIES_MAX) {
			WHY("more than %d *.json files in %s", 4 * REGISTRY_AUTHORITIES_MAX,
			    dir);
			closedir(d);
			while (n > 0)
				free(list[--n]);
			free(list);
			return -E2BIG;
		}
	}
	closedir(d);
	if (n > 0)
		qsort(list, n, sizeof(*list), compare_names);
	*names = list;
	*count = n;
	return 0;
out_nomem:
	closedir(d);
	while (n > 0)
		free(list[--n]);
	free(list);
	WHY("out of memory reading %s", dir);
	return -ENOMEM;
}

static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

/* Reads, parses and verifies the passport file PATH. */
static int read_passport(const char *path, EVP_PKEY *root, const char *root_key_id,
			 struct passport **out, char *why, size_t why_size)
{
	char detail[512];
	uint8_t *data;
	size_t len;
	int err = statefile_read(path, PASSPORT_DOCUMENT_MAX, &data, &len, detail,
				 sizeof(detail));

	if (err != 0) {
		WHY("%s", detail);
		return err;
	}
	err = passport_parse(data, len, out, detail, sizeof(detail));
	free(data);
	if (err == 0) {
		err = passport_verify(*out, root, root_key_id, detail, sizeof(detail));
		if (err != 0) {
			passport_free(*out);
			*out = NULL;
		}
	}
	if (err != 0)
		WHY("%s: %s", path, detail);
	return err;
}

int registry_load_folder(struct registry *r, const char *dir, EVP_PKEY *root,
			 const char *root_key_id, int from_state, size_t *loaded,
			 size_t *ignored, char *why, size_t why_size)
{
	char **names = NULL, path[4096], detail[512];
	size_t count = 0, held = 0, skipped = 0;
	int err = list_json(dir, &names, &count, why, why_size);

	if (err == -ENOENT)
		err = 0;
	for (size_t i = 0; err == 0 && i < count; i++) {
		const struct passport *before;
		struct passport *p;

		err = statefile_join(path, sizeof(path), dir, names[i]);
		if (err != 0) {
			WHY("%s/%s: name too long", dir, names[i]);
			break;
		}
		err = read_passport(path, root, root_key_id, &p, why, why_size);
		if (err != 0)
			break;
		before = registry_get(r, p->authority_id);
		if (from_state &&
		    (strlen(names[i]) != strlen(p->authority_id) + 5 ||
		     strncmp(names[i], p->authority_id, strlen(p->authority_id)) != 0)) {
			WHY("%s: the passport of authority %s, in a file not named %s.json",
			    path, p->authority_id, p->authority_id);
			err = -EINVAL;
		} else if (!from_state && before != NULL) {
			WHY("%s: a second passport of authority %s in %s", path,
			    p->authority_id, dir);
			err = -EEXIST;
		} else if (from_state && before != NULL && before->serial >= p->serial) {
			skipped++; /* the configured folder has a newer one */
			passport_free(p);
			continue;
		}
		if (err == 0) {
			err = registry_set(r, p, detail, sizeof(detail));
			if (err != 0)
				WHY("%s: %s", path, detail);
		}
		if (err != 0) {
			passport_free(p);
			break;
		}
		held++;
	}
	free_names(names, count);
	if (loaded != NULL)
		*loaded = held;
	if (ignored != NULL)
		*ignored = skipped;
	return err;
}

/* One STATE_DIR/retired/NAME file. */
static int load_retired_file(struct registry *r, const char *path, EVP_PKEY *root,
			     const char *root_key_id, int64_t now_ns, size_t *restored,
			     char *why, size_t why_size)
{
	char detail[512];
	uint8_t *data;
	size_t len, i;
	json_error_t error;
	json_t *doc, *list, *item;
	const char *format = NULL, *authority = NULL;
	int err = statefile_read(path, REGISTRY_FILE_MAX, &data, &len, detail, sizeof(detail));

	if (err != 0) {
		WHY("%s", detail);
		return err;
	}
	doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &error);
	free(data);
	if (doc == NULL ||
	    json_unpack(doc, "{s:s, s:s, s:o !}", "format", &format, "authority_id", &authority,
			"retired", &list) != 0 ||
	    strcmp(format, REGISTRY_RETIRED_FORMAT) != 0 || !json_is_array(list)) {
		WHY("%s: not a %s file", path, REGISTRY_RETIRED_FORMAT);
		json_decref(doc);
		return -EINVAL;
	}
	json_array_foreach(list, i, item)
	{
		json_int_t retired_ns;
		json_t *passport_doc;
		struct passport *p = NULL;
		char *text;

		if (json_unpack(item, "{s:I, s:o !}", "retired_ns", &retired_ns, "passport",
				&passport_doc) != 0 ||
		    retired_ns < 0) {
			WHY("%s: retired[%zu] is not {retired_ns, passport}", path, i);
			err = -EINVAL;
			break;
		}
		/* Retired "in the future": the system clock went back since. Keeping it would
		 * stretch the overlap by as much; the old keys are dropped instead. */
		if (retired_ns > now_ns)
			continue;
		text = json_dumps(passport_doc, JSON_COMPACT);
		err = text != NULL
			      ? passport_parse(text, strlen(text), &p, detail, sizeof(detail))
			      : -ENOMEM;
		free(text);
		if (err == 0)
			err = passport_verify(p, root, root_key_id, detail, sizeof(detail));
		if (err == 0 && strcmp(p->authority_id, authority) != 0) {
			snprintf(detail, sizeof(detail), "a passport of authority %s",
				 p->authority_id);
			err = -EINVAL;
		}
		if (err != 0) {
			WHY("%s: retired[%zu]: %s", path, i, detail);
			passport_free(p);
			break;
		}
		/* Past its overlap, or not older than what is current now: nothing to keep. */
		if (add_saturated(retired_ns, r->overlap_ns) <= now_ns ||
		    registry_add_previous(r, p, retired_ns, detail, sizeof(detail)) != 0) {
			passport_free(p);
			continue;
		}
		(*restored)++;
	}
	json_decref(doc);
	return err;
}

int registry_load_retired(struct registry *r, const char *state_dir, EVP_PKEY *root,
			  const char *root_key_id, int64_t now_ns, size_t *restored, char *why,
			  size_t why_size)
{
	char **names = NULL, dir[4096], path[4096];
	size_t count = 0, n = 0;
	int err;

	if (statefile_join(dir, sizeof(dir), state_dir, REGISTRY_RETIRED_DIR) != 0) {
		WHY("%s: name too long", state_dir);
		return -ENAMETOOLONG;
	}
	err = list_json(dir, &names, &count, why, why_size);
	if (err == -ENOENT)
		err = 0;
	for (size_t i = 0; err == 0 && i < count; i++) {
		err = statefile_join(path, sizeof(path), dir, names[i]);
		if (err != 0)
			WHY("%s/%s: name too long", dir, names[i]);
		else
			err = load_retired_file(r, path, root, root_key_id, now_ns, &n, why,
						why_size);
	}
	for (size_t i = 0; err == 0 && i < r->count; i++)
		entry_prune(&r->entries[i], r->overlap_ns, now_ns);
	free_names(names, count);
	if (restored != NULL)
		*restored = n;
	return err;
}

static int entry_save(const struct registry_entry *e, const char *state_dir, char *why,
		      size_t why_size)
{
	const char *authority = e->current->authority_id;
	char dir[4096], name[PASSPORT_AUTHORITY_MAX + 8];
	json_t *doc = NULL, *list = json_array();
	char *text = NULL;
	int err = -ENOMEM;

	snprintf(name, sizeof(name), "%s.json", authority);
	if (list == NULL)
		goto out_nomem;
	for (size_t i = 0; i < e->previous_count; i++) {
		const struct passport *prev = e->previous[i].passport;
		json_t *pdoc = json_loadb((const char *)prev->raw, prev->raw_len, 0, NULL);

		if (pdoc == NULL ||
		    json_array_append_new(list, json_pack("{s:I, s:o}", "retired_ns",
							  (json_int_t)e->previous[i].retired_ns,
							  "passport", pdoc)) != 0)
			goto out_nomem;
	}
	doc = json_pack("{s:s, s:s, s:O}", "format", REGISTRY_RETIRED_FORMAT, "authority_id",
			authority, "retired", list);
	text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (text == NULL)
		goto out_nomem;
	/* Superseded passports first: were the current one written and this not, a restart
	 * would lose the overlap; the other way round it only keeps a passport the current
	 * one still contains. */
	err = statefile_join(dir, sizeof(dir), state_dir, REGISTRY_RETIRED_DIR);
	if (err == 0)
		err = statefile_write_atomic(dir, name, text, strlen(text), why, why_size);
	if (err == 0)
		err = statefile_join(dir, sizeof(dir), state_dir, REGISTRY_PASSPORTS_DIR);
	if (err == 0)
		err = statefile_write_atomic(dir, name, e->current->raw, e->current->raw_len,
					     why, why_size);
	if (err == -ENAMETOOLONG)
		WHY("%s: name too long", state_dir);
	goto out_free;
out_nomem:
	WHY("out of memory writing the state of authority %s", authority);
out_free:
	free(text);
	json_decref(doc);
	json_decref(list);
	return err;
}

int registry_save(const struct registry *r, const char *state_dir, const char *authority_id,
		  char *why, size_t why_size)
{
	const struct registry_entry *e = entry_find(r, authority_id);

	if (e == NULL) {
		WHY("no passport of authority %s", authority_id);
		return -ENOENT;
	}
	return entry_save(e, state_dir, why, why_size);
}
