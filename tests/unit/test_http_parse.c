/*
 * test_http_parse.c - table-driven tests of the HTTP/1.x parser.
 *
 * Every parser input is copied so that it ends exactly where a PROT_NONE
 * page begins: reading one byte too far crashes the test instead of
 * passing by luck.  Every valid head is also fed in all its prefixes,
 * which must be INCOMPLETE, and every chunked body in all its splits.
 */
#include <sys/mman.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_parse.h"
#include "unit.h"

#define INV	HTTP_PARSE_INVALID
#define INC	HTTP_PARSE_INCOMPLETE
#define ALL	INT_MAX		/* expected: the whole input */

#define ARENA_PAGES	8
#define MAX_HDRS	32

static const struct http_limits default_limits = {
	.max_line = 256,
	.max_head = 1024,
	.max_headers = 16
};

/* The readable pages just below the guard page. */
static char	*arena;
static size_t	 arena_len;

static void
guard_setup(void)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);
	char	*base;

	arena_len = page * ARENA_PAGES;
	base = mmap(NULL, arena_len + page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED || mprotect(base + arena_len, page,
	    PROT_NONE) == -1) {
		perror("mmap");
		exit(2);
	}
	arena = base;
}

/*
 * Copy s[0..len) so that its last byte is the last readable one.  The
 * copy is valid until the next call.
 */
static const char *
guarded(const char *s, size_t len)
{
	if (len > arena_len) {
		fprintf(stderr, "input of %zu bytes too large\n", len);
		exit(2);
	}
	memcpy(arena + arena_len - len, s, len);
	return arena + arena_len - len;
}

/* Build a string of n copies of c after prefix and before suffix. */
static const char *
build(char *dst, size_t size, const char *prefix, int c, size_t n,
    const char *suffix)
{
	size_t	pl = strlen(prefix), sl = strlen(suffix);

	if (pl + n + sl + 1 > size)
		abort();
	memcpy(dst, prefix, pl);
	memset(dst + pl, c, n);
	memcpy(dst + pl + n, suffix, sl + 1);
	return dst;
}

/*
 * Request heads.
 */

struct head_case {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	int		 ret;		/* ALL, a count, INV or INC */
	int		 status;	/* when INV */
	const char	*reason;	/* when INV */
	const char	*dump;		/* when valid: dump_*() */
	size_t		 max_line;	/* 0: the default limit */
	size_t		 max_head;
	size_t		 max_headers;
};

/*
 * Table rows: "len" 0 means strlen(in), a limit of 0 means the default
 * and LIMIT_ZERO means a limit of 0.
 */
#define LIMIT_ZERO	SIZE_MAX
#define HEAD_OK(in, dump)	{ in, 0, ALL, 0, NULL, dump, 0, 0, 0 }
#define HEAD_OK_N(in, n, dump)	{ in, 0, n, 0, NULL, dump, 0, 0, 0 }
#define HEAD_BAD(in, st, why)	{ in, 0, INV, st, why, NULL, 0, 0, 0 }
/* For inputs holding a NUL: the length comes from the literal. */
#define HEAD_BAD_BIN(in, st, why) \
	{ in, sizeof(in) - 1, INV, st, why, NULL, 0, 0, 0 }
#define HEAD_MORE(in)		{ in, 0, INC, 0, NULL, NULL, 0, 0, 0 }

static const struct head_case request_cases[] = {
	/* Valid forms. */
	HEAD_OK("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / 1|Host=a"),
	HEAD_OK("GET http://a.example/x?y=1 HTTP/1.0\r\n\r\n",
	    "GET http://a.example/x?y=1 0"),
	HEAD_OK("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443"
	    "\r\n\r\n",
	    "CONNECT a.example:443 1|Host=a.example:443"),
	HEAD_OK("OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS * 1"),
	HEAD_OK("M-SEARCH!#$%&'*+.^_`|~ / HTTP/1.1\r\n\r\n",
	    "M-SEARCH!#$%&'*+.^_`|~ / 1"),
	HEAD_OK("\r\nGET / HTTP/1.1\r\n\r\n", "GET / 1"),
	HEAD_OK("\r\n\r\nGET / HTTP/1.1\r\n\r\n", "GET / 1"),
	HEAD_OK("GET / HTTP/1.1\r\nX:  \t v a l \t \r\n\r\n",
	    "GET / 1|X=v a l"),
	HEAD_OK("GET / HTTP/1.1\r\nX:\r\nY: \r\n\r\n", "GET / 1|X=|Y="),
	HEAD_OK("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", "GET / 1|X=a\tb"),
	HEAD_OK("GET / HTTP/1.1\r\nX: caf\xc3\xa9\x80\xff\r\n\r\n",
	    "GET / 1|X=caf\xc3\xa9\x80\xff"),
	HEAD_OK("GET / HTTP/1.1\r\nHost: a:80\r\nX-A: b: c\r\n\r\n",
	    "GET / 1|Host=a:80|X-A=b: c"),
	HEAD_OK_N("GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
	    18, "GET / 1"),
	HEAD_OK_N("POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
	    39, "POST /p 1|Content-Length=3"),
	HEAD_OK("GET /~a/b;c=d?e=f&g=%20 HTTP/1.1\r\n\r\n",
	    "GET /~a/b;c=d?e=f&g=%20 1"),

	/* Method. */
	HEAD_BAD("G@T / HTTP/1.1\r\n\r\n", 400, "invalid method token"),
	HEAD_BAD(" GET / HTTP/1.1\r\n\r\n", 400, "invalid method token"),
	HEAD_BAD("GE(T / HTTP/1.1\r\n\r\n", 400, "invalid method token"),
	HEAD_BAD("G\x80T / HTTP/1.1\r\n\r\n", 400, "invalid method token"),
	HEAD_BAD("GET\t/ HTTP/1.1\r\n\r\n", 400, "invalid method token"),
	/* A TLS ClientHello sent to the plain port. */
	HEAD_BAD_BIN("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400,
	    "invalid method token"),

	/* Spaces and the request line's shape. */
	HEAD_BAD("GET  / HTTP/1.1\r\n\r\n", 400, "invalid request target"),
	HEAD_BAD("GET /a b HTTP/1.1\r\n\r\n", 400, "invalid request line"),
	HEAD_BAD("GET / HTTP/1.1 \r\n\r\n", 400, "invalid request line"),
	HEAD_OK("GET / HTTP/1.1\r\n\r\n", "GET / 1"),
	HEAD_BAD("GET /\r\n\r\n", 400, "invalid request line"),
	HEAD_BAD("GET\r\n\r\n", 400, "invalid request line"),
	HEAD_BAD("GET \r\n\r\n", 400, "invalid request line"),
	HEAD_BAD("GET / \r\n\r\n", 400, "invalid HTTP version"),

	/* Target bytes. */
	HEAD_BAD("GET /\x01 HTTP/1.1\r\n\r\n", 400, "invalid request target"),
	HEAD_BAD("GET /\x7f HTTP/1.1\r\n\r\n", 400, "invalid request target"),
	HEAD_BAD("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
	    400, "invalid request target"),
	HEAD_BAD("GET /a\tb HTTP/1.1\r\n\r\n", 400, "invalid request target"),
	HEAD_BAD_BIN("GET /a\0b HTTP/1.1\r\n\r\n", 400,
	    "invalid request target"),

	/* Version. */
	HEAD_OK("GET / HTTP/1.0\r\n\r\n", "GET / 0"),
	HEAD_BAD("GET / HTTP/2.0\r\n\r\n", 505, "HTTP version not supported"),
	HEAD_BAD("GET / HTTP/1.2\r\n\r\n", 505, "HTTP version not supported"),
	HEAD_BAD("GET / HTTP/0.9\r\n\r\n", 505, "HTTP version not supported"),
	HEAD_BAD("GET / HTTP/3.1\r\n\r\n", 505, "HTTP version not supported"),
	HEAD_BAD("GET / http/1.1\r\n\r\n", 400, "invalid HTTP version"),
	HEAD_BAD("GET / HTTP/1.10\r\n\r\n", 400, "invalid HTTP version"),
	HEAD_BAD("GET / HTTP/11\r\n\r\n", 400, "invalid HTTP version"),
	HEAD_BAD("GET / HTTP/1.x\r\n\r\n", 400, "invalid HTTP version"),
	HEAD_BAD("GET / HTTP/2\r\n\r\n", 400, "invalid HTTP version"),
	HEAD_BAD("GET / HTTPS/1.1\r\n\r\n", 400, "invalid HTTP version"),

	/* Line endings. */
	HEAD_BAD("GET / HTTP/1.1\n\n", 400, "bare LF in request head"),
	HEAD_BAD("GET / HTTP/1.1\nHost: a\r\n\r\n",
	    400, "bare LF in request head"),
	HEAD_BAD("GET / HTTP/1.1\r\nHost: a\n\r\n",
	    400, "bare LF in request head"),
	HEAD_BAD("GET / HTTP/1.1\r\nHost: a\r\n\n",
	    400, "bare LF in request head"),
	HEAD_BAD("\nGET / HTTP/1.1\r\n\r\n", 400, "bare LF in request head"),
	HEAD_BAD("\r\n\nGET / HTTP/1.1\r\n\r\n",
	    400, "bare LF in request head"),
	HEAD_BAD("GET / HTTP/1.1\rX: a\r\n\r\n",
	    400, "bare CR in request head"),
	HEAD_BAD("GET / HTTP/1.1\r\n\rX: a\r\n\r\n",
	    400, "bare CR in request head"),
	HEAD_BAD("\rGET / HTTP/1.1\r\n\r\n", 400, "bare CR in request head"),

	/* Field lines. */
	HEAD_BAD("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
	    400, "obs-fold not allowed"),
	HEAD_BAD("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n",
	    400, "obs-fold not allowed"),
	HEAD_BAD("GET / HTTP/1.1\r\n X: a\r\n\r\n",
	    400, "obs-fold not allowed"),
	HEAD_BAD("GET / HTTP/1.1\r\nHost : a\r\n\r\n",
	    400, "whitespace before header colon"),
	HEAD_BAD("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
	    400, "whitespace before header colon"),
	HEAD_BAD("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "invalid header name"),
	HEAD_BAD("GET / HTTP/1.1\r\nX\x01: a\r\n\r\n",
	    400, "invalid header name"),
	HEAD_BAD("GET / HTTP/1.1\r\nX(y): a\r\n\r\n",
	    400, "invalid header name"),
	HEAD_BAD("GET / HTTP/1.1\r\nNoColon\r\n\r\n",
	    400, "invalid header name"),
	HEAD_BAD_BIN("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 400,
	    "control character in header"),
	HEAD_BAD("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
	    400, "control character in header"),
	HEAD_BAD("GET / HTTP/1.1\r\nX: a\x1b[0m\r\n\r\n",
	    400, "control character in header"),
	HEAD_BAD("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
	    400, "control character in header"),
	HEAD_BAD("GET / HTTP/1.1\r\nX: \x0b\r\n\r\n",
	    400, "control character in header"),

	/* Incomplete. */
	HEAD_MORE(""),
	HEAD_MORE("\r"),
	HEAD_MORE("\r\n"),
	HEAD_MORE("GET / HTTP/1.1\r\nHost: a\r\n"),
	HEAD_MORE("GET / HTTP/1.1\r\nHost: a\r\n\r"),

	/* Limits: the line (25 bytes), the count (2), the head (64). */
	{ .in = "GET /23456789012 HTTP/1.1\r\n\r\n", .ret = ALL,
	    .dump = "GET /23456789012 1", .max_line = 25 },
	{ .in = "GET /234567890123 HTTP/1.1\r\n\r\n", .ret = INV,
	    .status = 414, .reason = "request line too long", .max_line = 25 },
	{ .in = "GET /23456789012 HTTP/1.1\r", .ret = INC, .max_line = 25 },
	{ .in = "GET /234567890123 HTTP/1.", .ret = INV, .status = 414,
	    .reason = "request line too long", .max_line = 16 },
	{ .in = "GET /2345678901234567890", .ret = INV, .status = 414,
	    .reason = "request line too long", .max_line = 16 },
	{ .in = "GE( /2345678901234567890", .ret = INV, .status = 400,
	    .reason = "invalid method token", .max_line = 16 },
	{ .in = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", .ret = ALL,
	    .dump = "GET / 1|A=1|B=2", .max_headers = 2 },
	{ .in = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", .ret = INV,
	    .status = 431, .reason = "request header fields too large",
	    .max_headers = 2 },
	{ .in = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC", .ret = INV,
	    .status = 431, .reason = "request header fields too large",
	    .max_headers = 2 },
	{ .in = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r", .ret = INC,
	    .max_headers = 2 },
	{ .in = "GET / HTTP/1.1\r\n\r\n", .ret = ALL, .dump = "GET / 1",
	    .max_headers = LIMIT_ZERO },
	{ .in = "GET / HTTP/1.1\r\nA: 1\r\n\r\n", .ret = INV, .status = 431,
	    .reason = "request header fields too large",
	    .max_headers = LIMIT_ZERO },
	{ .in = "GET / HTTP/1.1\r\nX: 6789012345678901234567890123456789"
	    "0123456\r\n\r\n", .ret = ALL,
	    .dump = "GET / 1|X=67890123456789012345678901234567890123456",
	    .max_head = 64 },
	{ .in = "GET / HTTP/1.1\r\nX: 6789012345678901234567890123456789"
	    "01234567\r\n\r\n", .ret = INV, .status = 431,
	    .reason = "request header fields too large", .max_head = 64 },
	{ .in = "GET / HTTP/1.1\r\nX: 6789012345678901234567890123456789"
	    "012345678901\r\n", .ret = INV, .status = 431,
	    .reason = "request header fields too large", .max_head = 64 },
	{ .in = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	    "\r\n\r\n", .ret = INV, .status = 431,
	    .reason = "request header fields too large", .max_head = 32 },
};

/* "METHOD target minor|name=value|..." for comparing whole parses. */
static void
dump_request(char *out, size_t size, const struct http_request *r)
{
	size_t	i;
	int	n;

	n = snprintf(out, size, "%.*s %.*s %d", (int)r->method_len,
	    r->method, (int)r->target_len, r->target, r->minor_version);
	for (i = 0; i < r->num_headers && n >= 0 && (size_t)n < size; i++)
		n += snprintf(out + n, size - (size_t)n, "|%.*s=%.*s",
		    (int)r->headers[i].name_len, r->headers[i].name,
		    (int)r->headers[i].value_len, r->headers[i].value);
}

static void
dump_response(char *out, size_t size, const struct http_response *r)
{
	size_t	i;
	int	n;

	n = snprintf(out, size, "%d %d %.*s", r->minor_version, r->status,
	    (int)r->reason_len, r->reason);
	for (i = 0; i < r->num_headers && n >= 0 && (size_t)n < size; i++)
		n += snprintf(out + n, size - (size_t)n, "|%.*s=%.*s",
		    (int)r->headers[i].name_len, r->headers[i].name,
		    (int)r->headers[i].value_len, r->headers[i].value);
}

static size_t
pick_limit(size_t v, size_t dflt)
{
	if (v == 0)
		return dflt;
	return v == LIMIT_ZERO ? 0 : v;
}

static struct http_limits
case_limits(const struct head_case *c)
{
	struct http_limits	lim;

	lim.max_line = pick_limit(c->max_line, default_limits.max_line);
	lim.max_head = pick_limit(c->max_head, default_limits.max_head);
	lim.max_headers = pick_limit(c->max_headers,
	    default_limits.max_headers);
	return lim;
}

static int
parse_req(const char *in, size_t len, const struct http_limits *lim,
    struct http_request *req, struct http_header *hdrs,
    struct http_error *err)
{
	memset(req, 0, sizeof(*req));
	req->headers = hdrs;
	req->num_headers = MAX_HDRS;
	err->status = 0;
	err->reason = NULL;
	return http_parse_request(guarded(in, len), len, lim, req, err);
}

static int
parse_res(const char *in, size_t len, const struct http_limits *lim,
    struct http_response *res, struct http_header *hdrs,
    struct http_error *err)
{
	memset(res, 0, sizeof(*res));
	res->headers = hdrs;
	res->num_headers = MAX_HDRS;
	err->status = 0;
	err->reason = NULL;
	return http_parse_response(guarded(in, len), len, lim, res, err);
}

/*
 * Every prefix of a head must be INCOMPLETE up to the head's end and the
 * head's length from there on; no prefix of an invalid input may parse.
 * Returns the first prefix length that broke the rule, or -1.
 */
static long
prefix_violation(const struct head_case *c, size_t len, int ret, int response)
{
	struct http_limits	 lim = case_limits(c);
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_response	 res;
	struct http_error	 err;
	size_t			 k;
	int			 r;

	for (k = 0; k < len; k++) {
		if (response)
			r = parse_res(c->in, k, &lim, &res, hdrs, &err);
		else
			r = parse_req(c->in, k, &lim, &req, hdrs, &err);
		if (ret >= 0 && r != ((int)k < ret ? INC : ret))
			return (long)k;
		if (ret < 0 && r != INC && r != INV)
			return (long)k;
		if (r == INV && (err.status == 0 || err.reason == NULL))
			return (long)k;
	}
	return -1;
}

static void
check_head_case(const struct head_case *c, int response)
{
	struct http_limits	 lim = case_limits(c);
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_response	 res;
	struct http_error	 err;
	char			 dump[1024];
	size_t			 len = c->len ? c->len : strlen(c->in);
	int			 want, r;
	long			 bad;

	want = c->ret == ALL ? (int)len : c->ret;
	if (response)
		r = parse_res(c->in, len, &lim, &res, hdrs, &err);
	else
		r = parse_req(c->in, len, &lim, &req, hdrs, &err);
	CHECK(r == want, "%s %.*s: got %d, want %d", response ? "res" : "req",
	    (int)len, c->in, r, want);
	if (r == want && want == INV) {
		CHECK(err.status == c->status && err.reason != NULL &&
		    strcmp(err.reason, c->reason) == 0,
		    "%.*s: got %d \"%s\", want %d \"%s\"", (int)len, c->in,
		    err.status, err.reason ? err.reason : "(null)", c->status,
		    c->reason);
	}
	if (r == want && want >= 0 && c->dump != NULL) {
		if (response)
			dump_response(dump, sizeof(dump), &res);
		else
			dump_request(dump, sizeof(dump), &req);
		CHECK(strcmp(dump, c->dump) == 0, "%.*s: parsed as \"%s\"",
		    (int)len, c->in, dump);
	}
	bad = prefix_violation(c, len, want, response);
	CHECK(bad == -1, "%.*s: prefix of %ld bytes misparsed", (int)len,
	    c->in, bad);
}

/* A retry after INCOMPLETE must find the caller's capacity untouched. */
static void
test_capacity(void)
{
	static const char	 in[] =
	    "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
	struct http_header	 hdrs[2];
	struct http_request	 req;
	struct http_error	 err;
	int			 r;

	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.num_headers = 2;
	r = http_parse_request(guarded(in, 20), 20, &default_limits, &req,
	    &err);
	CHECK(r == INC && req.num_headers == 2, "capacity after INCOMPLETE");
	r = http_parse_request(guarded(in, sizeof(in) - 1), sizeof(in) - 1,
	    &default_limits, &req, &err);
	CHECK(r == (int)sizeof(in) - 1 && req.num_headers == 2,
	    "two headers in a capacity of two");
	req.num_headers = 1;
	r = http_parse_request(guarded(in, sizeof(in) - 1), sizeof(in) - 1,
	    &default_limits, &req, &err);
	CHECK(r == INV && err.status == 431, "capacity below max_headers");
}

/* A request line of exactly max_line bytes, built at run time. */
static void
test_long_lines(void)
{
	struct http_limits	 lim = { 4000, 8000, 16 };
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_error	 err;
	char			 buf[8200];
	size_t			 n;
	int			 r;

	/* "GET /" + a's + " HTTP/1.1" is 14 bytes plus the a's. */
	build(buf, sizeof(buf), "GET /", 'a', 4000 - 14, " HTTP/1.1\r\n\r\n");
	n = strlen(buf);
	r = parse_req(buf, n, &lim, &req, hdrs, &err);
	CHECK(r == (int)n, "line of max_line bytes: %d", r);
	build(buf, sizeof(buf), "GET /", 'a', 4001 - 14, " HTTP/1.1\r\n\r\n");
	r = parse_req(buf, strlen(buf), &lim, &req, hdrs, &err);
	CHECK(r == INV && err.status == 414, "max_line + 1: %d", r);
	/* A head larger than max_head, handed over as max_head + 1. */
	build(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: ", 'b', 8100, "\r\n");
	r = parse_req(buf, 8001, &lim, &req, hdrs, &err);
	CHECK(r == INV && err.status == 431, "max_head + 1: %d", r);
	r = parse_req(buf, 8000, &lim, &req, hdrs, &err);
	CHECK(r == INC, "max_head bytes of a head: %d", r);
}

/*
 * Response heads.
 */

static const struct head_case response_cases[] = {
	HEAD_OK("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
	    "1 200 OK|Content-Length=5"),
	HEAD_OK("HTTP/1.0 404 Not Found\r\n\r\n", "0 404 Not Found"),
	HEAD_OK("HTTP/1.1 204 \r\n\r\n", "1 204 "),
	HEAD_OK("HTTP/1.1 204\r\n\r\n", "1 204 "),
	HEAD_OK("HTTP/1.1 999 x\r\n\r\n", "1 999 x"),
	HEAD_OK_N("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	    25, "1 100 Continue"),
	HEAD_OK("HTTP/1.1 200 caf\xc3\xa9 \tok\r\n\r\n",
	    "1 200 caf\xc3\xa9 \tok"),
	HEAD_OK_N("HTTP/1.1 200 OK\r\nA:  b \r\n\r\nbody", 27, "1 200 OK|A=b"),
	HEAD_BAD("HTTP/1.1 20 OK\r\n\r\n",
	    502, "invalid upstream status line"),
	HEAD_BAD("HTTP/1.1 2000 OK\r\n\r\n",
	    502, "invalid upstream status line"),
	HEAD_BAD("HTTP/1.1 099 OK\r\n\r\n",
	    502, "invalid upstream status line"),
	HEAD_BAD("HTTP/1.1  200 OK\r\n\r\n",
	    502, "invalid upstream status line"),
	HEAD_BAD("HTTP/1.1 2x0 OK\r\n\r\n",
	    502, "invalid upstream status line"),
	HEAD_BAD("HTTP/1.1\r\n\r\n", 502, "invalid upstream status line"),
	HEAD_BAD("HTTP/1.1 200 O\x01K\r\n\r\n",
	    502, "invalid upstream status line"),
	HEAD_BAD("HTTP/2.0 200 OK\r\n\r\n",
	    502, "upstream HTTP version not supported"),
	HEAD_BAD("HTTP/2 200 OK\r\n\r\n",
	    502, "invalid upstream HTTP version"),
	HEAD_BAD("ICY 200 OK\r\n\r\n", 502, "invalid upstream HTTP version"),
	HEAD_BAD("\r\nHTTP/1.1 200 OK\r\n\r\n",
	    502, "invalid upstream HTTP version"),
	HEAD_BAD("HTTP/1.1 200 OK\n\n", 502, "bare LF in response head"),
	HEAD_BAD("HTTP/1.1 200 OK\r\nA: b\n\r\n",
	    502, "bare LF in response head"),
	HEAD_BAD("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
	    502, "obs-fold not allowed"),
	HEAD_BAD("HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
	    502, "whitespace before header colon"),
	HEAD_BAD_BIN("HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", 502,
	    "control character in header"),
	HEAD_BAD("HTTP/1.1 200 OK\r\n@: b\r\n\r\n",
	    502, "invalid header name"),
	{ .in = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", .ret = INV,
	    .status = 502, .reason = "upstream response head too large",
	    .max_headers = 2 },
	{ .in = "HTTP/1.1 200 OK\r\nA: 12345678901234567890123456789012345"
	    "678901234567\r\n\r\n", .ret = INV, .status = 502,
	    .reason = "upstream response head too large", .max_head = 64 },
	{ .in = "HTTP/1.1 200 OK, and a long reason", .ret = INV,
	    .status = 502, .reason = "upstream status line too long",
	    .max_line = 20 },
	HEAD_MORE("HTTP/1.1 200 OK\r\n"),
	HEAD_MORE("HTTP/1.1 2"),
};

/*
 * Framing.
 */

struct req_framing_case {
	const char		*in;
	int			 ret;		/* 0 or -1 */
	int			 status;
	const char		*reason;
	enum http_body_kind	 body;
	uint64_t		 cl;
	int			 keep_alive;
	int			 expect;
};

static const struct req_framing_case req_framing_cases[] = {
	{ "GET / HTTP/1.1\r\n\r\n", 0, 0, NULL, HTTP_BODY_NONE, 0, 1, 0 },
	{ "GET / HTTP/1.0\r\n\r\n", 0, 0, NULL, HTTP_BODY_NONE, 0, 0, 0 },
	{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_NONE, 0, 1, 0 },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0, 0,
	    NULL, HTTP_BODY_NONE, 0, 0, 0 },
	{ "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "GET / HTTP/1.1\r\nConnection: a\r\nConnection: close\r\n\r\n", 0,
	    0, NULL, HTTP_BODY_NONE, 0, 0, 0 },
	{ "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_NONE, 0, 1, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_LENGTH, 5, 1, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_LENGTH, 0, 1, 0 },
	{ "POST / HTTP/1.1\r\ncontent-length: 5, 5\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_LENGTH, 5, 1, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
	    0, 0, NULL, HTTP_BODY_LENGTH, 5, 1, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_LENGTH, 7, 1, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n",
	    0, 0, NULL, HTTP_BODY_LENGTH, 9223372036854775807ULL, 1, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    -1, 400, "conflicting content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", -1, 400,
	    "conflicting content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", -1, 400,
	    "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -1, 400,
	    "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", -1, 400,
	    "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n", -1, 400,
	    "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", -1, 400,
	    "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", -1, 400,
	    "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", -1, 400,
	    "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n",
	    -1, 400, "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n"
	    "\r\n", -1, 400, "invalid content-length",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0,
	    NULL, HTTP_BODY_CHUNKED, 0, 1, 0 },
	{ "POST / HTTP/1.1\r\ntransfer-encoding: ChUnKeD\r\n\r\n", 0, 0,
	    NULL, HTTP_BODY_CHUNKED, 0, 1, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", -1, 400,
	    "content-length with transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -1, 400,
	    "transfer-encoding in HTTP/1.0 request",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -1,
	    501, "unsupported transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", -1, 501,
	    "unsupported transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	    -1, 501, "unsupported transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", -1, 501,
	    "unsupported transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", -1,
	    501, "unsupported transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", -1, 501,
	    "unsupported transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", -1, 501,
	    "unsupported transfer-encoding",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\n", 0, 0, NULL, HTTP_BODY_LENGTH, 1, 1,
	    1 },
	{ "POST / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_NONE, 0, 1, 1 },
	{ "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", 0, 0, NULL,
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", -1, 417,
	    "unsupported expectation",
	    HTTP_BODY_NONE, 0, 0, 0 },
	{ "POST / HTTP/1.1\r\nExpect: 100-continue, x\r\n\r\n", -1, 417,
	    "unsupported expectation",
	    HTTP_BODY_NONE, 0, 0, 0 },
};

static void
check_req_framing(const struct req_framing_case *c)
{
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_framing	 f;
	struct http_error	 err = { 0, NULL };
	size_t			 len = strlen(c->in);
	int			 r;

	r = parse_req(c->in, len, &default_limits, &req, hdrs, &err);
	CHECK(r == (int)len, "%s: head does not parse (%d)", c->in, r);
	if (r != (int)len)
		return;
	r = http_request_framing(&req, &f, &err);
	CHECK(r == c->ret, "framing %s: got %d", c->in, r);
	if (r != c->ret)
		return;
	if (r == -1) {
		CHECK(err.status == c->status &&
		    strcmp(err.reason, c->reason) == 0,
		    "framing %s: got %d %s", c->in, err.status, err.reason);
		return;
	}
	CHECK(f.body == c->body && f.content_length == c->cl &&
	    f.keep_alive == c->keep_alive && f.expect_continue == c->expect,
	    "framing %s: body %d cl %llu ka %d expect %d", c->in, f.body,
	    (unsigned long long)f.content_length, f.keep_alive,
	    f.expect_continue);
}

struct res_framing_case {
	const char		*in;
	int			 head_request;
	int			 ret;
	int			 status;
	enum http_body_kind	 body;
	uint64_t		 cl;
	int			 keep_alive;
};

static const struct res_framing_case res_framing_cases[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 0, 0, 0,
	    HTTP_BODY_LENGTH, 5, 1 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", 0, 0, 0,
	    HTTP_BODY_LENGTH, 5, 1 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0, 0,
	    HTTP_BODY_CHUNKED, 0, 1 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0,
	    0, 0, HTTP_BODY_CHUNKED, 0, 1 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 0, 0,
	    HTTP_BODY_CLOSE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\n\r\n", 0, 0, 0, HTTP_BODY_CLOSE, 0, 0 },
	{ "HTTP/1.0 200 OK\r\n\r\n", 0, 0, 0, HTTP_BODY_CLOSE, 0, 0 },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n", 0, 0, 0,
	    HTTP_BODY_LENGTH, 5, 0 },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5"
	    "\r\n\r\n", 0, 0, 0, HTTP_BODY_LENGTH, 5, 1 },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5"
	    "\r\n\r\n", 0, 0, 0, HTTP_BODY_LENGTH, 5, 0 },
	{ "HTTP/1.1 204 No Content\r\n\r\n", 0, 0, 0, HTTP_BODY_NONE, 0, 1 },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", 0, 0,
	    0, HTTP_BODY_NONE, 0, 1 },
	{ "HTTP/1.1 100 Continue\r\n\r\n", 0, 0, 0, HTTP_BODY_NONE, 0, 1 },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, 0, 0,
	    HTTP_BODY_NONE, 0, 1 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 1, 0, 0,
	    HTTP_BODY_NONE, 0, 1 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1, 0, 0,
	    HTTP_BODY_NONE, 0, 1 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0, -1, 502,
	    HTTP_BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
	    "\r\n", 0, -1, 502, HTTP_BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 0, -1, 502, HTTP_BODY_NONE,
	    0, 0 },
	{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, -1,
	    502, HTTP_BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	    0, -1, 502, HTTP_BODY_NONE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", 0, -1, 502,
	    HTTP_BODY_NONE, 0, 0 },
};

static void
check_res_framing(const struct res_framing_case *c)
{
	struct http_header	 hdrs[MAX_HDRS];
	struct http_response	 res;
	struct http_framing	 f;
	struct http_error	 err = { 0, NULL };
	size_t			 len = strlen(c->in);
	int			 r;

	r = parse_res(c->in, len, &default_limits, &res, hdrs, &err);
	CHECK(r == (int)len, "%s: head does not parse (%d)", c->in, r);
	if (r != (int)len)
		return;
	r = http_response_framing(&res, c->head_request, &f, &err);
	CHECK(r == c->ret, "framing %s: got %d", c->in, r);
	if (r != c->ret)
		return;
	if (r == -1) {
		CHECK(err.status == c->status && err.reason != NULL,
		    "framing %s: got %d", c->in, err.status);
		return;
	}
	CHECK(f.body == c->body && f.content_length == c->cl &&
	    f.keep_alive == c->keep_alive,
	    "framing %s: body %d cl %llu ka %d", c->in, f.body,
	    (unsigned long long)f.content_length, f.keep_alive);
}

/*
 * Header helpers.
 */

static const struct {
	const char	*value;
	const char	*token;
	int		 want;
} list_cases[] = {
	{ "close", "close", 1 },
	{ " Close\t", "close", 1 },
	{ "foo, close", "CLOSE", 1 },
	{ "foo,close,bar", "close", 1 },
	{ ",,close,,", "close", 1 },
	{ "keep-alive , Upgrade", "upgrade", 1 },
	{ "closed", "close", 0 },
	{ "x-close", "close", 0 },
	{ "clo se", "close", 0 },
	{ "foo", "close", 0 },
	{ "", "close", 0 },
	{ "close", "", 0 },
	{ ",", "", 0 },
	{ "", "", 0 },
};

static const struct {
	const char	*name;
	int		 want;
} hop_cases[] = {
	{ "Connection", 1 },
	{ "keep-alive", 1 },
	{ "Proxy-Connection", 1 },
	{ "proxy-authorization", 1 },
	{ "Proxy-Authenticate", 1 },
	{ "TE", 1 },
	{ "Trailer", 1 },
	{ "Transfer-Encoding", 1 },
	{ "UPGRADE", 1 },
	{ "X-Foo", 1 },
	{ "x-foo", 1 },
	{ "X-Baz", 1 },
	{ "X-Bar", 0 },
	{ "Host", 0 },
	{ "Content-Length", 0 },
	{ "Trailers", 0 },
	{ "Proxy", 0 },
};

static const struct {
	const char	*s;
	int		 want;
} token_cases[] = {
	{ "GET", 1 },
	{ "!#$%&'*+-.^_`|~09azAZ", 1 },
	{ "", 0 },
	{ "a b", 0 },
	{ "x:y", 0 },
	{ "a\"b", 0 },
	{ "(x)", 0 },
	{ "a/b", 0 },
	{ "\x80", 0 },
	{ "a\x7f", 0 },
	{ "{}", 0 },
};

static struct http_header
header(const char *name, const char *value)
{
	struct http_header	h;

	h.name = name;
	h.name_len = strlen(name);
	h.value = value;
	h.value_len = strlen(value);
	return h;
}

static void
test_helpers(void)
{
	struct http_header	 msg[4], h;
	unsigned char		 hop[4];
	const char		*g;
	size_t			 i, len;

	for (i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		len = strlen(list_cases[i].value);
		g = guarded(list_cases[i].value, len);
		CHECK(http_list_has_token(g, len, list_cases[i].token) ==
		    list_cases[i].want, "list \"%s\" has \"%s\"",
		    list_cases[i].value, list_cases[i].token);
	}
	msg[0] = header("Host", "a");
	msg[1] = header("Connection", "X-Foo, keep-alive");
	msg[2] = header("connection", "x-baz");
	for (i = 0; i < sizeof(hop_cases) / sizeof(hop_cases[0]); i++) {
		h = header(hop_cases[i].name, "v");
		CHECK(http_header_is_hop_by_hop(&h, msg, 3) ==
		    hop_cases[i].want, "hop-by-hop %s", hop_cases[i].name);
		/* The all-at-once marking agrees, wherever h stands. */
		msg[3] = h;
		http_hop_by_hop_mark(msg, 4, hop);
		CHECK(hop[3] == hop_cases[i].want && hop[0] == 0 &&
		    hop[1] == 1 && hop[2] == 1, "hop-by-hop mark %s",
		    hop_cases[i].name);
	}
	for (i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); i++) {
		len = strlen(token_cases[i].s);
		g = guarded(token_cases[i].s, len);
		CHECK(http_is_token(g, len) == token_cases[i].want,
		    "token \"%s\"", token_cases[i].s);
	}
	h = header("Content-Length", "1");
	CHECK(http_header_is(&h, "content-length"), "header_is ci");
	CHECK(!http_header_is(&h, "Content-Lengt"), "header_is prefix");
	CHECK(!http_header_is(&h, "Content-Length2"), "header_is longer");
}

/*
 * Transfer-Encoding as forwarded (issue 8, bug 6): what the framing
 * functions make of the fields, and what http_te_normalize() writes for
 * them.  Rows are the fields of a POST request or a 200 response.
 */

#define TE_REQ	0
#define TE_RES	1
#define TE_FAIL	NULL	/* http_te_normalize() returns -1 */

struct te_case {
	int			 response;
	const char		*fields;
	int			 ret;		/* framing: 0 or -1 */
	enum http_body_kind	 body;		/* when 0 */
	const char		*te;		/* normalized, or TE_FAIL */
};

static const struct te_case te_cases[] = {
	/* The forms of the report: empty list elements are dropped. */
	{ TE_REQ, "Transfer-Encoding: ,chunked\r\n", 0, HTTP_BODY_CHUNKED,
	    "chunked" },
	{ TE_REQ, "Transfer-Encoding: chunked,\r\n", 0, HTTP_BODY_CHUNKED,
	    "chunked" },
	{ TE_REQ, "Transfer-Encoding: , chunked\r\n", 0, HTTP_BODY_CHUNKED,
	    "chunked" },
	{ TE_REQ, "Transfer-Encoding: chunked, ,\r\n", 0, HTTP_BODY_CHUNKED,
	    "chunked" },
	{ TE_REQ, "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n", 0,
	    HTTP_BODY_CHUNKED, "chunked" },
	{ TE_REQ, "Transfer-Encoding: chunked\r\nTransfer-Encoding:  \r\n",
	    0, HTTP_BODY_CHUNKED, "chunked" },
	{ TE_REQ, "Transfer-Encoding: ,,\t, ,chunked , ,,\r\n", 0,
	    HTTP_BODY_CHUNKED, "chunked" },
	{ TE_REQ, "Transfer-Encoding: chunked\r\n", 0, HTTP_BODY_CHUNKED,
	    "chunked" },
	{ TE_REQ, "transfer-encoding: ChUnKeD\r\n", 0, HTTP_BODY_CHUNKED,
	    "chunked" },
	{ TE_REQ, "Host: a\r\nTransfer-Encoding: CHUNKED\r\nX: gzip\r\n", 0,
	    HTTP_BODY_CHUNKED, "chunked" },
	/* Refused requests: normalized all the same, or not at all. */
	{ TE_REQ, "Transfer-Encoding: gzip, chunked\r\n", -1, HTTP_BODY_NONE,
	    "gzip, chunked" },
	{ TE_REQ, "Transfer-Encoding: chunked, chunked\r\n", -1,
	    HTTP_BODY_NONE, "chunked, chunked" },
	{ TE_REQ, "Transfer-Encoding: chunked;q=1\r\n", -1, HTTP_BODY_NONE,
	    TE_FAIL },
	{ TE_REQ, "Transfer-Encoding: \"chunked\"\r\n", -1, HTTP_BODY_NONE,
	    TE_FAIL },
	{ TE_REQ, "Transfer-Encoding: chunked x\r\n", -1, HTTP_BODY_NONE,
	    TE_FAIL },
	{ TE_REQ, "Transfer-Encoding:\r\n", -1, HTTP_BODY_NONE, "" },
	{ TE_REQ, "Transfer-Encoding: ,\r\n", -1, HTTP_BODY_NONE, "" },
	/* Responses may carry other codings before chunked. */
	{ TE_RES, "Transfer-Encoding: gzip, chunked\r\n", 0,
	    HTTP_BODY_CHUNKED, "gzip, chunked" },
	{ TE_RES, "Transfer-Encoding: gzip,chunked\r\n", 0,
	    HTTP_BODY_CHUNKED, "gzip, chunked" },
	{ TE_RES, "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
	    0, HTTP_BODY_CHUNKED, "gzip, chunked" },
	{ TE_RES, "Transfer-Encoding: GZip ,\tChunked\r\n", 0,
	    HTTP_BODY_CHUNKED, "gzip, chunked" },
	{ TE_RES, "Transfer-Encoding: ,gzip,,\r\nTransfer-Encoding:\r\n"
	    "Transfer-Encoding: , chunked\r\n", 0, HTTP_BODY_CHUNKED,
	    "gzip, chunked" },
	{ TE_RES, "Transfer-Encoding: x-custom, deflate, chunked\r\n", 0,
	    HTTP_BODY_CHUNKED, "x-custom, deflate, chunked" },
	{ TE_RES, "Transfer-Encoding: gzip;level=9, chunked\r\n", 0,
	    HTTP_BODY_CHUNKED, "gzip;level=9, chunked" },
	{ TE_RES, "Transfer-Encoding: GZIP ; Level = AbC\t;b=1, chunked\r\n",
	    0, HTTP_BODY_CHUNKED, "gzip;level=AbC;b=1, chunked" },
	{ TE_RES, "Transfer-Encoding: gzip\r\n", 0, HTTP_BODY_CLOSE, "gzip" },
	{ TE_RES, "Transfer-Encoding: chunked, gzip\r\n", 0, HTTP_BODY_CLOSE,
	    "chunked, gzip" },
	{ TE_RES, "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
	    "\r\n", -1, HTTP_BODY_NONE, "chunked, chunked" },
	{ TE_RES, "Transfer-Encoding: , ,\r\n", -1, HTTP_BODY_NONE, "" },
	/*
	 * Codings we cannot pass on unambiguously: quoted parameter values
	 * (a quoted comma would split differently downstream), chunked with
	 * parameters, anything not token [; token=token].
	 */
	{ TE_RES, "Transfer-Encoding: x;p=\", chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: x;p=\"a\", chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: x;p=\"a,b\", chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: \"chunked\"\r\n", -1, HTTP_BODY_NONE,
	    TE_FAIL },
	{ TE_RES, "Transfer-Encoding: chunked;x=1\r\n", -1, HTTP_BODY_NONE,
	    TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip, chunked ;x=1\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip;, chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip;=1, chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip;a, chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip;a=, chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip;a=1=2, chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: g zip, chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip/1, chunked\r\n", -1,
	    HTTP_BODY_NONE, TE_FAIL },
	{ TE_RES, "Transfer-Encoding: ;, chunked\r\n", -1, HTTP_BODY_NONE,
	    TE_FAIL },
	{ TE_RES, "Transfer-Encoding: gzip\r\nTransfer-Encoding: x y\r\n"
	    "Transfer-Encoding: chunked\r\n", -1, HTTP_BODY_NONE, TE_FAIL },
};

static void
check_te_case(const struct te_case *c)
{
	char			 head[512], out[128];
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_response	 res;
	struct http_framing	 f;
	struct http_error	 err = { 0, NULL };
	const struct http_header *h;
	size_t			 len, n, i, bound = 1;
	ssize_t			 r;
	int			 ret;

	snprintf(head, sizeof(head), "%s%s\r\n", c->response ?
	    "HTTP/1.1 200 OK\r\n" : "POST / HTTP/1.1\r\n", c->fields);
	len = strlen(head);
	if (c->response) {
		ret = parse_res(head, len, &default_limits, &res, hdrs, &err);
		h = res.headers;
		n = res.num_headers;
	} else {
		ret = parse_req(head, len, &default_limits, &req, hdrs, &err);
		h = req.headers;
		n = req.num_headers;
	}
	CHECK(ret == (int)len, "te %s: head does not parse (%d)", c->fields,
	    ret);
	if (ret != (int)len)
		return;
	ret = c->response ? http_response_framing(&res, 0, &f, &err) :
	    http_request_framing(&req, &f, &err);
	CHECK(ret == c->ret && (ret == -1 || f.body == c->body),
	    "te %s: framing %d body %d", c->fields, ret, f.body);
	CHECK(ret == -1 || c->te != TE_FAIL,
	    "te %s: framing accepts what cannot be normalized", c->fields);

	memset(out, 'Z', sizeof(out));
	r = http_te_normalize(h, n, out, sizeof(out) - 8);
	if (c->te == TE_FAIL)
		CHECK(r == -1 && out[0] == '\0', "te %s: normalized to %zd",
		    c->fields, r);
	else
		CHECK(r == (ssize_t)strlen(c->te) && strcmp(out, c->te) == 0,
		    "te %s: normalized to %zd \"%.*s\", want \"%s\"",
		    c->fields, r, r > 0 ? (int)r : 0, out, c->te);
	CHECK(memcmp(out + sizeof(out) - 8, "ZZZZZZZZ", 8) == 0,
	    "te %s: wrote past outlen", c->fields);
	if (c->te == TE_FAIL)
		return;
	/* Exactly the room for value and NUL, and one byte less. */
	memset(out, 'Z', sizeof(out));
	len = strlen(c->te);
	r = http_te_normalize(h, n, out, len + 1);
	CHECK(r == (ssize_t)len && strcmp(out, c->te) == 0,
	    "te %s: exact fit gave %zd", c->fields, r);
	CHECK(out[len + 1] == 'Z', "te %s: exact fit overran", c->fields);
	memset(out, 'Z', sizeof(out));
	r = http_te_normalize(h, n, out, len);
	CHECK(r == -1 && (len == 0 || out[0] == '\0') && out[len] == 'Z',
	    "te %s: one byte short gave %zd", c->fields, r);
	/* The documented bound on the room needed holds. */
	for (i = 0; i < n; i++)
		if (http_header_is(&h[i], "Transfer-Encoding"))
			bound += 2 * (h[i].value_len + 1);
	CHECK(len + 1 <= bound, "te %s: %zu over the bound %zu", c->fields,
	    len + 1, bound);
	/* Normalized, it reads the same and normalizes to itself. */
	snprintf(head, sizeof(head), "%sTransfer-Encoding: %s\r\n\r\n",
	    c->response ? "HTTP/1.1 200 OK\r\n" : "POST / HTTP/1.1\r\n",
	    c->te);
	len = strlen(head);
	if (c->response) {
		ret = parse_res(head, len, &default_limits, &res, hdrs, &err);
		if (ret == (int)len && (ret = http_response_framing(&res, 0,
		    &f, &err)) == 0)
			r = http_te_normalize(res.headers, res.num_headers, out,
			    sizeof(out));
	} else {
		ret = parse_req(head, len, &default_limits, &req, hdrs, &err);
		if (ret == (int)len && (ret = http_request_framing(&req, &f,
		    &err)) == 0)
			r = http_te_normalize(req.headers, req.num_headers, out,
			    sizeof(out));
	}
	if (c->ret == 0 && c->te[0] != '\0')
		CHECK(ret == 0 && f.body == c->body && strcmp(out, c->te) == 0,
		    "te %s: normalized form reads differently", c->fields);
}

/* Edge cases of the buffer and of the fields looked at. */
static void
test_te_normalize(void)
{
	struct http_header	 h[4];
	char			 out[64];
	ssize_t			 r;

	h[0] = header("Content-Type", "a, b");
	h[1] = header("TE", "trailers");
	h[2] = header("transfer-ENCODING", "Chunked");
	h[3] = header("Transfer-Encoding-X", "gzip");
	r = http_te_normalize(h, 4, out, sizeof(out));
	CHECK(r == 7 && strcmp(out, "chunked") == 0,
	    "te: only Transfer-Encoding fields: %zd %s", r, out);
	r = http_te_normalize(h, 0, out, sizeof(out));
	CHECK(r == 0 && out[0] == '\0', "te: no fields: %zd", r);
	r = http_te_normalize(h, 2, out, 1);
	CHECK(r == 0 && out[0] == '\0', "te: no codings, room for NUL: %zd",
	    r);
	out[0] = 'Z';
	r = http_te_normalize(h, 2, out, 0);
	CHECK(r == -1 && out[0] == 'Z', "te: outlen 0: %zd", r);
	r = http_te_normalize(h, 2, NULL, 0);
	CHECK(r == -1, "te: NULL out, outlen 0: %zd", r);
	/* A later field that does not fit fails the whole value. */
	h[0] = header("Transfer-Encoding", "gzip");
	h[1] = header("Transfer-Encoding", "deflate");
	h[2] = header("Transfer-Encoding", "chunked");
	r = http_te_normalize(h, 3, out, 15);
	CHECK(r == -1 && out[0] == '\0', "te: 22 bytes into 15: %zd", r);
	r = http_te_normalize(h, 3, out, 22);
	CHECK(r == -1 && out[0] == '\0', "te: 22 bytes into 22: %zd", r);
	r = http_te_normalize(h, 3, out, 23);
	CHECK(r == 22 && strcmp(out, "gzip, deflate, chunked") == 0,
	    "te: 22 bytes into 23: %zd", r);
}

/*
 * Request targets.
 */

struct uri_case {
	const char	*in;
	int		 ret;
	const char	*reason;	/* when -1 */
	const char	*host;
	uint16_t	 port;
	const char	*path;
	int		 implied;
};

static const struct uri_case uri_cases[] = {
	{ "http://example.com/", 0, NULL, "example.com", 80, "/", 0 },
	{ "HTTP://Example.COM:8080/a/b?c=d", 0, NULL, "Example.COM", 8080,
	    "/a/b?c=d", 0 },
	{ "hTtP://example.com", 0, NULL, "example.com", 80, "/", 1 },
	{ "http://example.com:", 0, NULL, "example.com", 80, "/", 1 },
	{ "http://example.com:/x", 0, NULL, "example.com", 80, "/x", 0 },
	{ "http://example.com?q=1", 0, NULL, "example.com", 80, "?q=1", 0 },
	{ "http://example.com:81?q", 0, NULL, "example.com", 81, "?q", 0 },
	{ "http://1.2.3.4:65535/x", 0, NULL, "1.2.3.4", 65535, "/x", 0 },
	{ "http://a:00080/", 0, NULL, "a", 80, "/", 0 },
	{ "http://[::1]/", 0, NULL, "::1", 80, "/", 0 },
	{ "http://[2001:DB8::1]:8080", 0, NULL, "2001:DB8::1", 8080, "/",
	    1 },
	{ "http://[::ffff:1.2.3.4]:1/", 0, NULL, "::ffff:1.2.3.4", 1, "/",
	    0 },
	{ "http://my_host-1.example./p@q", 0, NULL, "my_host-1.example.",
	    80, "/p@q", 0 },
	{ "http://a//b/../c/%2e", 0, NULL, "a", 80, "//b/../c/%2e", 0 },
	{ "https://example.com/", -1, "https in absolute-form: use CONNECT",
	    NULL, 0, NULL, 0 },
	{ "HTTPS://example.com/", -1, "https in absolute-form: use CONNECT",
	    NULL, 0, NULL, 0 },
	{ "ftp://example.com/", -1, "unsupported URI scheme",
	    NULL, 0, NULL, 0 },
	{ "httpx://example.com/", -1, "unsupported URI scheme",
	    NULL, 0, NULL, 0 },
	{ "/relative", -1, "absolute-form target required", NULL, 0, NULL, 0 },
	{ "example.com:80", -1, "unsupported URI scheme", NULL, 0, NULL, 0 },
	{ "", -1, "absolute-form target required", NULL, 0, NULL, 0 },
	{ "http:", -1, "invalid absolute URI", NULL, 0, NULL, 0 },
	{ "http:/x", -1, "invalid absolute URI", NULL, 0, NULL, 0 },
	{ "http://user@example.com/", -1, "userinfo in URI",
	    NULL, 0, NULL, 0 },
	{ "http://user:pw@example.com/", -1, "userinfo in URI",
	    NULL, 0, NULL, 0 },
	{ "http://@example.com/", -1, "userinfo in URI", NULL, 0, NULL, 0 },
	{ "http:///", -1, "empty host", NULL, 0, NULL, 0 },
	{ "http://", -1, "empty host", NULL, 0, NULL, 0 },
	{ "http://:80/", -1, "empty host", NULL, 0, NULL, 0 },
	{ "http://a:0/", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "http://a:65536/", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "http://a:99999999999999999999/", -1, "invalid port",
	    NULL, 0, NULL, 0 },
	{ "http://a:8a/", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "http://a:-1/", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "http://a:80:80/", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "http://a/#frag", -1, "fragment in URI", NULL, 0, NULL, 0 },
	{ "http://a#", -1, "fragment in URI", NULL, 0, NULL, 0 },
	{ "http://a b/", -1, "invalid character in URI", NULL, 0, NULL, 0 },
	{ "http://a/\x7f", -1, "invalid character in URI", NULL, 0, NULL, 0 },
	{ "http://a/\xc3\xa9", -1, "invalid character in URI",
	    NULL, 0, NULL, 0 },
	{ "http://[::1/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://[zz]/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://[]/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://[::1]x/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://[1.2.3.4]/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://[fe80::1%25eth0]/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://[v1.x]/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://a%2fb/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://exa*mple/", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://a\\b/", -1, "invalid host", NULL, 0, NULL, 0 },
};

static const struct uri_case authority_cases[] = {
	{ "example.com:443", 0, NULL, "example.com", 443, NULL, 0 },
	{ "[::1]:443", 0, NULL, "::1", 443, NULL, 0 },
	{ "1.2.3.4:1", 0, NULL, "1.2.3.4", 1, NULL, 0 },
	{ "example.com", -1, "CONNECT target needs host:port",
	    NULL, 0, NULL, 0 },
	{ "example.com:", -1, "CONNECT target needs host:port",
	    NULL, 0, NULL, 0 },
	{ ":443", -1, "CONNECT target needs host:port", NULL, 0, NULL, 0 },
	{ "[::1]", -1, "CONNECT target needs host:port", NULL, 0, NULL, 0 },
	{ "", -1, "CONNECT target needs host:port", NULL, 0, NULL, 0 },
	{ "example.com:0", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "example.com:65536", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "example.com:443/", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "a@b:443", -1, "invalid host", NULL, 0, NULL, 0 },
	{ "http://a:443", -1, "invalid port", NULL, 0, NULL, 0 },
	{ "[::1]443", -1, "invalid host", NULL, 0, NULL, 0 },
};

static void
check_uri_case(const struct uri_case *c, int authority)
{
	struct http_uri		 u;
	struct http_error	 err = { 0, NULL };
	size_t			 len = strlen(c->in);
	const char		*g = guarded(c->in, len);
	int			 r;

	if (authority)
		r = http_parse_authority(g, len, &u, &err);
	else
		r = http_parse_absolute_uri(g, len, &u, &err);
	CHECK(r == c->ret, "uri \"%s\": got %d (%s)", c->in, r,
	    r == -1 && err.reason ? err.reason : "-");
	if (r != c->ret)
		return;
	if (r == -1) {
		CHECK(err.status == 400 && strcmp(err.reason, c->reason) == 0,
		    "uri \"%s\": got %d \"%s\"", c->in, err.status,
		    err.reason);
		return;
	}
	CHECK(u.host_len == strlen(c->host) &&
	    memcmp(u.host, c->host, u.host_len) == 0 && u.port == c->port,
	    "uri \"%s\": host \"%.*s\" port %u", c->in, (int)u.host_len,
	    u.host, u.port);
	if (authority)
		return;
	CHECK(u.path_len == strlen(c->path) &&
	    memcmp(u.path, c->path, u.path_len) == 0 &&
	    u.path_implied == c->implied, "uri \"%s\": path \"%.*s\" %d",
	    c->in, (int)u.path_len, u.path, u.path_implied);
}

/* A host of 255 characters is the longest accepted. */
static void
test_long_host(void)
{
	struct http_uri		 u;
	struct http_error	 err;
	char			 buf[400];
	int			 r;

	build(buf, sizeof(buf), "http://", 'a', 255, "/");
	r = http_parse_absolute_uri(guarded(buf, strlen(buf)), strlen(buf),
	    &u, &err);
	CHECK(r == 0 && u.host_len == 255, "host of 255");
	build(buf, sizeof(buf), "http://", 'a', 256, "/");
	r = http_parse_absolute_uri(guarded(buf, strlen(buf)), strlen(buf),
	    &u, &err);
	CHECK(r == -1 && strcmp(err.reason, "invalid host") == 0,
	    "host of 256");
}

/*
 * Chunked bodies.
 */

struct chunk_case {
	const char	*in;
	ssize_t		 ret;		/* ALL, a count or -1 */
	int		 done;
};

static const struct chunk_case chunk_cases[] = {
	{ "0\r\n\r\n", ALL, 1 },
	{ "5\r\nhello\r\n0\r\n\r\n", ALL, 1 },
	{ "5;ext=1;q=\"a b\"\r\nhello\r\n0;x\r\n\r\n", ALL, 1 },
	{ "5 ;ext\r\nhello\r\n0\t; x\r\n\r\n", ALL, 1 },
	{ "A\r\n0123456789\r\na\r\n0123456789\r\n00\r\n\r\n", ALL, 1 },
	{ "3\r\nabc\r\n0\r\nX-T: 1\r\nY:\r\n\r\n", ALL, 1 },
	{ "4\r\n\r\n\r\n\r\n0\r\n\r\n", ALL, 1 },
	{ "0000000000000005\r\nhello\r\n0\r\n\r\n", ALL, 1 },
	{ "0\r\n\r\nGET / HTTP/1.1\r\n\r\n", 5, 1 },
	{ "1\r\nx\r\n0\r\nA: b\r\n\r\n\r\n", 17, 1 },
	{ "5\r\nhel", ALL, 0 },
	{ "5\r\nhello\r\n0\r\n\r", ALL, 0 },
	{ "FFFFFFFFFFFFFFFF\r\nabc", ALL, 0 },
	{ "", ALL, 0 },
	{ "5\nhello\r\n0\r\n\r\n", -1, 0 },
	{ "5\r\nhelloX\r\n0\r\n\r\n", -1, 0 },
	{ "5\r\nhello\n0\r\n\r\n", -1, 0 },
	{ "5\r\nhello\r\r\n", -1, 0 },
	{ "g\r\n", -1, 0 },
	{ "\r\n", -1, 0 },
	{ "-1\r\n", -1, 0 },
	{ "0x5\r\n", -1, 0 },
	{ " 5\r\n", -1, 0 },
	{ "5 \r\n", -1, 0 },
	{ "5 x\r\n", -1, 0 },
	{ "5;\x01\r\n", -1, 0 },
	{ "5;a\nb\r\n", -1, 0 },
	{ "FFFFFFFFFFFFFFFFF\r\n", -1, 0 },
	/* Leading zeros are not significant digits (issue 8, bug 7). */
	{ "00000000000000005\r\nhello\r\n0\r\n\r\n", ALL, 1 },
	{ "0000000000000000000000000000000005\r\nhello\r\n0\r\n\r\n", ALL,
	    1 },
	{ "000000000000000000000000000000000f9\r\nab", ALL, 0 },
	{ "00000000000000000000FFFFFFFFFFFFFFFF\r\nabc", ALL, 0 },
	{ "0001000000000000000;x\r\nabc", ALL, 0 },
	{ "00\r\n\r\n", ALL, 1 },
	{ "0000000000000000000000000\r\n\r\n", ALL, 1 },
	{ "00;ext=1\r\nT: v\r\n\r\n", ALL, 1 },
	{ "5\r\nhello\r\n000\r\n\r\n", ALL, 1 },
	{ "0000", ALL, 0 },
	{ "00010000000000000000\r\n", -1, 0 },
	{ "000000000000000000000000000000010000000000000000\r\n", -1, 0 },
	{ "0000000000000000FFFFFFFFFFFFFFFFF\r\n", -1, 0 },
	{ "00 0\r\n", -1, 0 },
	{ "00x\r\n", -1, 0 },
	{ "0\r\n\n", -1, 0 },
	{ "0\r\nX: 1\n\r\n", -1, 0 },
	{ "0\r\n X: 1\r\n\r\n", -1, 0 },
	{ "0\r\nX 1\r\n\r\n", -1, 0 },
	{ "0\r\n:1\r\n\r\n", -1, 0 },
	{ "0\r\nX: \x01\r\n\r\n", -1, 0 },
	{ "0\r\n\rx", -1, 0 },
};

/*
 * Feed body[0..len) cut at the offsets in cuts[0..ncuts) and return the
 * total consumed or -1; *done as after the last call.  Pieces after the
 * end of the body must count for nothing.
 */
static ssize_t
feed_chunks(const char *body, size_t len, const size_t *cuts, size_t ncuts,
    int *done)
{
	struct http_chunked	 c;
	size_t			 i, from = 0, to;
	ssize_t			 r, total = 0;

	http_chunked_init(&c);
	*done = 0;
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		r = http_chunked_scan(&c, guarded(body + from, to - from),
		    to - from, done);
		if (r == -1)
			return -1;
		if (r > (ssize_t)(to - from) || (r < (ssize_t)(to - from) &&
		    !*done))
			return -2;
		total += r;
		from = to;
	}
	return total;
}

static void
check_chunk_case(const struct chunk_case *c)
{
	size_t	len = strlen(c->in), i, j, cuts[2];
	ssize_t	want = c->ret == ALL ? (ssize_t)len : c->ret, r;
	int	done, want_done = c->ret == -1 ? 0 : c->done, bad = 0;

	r = feed_chunks(c->in, len, NULL, 0, &done);
	CHECK(r == want && (r == -1 || done == want_done),
	    "chunked \"%s\": got %zd done %d", c->in, r, done);
	/* Every split in two and three pieces. */
	for (i = 0; i <= len && !bad; i++) {
		for (j = i; j <= len && !bad; j++) {
			cuts[0] = i;
			cuts[1] = j;
			r = feed_chunks(c->in, len, cuts, 2, &done);
			if (r != want || (r != -1 && done != want_done))
				bad = 1;
		}
	}
	CHECK(!bad, "chunked \"%s\": split at %zu, %zu gave %zd", c->in,
	    i - 1, j - 1, r);
}

/* One byte at a time, and a call after the end. */
static void
test_chunked_bytewise(void)
{
	static const char	 body[] =
	    "3;x\r\nabc\r\n0\r\nT: v\r\n\r\nrest";
	struct http_chunked	 c;
	size_t			 i, total = 0;
	ssize_t			 r = 0;
	int			 done = 0;

	http_chunked_init(&c);
	for (i = 0; i < sizeof(body) - 1 && !done; i++) {
		r = http_chunked_scan(&c, guarded(body + i, 1), 1, &done);
		if (r < 0)
			break;
		total += (size_t)r;
	}
	CHECK(r == 1 && done && total == sizeof(body) - 5,
	    "bytewise: total %zu done %d", total, done);
	r = http_chunked_scan(&c, guarded("rest", 4), 4, &done);
	CHECK(r == 0 && done == 1, "scan after done: %zd %d", r, done);
	http_chunked_init(&c);
	r = http_chunked_scan(&c, guarded("x", 1), 1, &done);
	CHECK(r == -1, "bad first byte");
	r = http_chunked_scan(&c, guarded("0\r\n\r\n", 5), 5, &done);
	CHECK(r == -1 && done == 0, "errors are sticky");
}

/*
 * Feed body[0..len) one byte per call; returns the total consumed or -1,
 * *done as after the last call.
 */
static ssize_t
feed_bytewise(const char *body, size_t len, int *done)
{
	struct http_chunked	 c;
	size_t			 i;
	ssize_t			 r, total = 0;

	http_chunked_init(&c);
	*done = 0;
	for (i = 0; i < len && !*done; i++) {
		if ((r = http_chunked_scan(&c, guarded(body + i, 1), 1,
		    done)) == -1)
			return -1;
		total += r;
	}
	return total;
}

/*
 * Leading zeros in chunk sizes (issue 8, bug 7): any number of them is
 * fine, whole or byte by byte, as long as the size line fits the line
 * limit; 16 significant digits are the most a 64-bit size holds.
 */
static void
test_chunked_zeros(void)
{
	static char	 buf[4600];
	static char	 data[300];
	size_t		 len, zeros[] = { 33, 1000, 4094, 4095, 4096 };
	size_t		 i, cut;
	ssize_t		 r;
	int		 done;

	/* The report's example: 0x0f9 after 33 zeros is 249. */
	memset(data, 'x', 249);
	data[249] = '\0';
	snprintf(buf, sizeof(buf), "%s\r\n%s\r\n0\r\n\r\n",
	    "000000000000000000000000000000000f9", data);
	len = strlen(buf);
	r = feed_chunks(buf, len, NULL, 0, &done);
	CHECK(r == (ssize_t)len && done, "000..0f9 whole: %zd %d", r, done);
	r = feed_bytewise(buf, len, &done);
	CHECK(r == (ssize_t)len && done, "000..0f9 bytewise: %zd %d", r,
	    done);
	/* One data byte short: the size really was 249. */
	data[248] = '\0';
	snprintf(buf, sizeof(buf), "%s\r\n%s\r\n0\r\n\r\n",
	    "000000000000000000000000000000000f9", data);
	r = feed_chunks(buf, strlen(buf), NULL, 0, &done);
	CHECK(r == -1, "000..0f9 with 248 bytes: %zd", r);

	/*
	 * n zeros then "1": the line is n + 1 bytes long, so 4095 zeros
	 * is the longest run that fits; the same with 16 significant
	 * digits after the zeros up to the same line length.
	 */
	for (i = 0; i < sizeof(zeros) / sizeof(zeros[0]); i++) {
		build(buf, sizeof(buf), "", '0', zeros[i],
		    "1\r\nx\r\n0\r\n\r\n");
		len = strlen(buf);
		r = feed_chunks(buf, len, NULL, 0, &done);
		CHECK(zeros[i] < 4096 ? (r == (ssize_t)len && done) : r == -1,
		    "%zu zeros then 1: %zd", zeros[i], r);
		r = feed_bytewise(buf, len, &done);
		CHECK(zeros[i] < 4096 ? (r == (ssize_t)len && done) : r == -1,
		    "%zu zeros then 1, bytewise: %zd", zeros[i], r);
		cut = zeros[i] / 2;
		r = feed_chunks(buf, len, &cut, 1, &done);
		CHECK(zeros[i] < 4096 ? (r == (ssize_t)len && done) : r == -1,
		    "%zu zeros then 1, split: %zd", zeros[i], r);
	}
	build(buf, sizeof(buf), "", '0', 4080, "1000000000000000\r\nab");
	len = strlen(buf);
	r = feed_bytewise(buf, len, &done);
	CHECK(r == (ssize_t)len && !done, "4080 zeros, 16 digits: %zd", r);
	build(buf, sizeof(buf), "", '0', 4000, "10000000000000000\r\nab");
	r = feed_bytewise(buf, strlen(buf), &done);
	CHECK(r == -1, "4000 zeros, 17 digits: %zd", r);

	/* Zeros alone are the last chunk, however many. */
	build(buf, sizeof(buf), "", '0', 4095, "\r\n\r\nnext");
	len = strlen(buf);
	r = feed_bytewise(buf, len, &done);
	CHECK(r == (ssize_t)len - 4 && done, "4095 zeros as last chunk: %zd",
	    r);
	/* Extensions share the line's budget with the zeros. */
	build(buf, sizeof(buf), "", '0', 4000, ";e=0123456789012345678901234"
	    "5678901234567890123456789012345678901234567890123456789012345678"
	    "901234567890123456789\r\n\r\n");
	r = feed_bytewise(buf, strlen(buf), &done);
	CHECK(r == -1, "zeros and extension over the line limit: %zd", r);
}

/* Size and trailer lines may be 4096 bytes, not one more. */
static void
test_chunked_lines(void)
{
	static char		 buf[4200];
	size_t			 lens[] = { 4096, 4097 };
	size_t			 i, len, cut;
	ssize_t			 r;
	int			 done;

	for (i = 0; i < 2; i++) {
		build(buf, sizeof(buf), "1;", 'a', lens[i] - 2,
		    "\r\nx\r\n0\r\n\r\n");
		len = strlen(buf);
		r = feed_chunks(buf, len, NULL, 0, &done);
		CHECK(i == 0 ? (r == (ssize_t)len && done) : r == -1,
		    "size line of %zu: %zd", lens[i], r);
		cut = 4000;
		r = feed_chunks(buf, len, &cut, 1, &done);
		CHECK(i == 0 ? (r == (ssize_t)len && done) : r == -1,
		    "size line of %zu, split: %zd", lens[i], r);
		build(buf, sizeof(buf), "0\r\nX:", 'v', lens[i] - 2,
		    "\r\n\r\n");
		len = strlen(buf);
		r = feed_chunks(buf, len, NULL, 0, &done);
		CHECK(i == 0 ? (r == (ssize_t)len && done) : r == -1,
		    "trailer line of %zu: %zd", lens[i], r);
	}
}

/*
 * Every byte value in a field name, a field value, a request target and
 * a reason phrase, against the definitions: a name byte must be a tchar
 * (RFC 9110 5.6.2), a target byte visible ASCII, a value or reason byte
 * anything but a control other than HTAB.  Holds the scanners' class
 * table to the grammar one byte value at a time.
 */
/*
 * Is the head fmt, with its '@' replaced by the byte c, parsed whole?
 * As a response head when response, else as a request head.
 */
static int
accepts_byte(const char *fmt, int c, int response)
{
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_response	 res;
	struct http_error	 err;
	char			 in[64];
	size_t			 n = strlen(fmt);

	memcpy(in, fmt, n);
	in[strchr(fmt, '@') - fmt] = (char)c;
	if (response)
		return parse_res(in, n, &default_limits, &res, hdrs, &err) ==
		    (int)n;
	return parse_req(in, n, &default_limits, &req, hdrs, &err) == (int)n;
}

static void
test_field_bytes(void)
{
	static const char	tchars[] = "!#$%&'*+-.^_`|~";
	int			c, tchar, field;

	for (c = 0; c < 256; c++) {
		tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (c != 0 && strchr(tchars, c) != NULL);
		field = c == '\t' || (c >= 0x20 && c != 0x7f);
		/* "A:B: v" is a field A with the value "B: v" */
		CHECK(accepts_byte("GET / HTTP/1.1\r\nA@B: v\r\n\r\n", c,
		    0) == (tchar || c == ':'), "name byte 0x%02x", c);
		CHECK(accepts_byte("GET / HTTP/1.1\r\nA: x@y\r\n\r\n", c,
		    0) == field, "value byte 0x%02x", c);
		CHECK(accepts_byte("GET /a@b HTTP/1.1\r\n\r\n", c, 0) ==
		    (c > 0x20 && c < 0x7f), "target byte 0x%02x", c);
		CHECK(accepts_byte("HTTP/1.1 200 O@K\r\n\r\n", c, 1) ==
		    field, "reason byte 0x%02x", c);
	}
}

/*
 * A byte of each kind at every position of a long value, so that the
 * word-at-a-time value scan meets it in every lane of a word and in the
 * bytewise tail, with tabs before and after it.
 */
static void
test_value_lanes(void)
{
	static const unsigned char kinds[] = { '\t', 0x01, 0x1f, 0x7f, 0x80,
	    0xff, ' ', 0x20 + 0x80, 0x7e, 0x00 };
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_error	 err;
	char			 in[96];
	size_t			 k, i, n;
	int			 r, ok;

	for (k = 0; k < sizeof(kinds); k++) {
		for (i = 0; i < 24; i++) {
			n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1"
			    "\r\nA: x\tabcdefghijklmnopqrstuvwxyz\ty\r\n\r\n");
			in[20 + i] = (char)kinds[k];
			ok = kinds[k] == '\t' || (kinds[k] >= 0x20 &&
			    kinds[k] != 0x7f);
			/* all of it, and cut just after the byte */
			r = parse_req(in, n, &default_limits, &req, hdrs, &err);
			CHECK(ok ? r == (int)n && hdrs[0].value_len == 30 :
			    r == INV && err.status == 400,
			    "byte 0x%02x at %zu: %d", kinds[k], i, r);
			r = parse_req(in, 21 + i, &default_limits, &req, hdrs,
			    &err);
			CHECK(ok ? r == INC : r == INV && err.status == 400,
			    "cut after 0x%02x at %zu: %d", kinds[k], i, r);
		}
	}
}

/*
 * Every byte value in the host of an absolute-form target: a reg-name
 * is letters, digits, '-', '.' and '_'; '/' and '?' end it.  And which
 * refusal wins: a byte that is no vchar, wherever it is, over a '#'.
 */
static void
test_uri_bytes(void)
{
	struct http_uri		 u;
	struct http_error	 err;
	char			 in[16];
	int			 c, r, want;

	for (c = 0; c < 256; c++) {
		memcpy(in, "http://aXb", 10);
		in[8] = (char)c;
		want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '/' || c == '?';
		r = http_parse_absolute_uri(guarded(in, 10), 10, &u, &err);
		CHECK((r == 0) == want, "host byte 0x%02x: %d", c, r);
		if (c <= 0x20 || c >= 0x7f)
			CHECK(r == -1 && strcmp(err.reason,
			    "invalid character in URI") == 0,
			    "host byte 0x%02x: %s", c, err.reason);
		memcpy(in, "http://a/#bX", 12);
		in[11] = (char)c;
		r = http_parse_absolute_uri(guarded(in, 12), 12, &u, &err);
		CHECK(r == -1 && strcmp(err.reason, c <= 0x20 || c >= 0x7f ?
		    "invalid character in URI" : "fragment in URI") == 0,
		    "0x%02x after '#': %s", c, err.reason);
	}
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/*
 * Case-insensitive name comparison, every pair of byte values, alone
 * and as the tenth byte of a name (past the word compared whole).
 */
static void
test_name_case(void)
{
	struct http_header	h;
	char			a[10] = "content-x", b[10] = "Content-x";
	int			x, y, bad = 0;

	memset(&h, 0, sizeof(h));
	for (x = 0; x < 256; x++) {
		for (y = 0; y < 256; y++) {
			a[9] = (char)x;
			b[9] = (char)y;
			h.name = a + 9;
			h.name_len = 1;
			bad += http_header_name_is(&h, b + 9, 1) !=
			    (lower(x) == lower(y));
			h.name = a;
			h.name_len = 10;
			bad += http_header_name_is(&h, b, 10) !=
			    (lower(x) == lower(y));
		}
	}
	CHECK(bad == 0, "%d byte pairs compared wrongly", bad);
	h.name = "Content-Lengths";
	h.name_len = 14;
	CHECK(http_header_is(&h, "content-length") &&
	    !http_header_is(&h, "content-lengths") &&
	    !http_header_is(&h, "content-lengtH_"), "Content-Length");
}

int
main(void)
{
	size_t	i;

	guard_setup();
	for (i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]); i++)
		check_head_case(&request_cases[i], 0);
	for (i = 0; i < sizeof(response_cases) / sizeof(response_cases[0]);
	    i++)
		check_head_case(&response_cases[i], 1);
	test_capacity();
	test_long_lines();
	test_field_bytes();
	test_value_lanes();
	for (i = 0; i < sizeof(req_framing_cases) /
	    sizeof(req_framing_cases[0]); i++)
		check_req_framing(&req_framing_cases[i]);
	for (i = 0; i < sizeof(res_framing_cases) /
	    sizeof(res_framing_cases[0]); i++)
		check_res_framing(&res_framing_cases[i]);
	test_helpers();
	test_name_case();
	for (i = 0; i < sizeof(te_cases) / sizeof(te_cases[0]); i++)
		check_te_case(&te_cases[i]);
	test_te_normalize();
	for (i = 0; i < sizeof(uri_cases) / sizeof(uri_cases[0]); i++)
		check_uri_case(&uri_cases[i], 0);
	for (i = 0; i < sizeof(authority_cases) / sizeof(authority_cases[0]);
	    i++)
		check_uri_case(&authority_cases[i], 1);
	test_long_host();
	test_uri_bytes();
	for (i = 0; i < sizeof(chunk_cases) / sizeof(chunk_cases[0]); i++)
		check_chunk_case(&chunk_cases[i]);
	test_chunked_bytewise();
	test_chunked_lines();
	test_chunked_zeros();
	return unit_done("http_parse");
}
