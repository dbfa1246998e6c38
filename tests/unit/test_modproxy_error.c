/*
 * test_modproxy_error.c - the GOPROXY endpoint's error bodies fit what
 * cmd/go shows (8 lines, 648 bytes counted its way, no blank line,
 * printable), whatever the module path, mirrors and outcomes; the
 * outcomes and the "what" in proxyd's terms.
 */
#include <stdio.h>
#include <string.h>

#include "goproxy.h"
#include "modproxy_error.h"
#include "unit.h"

/*
 * cmd/go/internal/web's formatErrorDetail: the detail go prints, or
 * NULL with *why when it would drop or truncate the body.
 */
static int
go_shows_whole(const char *body, const char **why)
{
	size_t	detail = 0, n;
	int	lines = 0;
	const char *p, *nl;

	for (p = body; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n') {
			*why = "control character";
			return 0;
		} else if ((unsigned char)*p >= 0x7f) {
			*why = "not ASCII";
			return 0;
		}
	for (p = body; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL) {
			*why = "last line without newline";
			return 0;
		}
		n = (size_t)(nl - p);
		if (strspn(p, " ") >= n) {
			*why = "blank line";
			return 0;
		}
		if (lines > 0)
			detail += 2;	/* "\n\t" */
		if (lines >= 8) {
			*why = "too many lines";
			return 0;
		}
		if (detail + n > 648) {
			*why = "too long";
			return 0;
		}
		detail += n;
		lines++;
	}
	return 1;
}

static void
check_fits(const struct modproxy_failure *f, const char *what)
{
	char		 buf[MODPROXY_ERROR_BUFSIZE + 16];
	const char	*why = "";
	size_t		 n;

	memset(buf, 'X', sizeof(buf));
	n = modproxy_error_body(f, buf, MODPROXY_ERROR_BUFSIZE);
	CHECK(n > 0 && n <= MODPROXY_ERROR_BODY && strlen(buf) == n,
	    "%s: length %zu", what, n);
	CHECK(buf[MODPROXY_ERROR_BUFSIZE] == 'X', "%s: wrote past the buffer",
	    what);
	CHECK(go_shows_whole(buf, &why), "%s: go would not show it whole "
	    "(%s): %s", what, why, buf);
	CHECK(strncmp(buf, "proxyd: ", 8) == 0, "%s: first line %.40s", what,
	    buf);
}

/* The example, as it is built. */
static void
test_example(void)
{
	struct modproxy_attempt a[2] = {
		{ "https://goproxy.cn", "timeout after 20s" },
		{ "https://proxy.golang.org", "502" },
	};
	struct modproxy_failure f = { "golang.org/x/text@v0.3.0.zip", "go",
		"no mirror could serve it", a, 2, 2, "not cached" };
	char buf[MODPROXY_ERROR_BUFSIZE];

	modproxy_error_body(&f, buf, sizeof(buf));
	CHECK(strcmp(buf, "proxyd: golang.org/x/text@v0.3.0.zip: route go: "
	    "no mirror could serve it\n"
	    "mirror https://goproxy.cn timeout after 20s\n"
	    "mirror https://proxy.golang.org 502\n"
	    "not cached\n") == 0, "example: %s", buf);
	f.cache = NULL;
	f.route = NULL;
	f.nattempts = f.ntried = 0;
	f.verdict = "too many requests";
	modproxy_error_body(&f, buf, sizeof(buf));
	CHECK(strcmp(buf, "proxyd: golang.org/x/text@v0.3.0.zip: too many "
	    "requests\n") == 0, "no route, no mirror, no cache: %s", buf);
	check_fits(&f, "example");
}

/* Mirrors a body accounts for: its lines, and "... and N more". */
static size_t
mirrors_said(const char *body)
{
	const char	*p;
	size_t		 n = 0, more;

	for (p = body; (p = strstr(p, "\nmirror ")) != NULL; p++)
		n++;
	if ((p = strstr(body, "\n... and ")) != NULL &&
	    sscanf(p, "\n... and %zu more", &more) == 1)
		n += more;
	return n;
}

/* Long module paths, many long mirrors, long outcomes: always fits. */
static void
test_bounds(void)
{
	static char	 what[2048], url[600], outcome[200];
	struct modproxy_attempt a[16];
	struct modproxy_failure f;
	char		 buf[MODPROXY_ERROR_BUFSIZE], name[64];
	size_t		 wlen, nm, i;
	int		 cache;

	for (wlen = 12; wlen < sizeof(what); wlen = wlen * 3 + 7)
		for (nm = 0; nm <= 16; nm += nm < 3 ? 1 : 5)
			for (cache = 0; cache < 2; cache++) {
				memset(what, 'm', wlen);
				memcpy(what + wlen - 11, "@v1.0.0.zip", 12);
				memset(url, 'u', sizeof(url) - 1);
				memcpy(url, "https://", 8);
				url[sizeof(url) - 1] = '\0';
				memset(outcome, 'o', sizeof(outcome) - 1);
				outcome[sizeof(outcome) - 1] = '\0';
				for (i = 0; i < nm; i++) {
					a[i].mirror = i % 2 ? url :
					    "http://127.0.0.1:1";
					memset(a[i].outcome, 'o',
					    sizeof(a[i].outcome) - 1);
					a[i].outcome[sizeof(a[i].outcome) - 1]
					    = '\0';
					if (i % 3)
						strcpy(a[i].outcome, "502");
				}
				memset(&f, 0, sizeof(f));
				f.what = what;
				f.route = "a-route-with-a-rather-long-name-"
				    "that-goes-on-and-on-and-on";
				f.verdict = outcome;
				f.attempts = a;
				f.nattempts = nm;
				f.ntried = nm + (nm == 16 ? 9 : 0);
				f.cache = cache ? outcome : NULL;
				snprintf(name, sizeof(name), "what %zu mirrors "
				    "%zu cache %d", wlen, nm, cache);
				check_fits(&f, name);
				modproxy_error_body(&f, buf, sizeof(buf));
				CHECK(strstr(buf, "@v1.0.0.zip: route") != NULL,
				    "%s: the version was cut off: %.200s",
				    name, buf);
				CHECK(!cache || strstr(buf, "ooo\n") != NULL,
				    "%s: no cache line", name);
				CHECK(mirrors_said(buf) == f.ntried,
				    "%s: %zu mirrors said, %zu tried: %s", name,
				    mirrors_said(buf), f.ntried, buf);
			}
}

/* Control bytes, non-ASCII and newlines from a mirror never get in. */
static void
test_hostile(void)
{
	struct modproxy_attempt a[1] = {
		{ "http://x\n\nmirror", "bad\r\n\n\x1b[31m\xc3\xa9" },
	};
	struct modproxy_failure f = { "x.y/z\n@v1.0.0.zip", "r\n",
		"why\n\n", a, 1, 1, "\n" };
	char buf[MODPROXY_ERROR_BUFSIZE];

	check_fits(&f, "hostile");
	modproxy_error_body(&f, buf, sizeof(buf));
	CHECK(strchr(buf, '\x1b') == NULL && strstr(buf, "\n\n") == NULL,
	    "hostile: %s", buf);
	/* A buffer smaller than a body: cut, still NUL-terminated. */
	CHECK(modproxy_error_body(&f, buf, 20) < 20 && strlen(buf) < 20,
	    "small buffer: %s", buf);
	CHECK(modproxy_error_body(&f, buf, 0) == 0, "no buffer");
}

static void
test_outcome(void)
{
	static const struct {
		int		 status;
		const char	*why, *want;
	} t[] = {
		{ 502, "127.0.0.1:9: connect failed: Connection refused",
		    "connect refused" },
		{ 504, "127.0.0.1:9: connect timed out",
		    "connect timeout after 3s" },
		{ 504, "TLS handshake with m.test:443 timed out",
		    "connect timeout after 3s" },
		{ 504, "upstream response timeout", "timeout after 1.5s" },
		{ 502, "TLS to m.test:443: certificate verify failed: x",
		    "TLS error: certificate verify failed: x" },
		{ 502, "upstream closed the connection before responding",
		    "upstream closed the connection before responding" },
	};
	char	buf[MODPROXY_OUTCOME_MAX];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		modproxy_error_outcome(buf, sizeof(buf), t[i].status, t[i].why,
		    3000, 1500);
		CHECK(strcmp(buf, t[i].want) == 0, "outcome of %s: %s",
		    t[i].why, buf);
	}
	modproxy_error_outcome(buf, sizeof(buf), 504, "upstream response "
	    "timeout", 3000, 500);
	CHECK(strcmp(buf, "timeout after 500ms") == 0, "ms: %s", buf);
}

static void
test_what(void)
{
	static const struct {
		const char	*path, *want;
	} t[] = {
		{ "/golang.org/x/text/@v/v0.3.0.zip",
		    "golang.org/x/text@v0.3.0.zip" },
		{ "/golang.org/x/text/@v/v0.3.0.info",
		    "golang.org/x/text@v0.3.0.info" },
		{ "/golang.org/x/text/@v/v0.3.0.mod",
		    "golang.org/x/text@v0.3.0.mod" },
		{ "/github.com/!burnt!sushi/toml/@v/list",
		    "github.com/BurntSushi/toml/@v/list" },
		{ "/golang.org/x/text/@latest", "golang.org/x/text@latest" },
		{ "/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.3.0",
		    "sumdb sum.golang.org/lookup/golang.org/x/text@v0.3.0" },
		{ "/sumdb/sum.golang.org/supported",
		    "sumdb sum.golang.org/supported" },
	};
	struct goproxy_req	 g;
	const char		*reason;
	char			 buf[MODPROXY_WHAT_MAX];
	size_t			 i;
	int			 status;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(goproxy_parse(t[i].path, strlen(t[i].path), &g, &status,
		    &reason, NULL, 0) == 0, "%s: %s", t[i].path,
		    reason ? reason : "");
		modproxy_error_what(&g, buf, sizeof(buf));
		CHECK(strcmp(buf, t[i].want) == 0, "what of %s: %s",
		    t[i].path, buf);
	}
}

int
main(void)
{
	test_example();
	test_bounds();
	test_hostile();
	test_outcome();
	test_what();
	return unit_done("modproxy_error");
}
