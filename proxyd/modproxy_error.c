/*
 * modproxy_error.c - the error bodies of the GOPROXY endpoint (see
 * modproxy_error.h for the rules of cmd/go they are built to): what a
 * failed module request asked for, its route, each mirror tried with
 * its outcome in proxyd's terms, and the cache's state, cut to fit.
 */
#include <stdio.h>
#include <string.h>

#include "goproxy.h"
#include "modproxy_error.h"

/* The longest part of a line, before it is cut with "...". */
#define WHAT_CUT	128
#define ROUTE_CUT	48
#define VERDICT_CUT	200
#define MIRROR_CUT	96
#define CACHE_CUT	64
#define LINE_MAX_LEN	512	/* every line is shorter */

/* A body being written into a caller's buffer. */
struct body {
	char	*buf;
	size_t	 cap;		/* bytes it may have, newlines included */
	size_t	 n;		/* written */
	int	 lines;
};

/*
 * Copy s into dst[0..dstlen) (a NUL always), at most max bytes of it:
 * a longer s is cut with "...", in its middle when middle is set (a
 * module path's head and tail say more than either alone), else at its
 * end.  Bytes outside printable ASCII become '?': go prints nothing of
 * a body with a control character, and the rest is the mirrors' text,
 * untrusted.  Returns dst.
 */
static char *
clip(char *dst, size_t dstlen, const char *s, size_t max, int middle)
{
	size_t	n = strlen(s), head, tail, i, o = 0;

	if (max + 1 > dstlen)
		max = dstlen - 1;
	if (n <= max) {
		head = n;
		tail = 0;
	} else {
		head = max < 3 ? 0 : middle ? (max - 3) / 3 : max - 3;
		tail = max < 3 ? 0 : middle ? max - 3 - head : 0;
	}
	for (i = 0; i < head; i++)
		dst[o++] = s[i];
	if (n > max)
		for (i = 0; i < 3 && o < max; i++)
			dst[o++] = '.';
	for (i = n - tail; i < n; i++)
		dst[o++] = s[i];
	dst[o] = '\0';
	for (i = 0; i < o; i++)
		if ((unsigned char)dst[i] < 0x20 || (unsigned char)dst[i] >= 0x7f)
			dst[i] = '?';
	return dst;
}

/*
 * Can a line of n bytes (no newline) be added, leaving room for rlines
 * more lines of rbytes bytes (newlines included)?
 */
static int
body_fits(const struct body *b, size_t n, int rlines, size_t rbytes)
{
	return b->lines + 1 + rlines <= MODPROXY_ERROR_LINES &&
	    b->n + n + 1 + rbytes <= b->cap;
}

/* Add the line (no newline in it) when it fits; 0, or -1 when not. */
static int
body_add(struct body *b, const char *line)
{
	size_t	n = strlen(line);

	if (n == 0 || !body_fits(b, n, 0, 0))
		return -1;
	memcpy(b->buf + b->n, line, n);
	b->buf[b->n + n] = '\n';
	b->n += n + 1;
	b->buf[b->n] = '\0';
	b->lines++;
	return 0;
}

/* Line 1: "proxyd: WHAT: route R: VERDICT". */
static void
body_head(struct body *b, const struct modproxy_failure *f)
{
	char	line[LINE_MAX_LEN], what[WHAT_CUT + 1], route[ROUTE_CUT + 1];
	char	verdict[VERDICT_CUT + 1];

	clip(what, sizeof(what), f->what ? f->what : "-", WHAT_CUT, 1);
	clip(verdict, sizeof(verdict), f->verdict ? f->verdict : "failed",
	    VERDICT_CUT, 0);
	if (f->route != NULL)
		snprintf(line, sizeof(line), "proxyd: %s: route %s: %s", what,
		    clip(route, sizeof(route), f->route, ROUTE_CUT, 0),
		    verdict);
	else
		snprintf(line, sizeof(line), "proxyd: %s: %s", what, verdict);
	if (body_add(b, line) == -1) {
		/* Only a buffer smaller than a body can refuse it. */
		clip(line, b->cap > 1 ? b->cap : 1, line, b->cap - 1, 0);
		(void)body_add(b, line);
	}
}

/* "mirror URL OUTCOME" of attempt a into line[0..len). */
static void
attempt_line(char *line, size_t len, const struct modproxy_attempt *a)
{
	char	url[MIRROR_CUT + 1], outcome[MODPROXY_OUTCOME_MAX];

	snprintf(line, len, "mirror %s %s",
	    clip(url, sizeof(url), a->mirror ? a->mirror : "-", MIRROR_CUT, 1),
	    clip(outcome, sizeof(outcome), a->outcome, sizeof(outcome) - 1,
	    0));
}

/*
 * The attempts' lines, as many as fit with room left for the cache
 * line (clen bytes, 0: none) and for the line saying how many more
 * there were.
 */
static void
body_attempts(struct body *b, const struct modproxy_failure *f, size_t clen)
{
	char	line[LINE_MAX_LEN];
	size_t	i, more;
	int	rlines = clen ? 1 : 0;

	for (i = 0; i < f->nattempts; i++) {
		attempt_line(line, sizeof(line), &f->attempts[i]);
		more = f->ntried > i + 1;
		if (!body_fits(b, strlen(line), rlines + (int)more,
		    clen + (more ? LINE_MAX_LEN / 8 : 0)))
			break;
		(void)body_add(b, line);
	}
	if (f->ntried > i) {
		snprintf(line, sizeof(line), "... and %zu more mirror%s (see "
		    "the access log)", f->ntried - i, f->ntried - i > 1 ?
		    "s" : "");
		(void)body_add(b, line);
	}
}

size_t
modproxy_error_body(const struct modproxy_failure *f, char *buf, size_t len)
{
	struct body	b = { buf, 0, 0, 0 };
	char		cache[CACHE_CUT + 1] = "";

	if (len == 0)
		return 0;
	buf[0] = '\0';
	b.cap = len - 1 < MODPROXY_ERROR_BODY ? len - 1 : MODPROXY_ERROR_BODY;
	if (f->cache != NULL)
		clip(cache, sizeof(cache), f->cache, CACHE_CUT, 0);
	body_head(&b, f);
	body_attempts(&b, f, cache[0] ? strlen(cache) + 1 : 0);
	if (cache[0])
		(void)body_add(&b, cache);
	return b.n;
}

void
modproxy_error_what(const struct goproxy_req *g, char *buf, size_t len)
{
	static const char *const ext[] = {
		[GOPROXY_INFO] = "info", [GOPROXY_MOD] = "mod",
		[GOPROXY_ZIP] = "zip",
	};

	switch (g->kind) {
	case GOPROXY_LIST:
		snprintf(buf, len, "%s/@v/list", g->module);
		break;
	case GOPROXY_LATEST:
		snprintf(buf, len, "%s@latest", g->module);
		break;
	case GOPROXY_INFO:
	case GOPROXY_MOD:
	case GOPROXY_ZIP:
		snprintf(buf, len, "%s@%s.%s", g->module, g->version,
		    ext[g->kind]);
		break;
	default:		/* the checksum database's requests */
		snprintf(buf, len, "sumdb %s%.*s", g->sumdb,
		    (int)g->rest_len, g->rest ? g->rest : "");
		break;
	}
}

/* A duration the way the config says it: "20s", "500ms", "1.5s". */
static void
format_ms(char *buf, size_t len, int ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%ds", ms / 1000);
	else if (ms < 1000)
		snprintf(buf, len, "%dms", ms);
	else
		snprintf(buf, len, "%.1fs", ms / 1000.0);
}

void
modproxy_error_outcome(char *buf, size_t len, int status, const char *why,
    int connect_ms, int response_ms)
{
	const char	*tls;
	char		 d[32];

	why = why ? why : "failed";
	if (strstr(why, "timed out") != NULL) {	/* connect, TLS, DNS */
		format_ms(d, sizeof(d), connect_ms);
		snprintf(buf, len, "connect timeout after %s", d);
	} else if (status == 504 || strstr(why, "response timeout")) {
		format_ms(d, sizeof(d), response_ms);
		snprintf(buf, len, "timeout after %s", d);
	} else if (strstr(why, "Connection refused") != NULL)
		snprintf(buf, len, "connect refused");
	else if ((tls = strstr(why, "TLS to ")) != NULL) {
		/* "TLS to host:port: certificate verify failed: ..." */
		tls = strstr(tls, ": ");
		snprintf(buf, len, "TLS error: %s", tls ? tls + 2 : why);
	} else
		snprintf(buf, len, "%s", why);
}
