/*
 * http_parse.h - HTTP/1.x message heads, framing and chunked bodies.
 *
 * Owns nothing.  Every function here is a pure function over bytes the
 * caller holds: no allocation, no I/O, no global state (picohttpparser
 * style).  The same parser reads client requests and upstream responses.
 *
 * Return convention of the head parsers: bytes consumed (the whole head,
 * including the final CRLF CRLF) on success, HTTP_PARSE_INCOMPLETE when
 * more bytes are needed, HTTP_PARSE_INVALID when the input can never become
 * a valid head; then *err says which status to answer and why.
 *
 * Strict by default: bare LF line endings, obs-fold, NUL and control bytes,
 * whitespace before a header colon, invalid tokens, oversized request lines
 * (414) and oversized heads or header counts (431) are all rejected.
 *
 * This is the one header callers include.  Who implements what:
 *	http_parse.c	heads, header field helpers, request targets
 *	http_body.c	framing (http_*_framing, http_te_normalize) and
 *			the chunked scanner (http_chunked_*)
 *	http_chars.h	the character classes and list splitter both
 *			use (private to them)
 */
#ifndef PROXYD_HTTP_PARSE_H
#define PROXYD_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define HTTP_PARSE_INVALID	(-1)
#define HTTP_PARSE_INCOMPLETE	(-2)

/* The most header fields a head may have (max_headers' bound). */
#define HTTP_HEADERS_MAX	10000

struct http_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* leading/trailing OWS stripped */
	size_t		 value_len;
};

struct http_limits {
	size_t	max_line;	/* request line, CRLF excluded; over: 414 */
	size_t	max_head;	/* whole head; over: 431 */
	size_t	max_headers;	/* header field count; over: 431 */
};

/* Why a message was refused: an HTTP status and a one-line reason. */
struct http_error {
	int		 status;
	const char	*reason;	/* static string, no trailing newline */
};

struct http_request {
	const char		*method;
	size_t			 method_len;
	const char		*target;
	size_t			 target_len;
	int			 minor_version;	/* 0 or 1 */
	struct http_header	*headers;	/* caller's array */
	size_t			 num_headers;	/* in: capacity, out: used */
};

struct http_response {
	int			 minor_version;
	int			 status;	/* 100..999 */
	const char		*reason;
	size_t			 reason_len;
	struct http_header	*headers;
	size_t			 num_headers;	/* in: capacity, out: used */
};

/*
 * Parse a request head in buf[0..len).  Returns bytes consumed,
 * HTTP_PARSE_INCOMPLETE or HTTP_PARSE_INVALID (then *err is set).
 * An incomplete head that already exceeds a limit is INVALID (414/431),
 * so callers may hand over at most lim->max_head + 1 bytes.
 */
int	http_parse_request(const char *buf, size_t len,
	    const struct http_limits *lim, struct http_request *req,
	    struct http_error *err);

/* Same contract for a response head (status line + headers). */
int	http_parse_response(const char *buf, size_t len,
	    const struct http_limits *lim, struct http_response *res,
	    struct http_error *err);

enum http_body_kind {
	HTTP_BODY_NONE,		/* no body at all */
	HTTP_BODY_LENGTH,	/* Content-Length bytes */
	HTTP_BODY_CHUNKED,	/* Transfer-Encoding: chunked */
	HTTP_BODY_CLOSE		/* until the peer closes (responses only) */
};

struct http_framing {
	enum http_body_kind	body;
	uint64_t		content_length;	/* HTTP_BODY_LENGTH only */
	int			keep_alive;	/* version + Connection */
	int			expect_continue; /* Expect: 100-continue */
};

/*
 * Decide how a request's body is framed and whether the connection may be
 * kept alive.  Returns 0, or -1 with *err set: Content-Length together with
 * Transfer-Encoding (400), differing or invalid Content-Length (400), a
 * Transfer-Encoding other than a lone "chunked" (501), an Expect other than
 * 100-continue (417).  Empty elements of a Transfer-Encoding list are
 * ignored: ",chunked" is chunked, and so is an empty Transfer-Encoding
 * field next to a "chunked" one.
 */
int	http_request_framing(const struct http_request *req,
	    struct http_framing *f, struct http_error *err);

/*
 * Same for a response to a request whose method was HEAD (head_request)
 * or CONNECT.  HEAD, 1xx, 204 and 304 have no body.  Returns 0 or -1
 * (502-worthy framing errors from an upstream).  A Transfer-Encoding
 * with a coding that http_te_normalize() cannot pass on is such an
 * error: one that is not a token with token=token parameters (a quoted
 * parameter value, say), or chunked with parameters.
 */
int	http_response_framing(const struct http_response *res,
	    int head_request, struct http_framing *f, struct http_error *err);

/*
 * The one Transfer-Encoding value to send for a message whose fields
 * are hdrs[0..n): the codings of all its Transfer-Encoding fields, in
 * order, joined with ", ".  Lists are split on commas as the framing
 * functions split them; empty elements and the OWS around elements are
 * dropped; coding and parameter names are lowercased, parameter values
 * kept, whitespace inside a coding removed ("GZip ; L = 9" becomes
 * "gzip;l=9").  So ",chunked" gives "chunked", and two fields "gzip"
 * and "Chunked" give "gzip, chunked".  Other fields are ignored.
 *
 * Writes the value and a NUL to out[0..outlen) and returns its length
 * (0 if there is no coding at all).  Returns -1, with out[0] = NUL when
 * outlen > 0, if value and NUL do not fit or a coding is not one
 * http_*_framing() accepts (see http_response_framing()).  An outlen of
 * 2 * (value_len + 1) summed over the Transfer-Encoding fields, plus 1,
 * is always enough.  No allocation.
 *
 * It rewrites, it does not judge: call it once framing has said
 * HTTP_BODY_CHUNKED (then it returns -1 only when out is too small, and
 * the value ends in "chunked"); "chunked, chunked" is written as such.
 */
ssize_t	http_te_normalize(const struct http_header *hdrs, size_t n,
	    char *out, size_t outlen);

/* Are h's name and name[0..len) equal but for ASCII case?  (Lengths too.) */
int	http_header_name_is(const struct http_header *h, const char *name,
	    size_t len);

/*
 * Case-insensitive comparison of a header's name with a NUL-terminated
 * one.  Inline because it runs for every field of every message, mostly
 * with a literal name: strlen() of a literal is a constant, and the
 * length alone tells most names apart without a call.
 */
static inline int
http_header_is(const struct http_header *h, const char *name)
{
	size_t	len = strlen(name);

	return h->name_len == len && http_header_name_is(h, name, len);
}

/* Does the comma-separated token list value[0..len) contain token?  (ci) */
int	http_list_has_token(const char *value, size_t len, const char *token);

/*
 * Is header h hop-by-hop in the message whose headers are hdrs[0..n)?
 * True for Connection, Keep-Alive, Proxy-Connection, Proxy-Authorization,
 * Proxy-Authenticate, TE, Trailer, Transfer-Encoding, Upgrade, and any
 * name listed in a Connection header.  (Transfer-Encoding is re-added by
 * the forwarder when it keeps chunked framing: see http_te_normalize().)
 */
int	http_header_is_hop_by_hop(const struct http_header *h,
	    const struct http_header *hdrs, size_t n);

/*
 * The same for every header at once: hop[i] becomes 1 when hdrs[i] is
 * hop-by-hop, else 0.  Linear in n but for the names Connection lists,
 * where the per-header question is quadratic.  hop has room for n.
 */
void	http_hop_by_hop_mark(const struct http_header *hdrs, size_t n,
	    unsigned char *hop);

/* Is every byte of s[0..len) an RFC 9110 tchar (len > 0)? */
int	http_is_token(const char *s, size_t len);

/*
 * Request targets.  host points into the target (without [] for IPv6
 * literals); path is path + query exactly as sent ("/" when empty).
 */
struct http_uri {
	const char	*host;
	size_t		 host_len;
	uint16_t	 port;
	const char	*path;
	size_t		 path_len;
	int		 path_implied;	/* path was empty: path = "/" */
};

/*
 * Absolute-form "http://host[:port][/path][?query]".  Rejects (400)
 * userinfo, an empty or invalid host, a bad port, a scheme other than
 * http (https in absolute-form is 400: use CONNECT), fragments.
 * Returns 0 or -1 with *err.
 */
int	http_parse_absolute_uri(const char *t, size_t len, struct http_uri *u,
	    struct http_error *err);

/* Authority-form "host:port" for CONNECT (port required).  0 or -1. */
int	http_parse_authority(const char *t, size_t len, struct http_uri *u,
	    struct http_error *err);

/*
 * Chunked framing scanner.  The body bytes are forwarded unchanged; this
 * only finds where the body ends.  The caller owns the state (zeroed with
 * http_chunked_init) and feeds consecutive pieces of the stream.
 */
struct http_chunked {
	int		state;
	uint64_t	remaining;	/* data bytes left in this chunk */
	size_t		line_len;	/* length of the current size/trailer line */
	int		digits;		/* significant hex digits so far */
};

void	http_chunked_init(struct http_chunked *c);

/*
 * Scan buf[0..len).  Returns how many bytes belong to the body (all of
 * len unless the body ends inside buf), sets *done to 1 once the last
 * chunk and trailer section (CRLF) have been consumed, or returns -1 on
 * invalid framing (bad hex, missing CRLF, size overflow, overlong line).
 * A chunk size may have any number of leading zeros; it overflows at 17
 * significant hex digits.  A size line, extensions included, and a
 * trailer line are at most 4096 bytes (CRLF excluded).
 */
ssize_t	http_chunked_scan(struct http_chunked *c, const char *buf, size_t len,
	    int *done);

/*
 * Data bytes of the current chunk still to come when the scanner is
 * inside chunk data, else 0 (it is in framing: size line, CRLF, trailer).
 * A forwarder that strips the framing passes exactly these bytes on.
 */
uint64_t http_chunked_data_left(const struct http_chunked *c);

#endif /* PROXYD_HTTP_PARSE_H */
