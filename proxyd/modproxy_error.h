/*
 * modproxy_error.h - the error bodies of the GOPROXY endpoint: what the
 * go command shows its user when proxyd cannot serve a module file.
 *
 * cmd/go/internal/web (Go 1.19, api.go and http.go) prints the body of
 * a non-200 answer only when it is text/plain (utf-8, us-ascii or no
 * charset), valid UTF-8 of graphic characters and spaces, and only up to
 * the first blank line, 8 lines and 648 bytes (maxErrorDetailLines,
 * maxErrorDetailBytes); past that it prints "[Truncated: ...]" instead
 * of the rest.  The bodies built here always fit whole: printable ASCII,
 * no blank line, at most MODPROXY_ERROR_LINES lines and
 * MODPROXY_ERROR_BODY bytes, so that go's own count (lines joined by
 * "\n\t") stays within 648 too.
 *
 *	proxyd: golang.org/x/text@v0.3.0.zip: route go: no mirror could serve it
 *	mirror https://goproxy.cn timeout after 20s
 *	mirror https://proxy.golang.org 502
 *	not cached
 *
 * Pure functions: no I/O, no allocation, no global state.
 */
#ifndef PROXYD_MODPROXY_ERROR_H
#define PROXYD_MODPROXY_ERROR_H

#include <stddef.h>

struct goproxy_req;

/* cmd/go's maxErrorDetailLines. */
#define MODPROXY_ERROR_LINES	8
/*
 * Body bytes, newlines included: go counts its 648 with "\n\t" between
 * lines, one byte more per line break, so 8 lines of a 640-byte body
 * come to at most 646.
 */
#define MODPROXY_ERROR_BODY	640
/* A buffer for any body, with its NUL. */
#define MODPROXY_ERROR_BUFSIZE	(MODPROXY_ERROR_BODY + 1)
/* An attempt's outcome, with the NUL. */
#define MODPROXY_OUTCOME_MAX	96
/* A "what" (module@version.file), with the NUL. */
#define MODPROXY_WHAT_MAX	160

/* One mirror tried, and what came of it. */
struct modproxy_attempt {
	const char	*mirror;	/* its URL */
	char		 outcome[MODPROXY_OUTCOME_MAX];	/* "502", "timeout
					   after 20s", "connect refused" */
};

/* What the body says. */
struct modproxy_failure {
	const char	*what;		/* modproxy_error_what() */
	const char	*route;		/* the route's name, or NULL */
	const char	*verdict;	/* what happened: a refusal's reason,
					   or "no mirror could serve it" */
	const struct modproxy_attempt *attempts;
	size_t		 nattempts;	/* in attempts[] */
	size_t		 ntried;	/* in all: more than nattempts when
					   the record was full */
	const char	*cache;		/* the cache's state ("not cached",
					   "stale ..."), NULL: not said */
};

/*
 * The body for f into buf[0..len) (len at least MODPROXY_ERROR_BUFSIZE
 * for the whole of it), NUL-terminated: line 1 "proxyd: WHAT: route R:
 * VERDICT", a line "mirror URL OUTCOME" per attempt, then the cache
 * state.  Too long parts are cut with "..." (a long module path keeps
 * its head and its tail, where the version and file are); attempts that
 * do not fit become one line "... and N more mirrors (see the access
 * log)".  Bytes outside printable ASCII become "?".  Returns the body's
 * length (0 only when len is 0).
 */
size_t	modproxy_error_body(const struct modproxy_failure *f, char *buf,
	    size_t len);

/*
 * What a request asks for, the way the go command names it, into
 * buf[0..len): "golang.org/x/text@v0.3.0.zip", "golang.org/x/text@v0.3.0
 * .info" without the space, "golang.org/x/text/@v/list",
 * "golang.org/x/text@latest", "sumdb sum.golang.org/lookup/...".
 */
void	modproxy_error_what(const struct goproxy_req *g, char *buf,
	    size_t len);

/*
 * An attempt's outcome in proxyd's terms, from the status and reason the
 * connect or the exchange failed with: "connect refused", "connect
 * timeout after 3s", "timeout after 20s" (no response within
 * response_ms), "TLS error: ...", or the reason itself.
 */
void	modproxy_error_outcome(char *buf, size_t len, int status,
	    const char *why, int connect_ms, int response_ms);

#endif /* PROXYD_MODPROXY_ERROR_H */
