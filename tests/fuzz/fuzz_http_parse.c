/*
 * fuzz_http_parse.c - libFuzzer target for the HTTP parser (http_parse.c,
 * http_body.c).
 *
 * The input is used as a request head, a response head, a request
 * target and a chunked body, each under generous and under tight limits.
 * Beyond what the sanitizers catch, properties of the parser are checked
 * and a violation aborts:
 *
 *  - a head parser returns INVALID (with a sensible status), INCOMPLETE,
 *    or a count no larger than the input;
 *  - a parsed head parses again, alone, to the same count, and every
 *    shorter prefix of it is INCOMPLETE; a prefix refused as INVALID
 *    means the whole input is refused too;
 *  - parsed fields point into the head and obey the grammar;
 *  - http_te_normalize() stays within its buffer, fails only on what
 *    framing refuses, and its value frames the message the same way;
 *  - the chunked scanner gives the same answer however the input is cut.
 *
 * Every call sees an exactly-sized heap copy, so ASan catches a read
 * one byte past the end of any piece.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define MAX_HDRS	32

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_limits limit_sets[] = {
	{ 8192, 65536, MAX_HDRS },
	{ 24, 96, 3 },
};

static void
require(int cond)
{
	if (!cond)
		abort();
}

/* An exactly-sized copy, so that over-reads are caught. */
static char *
copy(const uint8_t *data, size_t len)
{
	char	*p = malloc(len ? len : 1);

	require(p != NULL);
	if (len > 0)
		memcpy(p, data, len);
	return p;
}

static int
within(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The parsed fields obey the grammar and point into buf[0..len). */
static void
check_fields(const struct http_header *h, size_t n, const char *buf,
    size_t len)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		require(within(h[i].name, h[i].name_len, buf, len));
		require(within(h[i].value, h[i].value_len, buf, len));
		require(http_is_token(h[i].name, h[i].name_len));
		if (h[i].value_len > 0) {
			require(!is_ows(h[i].value[0]));
			require(!is_ows(h[i].value[h[i].value_len - 1]));
		}
		for (j = 0; j < h[i].value_len; j++) {
			unsigned char c = (unsigned char)h[i].value[j];

			require(c >= 0x20 || c == '\t');
			require(c != 0x7f);
		}
		(void)http_header_is_hop_by_hop(&h[i], h, n);
	}
}

/*
 * Parse buf[0..len) (an exactly-sized copy the caller owns) and check
 * the result.  Parsed pointers stay valid until the caller frees buf.
 */
static int
parse(int response, const char *buf, size_t len,
    const struct http_limits *lim, struct http_request *req,
    struct http_response *res, struct http_header *hdrs,
    struct http_error *err)
{
	int	r;

	err->status = 0;
	err->reason = NULL;
	if (response) {
		memset(res, 0, sizeof(*res));
		res->headers = hdrs;
		res->num_headers = MAX_HDRS;
		r = http_parse_response(buf, len, lim, res, err);
	} else {
		memset(req, 0, sizeof(*req));
		req->headers = hdrs;
		req->num_headers = MAX_HDRS;
		r = http_parse_request(buf, len, lim, req, err);
	}
	require(r == HTTP_PARSE_INVALID || r == HTTP_PARSE_INCOMPLETE ||
	    (r > 0 && (size_t)r <= len));
	if (r == HTTP_PARSE_INVALID) {
		require(err->reason != NULL);
		if (response)
			require(err->status == 502);
		else
			require(err->status == 400 || err->status == 414 ||
			    err->status == 431 || err->status == 505);
	}
	if (r > 0 && response) {
		require(res->status >= 100 && res->status <= 999);
		require(res->minor_version == 0 || res->minor_version == 1);
		check_fields(hdrs, res->num_headers, buf, (size_t)r);
	}
	if (r > 0 && !response) {
		require(within(req->method, req->method_len, buf, (size_t)r));
		require(within(req->target, req->target_len, buf, (size_t)r));
		require(http_is_token(req->method, req->method_len));
		require(req->minor_version == 0 || req->minor_version == 1);
		check_fields(hdrs, req->num_headers, buf, (size_t)r);
	}
	return r;
}

/* Parse a fresh copy of data[0..len) and return only the count. */
static int
parse_copy(int response, const uint8_t *data, size_t len,
    const struct http_limits *lim)
{
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_response	 res;
	struct http_error	 err;
	char			*buf = copy(data, len);
	int			 r;

	r = parse(response, buf, len, lim, &req, &res, hdrs, &err);
	free(buf);
	return r;
}

static int
frame(int response, const struct http_request *req,
    const struct http_response *res, int head_request, struct http_framing *f)
{
	struct http_error	err = { 0, NULL };
	int			r;

	if (response)
		r = http_response_framing(res, head_request, f, &err);
	else
		r = http_request_framing(req, f, &err);
	require(r == 0 || r == -1);
	if (r == -1) {
		require(err.reason != NULL);
		require(response ? err.status == 502 : (err.status == 400 ||
		    err.status == 501 || err.status == 417));
	}
	return r;
}

/*
 * http_te_normalize() on a parsed head: it never writes past outlen;
 * given the documented room it fails only on what framing refuses; and
 * the message with the normalized value as its one Transfer-Encoding
 * field frames exactly as the original did and normalizes to the same
 * value again.
 */
static void
check_te(int response, const struct http_request *req,
    const struct http_response *res, int head_request, int ret,
    const struct http_framing *f)
{
	const struct http_header	*h = response ? res->headers :
					    req->headers;
	size_t				 n = response ? res->num_headers :
					    req->num_headers;
	struct http_header		 hdrs[MAX_HDRS + 1];
	struct http_request		 req2;
	struct http_response		 res2;
	struct http_framing		 f2;
	size_t				 i, m = 0, room = 1;
	char				*out, *out2;
	ssize_t				 len, len2;

	for (i = 0; i < n; i++)
		if (http_header_is(&h[i], "Transfer-Encoding"))
			room += 2 * (h[i].value_len + 1);
	/* Exactly sized, so ASan sees a write past outlen. */
	out = malloc(room);
	require(out != NULL);
	len = http_te_normalize(h, n, out, room);
	require(len == -1 || ((size_t)len < room && out[len] == '\0' &&
	    strlen(out) == (size_t)len));
	if (len > 0) {
		/* One byte short fails; a tight buffer is written within. */
		require(http_te_normalize(h, n, out, (size_t)len) == -1);
		len = http_te_normalize(h, n, out, (size_t)len + 1);
	}
	/* Framing that read a Transfer-Encoding accepted its codings. */
	if (ret == 0 && f->body != HTTP_BODY_NONE)
		require(len >= 0);
	if (ret == 0 && f->body == HTTP_BODY_CHUNKED) {
		require(len >= 7 && memcmp(out + len - 7, "chunked", 7) == 0);
		require(len == 7 || memcmp(out + len - 9, ", chunked", 9) == 0);
	}
	if (len <= 0 || n >= MAX_HDRS + 1) {
		free(out);
		return;
	}
	for (i = 0; i < n; i++)
		if (!http_header_is(&h[i], "Transfer-Encoding"))
			hdrs[m++] = h[i];
	hdrs[m].name = "Transfer-Encoding";
	hdrs[m].name_len = 17;
	hdrs[m].value = out;
	hdrs[m].value_len = (size_t)len;
	m++;
	if (response) {
		res2 = *res;
		res2.headers = hdrs;
		res2.num_headers = m;
	} else {
		req2 = *req;
		req2.headers = hdrs;
		req2.num_headers = m;
	}
	if (ret == 0) {
		require(frame(response, &req2, &res2, head_request, &f2) == 0);
		require(f2.body == f->body && f2.keep_alive == f->keep_alive &&
		    f2.content_length == f->content_length &&
		    f2.expect_continue == f->expect_continue);
	}
	out2 = malloc((size_t)len + 1);
	require(out2 != NULL);
	len2 = http_te_normalize(hdrs, m, out2, (size_t)len + 1);
	require(len2 == len && memcmp(out, out2, (size_t)len + 1) == 0);
	free(out2);
	free(out);
}

static void
check_framing(int response, const struct http_request *req,
    const struct http_response *res, int head_request)
{
	struct http_framing	f;
	int			r;

	r = frame(response, req, res, head_request, &f);
	check_te(response, req, res, head_request, r, &f);
	if (r == -1)
		return;
	require(f.keep_alive == 0 || f.keep_alive == 1);
	require(f.body == HTTP_BODY_LENGTH || f.content_length == 0);
	require(response || f.body != HTTP_BODY_CLOSE);
	require(f.body != HTTP_BODY_CLOSE || f.keep_alive == 0);
}

static void
check_uri(const uint8_t *data, size_t len)
{
	struct http_uri		 u;
	struct http_error	 err;
	char			*buf = copy(data, len);

	if (http_parse_absolute_uri(buf, len, &u, &err) == 0) {
		require(u.host_len > 0 && within(u.host, u.host_len, buf, len));
		require(u.port > 0);
		require(u.path_len > 0);
		require(u.path_implied ? u.path_len == 1 :
		    within(u.path, u.path_len, buf, len));
	} else
		require(err.status == 400 && err.reason != NULL);
	if (http_parse_authority(buf, len, &u, &err) == 0) {
		require(u.host_len > 0 && within(u.host, u.host_len, buf, len));
		require(u.port > 0);
	} else
		require(err.status == 400 && err.reason != NULL);
	(void)http_is_token(buf, len);
	(void)http_list_has_token(buf, len, "close");
	free(buf);
}

/*
 * One head under one set of limits, as a request or a response: the
 * count must be stable and the prefix rule must hold.
 */
static void
fuzz_head(int response, const uint8_t *data, size_t size,
    const struct http_limits *lim, size_t cut, int head_request)
{
	struct http_header	 hdrs[MAX_HDRS];
	struct http_request	 req;
	struct http_response	 res;
	struct http_error	 err;
	char			*buf = copy(data, size);
	int			 r, p;

	r = parse(response, buf, size, lim, &req, &res, hdrs, &err);
	if (r > 0) {
		check_framing(response, &req, &res, head_request);
		if (!response)
			check_uri((const uint8_t *)req.target,
			    req.target_len);
		require(parse_copy(response, data, (size_t)r, lim) == r);
		require(parse_copy(response, data, (size_t)r - 1, lim) ==
		    HTTP_PARSE_INCOMPLETE);
	}
	free(buf);
	if (cut < size) {
		p = parse_copy(response, data, cut, lim);
		if (r > 0)
			require(p == ((int)cut < r ? HTTP_PARSE_INCOMPLETE : r));
		if (p == HTTP_PARSE_INVALID)
			require(r == HTTP_PARSE_INVALID);
	}
}

/*
 * Scan data as a chunked body in pieces cut at cuts[0..n) (ascending).
 * Returns the total consumed or -1; *done as after the last piece.
 */
static ssize_t
scan_pieces(const uint8_t *data, size_t size, const size_t *cuts, size_t n,
    int *done)
{
	struct http_chunked	 c;
	size_t			 i, from = 0, to;
	ssize_t			 r, total = 0;
	char			*buf;

	http_chunked_init(&c);
	*done = 0;
	for (i = 0; i <= n; i++) {
		to = i < n ? cuts[i] : size;
		buf = copy(data + from, to - from);
		r = http_chunked_scan(&c, buf, to - from, done);
		free(buf);
		if (r == -1)
			return -1;
		require(r >= 0 && (size_t)r <= to - from);
		/* Short only when the body ended in this piece. */
		require((size_t)r == to - from || *done);
		total += r;
		from = to;
	}
	return total;
}

static void
fuzz_chunked(const uint8_t *data, size_t size, size_t cut)
{
	size_t	cuts[2] = { cut, cut + (size - cut) / 2 };
	ssize_t	whole, split;
	int	done_whole, done_split;

	whole = scan_pieces(data, size, NULL, 0, &done_whole);
	if (cut <= size) {
		split = scan_pieces(data, size, cuts, 2, &done_split);
		require(split == whole);
		require(whole == -1 || done_split == done_whole);
	}
	/* Byte by byte is the most demanding cut; keep inputs small. */
	if (size <= 512) {
		struct http_chunked	c;
		ssize_t			total = 0, r = 0;
		size_t			i;
		int			done = 0;

		http_chunked_init(&c);
		for (i = 0; i < size && !done; i++) {
			char *b = copy(data + i, 1);

			r = http_chunked_scan(&c, b, 1, &done);
			free(b);
			if (r == -1)
				break;
			total += r;
		}
		require(r == -1 ? whole == -1 : total == whole);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	i, cut;
	int	head_request;

	/* A cut point and a flag from the input, not from a PRNG. */
	cut = size > 0 ? data[size / 2] % (size + 1) : 0;
	head_request = size > 0 && (data[0] & 1);
	for (i = 0; i < sizeof(limit_sets) / sizeof(limit_sets[0]); i++) {
		fuzz_head(0, data, size, &limit_sets[i], cut, head_request);
		fuzz_head(1, data, size, &limit_sets[i], cut, head_request);
	}
	check_uri(data, size);
	fuzz_chunked(data, size, cut);
	return 0;
}
