/*
 * http_parse.c - HTTP/1.x message heads, header field helpers and request
 * targets.  How a body is framed (Content-Length, Transfer-Encoding,
 * chunked) is http_body.c's; the character classes and the list
 * splitter both use are in http_chars.h.
 *
 * Every function is pure over the caller's bytes.  The head parsers keep
 * no state between calls: after HTTP_PARSE_INCOMPLETE the caller calls
 * again with the longer buffer and the head is parsed from its start.
 * Heads are bounded by max_head, so rescanning is cheap, and there is no
 * resumable state to get wrong.  Within one call a valid line is read in
 * one pass (a byte class table; values a word at a time); only a line
 * that is not valid, or not all there, is looked at again to say why.
 *
 * Strictness is deliberate: a proxy that reads a message differently from
 * the server behind it is a request-smuggling vector, so anything RFC 9112
 * lets a recipient reject is rejected.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "http_chars.h"
#include "http_parse.h"

/* Longest host name we pass on (DNS allows 253 characters). */
#define HOST_MAX	255

/*
 * Message heads.
 */

/*
 * Every way a head can be refused.  Requests answer with the status in
 * the table; a broken upstream response is always a 502 to our client,
 * with its own wording so the log tells the two apart.
 */
enum head_error {
	HE_METHOD,
	HE_REQUEST_LINE,
	HE_TARGET,
	HE_VERSION,
	HE_VERSION_UNSUPPORTED,
	HE_LINE_TOO_LONG,
	HE_BARE_LF,
	HE_BARE_CR,
	HE_OBS_FOLD,
	HE_NAME,
	HE_NAME_SPACE,
	HE_CONTROL,
	HE_TOO_LARGE,
	HE_STATUS_LINE
};

static const struct {
	int		 status;
	const char	*request;
	const char	*response;
} head_errors[] = {
	[HE_METHOD] = { 400, "invalid method token",
	    "invalid upstream status line" },
	[HE_REQUEST_LINE] = { 400, "invalid request line",
	    "invalid upstream status line" },
	[HE_TARGET] = { 400, "invalid request target",
	    "invalid upstream status line" },
	[HE_VERSION] = { 400, "invalid HTTP version",
	    "invalid upstream HTTP version" },
	[HE_VERSION_UNSUPPORTED] = { 505, "HTTP version not supported",
	    "upstream HTTP version not supported" },
	[HE_LINE_TOO_LONG] = { 414, "request line too long",
	    "upstream status line too long" },
	[HE_BARE_LF] = { 400, "bare LF in request head",
	    "bare LF in response head" },
	[HE_BARE_CR] = { 400, "bare CR in request head",
	    "bare CR in response head" },
	[HE_OBS_FOLD] = { 400, "obs-fold not allowed",
	    "obs-fold not allowed" },
	[HE_NAME] = { 400, "invalid header name",
	    "invalid header name" },
	[HE_NAME_SPACE] = { 400, "whitespace before header colon",
	    "whitespace before header colon" },
	[HE_CONTROL] = { 400, "control character in header",
	    "control character in header" },
	[HE_TOO_LARGE] = { 431, "request header fields too large",
	    "upstream response head too large" },
	[HE_STATUS_LINE] = { 400, "invalid request line",
	    "invalid upstream status line" },
};

/* One parse of one head: the input, the limits and where results go. */
struct head {
	const char		*buf;
	const char		*end;	/* buf + min(len, max_head) */
	size_t			 len;	/* what the caller holds */
	size_t			 max_head;
	size_t			 max_line;
	struct http_header	*hdrs;
	size_t			 max_hdrs; /* min(capacity, limit) */
	size_t			 nhdrs;
	struct http_request	*req;	/* one of req, res is set */
	struct http_response	*res;
	struct http_error	*err;
};

enum line_end {
	LINE_DONE,		/* CRLF found */
	LINE_MORE,		/* input ended first */
	LINE_BARE_LF,		/* LF without CR */
	LINE_BARE_CR		/* CR followed by something else */
};

static int
head_fail(struct head *h, enum head_error e)
{
	if (h->res != NULL)
		set_error(h->err, 502, head_errors[e].response);
	else
		set_error(h->err, head_errors[e].status,
		    head_errors[e].request);
	return HTTP_PARSE_INVALID;
}

/*
 * The head is incomplete within what we looked at.  We only looked at
 * max_head bytes, so if the caller holds more the head is too large.
 */
static int
head_more(struct head *h)
{
	if (h->len > h->max_head)
		return head_fail(h, HE_TOO_LARGE);
	return HTTP_PARSE_INCOMPLETE;
}

/*
 * Set up one parse.  Only max_head bytes are ever looked at, which bounds
 * the work per call however much the caller has buffered.
 */
static void
head_init(struct head *h, const char *buf, size_t len,
    const struct http_limits *lim, struct http_header *hdrs, size_t cap,
    struct http_error *err)
{
	memset(h, 0, sizeof(*h));
	h->buf = buf;
	h->len = len;
	/* The consumed count is returned as an int. */
	h->max_head = lim->max_head < INT_MAX ? lim->max_head : INT_MAX;
	h->end = buf + (len < h->max_head ? len : h->max_head);
	h->max_line = lim->max_line;
	h->hdrs = hdrs;
	h->max_hdrs = cap < lim->max_headers ? cap : lim->max_headers;
	h->err = err;
}

/*
 * Find the end of the line starting at p, looking no further than end.
 * *eol is set to the CR of the CRLF, to the offending byte, or to where
 * the input ran out (a CR as the last byte counts as running out).
 */
static enum line_end
find_line(const char *p, const char *end, const char **eol)
{
	while (p < end && *p != '\r' && *p != '\n')
		p++;
	*eol = p;
	if (p == end)
		return LINE_MORE;
	if (*p == '\n')
		return LINE_BARE_LF;
	if (p + 1 == end)
		return LINE_MORE;
	return p[1] == '\n' ? LINE_DONE : LINE_BARE_CR;
}

/*
 * Byte classes of the line scanners: one load from one table per byte,
 * where a line used to be scanned for its end first and then again for
 * its grammar.  Built from the definitions in http_chars.h, so the two
 * cannot disagree.
 */
#define C_TCHAR		0x01	/* a method, a field name: is_tchar() */
#define C_FIELD		0x02	/* a value, a reason: not is_ctl() */
#define C_VCHAR		0x04	/* a request target: is_vchar() */
#define C_URI		0x08	/* an absolute URI: is_vchar() but '#' */
#define C_HOST		0x10	/* a reg-name: a DNS name, an IPv4 address */

/*
 * is_tchar(), is_ctl() and is_vchar() as constant expressions, which a
 * table initializer needs (tchar: RFC 9110 5.6.2), and the bytes of a
 * reg-name as we accept it.  Unit tests hold the table to them.
 */
#define TCHAR_BYTE(c)	(((c) >= 'a' && (c) <= 'z') || \
			((c) >= 'A' && (c) <= 'Z') || \
			((c) >= '0' && (c) <= '9') || \
			(c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || \
			(c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || \
			(c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || \
			(c) == '`' || (c) == '|' || (c) == '~')
#define CTL_BYTE(c)	(((c) < 0x20 && (c) != '\t') || (c) == 0x7f)
#define VCHAR_BYTE(c)	((c) > 0x20 && (c) < 0x7f)
#define HOST_BYTE(c)	(((c) >= 'a' && (c) <= 'z') || \
			((c) >= 'A' && (c) <= 'Z') || \
			((c) >= '0' && (c) <= '9') || \
			(c) == '-' || (c) == '.' || (c) == '_')
#define CLASS(c)	(TCHAR_BYTE(c) * C_TCHAR | !CTL_BYTE(c) * C_FIELD | \
			VCHAR_BYTE(c) * C_VCHAR | \
			(VCHAR_BYTE(c) && (c) != '#') * C_URI | \
			HOST_BYTE(c) * C_HOST)
#define CLASS4(c)	CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define CLASS16(c)	CLASS4(c), CLASS4((c) + 4), CLASS4((c) + 8), \
			CLASS4((c) + 12)
#define CLASS64(c)	CLASS16(c), CLASS16((c) + 16), CLASS16((c) + 32), \
			CLASS16((c) + 48)

static const unsigned char byte_class[256] = {
	CLASS64(0), CLASS64(64), CLASS64(128), CLASS64(192)
};

/*
 * The first byte in [p, end) that is not of class cls, or end.  Unrolled
 * by four: names, values and targets are short, and the loop's own
 * compare and branch cost as much as the table lookup.  (ANDing eight
 * bytes' classes to test them at once was slower: the run of a name
 * or a target mostly ends within the first eight.)
 */
static const char *
skip_class(const char *p, const char *end, unsigned char cls)
{
	while (end - p >= 4) {
		if (!(byte_class[(unsigned char)p[0]] & cls))
			return p;
		if (!(byte_class[(unsigned char)p[1]] & cls))
			return p + 1;
		if (!(byte_class[(unsigned char)p[2]] & cls))
			return p + 2;
		if (!(byte_class[(unsigned char)p[3]] & cls))
			return p + 3;
		p += 4;
	}
	while (p < end && (byte_class[(unsigned char)*p] & cls))
		p++;
	return p;
}

/*
 * skip_class(p, end, C_FIELD), eight bytes at a time where the bytes are
 * there to load: values are most of a head's bytes, and the test for a
 * control byte (below 0x20, or DEL) is two subtractions per word.  The
 * lowest flagged byte of each test is exact (a borrow only runs upwards),
 * so the first one flagged is the first control byte; an HTAB among them
 * is allowed and stepped over.  Elsewhere, the table.
 */
static const char *
skip_field(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	highs = 0x8080808080808080ULL;
	uint64_t	w, del, m;

	while (end - p >= 8) {
		memcpy(&w, p, 8);
		del = w ^ (ones * 0x7f);
		m = (((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) &
		    highs;
		if (m == 0) {
			p += 8;
			continue;
		}
		p += __builtin_ctzll(m) >> 3;
		if (*p != '\t')
			return p;
		p++;
	}
#endif
	return skip_class(p, end, C_FIELD);
}

/*
 * Store the valid request line at s whose target and version start at
 * target and version (each after its SP).
 */
static void
store_request_line(struct head *h, const char *s, const char *target,
    const char *version)
{
	h->req->method = s;
	h->req->method_len = (size_t)(target - 1 - s);
	h->req->target = target;
	h->req->target_len = (size_t)(version - 1 - target);
	h->req->minor_version = version[7] - '0';
}

/* Store the valid status line s[0..e), CRLF excluded. */
static void
store_status_line(struct head *h, const char *s, const char *e)
{
	size_t	n = (size_t)(e - s);

	h->res->minor_version = s[7] - '0';
	h->res->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 +
	    (s[11] - '0');
	h->res->reason = n > 12 ? s + 13 : e;
	h->res->reason_len = n > 12 ? n - 13 : 0;
}

/*
 * Check an HTTP-version: n bytes at v are what has arrived of it.  When
 * complete, exactly "HTTP/1.0" or "HTTP/1.1" is accepted, another
 * "HTTP/d.d" is unsupported (505) and anything else is garbage (400).
 * Returns 0 or -1.
 */
static int
check_version(struct head *h, const char *v, size_t n, int complete)
{
	static const char	 pattern[] = "HTTP/#.#";
	size_t			 i;

	for (i = 0; i < n && i < 8; i++) {
		if (pattern[i] == '#' ? !is_digit(v[i]) : v[i] != pattern[i])
			return head_fail(h, HE_VERSION);
	}
	if (n > 8 || (n < 8 && complete))
		return head_fail(h, HE_VERSION);
	if (n < 8)
		return 0;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return head_fail(h, HE_VERSION_UNSUPPORTED);
	return 0;
}

/*
 * Check the request line s[0..e), CRLF excluded: method SP target SP
 * version.  With complete == 0 the line is still arriving and only the
 * bytes present are judged, so no prefix of a valid line is refused but
 * garbage is refused early.  A complete line is stored in h->req.
 * Returns 0 or -1.
 */
static int
check_request_line(struct head *h, const char *s, const char *e,
    int complete)
{
	const char	*p, *target, *version;

	for (p = s; p < e && is_tchar(*p); p++)
		continue;
	if (p == e)
		return complete ? head_fail(h, HE_REQUEST_LINE) : 0;
	if (*p != ' ' || p == s)
		return head_fail(h, HE_METHOD);
	target = ++p;
	while (p < e && is_vchar(*p))
		p++;
	if (p == e)
		return complete ? head_fail(h, HE_REQUEST_LINE) : 0;
	if (*p != ' ' || p == target)
		return head_fail(h, HE_TARGET);
	version = ++p;
	/* A space here means a third space: likely a space in the target. */
	if (memchr(version, ' ', (size_t)(e - version)) != NULL)
		return head_fail(h, HE_REQUEST_LINE);
	if (check_version(h, version, (size_t)(e - version), complete) == -1)
		return -1;
	if (complete)
		store_request_line(h, s, target, version);
	return 0;
}

/*
 * Check the status line s[0..e): version SP 3DIGIT [SP reason].  The
 * reason may be empty, and so may the SP before it (many servers omit
 * it).  Same partial/complete contract as check_request_line.
 */
static int
check_status_line(struct head *h, const char *s, const char *e,
    int complete)
{
	size_t		 n = (size_t)(e - s), i;

	if (check_version(h, s, n < 8 ? n : 8, complete || n > 8) == -1)
		return -1;
	if (n <= 8)
		return complete ? head_fail(h, HE_STATUS_LINE) : 0;
	if (s[8] != ' ')
		return head_fail(h, HE_STATUS_LINE);
	for (i = 9; i < n && i < 12; i++) {
		if (!is_digit(s[i]) || (i == 9 && s[i] == '0'))
			return head_fail(h, HE_STATUS_LINE);
	}
	if (n < 12)
		return complete ? head_fail(h, HE_STATUS_LINE) : 0;
	if (n > 12 && s[12] != ' ')
		return head_fail(h, HE_STATUS_LINE);
	for (i = 13; i < n; i++) {
		if (is_ctl(s[i]))
			return head_fail(h, HE_STATUS_LINE);
	}
	if (complete)
		store_status_line(h, s, e);
	return 0;
}

/* The request line or the status line, whichever h is parsing. */
static int
check_start_line(struct head *h, const char *s, const char *e, int complete)
{
	if (h->res != NULL)
		return check_status_line(h, s, e, complete);
	return check_request_line(h, s, e, complete);
}

/* Is v[0..10) "HTTP/1.0" or "HTTP/1.1" and CRLF? */
static int
is_version_crlf(const char *v)
{
	return memcmp(v, "HTTP/1.", 7) == 0 && (v[7] == '0' || v[7] == '1') &&
	    v[8] == '\r' && v[9] == '\n';
}

/*
 * A request line at s that ends before end, in one pass: method SP
 * target SP HTTP/1.x CRLF.  Returns the next line's start, or NULL if
 * the line is anything but such a line (invalid, incomplete, too long),
 * which is for check_request_line() to judge.
 */
static const char *
scan_request_line(struct head *h, const char *s, const char *end)
{
	const char	*p, *target;

	p = skip_class(s, end, C_TCHAR);
	if (p == s || p == end || *p != ' ')
		return NULL;
	target = p + 1;
	p = skip_class(target, end, C_VCHAR);
	if (p == target || end - p < 11 || *p != ' ' || !is_version_crlf(p + 1))
		return NULL;
	store_request_line(h, s, target, p + 1);
	return p + 11;
}

/*
 * The same for a status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF.
 */
static const char *
scan_status_line(struct head *h, const char *s, const char *end)
{
	const char	*e;

	if (end - s < 14 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '9' || !is_digit(s[10]) || !is_digit(s[11]))
		return NULL;
	e = s + 12;
	if (*e == ' ')
		e = skip_field(e + 1, end);
	if (end - e < 2 || e[0] != '\r' || e[1] != '\n')
		return NULL;
	store_status_line(h, s, e);
	return e + 2;
}

/* Store the field line s[0..e) whose colon is at colon. */
static void
store_field(struct head *h, const char *s, const char *colon, const char *e)
{
	struct http_header	*hd;
	const char		*v = colon + 1;

	while (v < e && is_ows(*v))
		v++;
	while (e > v && is_ows(e[-1]))
		e--;
	hd = &h->hdrs[h->nhdrs++];
	hd->name = s;
	hd->name_len = (size_t)(colon - s);
	hd->value = v;
	hd->value_len = (size_t)(e - v);
}

/*
 * What is wrong with the field line s[0..e), CRLF excluded (e > s), that
 * the scan stopped in at q (q <= e; colon is NULL when q is still in the
 * name).  A line still arriving (complete == 0) is judged on what has
 * arrived: no prefix of a valid line is refused.  Returns -1 when nothing
 * is, else the head_error, in the order the checks have always been
 * made: obs-fold, too many fields, the name, then the value.
 */
static int
field_error(const struct head *h, const char *s, const char *colon,
    const char *q, const char *e, int complete)
{
	/* RFC 9112 5.2: obs-fold may be refused; unfolding is ambiguous. */
	if (is_ows(*s))
		return HE_OBS_FOLD;
	if (h->nhdrs == h->max_hdrs)
		return HE_TOO_LARGE;
	if (colon == NULL && q == e)
		return complete ? HE_NAME : -1;
	/* RFC 9112 5.1: whitespace before the colon MUST be rejected. */
	if (colon == NULL)
		return is_ows(*q) ? HE_NAME_SPACE : HE_NAME;
	return q < e ? HE_CONTROL : -1;
}

/*
 * The rest of a field line at s that the scan did not take whole: it
 * stopped at q on a byte that is no CRLF, or on a CRLF that ends a name
 * without a colon or a field over the limit.  The line's end decides
 * first, as it always has: a bare LF or CR anywhere in the line is what
 * is reported, whatever came before it.  Returns INVALID, INCOMPLETE
 * or, for the empty line, the head's length.
 */
static int
field_line_rest(struct head *h, const char *s, const char *colon,
    const char *q)
{
	const char	*eol;
	enum line_end	 kind;
	int		 e;

	kind = find_line(q, h->end, &eol);
	if (kind == LINE_BARE_LF)
		return head_fail(h, HE_BARE_LF);
	if (kind == LINE_BARE_CR)
		return head_fail(h, eol == s ? HE_BARE_CR : HE_CONTROL);
	if (eol == s)
		return kind == LINE_DONE ? (int)(eol + 2 - h->buf) :
		    head_more(h);
	if ((e = field_error(h, s, colon, q, eol, kind == LINE_DONE)) != -1)
		return head_fail(h, (enum head_error)e);
	return head_more(h);	/* a valid prefix of a line */
}

/*
 * Parse field lines from p up to and including the empty line that ends
 * the head.  Returns the head's length from h->buf, INCOMPLETE or INVALID.
 *
 * One pass per line: the name's tchars, a colon, the value's bytes up to
 * the first byte no value may hold, which in a valid line is the CR of
 * its CRLF.  Anything else is for field_line_rest() to sort out.
 */
static int
parse_fields(struct head *h, const char *p)
{
	const char	*end = h->end, *q, *colon;

	for (;;) {
		q = skip_class(p, end, C_TCHAR);
		colon = NULL;
		if (q < end && *q == ':' && q > p) {
			colon = q;
			q = skip_field(q + 1, end);
		}
		if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
			return field_line_rest(h, p, colon, q);
		if (q == p)
			return (int)(q + 2 - h->buf);
		if (colon == NULL || h->nhdrs == h->max_hdrs)
			return field_line_rest(h, p, colon, q);
		store_field(h, p, colon, q);
		p = q + 2;
	}
}

/*
 * Parse the start line at p, then the fields.  The line scan stops after
 * max_line content bytes (plus room for its CRLF) so an endless line is
 * refused (414) without reading all of it; its prefix is still checked
 * first, so plain garbage gets the more useful 400.
 */
static int
parse_head(struct head *h, const char *p)
{
	const char	*bound = h->end, *eol;
	size_t		 avail = (size_t)(h->end - p);
	enum line_end	 kind;

	if (avail > 2 && avail - 2 > h->max_line)
		bound = p + h->max_line + 2;
	/* A valid line in one pass; the rest is judged below. */
	eol = h->res != NULL ? scan_status_line(h, p, bound) :
	    scan_request_line(h, p, bound);
	if (eol != NULL)
		return parse_fields(h, eol);
	kind = find_line(p, bound, &eol);
	if ((size_t)(eol - p) > h->max_line) {
		if (check_start_line(h, p, p + h->max_line, 0) == -1)
			return HTTP_PARSE_INVALID;
		return head_fail(h, HE_LINE_TOO_LONG);
	}
	switch (kind) {
	case LINE_DONE:
		if (check_start_line(h, p, eol, 1) == -1)
			return HTTP_PARSE_INVALID;
		return parse_fields(h, eol + 2);
	case LINE_MORE:
		if (check_start_line(h, p, eol, 0) == -1)
			return HTTP_PARSE_INVALID;
		return head_more(h);
	case LINE_BARE_LF:
		return head_fail(h, HE_BARE_LF);
	case LINE_BARE_CR:
		break;
	}
	return head_fail(h, HE_BARE_CR);
}

int
http_parse_request(const char *buf, size_t len,
    const struct http_limits *lim, struct http_request *req,
    struct http_error *err)
{
	struct head	 h;
	const char	*p;
	int		 r;

	head_init(&h, buf, len, lim, req->headers, req->num_headers, err);
	h.req = req;
	/*
	 * RFC 9112 2.2: a server SHOULD ignore at least one empty line
	 * before the request line (some clients send CRLF after a POST
	 * body).  They count towards max_head and are consumed.
	 */
	p = buf;
	while (h.end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	r = parse_head(&h, p);
	/* Only on success: a retry after INCOMPLETE needs the capacity. */
	if (r >= 0)
		req->num_headers = h.nhdrs;
	return r;
}

int
http_parse_response(const char *buf, size_t len,
    const struct http_limits *lim, struct http_response *res,
    struct http_error *err)
{
	struct head	 h;
	int		 r;

	head_init(&h, buf, len, lim, res->headers, res->num_headers, err);
	h.res = res;
	r = parse_head(&h, buf);
	if (r >= 0)
		res->num_headers = h.nhdrs;
	return r;
}

/*
 * Header field helpers.
 */

int
http_header_name_is(const struct http_header *h, const char *name,
    size_t len)
{
	return ci_equal(h->name, h->name_len, name, len);
}

int
http_is_token(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_tchar(s[i]))
			return 0;
	return 1;
}

/*
 * http_list_has_token for a token that is not NUL-terminated.  An empty
 * token is not a token and matches nothing.
 */
static int
list_has(const char *value, size_t len, const char *token, size_t toklen)
{
	const char	*p = value, *elem;
	size_t		 elen;

	if (value == NULL || toklen == 0)
		return 0;
	while (list_next(&p, value + len, &elem, &elen)) {
		if (ci_equal(elem, elen, token, toklen))
			return 1;
	}
	return 0;
}

int
http_list_has_token(const char *value, size_t len, const char *token)
{
	return list_has(value, len, token, strlen(token));
}

/* The hop-by-hop names that are so whatever Connection says. */
static int
is_fixed_hop_by_hop(const struct http_header *h)
{
	const char	*n = h->name;

	switch (h->name_len) {	/* the length first: most names miss */
	case 2:
		return ci_equal(n, 2, "TE", 2);
	case 7:
		return ci_equal(n, 7, "Trailer", 7) ||
		    ci_equal(n, 7, "Upgrade", 7);
	case 10:
		return ci_equal(n, 10, "Connection", 10) ||
		    ci_equal(n, 10, "Keep-Alive", 10);
	case 16:
		return ci_equal(n, 16, "Proxy-Connection", 16);
	case 17:
		return ci_equal(n, 17, "Transfer-Encoding", 17);
	case 18:
		return ci_equal(n, 18, "Proxy-Authenticate", 18);
	case 19:
		return ci_equal(n, 19, "Proxy-Authorization", 19);
	}
	return 0;
}

static int
is_connection(const struct http_header *h)
{
	return ci_equal(h->name, h->name_len, "Connection", 10);
}

int
http_header_is_hop_by_hop(const struct http_header *h,
    const struct http_header *hdrs, size_t n)
{
	size_t	i;

	if (is_fixed_hop_by_hop(h))
		return 1;
	for (i = 0; i < n; i++) {
		if (is_connection(&hdrs[i]) &&
		    list_has(hdrs[i].value, hdrs[i].value_len, h->name,
		    h->name_len))
			return 1;
	}
	return 0;
}

/*
 * Mark every field whose name is an element of the Connection value
 * value[0..len): each element is taken once and compared with the names
 * of its length, rather than the list walked again for every name.
 * Empty elements name nothing.
 */
static void
mark_listed(const char *value, size_t len, const struct http_header *hdrs,
    size_t n, unsigned char *hop)
{
	const char	*p = value, *elem;
	size_t		 elen, j;

	if (value == NULL)
		return;
	while (list_next(&p, value + len, &elem, &elen)) {
		for (j = 0; j < n && elen > 0; j++) {
			if (!hop[j] && ci_equal(elem, elen, hdrs[j].name,
			    hdrs[j].name_len))
				hop[j] = 1;
		}
	}
}

void
http_hop_by_hop_mark(const struct http_header *hdrs, size_t n,
    unsigned char *hop)
{
	size_t	i;
	int	any = 0;

	for (i = 0; i < n; i++) {
		hop[i] = (unsigned char)is_fixed_hop_by_hop(&hdrs[i]);
		any |= hop[i];
	}
	if (!any)
		return;		/* no Connection header either */
	for (i = 0; i < n; i++) {
		if (is_connection(&hdrs[i]))
			mark_listed(hdrs[i].value, hdrs[i].value_len, hdrs, n,
			    hop);
	}
}

/*
 * Request targets.
 */

static int
uri_fail(struct http_error *err, const char *reason)
{
	set_error(err, 400, reason);
	return -1;
}

/*
 * Is s[0..len) an IPv6 address?  inet_pton needs a string, so it gets a
 * bounded copy on the stack.  Zone IDs and IPvFuture are refused: they
 * mean nothing to a proxy.
 */
static int
is_ipv6(const char *s, size_t len)
{
	char		 tmp[INET6_ADDRSTRLEN];
	struct in6_addr	 a;
	size_t		 i;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	for (i = 0; i < len; i++) {
		if (hex_value(s[i]) == -1 && s[i] != ':' && s[i] != '.')
			return 0;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/*
 * Parse a port of s[0..len): decimal, 1..65535.  Returns 0 or -1.
 * Leading zeros are harmless; the value is checked at every digit so
 * it cannot overflow.
 */
static int
parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long	v = 0;
	size_t		i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Parse the authority s[0..e): host [":" port], the host a reg-name,
 * an IPv4 address or "[IPv6]".  With need_port a port must follow;
 * otherwise a missing or empty port means 80.  Fills u->host and
 * u->port.  Returns 0 or -1 with *err.
 */
static int
parse_host_port(const char *s, const char *e, int need_port,
    struct http_uri *u, struct http_error *err)
{
	const char	*p, *close;

	if (s < e && *s == '[') {
		close = memchr(s, ']', (size_t)(e - s));
		if (close == NULL || !is_ipv6(s + 1, (size_t)(close - s - 1)))
			return uri_fail(err, "invalid host");
		u->host = s + 1;
		u->host_len = (size_t)(close - s - 1);
		p = close + 1;
	} else {
		p = skip_class(s, e, C_HOST);
		u->host = s;
		u->host_len = (size_t)(p - s);
	}
	if (u->host_len == 0)
		return uri_fail(err, need_port ?
		    "CONNECT target needs host:port" : "empty host");
	if (u->host_len > HOST_MAX)
		return uri_fail(err, "invalid host");
	if (p < e && *p != ':')
		return uri_fail(err, "invalid host");
	if (p == e || p + 1 == e) {
		if (need_port)
			return uri_fail(err, "CONNECT target needs host:port");
		u->port = 80;
		return 0;
	}
	if (parse_port(p + 1, (size_t)(e - p - 1), &u->port) == -1)
		return uri_fail(err, "invalid port");
	return 0;
}

/*
 * Check the scheme of t[0..len) and return where the authority starts, or
 * NULL with *err.  Only http is ours to forward: https in absolute-form
 * would have us speak TLS for the client, which is what CONNECT is for.
 */
static const char *
uri_scheme(const char *t, size_t len, struct http_error *err)
{
	const char	*end = t + len, *p = t;

	if (p < end && is_alpha(*p)) {
		while (p < end && (is_alpha(*p) || is_digit(*p) ||
		    *p == '+' || *p == '-' || *p == '.'))
			p++;
	}
	if (p == t || p == end || *p != ':') {
		uri_fail(err, "absolute-form target required");
		return NULL;
	}
	if (ci_equal(t, (size_t)(p - t), "https", 5)) {
		uri_fail(err, "https in absolute-form: use CONNECT");
		return NULL;
	}
	if (!ci_equal(t, (size_t)(p - t), "http", 4)) {
		uri_fail(err, "unsupported URI scheme");
		return NULL;
	}
	if (end - p < 3 || p[1] != '/' || p[2] != '/') {
		uri_fail(err, "invalid absolute URI");
		return NULL;
	}
	return p + 3;
}

int
http_parse_absolute_uri(const char *t, size_t len, struct http_uri *u,
    struct http_error *err)
{
	const char	*end = t + len, *auth, *p;

	memset(u, 0, sizeof(*u));
	/*
	 * One scan for both; a byte that is no vchar anywhere is the
	 * error to report, even after a '#'.  RFC 9112 3.2: fragments are
	 * never sent; one here is an error.
	 */
	if ((p = skip_class(t, end, C_URI)) < end)
		return uri_fail(err, skip_class(p, end, C_VCHAR) < end ?
		    "invalid character in URI" : "fragment in URI");
	if ((auth = uri_scheme(t, len, err)) == NULL)
		return -1;
	for (p = auth; p < end && *p != '/' && *p != '?'; p++)
		continue;
	/* user:pass@ in a target is a credential leak or a spoofing trick. */
	if (memchr(auth, '@', (size_t)(p - auth)) != NULL)
		return uri_fail(err, "userinfo in URI");
	if (parse_host_port(auth, p, 0, u, err) == -1)
		return -1;
	if (p == end) {
		u->path = "/";
		u->path_len = 1;
		u->path_implied = 1;
	} else {
		u->path = p;
		u->path_len = (size_t)(end - p);
	}
	return 0;
}

int
http_parse_authority(const char *t, size_t len, struct http_uri *u,
    struct http_error *err)
{
	memset(u, 0, sizeof(*u));
	if (len == 0)
		return uri_fail(err, "CONNECT target needs host:port");
	return parse_host_port(t, t + len, 1, u, err);
}
