/* sharedstate.c -- a leader's shared state at the control stage: the signed text decoded
 * strictly back into its fields, the leader's signature checked by the host against the
 * configured authorities, then the seed's checks (version, leader time, drift, warp); what
 * passes is recorded per leader in a state file (written before the answer) and audited.
 * The reference applied a leader's state to the clock; here one leader never moves a BFT
 * node's clock (docs/design-departures.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sharedstate.h"
#include "statefile.h"

/* ---- the canonical text ---- */

/* An unsigned decimal of N bytes at P: digits only, no leading zero, at most 2^63 - 1. */
static int parse_unsigned(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 19 || (n > 1 && p[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(p[i] - '0'); /* 19 digits fit in 64 bits */
	}
	if (v > QUORUM_SHARED_STATE_UNSIGNED_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A signed decimal: an optional '-', then as parse_unsigned (with -2^63 allowed), "-0" not. */
static int parse_signed(const char *p, size_t n, int64_t *out)
{
	uint64_t magnitude = 0;
	int negative = n > 0 && p[0] == '-';

	if (negative) {
		p++;
		n--;
	}
	if (n == 0 || n > 19 || (n > 1 && p[0] == '0') || (negative && n == 1 && p[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		magnitude = magnitude * 10 + (uint64_t)(p[i] - '0');
	}
	if (negative && magnitude == (uint64_t)INT64_MAX + 1) {
		*out = INT64_MIN;
		return 0;
	}
	if (magnitude > (uint64_t)INT64_MAX)
		return -EINVAL;
	*out = negative ? -(int64_t)magnitude : (int64_t)magnitude;
	return 0;
}

/* A finite double written by "%.17g" (its exact spelling is checked by the caller). */
static int parse_double(const char *p, size_t n, double *out)
{
	char buf[40], *end;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (end != buf + n || !isfinite(*out))
		return -EINVAL;
	return 0;
}

static int copy_id(const char *p, size_t n, size_t max, char *out)
{
	if (n == 0 || n > max)
		return -EINVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	return quorum_shared_state_id_valid(out, max) ? 0 : -EINVAL;
}

/* Splits TEXT (LEN bytes) at SEP into exactly COUNT fields. 0 or -EINVAL. */
static int split(const char *text, size_t len, char sep, size_t count, const char **field,
		 size_t *field_len)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != sep)
			continue;
		if (k == count)
			return -EINVAL;
		field[k] = text + start;
		field_len[k] = i - start;
		k++;
		start = i + 1;
	}
	return k == count ? 0 : -EINVAL;
}

int sharedstate_decode(const void *text, size_t len, struct quorum_shared_state_fields *out)
{
	const char *t = text, *field[8];
	size_t n[8];
	char again[QUORUM_SHARED_STATE_TEXT_MAX];
	int written;

	if (text == NULL || len == 0 || len >= QUORUM_SHARED_STATE_TEXT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (t[i] < 0x21 || t[i] > 0x7e)
			return -EINVAL; /* printable ASCII only: no space, no NUL, no newline */
	}
	memset(out, 0, sizeof(*out));
	if (split(t, len, '|', 8, field, n) != 0 ||
	    n[0] != sizeof(QUORUM_SHARED_STATE_DOMAIN) - 1 ||
	    memcmp(field[0], QUORUM_SHARED_STATE_DOMAIN, n[0]) != 0 ||
	    copy_id(field[1], n[1], QUORUM_NODE_ID_MAX, out->leader_id) != 0 ||
	    copy_id(field[2], n[2], QUORUM_KEY_ID_MAX, out->key_id) != 0 ||
	    parse_unsigned(field[3], n[3], &out->shared_agreed_time) != 0 ||
	    parse_signed(field[4], n[4], &out->shared_applied_drift) != 0 ||
	    parse_unsigned(field[5], n[5], &out->leader_system_time_at_sync) != 0 ||
	    parse_unsigned(field[6], n[6], &out->monotonic_version) != 0 ||
	    parse_double(field[7], n[7], &out->warp_score) != 0)
		return -EINVAL;
	/* One spelling per state: "0.5" and "5e-1" would otherwise both pass. */
	written = quorum_shared_state_format(out, again, sizeof(again));
	if (written < 0 || (size_t)written != len || memcmp(again, t, len) != 0)
		return -EINVAL;
	return 0;
}

/* ---- the checks after the signature ---- */

const struct sharedstate_entry *sharedstate_find(const struct sharedstate *s,
						 const char *leader_id)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->entries[i].leader_id, leader_id) == 0)
			return &s->entries[i];
	return NULL;
}

const char *sharedstate_judge(const struct sharedstate *s,
			      const struct quorum_shared_state_fields *f, int synchronised,
			      int64_t latest_ns, int64_t max_drift_ns)
{
	const struct sharedstate_entry *last = sharedstate_find(s, f->leader_id);
	uint64_t drift = f->shared_applied_drift < 0
				 ? (uint64_t)(-(f->shared_applied_drift + 1)) + 1
				 : (uint64_t)f->shared_applied_drift;

	if (last != NULL && f->monotonic_version <= last->applied.version)
		return "stale_version";
	/* The leader's time is judged against the bound this node serves; without one it
	 * cannot be judged at all. */
	if (!synchronised)
		return "clock_unsynchronised";
	if ((int64_t)f->leader_system_time_at_sync > latest_ns)
		return "leader_time_in_future";
	if (max_drift_ns > 0 && drift > (uint64_t)max_drift_ns)
		return "drift_ceiling_exceeded";
	if (!(f->warp_score >= 0.0 && f->warp_score <= 1.0))
		return "warp_out_of_range";
	return NULL;
}

/* ---- the state file: a header line, then one line per leader ---- */

/* LEADER KEY_ID VERSION AGREED DRIFT LEADER_TIME WARP APPLIED_AT, written one way only. */
static int entry_format(const struct sharedstate_entry *e, char *out, size_t cap)
{
	const struct quorum_shared_state_applied *a = &e->applied;
	int n = snprintf(
		out, cap,
		"%s %s %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %.17g %" PRId64 "\n",
		e->leader_id, a->key_id, a->version, a->agreed_time_ns, a->applied_drift_ns,
		a->leader_time_ns, a->warp_score, a->applied_at_ns);

	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* One line (without its newline) into E. 0 or -EINVAL. */
static int entry_parse(const char *line, size_t len, struct sharedstate_entry *e)
{
	const char *field[8];
	size_t n[8];
	uint64_t agreed, leader_time;
	char again[2 * QUORUM_SHARED_STATE_TEXT_MAX];
	int written;

	memset(e, 0, sizeof(*e));
	if (split(line, len, ' ', 8, field, n) != 0 ||
	    copy_id(field[0], n[0], QUORUM_NODE_ID_MAX, e->leader_id) != 0 ||
	    copy_id(field[1], n[1], QUORUM_KEY_ID_MAX, e->applied.key_id) != 0 ||
	    parse_unsigned(field[2], n[2], &e->applied.version) != 0 ||
	    parse_unsigned(field[3], n[3], &agreed) != 0 ||
	    parse_signed(field[4], n[4], &e->applied.applied_drift_ns) != 0 ||
	    parse_unsigned(field[5], n[5], &leader_time) != 0 ||
	    parse_double(field[6], n[6], &e->applied.warp_score) != 0 ||
	    parse_signed(field[7], n[7], &e->applied.applied_at_ns) != 0)
		return -EINVAL;
	e->applied.agreed_time_ns = (int64_t)agreed;
	e->applied.leader_time_ns = (int64_t)leader_time;
	written = entry_format(e, again, sizeof(again));
	if (written < 1 || (size_t)written != len + 1 || memcmp(again, line, len) != 0)
		return -EINVAL;
	return 0;
}

static int state_parse(struct sharedstate *s, const char *text, size_t len, char *why,
		       size_t why_size)
{
	size_t header = sizeof(SHAREDSTATE_FILE_HEADER) - 1, line = 1;
	const char *p = text + header + 1, *end = text + len;

	if (len < header + 1 || memcmp(text, SHAREDSTATE_FILE_HEADER, header) != 0 ||
	    text[header] != '\n') {
		snprintf(why, why_size, "its first line is not %s", SHAREDSTATE_FILE_HEADER);
		return -EINVAL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct sharedstate_entry e;

		line++;
		if (nl == NULL || entry_parse(p, (size_t)(nl - p), &e) != 0 ||
		    sharedstate_find(s, e.leader_id) != NULL ||
		    s->count >= SHAREDSTATE_LEADERS_MAX) {
			snprintf(why, why_size,
				 "line %zu is not a leader's state (or repeats one)", line);
			return -EINVAL;
		}
		s->entries[s->count++] = e;
		p = nl + 1;
	}
	return 0;
}

/* PATH's folder into DIR (SIZE bytes; "." when PATH names none) and its file name into
 * *NAME (borrowed from PATH). 0 or -ENAMETOOLONG. */
static int split_path(const char *path, char *dir, size_t size, const char **name)
{
	const char *slash = strrchr(path, '/');

	*name = slash != NULL ? slash + 1 : path;
	if (slash == NULL)
		return snprintf(dir, size, ".") >= (int)size ? -ENAMETOOLONG : 0;
	if (slash == path)
		return snprintf(dir, size, "/") >= (int)size ? -ENAMETOOLONG : 0;
	if ((size_t)(slash - path) >= size)
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return 0;
}

int sharedstate_open(struct sharedstate *s, const char *path, char *why, size_t why_size)
{
	char dir[PATH_MAX];
	const char *name;
	struct stat st;
	char *text = NULL;
	ssize_t got;
	int fd, err;

	memset(s, 0, sizeof(*s));
	s->last_reason = "";
	s->entries = calloc(SHAREDSTATE_LEADERS_MAX, sizeof(*s->entries));
	if (s->entries == NULL)
		return -ENOMEM;
	if (path == NULL)
		return 0;
	s->path = strdup(path);
	if (s->path == NULL) {
		err = -ENOMEM;
		goto out_fail;
	}
	err = split_path(path, dir, sizeof(dir), &name);
	if (err == 0)
		err = statefile_mkdir(dir, why, why_size); /* one level, mode 0700 */
	if (err != 0)
		goto out_fail;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* a fresh start */
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot open %s: %s", path, strerror(errno));
		goto out_fail;
	}
	err = -EINVAL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_size, "%s is not a regular file", path);
	} else if ((st.st_mode & 022) != 0) {
		err = -EPERM;
		snprintf(why, why_size, "%s is writable by group or others", path);
	} else if ((size_t)st.st_size > SHAREDSTATE_FILE_MAX) {
		err = -EFBIG;
		snprintf(why, why_size, "%s is over %u bytes", path, SHAREDSTATE_FILE_MAX);
	} else if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		err = -ENOMEM;
	} else if ((got = read(fd, text, (size_t)st.st_size)) != (ssize_t)st.st_size) {
		err = got < 0 ? -errno : -EIO;
		snprintf(why, why_size, "cannot read %s", path);
	} else {
		char detail[128];

		err = state_parse(s, text, (size_t)got, detail, sizeof(detail));
		if (err != 0)
			snprintf(why, why_size,
				 "%s is invalid (%s); remove it to start afresh (a replayed "
				 "shared state would then be accepted once)",
				 path, detail);
	}
	close(fd);
	free(text);
	if (err == 0)
		return 0;
out_fail:
	sharedstate_release(s);
	return err;
}

/* Writes the entries to the state file, atomically (statefile_write_atomic). 0 or -errno
 * with WHY. */
static int state_save(const struct sharedstate *s, char *why, size_t why_size)
{
	size_t cap = sizeof(SHAREDSTATE_FILE_HEADER) + 1 +
		     s->count * (2 * QUORUM_SHARED_STATE_TEXT_MAX),
	       len;
	char *text = malloc(cap), dir[PATH_MAX];
	const char *name;
	int err;

	if (text == NULL)
		return -ENOMEM;
	len = (size_t)snprintf(text, cap, "%s\n", SHAREDSTATE_FILE_HEADER);
	for (size_t i = 0; i < s->count; i++) {
		int n = entry_format(&s->entries[i], text + len, cap - len);

		if (n < 0) {
			free(text);
			return n;
		}
		len += (size_t)n;
	}
	err = split_path(s->path, dir, sizeof(dir), &name);
	if (err == 0)
		err = statefile_write_atomic(dir, name, text, len, why, why_size);
	free(text);
	return err;
}

int sharedstate_record(struct sharedstate *s, const struct quorum_shared_state_fields *f,
		       int64_t applied_at_ns, char *why, size_t why_size)
{
	struct sharedstate_entry *e =
		(struct sharedstate_entry *)sharedstate_find(s, f->leader_id);
	struct sharedstate_entry before;
	int added = e == NULL, err;

	if (s->path == NULL) {
		snprintf(why, why_size, "no shared_state_file configured");
		return -EINVAL;
	}
	if (added) {
		if (s->count >= SHAREDSTATE_LEADERS_MAX) {
			snprintf(why, why_size, "%d leaders recorded already",
				 SHAREDSTATE_LEADERS_MAX);
			return -ENOSPC;
		}
		e = &s->entries[s->count++];
		memset(e, 0, sizeof(*e));
		snprintf(e->leader_id, sizeof(e->leader_id), "%s", f->leader_id);
	}
	before = *e;
	snprintf(e->applied.key_id, sizeof(e->applied.key_id), "%s", f->key_id);
	e->applied.version = f->monotonic_version;
	e->applied.agreed_time_ns = (int64_t)f->shared_agreed_time;
	e->applied.applied_drift_ns = f->shared_applied_drift;
	e->applied.leader_time_ns = (int64_t)f->leader_system_time_at_sync;
	e->applied.warp_score = f->warp_score;
	e->applied.applied_at_ns = applied_at_ns;
	err = state_save(s, why, why_size);
	if (err != 0) { /* what the file does not hold was never applied */
		if (added)
			s->count--;
		else
			*e = before;
	}
	return err;
}

void sharedstate_release(struct sharedstate *s)
{
	free(s->path);
	free(s->entries);
	memset(s, 0, sizeof(*s));
	s->last_reason = "";
}

/* ---- the stage's decision ---- */

/* Refuses the event in flight: audited with the specific WHY, REASON the pipeline's. */
static int refuse(struct sharedstate *s, struct quorum_host *host, const struct quorum_api *api,
		  const struct quorum_event *event, const struct quorum_shared_state_fields *f,
		  const char *why, const char *pipeline_reason, const char **reason)
{
	s->refused++;
	s->last_reason = why;
	if (f != NULL)
		api->audit(host, "bft.shared_state.reject",
			   "reason=%s leader=%s key_id=%s version=%" PRIu64 " peer=\"%s\"", why,
			   f->leader_id, f->key_id, f->monotonic_version, event->peer);
	else
		api->audit(host, "bft.shared_state.reject",
			   "reason=%s payload_len=%zu peer=\"%s\"", why,
			   event->state->payload.len, event->peer);
	*reason = pipeline_reason;
	return QUORUM_REJECT;
}

int sharedstate_process(struct sharedstate *s, struct quorum_host *host,
			const struct quorum_api *api, const struct quorum_event *event,
			int64_t max_drift_ns, const char **reason)
{
	const struct quorum_signed_state *st = event->state;
	const char *rejected = "shared_state_apply_rejected", *why;
	struct quorum_shared_state_fields f;
	struct quorum_clock_reading now;
	char detail[256];
	int err;

	s->decisions++;
	if (sharedstate_decode(st->payload.data, st->payload.len, &f) != 0)
		return refuse(s, host, api, event, NULL, "payload_decode_failed",
			      "shared_state_payload_decode_failed", reason);
	/* The envelope names the key the text names: one key id per event. */
	if (strcmp(st->key_id, f.key_id) != 0)
		return refuse(s, host, api, event, &f, "key_id_mismatch", rejected, reason);
	if (!QUORUM_API_HAS(api, authority_verify))
		return refuse(s, host, api, event, &f, "unknown_leader", rejected, reason);
	err = api->authority_verify(host, f.leader_id, f.key_id, st->payload.data,
				    st->payload.len, st->signature.data, st->signature.len);
	if (err != 0)
		return refuse(s, host, api, event, &f,
			      err == -ENOENT	? "unknown_leader"
			      : err == -EBADMSG ? "bad_signature"
						: "signature_unverified",
			      rejected, reason);
	/* Without the file a replay could not be refused after a restart: refuse now. */
	if (s->path == NULL)
		return refuse(s, host, api, event, &f, "no_state_file", rejected, reason);
	api->clock_read(host, &now);
	why = sharedstate_judge(s, &f, now.status == QUORUM_CLOCK_SYNCHRONISED, now.latest_ns,
				max_drift_ns);
	if (why != NULL)
		return refuse(s, host, api, event, &f, why, rejected, reason);
	err = sharedstate_record(s, &f, now.estimate_ns, detail, sizeof(detail));
	if (err != 0) {
		api->log(host, QUORUM_LOG_ERROR, "control.shared_state.not_saved error=\"%s\"",
			 detail);
		return refuse(s, host, api, event, &f,
			      err == -ENOSPC ? "too_many_leaders" : "state_not_saved", rejected,
			      reason);
	}
	s->applied++;
	s->last_reason = "";
	api->audit(host, "bft.shared_state.apply",
		   "leader=%s version=%" PRIu64 " agreed_ns=%" PRIu64 " drift_ns=%" PRId64
		   " warp=%.17g key_id=%s leader_time_ns=%" PRIu64 " applied_at_ns=%" PRId64
		   " peer=\"%s\"",
		   f.leader_id, f.monotonic_version, f.shared_agreed_time,
		   f.shared_applied_drift, f.warp_score, f.key_id, f.leader_system_time_at_sync,
		   now.estimate_ns, event->peer);
	return QUORUM_CONTINUE;
}
