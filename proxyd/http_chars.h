/*
 * http_chars.h - the lexical helpers http_parse.c and http_body.c share:
 * ASCII character classes, hex digits, case-insensitive comparison,
 * splitting a comma-separated list, filling in an http_error.  Private
 * to those two files; http_parse.h is the interface for everyone else.
 *
 * All static inline: one copy of each in the source, no symbols in the
 * library, and the same code the compiler saw when they were static in
 * one file.  No allocation, no state.
 */
#ifndef PROXYD_HTTP_CHARS_H
#define PROXYD_HTTP_CHARS_H

#include <stddef.h>
#include <string.h>

#include "http_parse.h"

/*
 * Character classes.  ASCII only and locale-free on purpose: <ctype.h>
 * depends on the locale, and HTTP syntax does not.
 */
static inline int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * RFC 9110 5.6.2 tchar: ALPHA, DIGIT and "!#$%&'*+-.^_`|~".  A table,
 * since every byte of every header name goes through it: one bit per
 * byte value, bit (c & 7) of word (c >> 3).
 */
static const unsigned char http_tchar_bits[32] = {
	0x00, 0x00, 0x00, 0x00,		/* 0x00-0x1f: controls */
	0xfa, 0x6c, 0xff, 0x03,		/* !#$%&'*+-. 0-9 */
	0xfe, 0xff, 0xff, 0xc7,		/* A-Z ^ _ */
	0xff, 0xff, 0xff, 0x57,		/* ` a-z | ~ */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static inline int
is_tchar(unsigned char c)
{
	return (http_tchar_bits[c >> 3] >> (c & 7)) & 1;
}

/* Visible ASCII: what a request-target may be made of. */
static inline int
is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Control bytes a field value may not hold (HTAB is allowed). */
static inline int
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static inline int
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Value of a hex digit, or -1. */
static inline int
hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/*
 * Case-insensitive (ASCII) equality of a[0..alen) and b[0..blen).  It
 * runs on the names and tokens of every message, which mostly arrive in
 * the case they are asked for: so whole words that are equal byte for
 * byte go first (an 8-byte memcmp is one compare), and then two bytes
 * that differ are equal only as the two cases of one letter.
 */
static inline int
ci_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		i = 0;
	unsigned char	x, y;

	if (alen != blen)
		return 0;
	while (alen - i >= 8 && memcmp(a + i, b + i, 8) == 0)
		i += 8;
	for (; i < alen; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x == y)
			continue;
		x |= 0x20;
		if (x != (y | 0x20) || x < 'a' || x > 'z')
			return 0;
	}
	return 1;
}

/*
 * Take the next element of the comma-separated list in [*pp, end), OWS
 * trimmed, and advance *pp past it and its comma; *pp becomes NULL after
 * the last element.  Empty elements are returned as such (RFC 9110 5.6.1
 * says to ignore them; some callers would rather refuse them).  Returns
 * 0 once the list is exhausted.
 */
static inline int
list_next(const char **pp, const char *end, const char **elem, size_t *len)
{
	const char	*p = *pp, *s, *e;

	if (p == NULL)
		return 0;
	for (e = p; e < end && *e != ','; e++)
		continue;
	*pp = e < end ? e + 1 : NULL;
	s = p;
	while (s < e && is_ows(*s))
		s++;
	while (e > s && is_ows(e[-1]))
		e--;
	*elem = s;
	*len = (size_t)(e - s);
	return 1;
}

/* Say why a message was refused: status and a static reason. */
static inline void
set_error(struct http_error *err, int status, const char *reason)
{
	err->status = status;
	err->reason = reason;
}

#endif /* PROXYD_HTTP_CHARS_H */
