/*
 * log_json.h - the access log as JSON lines (access_log_format = json):
 * one object per request, strings escaped so that any byte a client
 * sends (control bytes, quotes, invalid UTF-8) still makes valid JSON.
 */
#ifndef PROXYD_LOG_JSON_H
#define PROXYD_LOG_JSON_H

#include <stddef.h>

struct access_entry;

/* A line is at most this long; longer strings are cut (see below). */
#define LOG_JSON_LINE_MAX	32768

/*
 * Append s as a JSON string literal (quotes included) to buf, which
 * holds *len bytes of cap, taking at most max bytes of escaped output
 * (a longer string is cut at a character boundary and ends in "...").
 * Control bytes, '"' and '\\' are escaped; bytes that are not valid
 * UTF-8 become U+FFFD.  Returns 0, or -1 if the quotes do not fit.
 */
int	json_append_string(char *buf, size_t *len, size_t cap,
	    const char *s, size_t max);

/*
 * The access-log line for e as one JSON object and a newline, in buf
 * (LOG_JSON_LINE_MAX bytes or more), with when (RFC 3339) as "time".
 * Returns its length.
 */
size_t	log_json_line(char *buf, size_t cap, const struct access_entry *e,
	    const char *when);

#endif /* PROXYD_LOG_JSON_H */
