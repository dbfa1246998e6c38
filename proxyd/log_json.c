/*
 * log_json.c - the access-log line as a JSON object: field names, types
 * (status, bytes and durations as numbers; absent values as null) and
 * string escaping.  Pure, so the unit tests feed it hostile targets.
 *
 * Every string has an output budget, and the budgets of all fields of a
 * line fit LOG_JSON_LINE_MAX together, so a line is always a whole
 * object: a field is cut, never the line.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "log_json.h"

#define TARGET_MAX	8192	/* escaped target, bytes */
#define FIELD_MAX	2048	/* any other escaped string */

/*
 * The length of the UTF-8 sequence at s[0..n) if it is valid (shortest
 * form, no surrogates, at most U+10FFFF), else 0.
 */
static size_t
utf8_valid(const unsigned char *s, size_t n)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

/* The escaped form of the character at s[0..n) in out; its input length. */
static size_t
json_escape_one(const unsigned char *s, size_t n, char out[8], size_t *outlen)
{
	size_t k;

	switch (s[0]) {
	case '"':  memcpy(out, "\\\"", 2); *outlen = 2; return 1;
	case '\\': memcpy(out, "\\\\", 2); *outlen = 2; return 1;
	case '\n': memcpy(out, "\\n", 2); *outlen = 2; return 1;
	case '\r': memcpy(out, "\\r", 2); *outlen = 2; return 1;
	case '\t': memcpy(out, "\\t", 2); *outlen = 2; return 1;
	}
	if (s[0] < 0x20 || s[0] == 0x7f) {
		*outlen = (size_t)snprintf(out, 8, "\\u%04x", s[0]);
		return 1;
	}
	if ((k = utf8_valid(s, n)) == 0) {
		memcpy(out, "\\ufffd", 6);
		*outlen = 6;
		return 1;
	}
	memcpy(out, s, k);
	*outlen = k;
	return k;
}

int
json_append_string(char *buf, size_t *len, size_t cap, const char *s,
    size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used = 0, in, outlen;
	char out[8];

	if (*len + 2 > cap)
		return -1;
	if (max > cap - *len - 2)
		max = cap - *len - 2;
	buf[(*len)++] = '"';
	while (n > 0) {
		in = json_escape_one(p, n, out, &outlen);
		/* Room for this character and, if more follow, "...". */
		if (used + outlen + (n > in ? 3 : 0) > max) {
			if (used + 3 <= max) {
				memcpy(buf + *len, "...", 3);
				*len += 3;
			}
			break;
		}
		memcpy(buf + *len, out, outlen);
		*len += outlen;
		used += outlen;
		p += in;
		n -= in;
	}
	buf[(*len)++] = '"';
	return 0;
}

/* Append printf text; bounded by cap. */
static void
json_printf(char *buf, size_t *len, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
json_printf(char *buf, size_t *len, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* ,"key":"value" or ,"key":null when value is absent or "-". */
static void
json_field(char *buf, size_t *len, size_t cap, const char *key,
    const char *value, size_t max)
{
	json_printf(buf, len, cap, ",\"%s\":", key);
	if (value == NULL || value[0] == '\0' || strcmp(value, "-") == 0)
		json_printf(buf, len, cap, "null");
	else
		json_append_string(buf, len, cap, value, max);
}

/*
 * The module description "module=M version=V kind=K" (or "sumdb=N
 * kind=K", and whatever words modproxy.c adds, such as cache=) as one
 * field per word.  Keys are proxyd's own, [a-z_]; a word without one
 * is skipped.
 */
static void
json_module_fields(char *buf, size_t *len, size_t cap, const char *desc)
{
	char key[32], value[FIELD_MAX];
	const char *w, *eq, *end;
	size_t klen, vlen;

	for (w = desc; *w != '\0'; w = *end ? end + 1 : end) {
		end = w + strcspn(w, " ");
		eq = memchr(w, '=', (size_t)(end - w));
		if (eq == NULL || (klen = (size_t)(eq - w)) == 0 ||
		    klen >= sizeof(key) || strspn(w, "abcdefghijklmnopqrstuvwxyz_")
		    < klen)
			continue;
		memcpy(key, w, klen);
		key[klen] = '\0';
		vlen = (size_t)(end - eq - 1);
		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, eq + 1, vlen);
		value[vlen] = '\0';
		json_field(buf, len, cap, key, value, FIELD_MAX);
	}
}

size_t
log_json_line(char *buf, size_t cap, const struct access_entry *e,
    const char *when)
{
	size_t len = 0;

	json_printf(buf, &len, cap, "{\"time\":\"%s\"", when);
	json_field(buf, &len, cap, "client", e->client, FIELD_MAX);
	json_field(buf, &len, cap, "method", e->method, FIELD_MAX);
	json_field(buf, &len, cap, "target", e->target, TARGET_MAX);
	json_printf(buf, &len, cap, ",\"status\":%d,\"bytes_in\":%" PRIu64
	    ",\"bytes_out\":%" PRIu64 ",\"duration_ms\":%" PRId64, e->status,
	    e->bytes_in, e->bytes_out, e->ms);
	json_field(buf, &len, cap, "upstream", e->upstream, FIELD_MAX);
	json_field(buf, &len, cap, "route", e->route, FIELD_MAX);
	json_field(buf, &len, cap, "via", e->via, FIELD_MAX);
	if (e->user)
		json_field(buf, &len, cap, "user", e->user, FIELD_MAX);
	if (e->wait_ms > 0)
		json_printf(buf, &len, cap, ",\"wait_ms\":%" PRId64, e->wait_ms);
	if (e->module)
		json_module_fields(buf, &len, cap, e->module);
	if (e->tried)
		json_field(buf, &len, cap, "mirrors", e->tried, FIELD_MAX);
	if (e->would_deny)
		json_field(buf, &len, cap, "would_deny", e->would_deny,
		    FIELD_MAX);
	if (e->note)
		json_field(buf, &len, cap, "note", e->note, FIELD_MAX);
	json_printf(buf, &len, cap, "}\n");
	return len;
}
