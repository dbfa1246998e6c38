/*
 * http_body.c - how an HTTP/1.x message body is framed: the framing
 * decision for requests and responses (Content-Length, Transfer-Encoding,
 * Connection, Expect), the Transfer-Encoding codings and their canonical
 * form (http_te_normalize), and the chunked scanner that finds where a
 * chunked body ends.  Heads, header helpers and request targets are
 * http_parse.c's; the character classes and the list splitter both use
 * are in http_chars.h.
 *
 * Every function is pure over the caller's bytes.  Only the chunked
 * scanner carries state, and that state lives in the caller's struct.
 *
 * Strictness is deliberate: a proxy that reads a message differently from
 * the server behind it is a request-smuggling vector, so a length or
 * coding that two readers could take two ways is refused, not resolved.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "http_chars.h"
#include "http_parse.h"

/*
 * A chunk-size line (digits, leading zeros and extensions) or a trailer
 * line may not be longer than this, CRLF excluded.
 */
#define CHUNK_LINE_MAX	4096

/* Largest Content-Length accepted: must fit an off_t in any caller. */
#define CONTENT_LENGTH_MAX	((uint64_t)INT64_MAX)

/*
 * Framing.
 */

/* What the framing decision needs to know from a message's fields. */
struct fields {
	int		 cl_seen;
	uint64_t	 cl;
	int		 cl_invalid;
	int		 cl_conflict;
	int		 te_seen;
	size_t		 te_codings;	/* in all TE fields */
	size_t		 te_chunked;	/* how many are chunked */
	int		 te_last_chunked;
	int		 te_invalid;	/* a coding we cannot pass on */
	int		 conn_close;
	int		 conn_keep_alive;
	int		 expect_seen;
	int		 expect_other;	/* one we cannot meet */
};

/* Parse a decimal Content-Length element.  Returns 0 or -1. */
static int
parse_decimal(const char *s, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		if (v > (CONTENT_LENGTH_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Fold one Content-Length field into f.  Its value may be a list (some
 * senders merge duplicates, RFC 9110 8.6); every element must be a
 * number, and all of them, across all fields, must agree.  Empty list
 * elements are refused: nothing legitimate sends them here.
 */
static void
fold_content_length(struct fields *f, const struct http_header *h)
{
	const char	*p = h->value, *elem;
	size_t		 elen;
	uint64_t	 v;

	if (h->value_len == 0) {
		f->cl_invalid = 1;
		return;
	}
	while (list_next(&p, h->value + h->value_len, &elem, &elen)) {
		if (parse_decimal(elem, elen, &v) == -1) {
			f->cl_invalid = 1;
			return;
		}
		if (f->cl_seen && v != f->cl)
			f->cl_conflict = 1;
		f->cl_seen = 1;
		f->cl = v;
	}
}

/*
 * Where the canonical Transfer-Encoding value is written: out[0..cap),
 * len bytes so far.  Once it does not fit, over is set and nothing more
 * is written.
 */
struct te_out {
	char	*out;
	size_t	 cap;
	size_t	 len;
	int	 over;
};

/* Append s[0..n) to w, lowercased if lower. */
static void
te_put(struct te_out *w, const char *s, size_t n, int lower)
{
	size_t	i;

	if (w == NULL || w->over)
		return;
	if (n > w->cap - w->len) {
		w->over = 1;
		return;
	}
	for (i = 0; i < n; i++)
		w->out[w->len + i] = lower ? (char)ascii_lower(s[i]) : s[i];
	w->len += n;
}

/* The end of the token starting at p, looking no further than e. */
static const char *
token_end(const char *p, const char *e)
{
	while (p < e && is_tchar(*p))
		p++;
	return p;
}

static const char *
skip_ows(const char *p, const char *e)
{
	while (p < e && is_ows(*p))
		p++;
	return p;
}

/*
 * Check one transfer-coding s[0..len), a list element with its outer
 * OWS trimmed, and append its canonical form to w (if not NULL).
 *
 * RFC 9112 7 / RFC 9110 10.1.4: token *( OWS ";" OWS token BWS "=" BWS
 * ( token / quoted-string ) ).  We take token values only.  A
 * quoted-string may hold a comma, and list_next() splits on every comma:
 * a quote is where a parser that honours quotes and one that does not
 * disagree about which coding comes last ('x;p=", chunked' ends in
 * chunked to one and not to the other), and that decides the framing.
 * No registered transfer coding takes a parameter anyway, and chunked
 * has none (RFC 9112 7.1), so "chunked;x=1" is refused too rather than
 * read as an unknown coding.
 *
 * Canonical form: coding and parameter names lowercased (they are
 * case-insensitive), parameter values as sent, no whitespace at all
 * (BWS around "=" must not be generated, RFC 9110 5.6.3).  Sets
 * *chunked when the coding is chunked.  Returns 0 or -1.
 */
static int
te_coding(const char *s, size_t len, struct te_out *w, int *chunked)
{
	const char	*e = s + len, *p, *q;

	*chunked = 0;
	if ((q = token_end(s, e)) == s)
		return -1;
	*chunked = ci_equal(s, (size_t)(q - s), "chunked", 7);
	te_put(w, s, (size_t)(q - s), 1);
	p = q;
	while (p < e) {
		if (*chunked)
			return -1;
		p = skip_ows(p, e);
		if (p == e || *p != ';')
			return -1;
		p = skip_ows(p + 1, e);
		if ((q = token_end(p, e)) == p)
			return -1;
		te_put(w, ";", 1, 0);
		te_put(w, p, (size_t)(q - p), 1);
		p = skip_ows(q, e);
		if (p == e || *p != '=')
			return -1;
		p = skip_ows(p + 1, e);
		if ((q = token_end(p, e)) == p)
			return -1;
		te_put(w, "=", 1, 0);
		te_put(w, p, (size_t)(q - p), 0);
		p = q;
	}
	return 0;
}

/*
 * Fold one Transfer-Encoding field's codings into f.  Empty elements
 * are skipped (RFC 9110 5.6.1), so ",chunked" is chunked; the forwarder
 * sends the http_te_normalize() form, never the list as received.
 */
static void
fold_transfer_encoding(struct fields *f, const struct http_header *h)
{
	const char	*p = h->value, *elem;
	size_t		 elen;
	int		 chunked;

	f->te_seen = 1;
	if (h->value_len == 0)
		return;
	while (list_next(&p, h->value + h->value_len, &elem, &elen)) {
		if (elen == 0)
			continue;
		if (te_coding(elem, elen, NULL, &chunked) == -1)
			f->te_invalid = 1;
		f->te_codings++;
		f->te_last_chunked = chunked;
		if (chunked)
			f->te_chunked++;
	}
}

ssize_t
http_te_normalize(const struct http_header *hdrs, size_t n, char *out,
    size_t outlen)
{
	struct te_out	 w;
	const char	*p, *elem;
	size_t		 i, elen;
	int		 chunked;

	if (outlen == 0)
		return -1;
	/* Keep the last byte for the NUL; bounded so the length fits. */
	w.out = out;
	w.cap = outlen - 1 < SSIZE_MAX ? outlen - 1 : SSIZE_MAX;
	w.len = 0;
	w.over = 0;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!http_header_is(&hdrs[i], "Transfer-Encoding") ||
		    hdrs[i].value_len == 0)
			continue;
		p = hdrs[i].value;
		while (list_next(&p, hdrs[i].value + hdrs[i].value_len, &elem,
		    &elen)) {
			if (elen == 0)
				continue;
			if (w.len > 0)
				te_put(&w, ", ", 2, 0);
			if (te_coding(elem, elen, &w, &chunked) == -1) {
				out[0] = '\0';
				return -1;
			}
		}
	}
	if (w.over) {
		out[0] = '\0';
		return -1;
	}
	out[w.len] = '\0';
	return (ssize_t)w.len;
}

/* Collect what framing depends on from all of a message's fields. */
static void
scan_fields(struct fields *f, const struct http_header *hdrs, size_t n)
{
	const struct http_header	*h;
	size_t				 i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		h = &hdrs[i];
		if (http_header_is(h, "Content-Length"))
			fold_content_length(f, h);
		else if (http_header_is(h, "Transfer-Encoding"))
			fold_transfer_encoding(f, h);
		else if (http_header_is(h, "Connection")) {
			f->conn_close |= http_list_has_token(h->value,
			    h->value_len, "close");
			f->conn_keep_alive |= http_list_has_token(h->value,
			    h->value_len, "keep-alive");
		} else if (http_header_is(h, "Expect")) {
			f->expect_seen = 1;
			if (!ci_equal(h->value, h->value_len, "100-continue",
			    12))
				f->expect_other = 1;
		}
	}
}

/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only on "keep-alive". */
static int
keep_alive(int minor_version, const struct fields *f)
{
	if (f->conn_close)
		return 0;
	return minor_version >= 1 || f->conn_keep_alive;
}

static int
framing_fail(struct http_error *err, int status, const char *reason)
{
	set_error(err, status, reason);
	return -1;
}

/*
 * Only a lone "chunked" is accepted: we forward the body unchanged, so
 * any other coding would have to be understood by us and by the server
 * alike, and a request body of unknown length cannot be framed at all
 * (RFC 9112 6.3 says 400/501).
 */
int
http_request_framing(const struct http_request *req, struct http_framing *f,
    struct http_error *err)
{
	struct fields	 fl;

	memset(f, 0, sizeof(*f));
	scan_fields(&fl, req->headers, req->num_headers);
	if (fl.cl_invalid)
		return framing_fail(err, 400, "invalid content-length");
	if (fl.cl_conflict)
		return framing_fail(err, 400, "conflicting content-length");
	if (fl.te_seen && fl.cl_seen)
		return framing_fail(err, 400,
		    "content-length with transfer-encoding");
	/* RFC 9112 6.1: 1.0 has no chunked; such framing is faulty. */
	if (fl.te_seen && req->minor_version == 0)
		return framing_fail(err, 400,
		    "transfer-encoding in HTTP/1.0 request");
	if (fl.te_seen && (fl.te_invalid || fl.te_codings != 1 ||
	    !fl.te_last_chunked))
		return framing_fail(err, 501, "unsupported transfer-encoding");
	if (fl.expect_other)
		return framing_fail(err, 417, "unsupported expectation");
	/* RFC 9110 10.1.1: ignore 100-continue from a 1.0 client. */
	f->expect_continue = fl.expect_seen && req->minor_version >= 1;
	f->keep_alive = keep_alive(req->minor_version, &fl);
	if (fl.te_seen)
		f->body = HTTP_BODY_CHUNKED;
	else if (fl.cl_seen) {
		f->body = HTTP_BODY_LENGTH;
		f->content_length = fl.cl;
	} else
		f->body = HTTP_BODY_NONE;
	return 0;
}

/*
 * RFC 9112 6.3 in order.  Responses that cannot have a body are decided
 * first and their length fields ignored.  Content-Length together with
 * Transfer-Encoding is refused rather than resolved: the forwarder keeps
 * Content-Length, so forwarding it next to chunked framing would hand
 * our client an ambiguous message.
 */
int
http_response_framing(const struct http_response *res, int head_request,
    struct http_framing *f, struct http_error *err)
{
	struct fields	 fl;

	memset(f, 0, sizeof(*f));
	scan_fields(&fl, res->headers, res->num_headers);
	f->keep_alive = keep_alive(res->minor_version, &fl);
	if (head_request || (res->status >= 100 && res->status < 200) ||
	    res->status == 204 || res->status == 304) {
		f->body = HTTP_BODY_NONE;
		return 0;
	}
	if (fl.cl_invalid)
		return framing_fail(err, 502,
		    "invalid upstream content-length");
	if (fl.cl_conflict)
		return framing_fail(err, 502,
		    "conflicting upstream content-length");
	if (fl.te_seen) {
		if (fl.cl_seen)
			return framing_fail(err, 502,
			    "upstream content-length with transfer-encoding");
		if (res->minor_version == 0)
			return framing_fail(err, 502,
			    "transfer-encoding in HTTP/1.0 response");
		if (fl.te_invalid || fl.te_codings == 0 || fl.te_chunked > 1)
			return framing_fail(err, 502,
			    "invalid upstream transfer-encoding");
		if (fl.te_last_chunked) {
			f->body = HTTP_BODY_CHUNKED;
			return 0;
		}
		/* Not chunked last: the body runs until close. */
	} else if (fl.cl_seen) {
		f->body = HTTP_BODY_LENGTH;
		f->content_length = fl.cl;
		return 0;
	}
	f->body = HTTP_BODY_CLOSE;
	f->keep_alive = 0;
	return 0;
}

/*
 * Chunked bodies.  A byte-at-a-time state machine, except that chunk data
 * is skipped in bulk: the scanner only has to find where the body ends.
 */

enum chunk_state {
	CS_SIZE_FIRST = 0,	/* first hex digit of a chunk size */
	CS_SIZE,		/* more digits, extension or CR */
	CS_EXT_BWS,		/* whitespace after the size, before ';' */
	CS_EXT,			/* chunk extension, ignored up to CR */
	CS_SIZE_LF,
	CS_DATA,
	CS_DATA_CR,
	CS_DATA_LF,
	CS_TRAILER_FIRST,	/* a trailer field or the final CRLF */
	CS_TRAILER_NAME,
	CS_TRAILER_VALUE,
	CS_TRAILER_LF,
	CS_END_LF,
	CS_DONE,
	CS_ERROR
};

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CS_SIZE_FIRST;
}

/* Count one byte of a size or trailer line against CHUNK_LINE_MAX. */
static int
chunk_line_byte(struct http_chunked *c)
{
	return ++c->line_len > CHUNK_LINE_MAX ? -1 : 0;
}

static void
chunk_new_line(struct http_chunked *c, int state)
{
	c->state = state;
	c->line_len = 0;
	c->digits = 0;
}

/*
 * One byte of a chunk-size line: hex digits, then optional extensions,
 * then CRLF.  RFC 9112 7.1 puts no bound on the digits, and leading
 * zeros are valid ("000f9" is 249), so only significant digits count:
 * 16 fill the 64-bit size and a 17th would overflow it.  Zeros change
 * no state but the line length, so a run of them costs O(1) memory and
 * is bounded, like the whole line with its extensions, by CHUNK_LINE_MAX.
 */
static int
chunk_size_byte(struct http_chunked *c, unsigned char ch)
{
	int	x;

	switch (c->state) {
	case CS_SIZE_FIRST:
	case CS_SIZE:
		if ((x = hex_value(ch)) != -1) {
			if ((c->digits > 0 || x != 0) && ++c->digits > 16)
				return -1;
			c->remaining = c->remaining << 4 | (uint64_t)x;
			c->state = CS_SIZE;
		} else if (c->state == CS_SIZE_FIRST)
			return -1;
		else if (ch == ';')
			c->state = CS_EXT;
		else if (is_ows(ch))
			c->state = CS_EXT_BWS;
		else if (ch == '\r') {
			c->state = CS_SIZE_LF;
			return 0;
		} else
			return -1;
		return chunk_line_byte(c);
	case CS_EXT_BWS:
		if (ch == ';')
			c->state = CS_EXT;
		else if (!is_ows(ch))
			return -1;
		return chunk_line_byte(c);
	case CS_EXT:
		if (ch == '\r') {
			c->state = CS_SIZE_LF;
			return 0;
		}
		return is_ctl(ch) ? -1 : chunk_line_byte(c);
	default:	/* CS_SIZE_LF */
		if (ch != '\n')
			return -1;
		if (c->remaining > 0)
			c->state = CS_DATA;
		else
			chunk_new_line(c, CS_TRAILER_FIRST);
		return 0;
	}
}

/* One byte of the trailer section: field lines, then an empty line. */
static int
chunk_trailer_byte(struct http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CS_TRAILER_FIRST:
		if (ch == '\r')
			c->state = CS_END_LF;
		else if (is_tchar(ch))
			c->state = CS_TRAILER_NAME;
		else
			return -1;
		return ch == '\r' ? 0 : chunk_line_byte(c);
	case CS_TRAILER_NAME:
		if (ch == ':')
			c->state = CS_TRAILER_VALUE;
		else if (!is_tchar(ch))
			return -1;
		return chunk_line_byte(c);
	case CS_TRAILER_VALUE:
		if (ch == '\r') {
			c->state = CS_TRAILER_LF;
			return 0;
		}
		return is_ctl(ch) ? -1 : chunk_line_byte(c);
	case CS_TRAILER_LF:
		if (ch != '\n')
			return -1;
		chunk_new_line(c, CS_TRAILER_FIRST);
		return 0;
	default:	/* CS_END_LF */
		if (ch != '\n')
			return -1;
		c->state = CS_DONE;
		return 0;
	}
}

/* One byte outside chunk data.  Returns 0 or -1. */
static int
chunk_byte(struct http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CS_SIZE_FIRST:
	case CS_SIZE:
	case CS_EXT_BWS:
	case CS_EXT:
	case CS_SIZE_LF:
		return chunk_size_byte(c, ch);
	case CS_DATA_CR:
		if (ch != '\r')
			return -1;
		c->state = CS_DATA_LF;
		return 0;
	case CS_DATA_LF:
		if (ch != '\n')
			return -1;
		chunk_new_line(c, CS_SIZE_FIRST);
		c->remaining = 0;
		return 0;
	case CS_TRAILER_FIRST:
	case CS_TRAILER_NAME:
	case CS_TRAILER_VALUE:
	case CS_TRAILER_LF:
	case CS_END_LF:
		return chunk_trailer_byte(c, ch);
	default:
		return -1;
	}
}

ssize_t
http_chunked_scan(struct http_chunked *c, const char *buf, size_t len,
    int *done)
{
	size_t	i = 0, n;

	*done = 0;
	if (c->state == CS_ERROR)
		return -1;
	/* The count is returned as an ssize_t. */
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	while (i < len && c->state != CS_DONE) {
		if (c->state == CS_DATA) {
			n = len - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			i += n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CS_DATA_CR;
			continue;
		}
		if (chunk_byte(c, (unsigned char)buf[i]) == -1) {
			c->state = CS_ERROR;
			return -1;
		}
		i++;
	}
	*done = c->state == CS_DONE;
	return (ssize_t)i;
}

uint64_t
http_chunked_data_left(const struct http_chunked *c)
{
	return c->state == CS_DATA ? c->remaining : 0;
}
