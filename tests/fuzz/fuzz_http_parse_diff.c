/*
 * fuzz_http_parse_diff.c - differential libFuzzer target: the head parser
 * of proxyd/http_parse.c against the one it replaced (http_parse_ref.c,
 * the same code before the one-pass field scanner), on the same bytes.
 *
 * Every input is parsed as a request and as a response head, whole and
 * cut at every length (so INCOMPLETE and the refusal of partial lines are
 * compared too), under limit sets from generous to one field, a
 * four-byte line and a head shorter than the input, with a header array
 * smaller than max_headers too.  The two must agree on everything they
 * return: the count, the status and reason of a refusal, the start line
 * and every field (the same pointers and lengths), and the header count.
 * The helpers over parsed fields (hop-by-hop marks, list tokens) and the
 * target parsers are compared on the same input as well.  Any difference
 * aborts.
 *
 * Temporary: once a long run finds nothing, the reference goes and this
 * target with it (see README.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define MAX_HDRS	32

int	ref_http_parse_request(const char *, size_t,
	    const struct http_limits *, struct http_request *,
	    struct http_error *);
int	ref_http_parse_response(const char *, size_t,
	    const struct http_limits *, struct http_response *,
	    struct http_error *);
void	ref_http_hop_by_hop_mark(const struct http_header *, size_t,
	    unsigned char *);
int	ref_http_list_has_token(const char *, size_t, const char *);
int	ref_http_parse_absolute_uri(const char *, size_t, struct http_uri *,
	    struct http_error *);
int	ref_http_parse_authority(const char *, size_t, struct http_uri *,
	    struct http_error *);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	struct http_limits	lim;
	size_t			cap;	/* header array capacity */
} limit_sets[] = {
	{ { 8192, 65536, MAX_HDRS }, MAX_HDRS },
	{ { 24, 96, 3 }, MAX_HDRS },
	{ { 4, 64, 1 }, MAX_HDRS },
	{ { 8192, 40, MAX_HDRS }, MAX_HDRS },
	{ { 8192, 65536, 0 }, MAX_HDRS },
	{ { 8192, 65536, MAX_HDRS }, 2 },
};

static void
require(int cond)
{
	if (!cond)
		abort();
}

static void
same_error(const struct http_error *a, const struct http_error *b)
{
	require(a->status == b->status);
	require((a->reason == NULL) == (b->reason == NULL));
	require(a->reason == NULL || strcmp(a->reason, b->reason) == 0);
}

static void
same_fields(const struct http_header *a, const struct http_header *b,
    size_t n)
{
	unsigned char	ha[MAX_HDRS], hb[MAX_HDRS];
	size_t		i;

	for (i = 0; i < n; i++) {
		require(a[i].name == b[i].name);
		require(a[i].name_len == b[i].name_len);
		require(a[i].value == b[i].value);
		require(a[i].value_len == b[i].value_len);
		require(http_list_has_token(a[i].value, a[i].value_len,
		    "close") == ref_http_list_has_token(b[i].value,
		    b[i].value_len, "close"));
	}
	http_hop_by_hop_mark(a, n, ha);
	ref_http_hop_by_hop_mark(b, n, hb);
	require(memcmp(ha, hb, n) == 0);
}

static void
diff_request(const char *buf, size_t len, const struct http_limits *lim,
    size_t cap)
{
	struct http_header	ha[MAX_HDRS], hb[MAX_HDRS];
	struct http_request	a, b;
	struct http_error	ea = { 0, NULL }, eb = { 0, NULL };
	int			ra, rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.headers = ha;
	b.headers = hb;
	a.num_headers = b.num_headers = cap;
	ra = http_parse_request(buf, len, lim, &a, &ea);
	rb = ref_http_parse_request(buf, len, lim, &b, &eb);
	require(ra == rb);
	require(a.num_headers == b.num_headers);
	if (ra == HTTP_PARSE_INVALID)
		same_error(&ea, &eb);
	if (ra < 0)
		return;
	require(a.method == b.method && a.method_len == b.method_len);
	require(a.target == b.target && a.target_len == b.target_len);
	require(a.minor_version == b.minor_version);
	same_fields(ha, hb, a.num_headers);
}

static void
diff_response(const char *buf, size_t len, const struct http_limits *lim,
    size_t cap)
{
	struct http_header	ha[MAX_HDRS], hb[MAX_HDRS];
	struct http_response	a, b;
	struct http_error	ea = { 0, NULL }, eb = { 0, NULL };
	int			ra, rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.headers = ha;
	b.headers = hb;
	a.num_headers = b.num_headers = cap;
	ra = http_parse_response(buf, len, lim, &a, &ea);
	rb = ref_http_parse_response(buf, len, lim, &b, &eb);
	require(ra == rb);
	require(a.num_headers == b.num_headers);
	if (ra == HTTP_PARSE_INVALID)
		same_error(&ea, &eb);
	if (ra < 0)
		return;
	require(a.minor_version == b.minor_version && a.status == b.status);
	require(a.reason == b.reason && a.reason_len == b.reason_len);
	same_fields(ha, hb, a.num_headers);
}

static void
same_uri(int ra, int rb, const struct http_uri *a, const struct http_uri *b,
    const struct http_error *ea, const struct http_error *eb)
{
	require(ra == rb);
	if (ra == -1) {
		same_error(ea, eb);
		return;
	}
	require(a->host == b->host && a->host_len == b->host_len);
	require(a->port == b->port && a->path_len == b->path_len);
	require(a->path_implied == b->path_implied);
	require(a->path_implied || a->path == b->path);
}

static void
diff_targets(const char *buf, size_t len)
{
	struct http_uri		a, b;
	struct http_error	ea = { 0, NULL }, eb = { 0, NULL };
	int			ra, rb;

	ra = http_parse_absolute_uri(buf, len, &a, &ea);
	rb = ref_http_parse_absolute_uri(buf, len, &b, &eb);
	same_uri(ra, rb, &a, &b, &ea, &eb);
	ra = http_parse_authority(buf, len, &a, &ea);
	rb = ref_http_parse_authority(buf, len, &b, &eb);
	same_uri(ra, rb, &a, &b, &ea, &eb);
}

/* Every cut of the input, each an exactly-sized heap copy. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	 i, k;
	char	*buf;

	for (k = 0; k <= size; k++) {
		buf = malloc(k ? k : 1);
		require(buf != NULL);
		if (k > 0)
			memcpy(buf, data, k);
		for (i = 0; i < sizeof(limit_sets) / sizeof(limit_sets[0]);
		    i++) {
			diff_request(buf, k, &limit_sets[i].lim,
			    limit_sets[i].cap);
			diff_response(buf, k, &limit_sets[i].lim,
			    limit_sets[i].cap);
		}
		if (k == size)
			diff_targets(buf, k);
		free(buf);
	}
	return 0;
}
