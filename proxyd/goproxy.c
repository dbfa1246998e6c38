/*
 * goproxy.c - GOPROXY request paths, ported from Go 1.19.  Sources,
 * under /usr/lib/go-1.19/src/cmd:
 *
 *	vendor/golang.org/x/mod/module/module.go	CheckPath, checkPath,
 *	    checkElem, SplitPathVersion, splitGopkgIn, EscapePath,
 *	    UnescapePath, EscapeVersion, UnescapeVersion
 *	vendor/golang.org/x/mod/semver/semver.go	parse, IsValid,
 *	    Canonical; module.CanonicalVersion
 *	vendor/golang.org/x/mod/sumdb/tlog/tile.go	ParseTilePath
 *	vendor/golang.org/x/mod/sumdb/server.go	the /lookup syntax,
 *	    the /latest endpoint
 *	go/internal/modfetch/proxy.go, sumdb.go	what the go command
 *	    asks a proxy for
 *
 * What the go command asks for (proxy.go), and so what is accepted:
 *
 *	@v/list, @latest	a module path UnescapePath accepts
 *	@v/<rev>.info		Stat(rev): any rev EscapeVersion accepts,
 *				a branch name or a commit hash as well
 *	@v/<v>.mod, .zip	GoMod, Zip: only v == CanonicalVersion(v)
 *
 * The path/major agreement of module.Check ("/v2" wants v2.x.y) is not
 * enforced: such a version does not exist, which the upstream answers
 * with 404, and the go command then tries the next proxy in GOPROXY; a
 * 400 from us would stop it instead (proxy.go, fallBackOnError).
 *
 * Paths are %-decoded before they are split, as Go's net/http does,
 * because the go command escapes "!" as "%21".  "%2F" is refused, so a
 * "/" in the decoded path is a "/" in the request and the checksum
 * database's path can be handed on as received.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "goproxy.h"

/* How much of an offending string a message quotes. */
#define QUOTE_MAX	128

/* Fields of a valid tile path: tile, H, L, 7 groups of N, W, and one. */
#define TILE_FIELDS_MAX	12

enum elem_kind {
	ELEM_MODULE,		/* module.modulePath */
	ELEM_FILE		/* module.filePath, used for versions */
};

/* Where goproxy_parse() reports a refusal. */
struct perr {
	int		 *status;
	const char	**reason;
	char		 *buf;
	size_t		  len;
};

struct span {
	const char	*p;
	size_t		 n;
};

static int	say(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	fail(struct perr *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* module.badWindowsNames */
static const char *const bad_windows_names[] = {
	"CON", "PRN", "AUX", "NUL",
	"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
	"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

/*
 * Write a message into why[0..whylen) when why is not NULL.  Returns -1,
 * so that a check can fail with "return say(...)".
 */
static int
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL || whylen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The reason for status when the caller gave no buffer for one. */
static const char *
status_text(int status)
{
	switch (status) {
	case 404:
		return "not found";
	case 414:
		return "request path too long";
	default:
		return "malformed GOPROXY request";
	}
}

/*
 * Refuse the request with status and a message, or a static text when
 * the caller gave no buffer.  Returns -1.
 */
static int
fail(struct perr *e, int status, const char *fmt, ...)
{
	va_list	ap;

	*e->status = status;
	if (e->buf == NULL || e->len == 0) {
		*e->reason = status_text(status);
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(e->buf, e->len, fmt, ap);
	va_end(ap);
	*e->reason = e->buf;
	return -1;
}

/* ASCII classes, whatever the locale: Go's are ASCII too. */
static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* 'a' to 'z'. */
static int
is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

/* 'A' to 'Z'. */
static int
is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

/* An ASCII letter or digit. */
static int
is_alnum(int c)
{
	return is_digit(c) || is_lower(c) || is_upper(c);
}

/* Does s[0..n) start with the NUL-terminated prefix? */
static int
has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t	plen = strlen(prefix);

	return n >= plen && memcmp(s, prefix, plen) == 0;
}

/* Does s[0..n) end with the NUL-terminated suffix? */
static int
has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t	slen = strlen(suffix);

	return n >= slen && memcmp(s + n - slen, suffix, slen) == 0;
}

/* Is s exactly the NUL-terminated word? */
static int
span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/*
 * Go's %q of s[0..n) into buf, kept ASCII (other bytes as \xNN) so that
 * a message is safe in a header or a log line; cut after QUOTE_MAX
 * bytes with "...".  Returns buf.
 */
static const char *
str_quote(char *buf, size_t size, const char *s, size_t n)
{
	size_t	i, o = 0;
	int	c;

	if (size < 3)
		return "\"\"";
	buf[o++] = '"';
	for (i = 0; i < n && i < QUOTE_MAX && o + 8 < size; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			o += snprintf(buf + o, size - o, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o++] = '"';
	buf[o] = '\0';
	if (i < n && o + 4 <= size)
		memcpy(buf + o, "...", 4);
	return buf;
}

/*
 * Decode the UTF-8 character at s[0..n) as Go's utf8.DecodeRune does
 * (no overlong forms, no surrogates, nothing above U+10FFFF).  Returns
 * its length with *r the code point, or 0 when it is invalid.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, long *r)
{
	size_t	len, i;
	long	c, min;

	if (s[0] < 0x80) {
		*r = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*r = c;
	return len;
}

/* utf8.ValidString of s[0..n). */
static int
utf8_valid(const char *s, size_t n)
{
	size_t	i, k;
	long	r;

	for (i = 0; i < n; i += k)
		if ((k = utf8_decode((const unsigned char *)s + i, n - i,
		    &r)) == 0)
			return 0;
	return 1;
}

/*
 * Go's %q of the character at s[0..n) into buf: 'c', '\x01', or
 * '\u00e9' where Go would print the letter itself, to stay ASCII.  An
 * invalid byte is U+FFFD, as in Go's range loop.
 */
static const char *
rune_quote(char *buf, size_t size, const char *s, size_t n)
{
	long	r;

	if (utf8_decode((const unsigned char *)s, n, &r) == 0)
		r = 0xfffd;
	if (r == '\'' || r == '\\')
		snprintf(buf, size, "'\\%c'", (int)r);
	else if (r >= 0x20 && r < 0x7f)
		snprintf(buf, size, "'%c'", (int)r);
	else if (r < 0x80)
		snprintf(buf, size, "'\\x%02lx'", r);
	else if (r <= 0xffff)
		snprintf(buf, size, "'\\u%04lx'", r);
	else
		snprintf(buf, size, "'\\U%08lx'", r);
	return buf;
}

/* module.modPathOK */
static int
mod_path_ok(int c)
{
	return c == '-' || c == '.' || c == '_' || c == '~' || is_alnum(c);
}

/*
 * module.fileNameOK, ASCII only: its non-ASCII letters can never reach a
 * version, which escaping and unescaping confine to ASCII.
 */
static int
file_name_ok(int c)
{
	return is_alnum(c) ||
	    (c != '\0' && strchr("!#$%&()+,-.=@[]^_{}~ ", c) != NULL);
}

/* module.firstPathOK */
static int
first_path_ok(int c)
{
	return c == '-' || c == '.' || is_digit(c) || is_lower(c);
}

/* strings.EqualFold for ASCII. */
static int
ascii_equal_fold(const char *a, size_t n, const char *b)
{
	size_t	i;
	int	ca, cb;

	if (strlen(b) != n)
		return 0;
	for (i = 0; i < n; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (is_upper(ca))
			ca += 'a' - 'A';
		if (is_upper(cb))
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
	}
	return 1;
}

/*
 * The element's characters, as checkElem: module elements also may not
 * start with a dot.  0, or -1 with why.
 */
static int
check_elem_chars(const char *e, size_t n, enum elem_kind kind, char *why,
    size_t whylen)
{
	char	q[QUOTE_MAX * 4 + 8];
	size_t	i;
	int	c, ok;

	for (i = 0; i < n && e[i] == '.'; i++)
		continue;
	if (i == n)
		return say(why, whylen, "invalid path element %s",
		    str_quote(q, sizeof(q), e, n));
	if (e[0] == '.' && kind == ELEM_MODULE)
		return say(why, whylen, "leading dot in path element");
	if (e[n - 1] == '.')
		return say(why, whylen, "trailing dot in path element");
	for (i = 0; i < n; i++) {
		c = (unsigned char)e[i];
		ok = c < 0x80 && (kind == ELEM_MODULE ? mod_path_ok(c) :
		    file_name_ok(c));
		if (!ok)
			return say(why, whylen, "invalid char %s",
			    rune_quote(q, sizeof(q), e + i, n - i));
	}
	return 0;
}

/*
 * The element's name before its first dot, as checkElem: no reserved
 * Windows name and, outside file names, no Windows short name ("~1").
 */
static int
check_elem_short(const char *e, size_t n, enum elem_kind kind, char *why,
    size_t whylen)
{
	char		 q[32];
	const char	*dot, *tilde;
	size_t		 i, slen;

	slen = (dot = memchr(e, '.', n)) != NULL ? (size_t)(dot - e) : n;
	for (i = 0; i < sizeof(bad_windows_names) /
	    sizeof(bad_windows_names[0]); i++)
		if (ascii_equal_fold(e, slen, bad_windows_names[i]))
			return say(why, whylen, "%s disallowed as path element "
			    "component on Windows", str_quote(q, sizeof(q), e,
			    slen));
	if (kind == ELEM_FILE)
		return 0;
	for (tilde = NULL, i = 0; i < slen; i++)
		if (e[i] == '~')
			tilde = e + i;
	if (tilde == NULL || tilde == e + slen - 1)
		return 0;
	for (i = (size_t)(tilde - e) + 1; i < slen; i++)
		if (!is_digit((unsigned char)e[i]))
			return 0;
	return say(why, whylen, "trailing tilde and digits in path element");
}

/* module.checkElem: is e[0..n) a valid path element of this kind? */
static int
check_elem(const char *e, size_t n, enum elem_kind kind, char *why,
    size_t whylen)
{
	if (n == 0)
		return say(why, whylen, "empty path element");
	if (check_elem_chars(e, n, kind, why, whylen) == -1)
		return -1;
	return check_elem_short(e, n, kind, why, whylen);
}

/* module.checkPath for modulePath: the shape, then each element. */
static int
check_path_elems(const char *p, size_t n, char *why, size_t whylen)
{
	size_t	i, start;

	if (!utf8_valid(p, n))
		return say(why, whylen, "invalid UTF-8");
	if (n == 0)
		return say(why, whylen, "empty string");
	if (p[0] == '-')
		return say(why, whylen, "leading dash");
	for (i = 0; i + 1 < n; i++)
		if (p[i] == '/' && p[i + 1] == '/')
			return say(why, whylen, "double slash");
	if (p[n - 1] == '/')
		return say(why, whylen, "trailing slash");
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (check_elem(p + start, i - start, ELEM_MODULE, why,
		    whylen) == -1)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* module.splitGopkgIn: does gopkg.in/NAME.vN[-unstable] hold together? */
static int
split_gopkg_in(const char *p, size_t n)
{
	size_t	i = n, mlen;

	if (has_suffix(p, n, "-unstable"))
		i -= strlen("-unstable");
	while (i > 0 && is_digit((unsigned char)p[i - 1]))
		i--;
	if (i <= 1 || p[i - 1] != 'v' || p[i - 2] != '.')
		return 0;	/* every gopkg.in path ends in .vN */
	mlen = n - (i - 2);
	if (mlen <= 2 || (p[i] == '0' && mlen != 3))
		return 0;	/* no ".v01", but ".v0" is fine */
	return 1;
}

/*
 * module.SplitPathVersion's ok: a final "/vN" must be N >= 2 without
 * leading zero or dots; gopkg.in paths follow splitGopkgIn instead.
 */
static int
split_path_version_ok(const char *p, size_t n)
{
	size_t	i = n, mlen;
	int	dot = 0;

	if (has_prefix(p, n, "gopkg.in/"))
		return split_gopkg_in(p, n);
	while (i > 0 && (is_digit((unsigned char)p[i - 1]) ||
	    p[i - 1] == '.')) {
		if (p[i - 1] == '.')
			dot = 1;
		i--;
	}
	if (i <= 1 || i == n || p[i - 1] != 'v' || p[i - 2] != '/')
		return 1;	/* no /vN suffix at all */
	mlen = n - (i - 2);
	if (dot || mlen <= 2 || p[i] == '0' || (mlen == 3 && p[i] == '1'))
		return 0;
	return 1;
}

/* module.CheckPath of p[0..n). 0, or -1 with why. */
static int
check_path(const char *p, size_t n, char *why, size_t whylen)
{
	char		 q[32];
	const char	*slash;
	size_t		 i, first;

	if (check_path_elems(p, n, why, whylen) == -1)
		return -1;
	first = (slash = memchr(p, '/', n)) != NULL ? (size_t)(slash - p) : n;
	if (first == 0)
		return say(why, whylen, "leading slash");
	if (memchr(p, '.', first) == NULL)
		return say(why, whylen, "missing dot in first path element");
	if (p[0] == '-')
		return say(why, whylen, "leading dash in first path element");
	for (i = 0; i < first; i++)
		if (!first_path_ok((unsigned char)p[i]))
			return say(why, whylen, "invalid char %s in first path "
			    "element", rune_quote(q, sizeof(q), p + i,
			    n - i));
	if (!split_path_version_ok(p, n))
		return say(why, whylen, "invalid version");
	return 0;
}

int
goproxy_check_path(const char *path, char *why, size_t whylen)
{
	return check_path(path, strlen(path), why, whylen);
}

/*
 * module.unescapeString of esc[0..n) into out, NUL-terminated, with
 * *outn its length.  0, or -1 with why.
 */
static int
unescape_string(const char *esc, size_t n, char *out, size_t outlen,
    size_t *outn, char *why, size_t whylen)
{
	size_t	i, o = 0;
	int	c, bang = 0;

	for (i = 0; i < n; i++) {
		c = (unsigned char)esc[i];
		if (c >= 0x80)
			return say(why, whylen, "non-ASCII character");
		if (bang) {
			bang = 0;
			if (!is_lower(c))
				goto badbang;
			c -= 'a' - 'A';
		} else if (c == '!') {
			bang = 1;
			continue;
		} else if (is_upper(c))
			return say(why, whylen, "uppercase \"%c\" must be "
			    "escaped as \"!%c\"", c, c + 'a' - 'A');
		if (o + 1 >= outlen)
			return say(why, whylen, "too long");
		out[o++] = (char)c;
	}
	if (bang)
		goto badbang;
	if (outlen == 0)
		return say(why, whylen, "too long");
	out[o] = '\0';
	*outn = o;
	return 0;
badbang:
	return say(why, whylen, "\"!\" must be followed by a lowercase letter");
}

/*
 * module.escapeString of the NUL-terminated s into out: "X" becomes
 * "!x".  0, or -1 when s holds "!" or non-ASCII or out is too small.
 */
static int
escape_string(const char *s, char *out, size_t outlen)
{
	size_t	o = 0;
	int	c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '!' || c >= 0x80)
			return -1;	/* the checks refused these already */
		if (o + 1 + (size_t)is_upper(c) + 1 > outlen)
			return -1;	/* no room for it and the NUL */
		if (is_upper(c)) {
			out[o++] = '!';
			c += 'a' - 'A';
		}
		out[o++] = (char)c;
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

int
goproxy_unescape_path(const char *esc, size_t len, char *out, size_t outlen)
{
	size_t	n;

	if (unescape_string(esc, len, out, outlen, &n, NULL, 0) == -1)
		return -1;
	return check_path(out, n, NULL, 0);
}

int
goproxy_escape_path(const char *path, char *out, size_t outlen)
{
	if (check_path(path, strlen(path), NULL, 0) == -1)
		return -1;
	return escape_string(path, out, outlen);
}

int
goproxy_unescape_version(const char *esc, size_t len, char *out,
    size_t outlen)
{
	size_t	n;

	if (unescape_string(esc, len, out, outlen, &n, NULL, 0) == -1)
		return -1;
	return check_elem(out, n, ELEM_FILE, NULL, 0);
}

int
goproxy_escape_version(const char *version, char *out, size_t outlen)
{
	if (check_elem(version, strlen(version), ELEM_FILE, NULL, 0) == -1 ||
	    strchr(version, '!') != NULL)
		return -1;
	return escape_string(version, out, outlen);
}

/*
 * The parts of a semantic version that Canonical needs: the length of
 * its +BUILD suffix and what a short form ("v1", "v1.2") lacks.
 */
struct semver {
	size_t		 build;
	const char	*fill;
};

/* semver.parseInt at v[*i..n): digits, no leading zero. */
static int
semver_int(const char *v, size_t n, size_t *i)
{
	size_t	start = *i;

	while (*i < n && is_digit((unsigned char)v[*i]))
		(*i)++;
	if (*i == start || (v[start] == '0' && *i - start > 1))
		return -1;
	return 0;
}

/* semver.isBadNum: a numeric identifier with a leading zero. */
static int
semver_bad_num(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n && is_digit((unsigned char)s[i]); i++)
		continue;
	return i == n && n > 1 && s[0] == '0';
}

/*
 * semver.parsePrerelease (numeric identifiers checked) and parseBuild
 * (not checked) at v[*i..n), which starts with '-' or '+': non-empty
 * dot-separated identifiers of [0-9A-Za-z-], up to '+' or the end.
 */
static int
semver_idents(const char *v, size_t n, size_t *i, int numeric)
{
	size_t	j, start;
	int	c;

	for (start = j = *i + 1; j <= n; j++) {
		c = j < n ? (unsigned char)v[j] : '\0';
		if (j < n && c != '.' && !(numeric && c == '+')) {
			if (!is_alnum(c) && c != '-')
				return -1;
			continue;
		}
		if (j == start || (numeric && semver_bad_num(v + start,
		    j - start)))
			return -1;
		if (c != '.')
			break;
		start = j + 1;
	}
	*i = j;
	return 0;
}

/* semver.parse of v[0..n). 0, or -1 when v is no semantic version. */
static int
semver_parse(const char *v, size_t n, struct semver *sv)
{
	size_t	i = 1, b;

	sv->build = 0;
	sv->fill = "";
	if (n == 0 || v[0] != 'v' || semver_int(v, n, &i) == -1)
		return -1;
	if (i == n) {
		sv->fill = ".0.0";
		return 0;
	}
	i++;
	if (v[i - 1] != '.' || semver_int(v, n, &i) == -1)
		return -1;
	if (i == n) {
		sv->fill = ".0";
		return 0;
	}
	i++;
	if (v[i - 1] != '.' || semver_int(v, n, &i) == -1)
		return -1;
	if (i < n && v[i] == '-' && semver_idents(v, n, &i, 1) == -1)
		return -1;
	if (i < n && v[i] == '+') {
		b = i;
		if (semver_idents(v, n, &i, 0) == -1)
			return -1;
		sv->build = n - b;
	}
	return i == n ? 0 : -1;
}

int
goproxy_semver_valid(const char *v, size_t len)
{
	struct semver	sv;

	return semver_parse(v, len, &sv) == 0;
}

int
goproxy_semver_canonical(const char *v, size_t len, char *out,
    size_t outlen)
{
	struct semver	sv;
	size_t		n;

	if (outlen > 0)
		out[0] = '\0';
	if (semver_parse(v, len, &sv) == -1)
		return -1;
	n = len - sv.build;
	if (n + strlen(sv.fill) >= outlen)
		return -1;
	memcpy(out, v, n);
	memcpy(out + n, sv.fill, strlen(sv.fill) + 1);
	return 0;
}

/*
 * Is v[0..n) what module.CanonicalVersion makes of it, the only form the
 * go command asks a proxy for .mod and .zip in?  That is a full semantic
 * version whose only build suffix may be "+incompatible".
 */
static int
version_is_canonical(const char *v, size_t n)
{
	struct semver	sv;

	if (semver_parse(v, n, &sv) == -1 || *sv.fill != '\0')
		return 0;
	return sv.build == 0 || (sv.build == strlen("+incompatible") &&
	    has_suffix(v, n, "+incompatible"));
}

/* The value of the hex digit c, or -1. */
static int
hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * %-decode s[0..n) into out[0..outlen), with *outn its length.  "%2F"
 * and control characters are refused: the first would let a "/" hide
 * from the split into elements, the second has no business in a path.
 */
static int
pct_decode(const char *s, size_t n, char *out, size_t outlen, size_t *outn,
    struct perr *e)
{
	char	q[QUOTE_MAX * 4 + 8];
	size_t	i, o = 0;
	int	c, hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				goto bad;
			if ((hi = hex_value((unsigned char)s[i + 1])) == -1 ||
			    (lo = hex_value((unsigned char)s[i + 2])) == -1)
				goto bad;
			c = hi << 4 | lo;
			i += 2;
			if (c == '/')
				return fail(e, 400, "encoded \"/\" in path %s",
				    str_quote(q, sizeof(q), s, n));
		}
		if (c < 0x20 || c == 0x7f)
			return fail(e, 400, "control character in path %s",
			    str_quote(q, sizeof(q), s, n));
		if (o + 1 >= outlen)
			return fail(e, 414, "request path too long");
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*outn = o;
	return 0;
bad:
	return fail(e, 400, "malformed %%-escape in path %s",
	    str_quote(q, sizeof(q), s, n));
}

/* Unescape and check the module path esc[0..n) into req->module. */
static int
set_module(struct goproxy_req *req, const char *esc, size_t n,
    struct perr *e)
{
	char	why[256], q[QUOTE_MAX * 4 + 8];
	size_t	len;

	if (n >= sizeof(req->module))
		return fail(e, 414, "module path too long");
	if (unescape_string(esc, n, req->module, sizeof(req->module), &len,
	    why, sizeof(why)) == -1)
		return fail(e, 400, "invalid escaped module path %s: %s",
		    str_quote(q, sizeof(q), esc, n), why);
	if (check_path(req->module, len, why, sizeof(why)) == -1)
		return fail(e, 400, "invalid module path %s: %s",
		    str_quote(q, sizeof(q), req->module, len), why);
	return 0;
}

/*
 * Unescape and check the version esc[0..n) into req->version; for .mod
 * and .zip (canonical) it must be a canonical semantic version too.
 */
static int
set_version(struct goproxy_req *req, const char *esc, size_t n,
    int canonical, struct perr *e)
{
	char	why[256], q[QUOTE_MAX * 4 + 8], c[GOPROXY_VERSION_MAX + 8];
	size_t	len;

	if (n >= sizeof(req->version))
		return fail(e, 414, "version too long");
	if (unescape_string(esc, n, req->version, sizeof(req->version), &len,
	    why, sizeof(why)) == -1)
		return fail(e, 400, "invalid escaped version %s: %s",
		    str_quote(q, sizeof(q), esc, n), why);
	str_quote(q, sizeof(q), req->version, len);
	if (check_elem(req->version, len, ELEM_FILE, why, sizeof(why)) == -1)
		return fail(e, 400, "invalid version %s: %s", q, why);
	if (!canonical || version_is_canonical(req->version, len))
		return 0;
	if (goproxy_semver_canonical(req->version, len, c, sizeof(c)) == -1)
		return fail(e, 400, "invalid version %s: not a semantic "
		    "version", q);
	return fail(e, 400, "invalid version %s: not canonical (the go "
	    "command asks for \"%s\")", q, c);
}

/*
 * The file after "@v/": "list", or "<version>.info|.mod|.zip" with
 * *vlen the version's length.  0, or -1 for no such file.
 */
static int
module_file(const char *f, size_t n, enum goproxy_kind *kind, size_t *vlen)
{
	static const struct {
		const char		*suffix;
		enum goproxy_kind	 kind;
	} files[] = {
		{ ".info", GOPROXY_INFO },
		{ ".mod", GOPROXY_MOD },
		{ ".zip", GOPROXY_ZIP },
	};
	size_t	i;

	if (memchr(f, '/', n) != NULL)
		return -1;
	if (n == 4 && memcmp(f, "list", 4) == 0) {
		*kind = GOPROXY_LIST;
		return 0;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (has_suffix(f, n, files[i].suffix)) {
			*kind = files[i].kind;
			*vlen = n - strlen(files[i].suffix);
			return 0;
		}
	}
	return -1;
}

/*
 * /<module>/@v/... or /<module>/@latest in the decoded d[0..n).  The
 * first "/@" ends the module path: an escaped module path has no "@".
 */
static int
parse_module(const char *d, size_t n, struct goproxy_req *req,
    struct perr *e)
{
	const char	*tail, *file;
	size_t		 i, tlen, vlen = 0;

	for (i = 0; i + 1 < n && !(d[i] == '/' && d[i + 1] == '@'); i++)
		continue;
	if (i + 1 >= n)
		return fail(e, 404, "not a GOPROXY endpoint");
	tail = d + i + 1;
	tlen = n - i - 1;
	file = tail;
	if (tlen == 7 && memcmp(tail, "@latest", 7) == 0)
		req->kind = GOPROXY_LATEST;
	else if (!has_prefix(tail, tlen, "@v/") ||
	    module_file(file += 3, tlen - 3, &req->kind, &vlen) == -1)
		return fail(e, 404, "not a GOPROXY endpoint");
	if (set_module(req, d + 1, i > 0 ? i - 1 : 0, e) == -1)
		return -1;
	if (req->kind == GOPROXY_LIST || req->kind == GOPROXY_LATEST)
		return 0;
	return set_version(req, file, vlen, req->kind != GOPROXY_INFO, e);
}

/*
 * The host[:port] s[0..n) of a checksum database name: dot-separated
 * labels of letters, digits and dashes, a port of 1 to 65535.  0, or -1
 * with why.
 */
static int
check_sumdb_host(const char *s, size_t n, char *why, size_t whylen)
{
	const char	*colon;
	size_t		 i, hlen;
	long		 port = 0;

	hlen = (colon = memchr(s, ':', n)) != NULL ? (size_t)(colon - s) : n;
	if (colon != NULL) {
		for (i = hlen + 1; i < n && i < hlen + 6; i++)
			if (is_digit((unsigned char)s[i]))
				port = port * 10 + s[i] - '0';
			else
				break;
		if (i != n || i == hlen + 1 || s[hlen + 1] == '0' ||
		    port > 65535)
			return say(why, whylen, "bad port");
	}
	if (hlen == 0 || s[0] == '.' || s[hlen - 1] == '.')
		return say(why, whylen, "bad host");
	for (i = 0; i < hlen; i++)
		if (!(is_alnum((unsigned char)s[i]) || s[i] == '-' ||
		    (s[i] == '.' && s[i + 1] != '.')))
			return say(why, whylen, "bad host");
	return 0;
}

/*
 * A checksum database name s[0..n) as cmd/go/internal/modfetch/sumdb.go
 * allows it, "host[/path]", kept to what a URL path sensibly holds:
 * path elements of module path characters, not all dots (no "..").
 * 0, or -1 with why.
 */
static int
check_sumdb_name(const char *s, size_t n, char *why, size_t whylen)
{
	const char	*slash;
	size_t		 i, start, hlen;

	hlen = (slash = memchr(s, '/', n)) != NULL ? (size_t)(slash - s) : n;
	if (check_sumdb_host(s, hlen, why, whylen) == -1)
		return -1;
	for (start = i = hlen + 1; i <= n && hlen < n; i++) {
		if (i < n && s[i] != '/') {
			if (!mod_path_ok((unsigned char)s[i]))
				return say(why, whylen, "bad path");
			continue;
		}
		if (i == start || strspn(s + start, ".") >= i - start)
			return say(why, whylen, "bad path element");
		start = i + 1;
	}
	return 0;
}

/*
 * Canonical decimal s[0..n) (what Go's %d prints: no sign, no leading
 * zero) of at most max into *v.  0, or -1.
 */
static int
parse_dec(const char *s, size_t n, int64_t max, int64_t *v)
{
	size_t	i;
	int	d;

	if (n == 0 || (s[0] == '0' && n > 1))
		return -1;
	for (*v = 0, i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		d = s[i] - '0';
		if (*v > (max - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return 0;
}

/*
 * The N of a tile path, f[0..nf): three digits a group, all but the last
 * prefixed with "x", no leading "x000": what Tile.Path prints, since
 * ParseTilePath accepts only paths that print back the same.
 */
static int
tile_index(const struct span *f, size_t nf)
{
	const char	*g;
	size_t		 k, i, x;
	int64_t		 n = 0, v;

	for (k = 0; k < nf; k++) {
		g = f[k].p;
		x = k + 1 < nf;
		if (f[k].n != 3 + x || (x && g[0] != 'x'))
			return -1;
		for (i = x; i < f[k].n; i++)
			if (!is_digit((unsigned char)g[i]))
				return -1;
		if (k == 0 && nf > 1 && memcmp(g, "x000", 4) == 0)
			return -1;
		v = (g[x] - '0') * 100 + (g[x + 1] - '0') * 10 +
		    (g[x + 2] - '0');
		if (n > (INT64_MAX - v) / 1000)
			return -1;	/* Go's int64 would wrap */
		n = n * 1000 + v;
	}
	return 0;
}

/* Split s[0..n) at '/' into at most max spans; the count, or -1. */
static int
split_spans(const char *s, size_t n, struct span *f, size_t max)
{
	size_t	i, start, nf = 0;

	for (start = i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		if (nf == max)
			return -1;
		f[nf].p = s + start;
		f[nf++].n = i - start;
		start = i + 1;
	}
	return (int)nf;
}

/*
 * tlog.ParseTilePath of "tile/H/L/N[.p/W]" t[0..n): 1 <= H <= 30, L a
 * number or "data", 1 <= W < 2**H, all in the form Tile.Path prints.
 */
static int
parse_tile(const char *t, size_t n)
{
	struct span	f[TILE_FIELDS_MAX];
	int64_t		h, l, w;
	int		nf;

	if ((nf = split_spans(t, n, f, TILE_FIELDS_MAX)) < 4 ||
	    !span_is(f[0], "tile"))
		return -1;
	if (parse_dec(f[1].p, f[1].n, 30, &h) == -1 || h < 1)
		return -1;
	if (!span_is(f[2], "data") &&
	    parse_dec(f[2].p, f[2].n, INT64_MAX, &l) == -1)
		return -1;
	if (has_suffix(f[nf - 2].p, f[nf - 2].n, ".p")) {
		if (parse_dec(f[nf - 1].p, f[nf - 1].n, INT64_MAX, &w) == -1 ||
		    w < 1 || w >= (int64_t)1 << h)
			return -1;
		f[nf - 2].n -= 2;
		nf--;
	}
	return tile_index(f + 3, (size_t)nf - 3);
}

/*
 * sumdb/server.go's modVerRE for the part after "@":
 * v[0-9]+\.[0-9]+\.[0-9]+(-[^@]*)?(\+incompatible)?$ (with no "@").
 */
static int
lookup_version_ok(const char *v, size_t n)
{
	size_t	i = 1;
	int	k;

	if (n == 0 || v[0] != 'v')
		return 0;
	for (k = 0; k < 3; k++) {
		if (k > 0 && (i >= n || v[i++] != '.'))
			return 0;
		if (i >= n || !is_digit((unsigned char)v[i]))
			return 0;
		while (i < n && is_digit((unsigned char)v[i]))
			i++;
	}
	return i == n || v[i] == '-' || (n - i == strlen("+incompatible") &&
	    memcmp(v + i, "+incompatible", n - i) == 0);
}

/* "<module>@<version>" after /lookup/, as sumdb.Server takes it. */
static int
parse_lookup(const char *s, size_t n, struct goproxy_req *req,
    struct perr *e)
{
	char		 q[QUOTE_MAX * 4 + 8];
	const char	*at;
	size_t		 mlen;

	at = memchr(s, '@', n);
	mlen = at != NULL ? (size_t)(at - s) : 0;
	if (mlen == 0 || memchr(at + 1, '@', n - mlen - 1) != NULL ||
	    !lookup_version_ok(at + 1, n - mlen - 1))
		return fail(e, 400, "invalid module@version syntax %s",
		    str_quote(q, sizeof(q), s, n));
	if (set_module(req, s, mlen, e) == -1)
		return -1;
	return set_version(req, at + 1, n - mlen - 1, 0, e);
}

/*
 * The endpoint after the name: "supported" or "latest" alone, "lookup/"
 * or "tile/" with more.  a[0..n) starts at the keyword.
 */
static int
parse_sumdb_endpoint(const char *a, size_t n, struct goproxy_req *req,
    struct perr *e)
{
	char	q[QUOTE_MAX * 4 + 8];

	if (n == strlen("supported") && memcmp(a, "supported", n) == 0)
		req->kind = GOPROXY_SUMDB_SUPPORTED;
	else if (n == strlen("latest") && memcmp(a, "latest", n) == 0)
		req->kind = GOPROXY_SUMDB_LATEST;
	else if (has_prefix(a, n, "lookup/")) {
		req->kind = GOPROXY_SUMDB_LOOKUP;
		return parse_lookup(a + 7, n - 7, req, e);
	} else if (has_prefix(a, n, "tile/")) {
		req->kind = GOPROXY_SUMDB_TILE;
		if (parse_tile(a, n) == -1)
			return fail(e, 400, "malformed tile path %s",
			    str_quote(q, sizeof(q), a, n));
	} else
		return fail(e, 404, "not a checksum database endpoint");
	return 0;
}

/* Is the element s[0..n) one that ends a sumdb name? */
static int
sumdb_keyword(const char *s, size_t n)
{
	static const char *const words[] = {
		"supported", "latest", "lookup", "tile"
	};
	size_t	i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (n == strlen(words[i]) && memcmp(s, words[i], n) == 0)
			return 1;
	return 0;
}

/* Where in raw[0..n) is the k-th '/' (counting from 0)? */
static size_t
nth_slash(const char *raw, size_t n, size_t k)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (raw[i] == '/' && k-- == 0)
			break;
	return i;
}

/*
 * /sumdb/<name>/<endpoint> in the decoded d[0..n) of raw[0..rawlen).
 * The name is host[:port][/path] (sumdb.go's dbDial allows a path): it
 * ends before the first later element that is an endpoint keyword.
 */
static int
parse_sumdb(const char *raw, size_t rawlen, const char *d, size_t n,
    struct goproxy_req *req, struct perr *e)
{
	char		 why[64], q[QUOTE_MAX * 4 + 8];
	const char	*s, *end = d + n, *next;
	size_t		 nlen, slashes = 2, off;

	s = memchr(d + 7, '/', n - 7);		/* after the host */
	while (s != NULL) {
		slashes++;
		if ((next = memchr(s + 1, '/', (size_t)(end - s - 1))) == NULL)
			next = end;
		if (sumdb_keyword(s + 1, (size_t)(next - s - 1)))
			break;
		s = next < end ? next : NULL;
	}
	if (s == NULL)
		return fail(e, 404, "not a checksum database endpoint");
	if ((nlen = (size_t)(s - d) - 7) >= sizeof(req->sumdb))
		return fail(e, 414, "sumdb name too long");
	if (check_sumdb_name(d + 7, nlen, why, sizeof(why)) == -1)
		return fail(e, 400, "invalid sumdb name %s: %s",
		    str_quote(q, sizeof(q), d + 7, nlen), why);
	memcpy(req->sumdb, d + 7, nlen);
	req->sumdb[nlen] = '\0';
	off = nth_slash(raw, rawlen, slashes - 1);
	req->rest = raw + off;
	req->rest_len = rawlen - off;
	return parse_sumdb_endpoint(s + 1, (size_t)(end - s - 1), req, e);
}

/* Every '/'-separated element of d[0..n) within GOPROXY_ELEM_MAX bytes. */
static int
check_elem_lengths(const char *d, size_t n, struct perr *e)
{
	char	q[QUOTE_MAX * 4 + 8];
	size_t	i, start;

	for (start = i = 0; i <= n; i++) {
		if (i < n && d[i] != '/')
			continue;
		if (i - start > GOPROXY_ELEM_MAX)
			return fail(e, 400, "path element of %zu bytes (at most "
			    "%d) %s", i - start, GOPROXY_ELEM_MAX,
			    str_quote(q, sizeof(q), d + start, i - start));
		start = i + 1;
	}
	return 0;
}

int
goproxy_parse(const char *path, size_t len, struct goproxy_req *req,
    int *status, const char **reason, char *rbuf, size_t rbuflen)
{
	struct perr	 e = { status, reason, rbuf, rbuflen };
	char		 d[GOPROXY_PATH_MAX];
	const char	*query;
	size_t		 n = 0;

	memset(req, 0, sizeof(*req));
	*status = 0;
	*reason = NULL;
	if ((query = memchr(path, '?', len)) != NULL)
		len = (size_t)(query - path);
	if (len == 0 || path[0] != '/')
		return fail(&e, 404, "not a GOPROXY endpoint");
	if (len > GOPROXY_REQUEST_MAX)
		return fail(&e, 414, "request path of %zu bytes (at most %d)",
		    len, GOPROXY_REQUEST_MAX);
	if (pct_decode(path, len, d, sizeof(d), &n, &e) == -1 ||
	    check_elem_lengths(d, n, &e) == -1)
		return -1;
	if (has_prefix(d, n, "/sumdb/"))
		return parse_sumdb(path, len, d, n, req, &e);
	return parse_module(d, n, req, &e);
}
