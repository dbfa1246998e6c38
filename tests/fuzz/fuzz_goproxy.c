/*
 * fuzz_goproxy.c - libFuzzer target for the GOPROXY request path parser
 * (goproxy.c) and the GOPROXY error bodies (modproxy_error.c).
 *
 * The input is parsed as a request path, with and without a reason
 * buffer (and with a tiny one).  Beyond what the sanitizers catch, a
 * violation of these aborts:
 *
 *  - a refusal is 400, 404 or 414 with a non-empty reason that is
 *    printable ASCII and fits its buffer; the two calls agree;
 *  - an accepted path is at most GOPROXY_REQUEST_MAX bytes before its
 *    query, and no '/'-separated element of it (%-decoded) is longer
 *    than GOPROXY_ELEM_MAX, empty, "." or "..";
 *  - an accepted module path passes goproxy_check_path(), escapes and
 *    unescapes back to itself;
 *  - the error body for it (what, a route, the input as mirror and
 *    outcome, a cache state) fits what cmd/go shows whole: at most 8
 *    lines and MODPROXY_ERROR_BODY bytes, printable ASCII, no blank
 *    line, ending in a newline.
 *
 * Every call sees an exactly-sized heap copy of the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goproxy.h"
#include "modproxy_error.h"

static void
check(int ok)
{
	if (!ok)
		abort();
}

static int
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* The body fits cmd/go's rules (modproxy_error.h). */
static void
check_body(const char *b, size_t n)
{
	size_t	i, start = 0;
	int	lines = 0;

	check(n > 0 && n <= MODPROXY_ERROR_BODY && strlen(b) == n);
	check(b[n - 1] == '\n');
	for (i = 0; i < n; i++) {
		if (b[i] == '\n') {
			check(i > start && b[start] != ' ');
			lines++;
			start = i + 1;
		} else
			check((unsigned char)b[i] >= 0x20 &&
			    (unsigned char)b[i] < 0x7f);
	}
	check(lines <= MODPROXY_ERROR_LINES);
}

/* Elements of the decoded path of an accepted request. */
static void
check_elements(const char *p, size_t n)
{
	const char	*q = memchr(p, '?', n);
	char		 e[GOPROXY_PATH_MAX];
	size_t		 i, start, k, dec;

	n = q ? (size_t)(q - p) : n;
	check(n <= GOPROXY_REQUEST_MAX);
	for (start = 1, i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		for (dec = 0, k = start; k < i; k++) {	/* %-decoded */
			if (p[k] == '%') {
				char hex[3] = { p[k + 1], p[k + 2], '\0' };

				e[dec++] = (char)strtol(hex, NULL, 16);
				k += 2;
			} else
				e[dec++] = p[k];
		}
		e[dec] = '\0';
		check(dec <= GOPROXY_ELEM_MAX);
		check(dec > 0);
		check(strcmp(e, ".") != 0 && strcmp(e, "..") != 0);
		start = i + 1;
	}
}

static void
check_accepted(const struct goproxy_req *g, const char *p, size_t n)
{
	static struct modproxy_attempt a[3];
	struct modproxy_failure	f;
	char	what[MODPROXY_WHAT_MAX], esc[GOPROXY_MODULE_MAX * 2];
	char	back[GOPROXY_MODULE_MAX], body[MODPROXY_ERROR_BUFSIZE];
	char	mirror[512];
	size_t	i;

	check_elements(p, n);
	if (g->module[0] != '\0') {
		check(goproxy_check_path(g->module, NULL, 0) == 0);
		check(goproxy_escape_path(g->module, esc, sizeof(esc)) == 0);
		check(goproxy_unescape_path(esc, strlen(esc), back,
		    sizeof(back)) == 0 && strcmp(back, g->module) == 0);
	}
	modproxy_error_what(g, what, sizeof(what));
	snprintf(mirror, sizeof(mirror), "%.*s", (int)n, p);
	for (i = 0; i < 3; i++) {
		a[i].mirror = mirror;
		snprintf(a[i].outcome, sizeof(a[i].outcome), "%.*s", (int)n,
		    p);
	}
	memset(&f, 0, sizeof(f));
	f.what = what;
	f.route = mirror;
	f.verdict = mirror;
	f.attempts = a;
	f.nattempts = n % 4;
	f.ntried = n % 4 + n % 7;
	f.cache = n % 2 ? mirror : NULL;
	check_body(body, modproxy_error_body(&f, body, sizeof(body)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct goproxy_req	 g, g2;
	const char		*reason, *r2;
	char			*p, rbuf[GOPROXY_REASON_MAX], tiny[8];
	int			 status, s2, rc, rc2;

	if ((p = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(p, data, size);
	rc = goproxy_parse(p, size, &g, &status, &reason, rbuf, sizeof(rbuf));
	rc2 = goproxy_parse(p, size, &g2, &s2, &r2, NULL, 0);
	check(rc == rc2 && status == s2);
	if (rc == -1) {
		check(status == 400 || status == 404 || status == 414);
		check(reason != NULL && *reason != '\0' && printable(reason));
		check(strlen(reason) < sizeof(rbuf));
		(void)goproxy_parse(p, size, &g2, &s2, &r2, tiny, sizeof(tiny));
		check(strlen(r2) < sizeof(tiny));
	} else {
		check(status == 0 && reason == NULL);
		check_accepted(&g, p, size);
	}
	free(p);
	return 0;
}
