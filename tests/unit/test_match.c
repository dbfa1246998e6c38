/*
 * test_match.c - the host list, module glob and regex matchers.
 *
 * The host list and glob tables start with the cases of Go's own tests
 * (x/net/http/httpproxy proxy_test.go, path/match_test.go, x/mod/module
 * module_test.go), so that a difference from Go shows up here first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "unit.h"

struct host_case {
	const char	*host;
	uint16_t	 port;
	int		 want;
};

/* Check every case of cases[0..n) against the list text. */
static void
check_hosts(const char *list, const struct host_case *cases, size_t n)
{
	struct host_list	hl;
	char			err[256] = "";
	size_t			i;
	int			got;

	if (host_list_parse(list, &hl, err, sizeof(err)) == -1) {
		CHECK(0, "\"%s\": %s", list, err);
		return;
	}
	for (i = 0; i < n; i++) {
		got = host_list_match(&hl, cases[i].host,
		    strlen(cases[i].host), cases[i].port);
		CHECK(got == cases[i].want, "\"%s\" vs %s port %u: got %d",
		    list, cases[i].host, cases[i].port, got);
	}
	host_list_free(&hl);
}

/*
 * Go's TestUseProxy, with "http://" URLs, so port 80.  want is "goes
 * direct", the opposite of Go's table.  Go's first rows (localhost and
 * loopback never use a proxy) are UseProxy's policy, not the list's: the
 * list itself does not match them.
 */
static void
test_host_go_use_proxy(void)
{
	static const char list[] = "foobar.com, .barbaz.net, *.wildcard.io, "
	    "192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, "
	    "2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
	    "2002:db8:a::45/64";
	static const struct host_case cases[] = {
		{ "localhost", 80, 0 },
		{ "127.0.0.1", 80, 0 },
		{ "127.0.0.2", 80, 0 },
		{ "::1", 80, 0 },
		{ "::2", 80, 0 },
		{ "192.168.1.1", 80, 1 },	/* exact IPv4 */
		{ "192.168.1.2", 80, 0 },	/* ports differ */
		{ "192.168.1.3", 80, 1 },	/* exact IPv4:port */
		{ "192.168.1.4", 80, 0 },
		{ "10.0.0.2", 80, 1 },		/* IPv4 CIDR */
		{ "2001:db8::52:0:1", 80, 1 },	/* exact IPv6 */
		{ "2001:db8::52:0:2", 80, 0 },	/* ports differ */
		{ "2001:db8::52:0:3", 80, 1 },	/* exact [IPv6]:port */
		{ "2002:db8:a::123", 80, 1 },	/* IPv6 CIDR */
		{ "fe80::424b:c8be:1643:a1b6", 80, 0 },
		{ "barbaz.net", 80, 0 },	/* .barbaz.net: subdomains */
		{ "www.barbaz.net", 80, 1 },
		{ "foobar.com", 80, 1 },
		{ "www.foobar.com", 80, 1 },
		{ "foofoobar.com", 80, 0 },	/* not a label boundary */
		{ "baz.com", 80, 0 },
		{ "localhost.net", 80, 0 },
		{ "local.localhost", 80, 0 },
		{ "barbarbaz.net", 80, 0 },
		{ "wildcard.io", 80, 0 },	/* *.x is .x */
		{ "nested.wildcard.io", 80, 1 },
		{ "awildcard.io", 80, 0 },
	};

	check_hosts(list, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Go's proxyForURLTests with a NO_PROXY, and TestAllNoProxy. */
static void
test_host_go_proxy_for_url(void)
{
	static const struct host_case example[] = {
		{ "example.com", 80, 1 },
		{ "foo.example.com", 80, 1 },
	};
	static const struct host_case dot_example[] = {
		{ "example.com", 80, 0 },
		{ "foo.example.com", 80, 1 },
	};
	static const struct host_case ample[] = {
		{ "example.com", 80, 0 },
		{ "ample.com", 80, 1 },
	};
	static const struct host_case dot_foo[] = {
		{ "example.com", 80, 0 },
	};
	static const struct host_case all[] = {
		{ "localhost", 80, 1 },
		{ "example.com", 0, 1 },
		{ "10.0.0.1", 443, 1 },
		{ "::1", 8080, 1 },
		{ "", 0, 1 },
	};

	check_hosts("example.com", example, 2);
	check_hosts(".example.com", dot_example, 2);
	check_hosts("ample.com", ample, 2);
	check_hosts(".foo.com", dot_foo, 1);
	check_hosts("*", all, sizeof(all) / sizeof(all[0]));
	check_hosts("foo.com, *", all, sizeof(all) / sizeof(all[0]));
}

/* The list of the brief, and the things Go's tables leave out. */
static void
test_host_more(void)
{
	static const char list[] = "foobar.com, .barbaz.net, *.zap.com, "
	    "10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, "
	    "2001:db8::1/127, 127.0.0.1:9999";
	static const struct host_case cases[] = {
		{ "foobar.com", 443, 1 },
		{ "FooBar.COM", 443, 1 },	/* case-insensitive */
		{ "a.b.foobar.com", 1, 1 },
		{ "foobar.com.", 80, 1 },	/* trailing dot on the host */
		{ "www.foobar.com.", 80, 1 },
		{ "foobar.com..", 80, 0 },
		{ "xfoobar.com", 80, 0 },
		{ "foobar.co", 80, 0 },
		{ "barbaz.net", 80, 0 },
		{ "x.barbaz.net", 0, 1 },	/* no port on the entry */
		{ ".barbaz.net", 80, 1 },	/* as Go's HasSuffix */
		{ "zap.com", 80, 0 },
		{ "x.zap.com", 80, 1 },
		{ "10.0.0.0", 80, 1 },
		{ "10.0.0.3", 80, 1 },
		{ "10.0.0.4", 80, 0 },
		{ "::ffff:10.0.0.1", 80, 1 },	/* IPv4-mapped is IPv4 */
		{ "2001:db8::52:0:1", 0, 1 },
		{ "2001:DB8::52:0:1", 80, 1 },
		{ "2001:db8:0:0:0:52:0:1", 80, 1 },
		{ "2001:db8::52:0:2", 443, 1 },
		{ "2001:db8::52:0:2", 0, 0 },	/* unknown port: no */
		{ "2001:db8::0", 80, 1 },	/* /127 */
		{ "2001:db8::1", 80, 1 },
		{ "2001:db8::2", 80, 0 },
		{ "127.0.0.1", 9999, 1 },
		{ "127.0.0.1", 80, 0 },
		{ "127.0.0.1", 0, 0 },
		{ "[2001:db8::52:0:1]", 80, 0 },	/* hosts come bare */
		{ "10.0.0.1/32", 80, 0 },
		{ "", 80, 0 },
		{ ".", 80, 0 },
	};
	static const struct host_case ports[] = {
		{ "a.example.com", 8080, 1 },
		{ "example.com", 8080, 1 },
		{ "example.com", 80, 0 },
		{ "example.com", 0, 0 },
		{ "b.example.org", 443, 1 },
		{ "example.org", 443, 0 },
		{ "b.example.org", 444, 0 },
		{ "1.2.3.4", 80, 1 },
		{ "1.2.3.4", 81, 0 },
		{ "::ffff:1.2.3.4", 80, 1 },
	};
	static const struct host_case dots[] = {
		{ "example.com", 80, 1 },
		{ "example.com.", 80, 1 },
		{ "x.example.net", 80, 1 },
		{ "example.net", 80, 0 },
	};
	/* Go compares domain entries with IP hosts too, as text. */
	static const struct host_case ip_text[] = {
		{ "10.0.0.1", 80, 1 },
		{ "10.0.0.2", 80, 0 },
		{ "0.0.1", 80, 1 },
	};
	static const struct host_case mapped[] = {
		{ "10.1.2.3", 80, 1 },
		{ "::ffff:10.1.2.3", 80, 1 },
		{ "11.0.0.1", 80, 0 },
		{ "1.2.3.4", 80, 1 },
	};
	static const struct host_case none[] = {
		{ "example.com", 80, 0 },
		{ "10.0.0.1", 80, 0 },
	};

	check_hosts(list, cases, sizeof(cases) / sizeof(cases[0]));
	check_hosts("example.com:8080, *.example.org:443, 1.2.3.4:80", ports,
	    sizeof(ports) / sizeof(ports[0]));
	check_hosts("EXAMPLE.com., .Example.NET.", dots,
	    sizeof(dots) / sizeof(dots[0]));
	check_hosts("0.0.1", ip_text, sizeof(ip_text) / sizeof(ip_text[0]));
	check_hosts("::ffff:10.0.0.0/104, [::ffff:1.2.3.4]:80", mapped,
	    sizeof(mapped) / sizeof(mapped[0]));
	check_hosts("", none, 2);
	check_hosts(" , ,\t,", none, 2);
	check_hosts("\texample.com.\n", dots, 2);
}

static void
test_host_parse_errors(void)
{
	static const struct {
		const char	*list;
		const char	*want;
	} bad[] = {
		{ "10.0.0.0/33", "bad CIDR \"10.0.0.0/33\"" },
		{ "ok.com, 10.0.0.0/8:80", "bad CIDR \"10.0.0.0/8:80\"" },
		{ "example.com/x", "bad CIDR \"example.com/x\"" },
		{ ":1", "missing host in \":1\"" },
		{ "[]:80", "missing host in \"[]:80\"" },
		{ "example.com:", "bad port in \"example.com:\"" },
		{ "example.com:0", "bad port in \"example.com:0\"" },
		{ "example.com:080", "bad port in \"example.com:080\"" },
		{ "example.com:65536", "bad port in \"example.com:65536\"" },
		{ "example.com:http", "bad port in \"example.com:http\"" },
		{ "[::1]:", "bad port in \"[::1]:\"" },
		{ "[::1]", "bad host \"[::1]\"" },
		{ "[::1]x:80", "bad host \"[::1]x:80\"" },
		{ "[example.com]:80", "bad host \"[example.com]:80\"" },
		{ "[::1", "bad host \"[::1\"" },
		{ "*:80", "bad host \"*:80\"" },
		{ "*example.com", "bad host \"*example.com\"" },
		{ "**.example.com", "bad host \"**.example.com\"" },
		{ ".*.example.com", "bad host \".*.example.com\"" },
		{ "*.", "bad host \"*.\"" },
		{ ".", "bad host \".\"" },
		{ "..example.com", "bad host \"..example.com\"" },
		{ "a..b", "bad host \"a..b\"" },
		{ "example.com..", "bad host \"example.com..\"" },
		{ "exa mple.com", "bad host \"exa mple.com\"" },
		{ "b\303\274cher.de", "bad host \"b\303\274cher.de\"" },
		{ "fe80::1%eth0", "bad host \"fe80::1%eth0\"" },
		{ "1.2.3.4:80:90", "bad host \"1.2.3.4:80:90\"" },
		{ "Foo.COM:x", "bad port in \"foo.com:x\"" },
	};
	struct host_list	hl;
	char			err[256];
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(err, "(none)");
		rc = host_list_parse(bad[i].list, &hl, err, sizeof(err));
		CHECK(rc == -1 && strcmp(err, bad[i].want) == 0,
		    "\"%s\": rc %d, err %s", bad[i].list, rc, err);
		CHECK(hl.n == 0 && hl.v == NULL && !hl.any,
		    "\"%s\": list left non-empty", bad[i].list);
		host_list_free(&hl);
	}
	CHECK(host_list_parse("x:0", &hl, NULL, 0) == -1, "no error buffer");
	CHECK(host_list_parse(NULL, &hl, err, sizeof(err)) == 0 && hl.n == 0,
	    "NULL is the empty list");
	host_list_free(&hl);
}

static void
test_host_index(void)
{
	struct host_list	 hl;
	const char		*name;
	char			 err[256];
	size_t			 i, len, n = 0;
	uint16_t		 port;
	int			 sub;

	CHECK(host_list_parse("Example.COM., 10.0.0.0/8, *.b.org:443, "
	    "[::1]:80, .c.net", &hl, err, sizeof(err)) == 0, "%s", err);
	CHECK(!host_list_is_indexable(&hl), "IP entries: not indexable");
	for (i = 0; (i = host_list_domains(&hl, i, &name, &len, &sub,
	    &port)) != 0; n++) {
		if (n == 0)
			CHECK(len == 11 && strcmp(name, "example.com") == 0 &&
			    !sub && port == 0, "entry 0: %s %d %u", name, sub,
			    port);
		else if (n == 1)
			CHECK(len == 5 && strcmp(name, "b.org") == 0 && sub &&
			    port == 443, "entry 1: %s %d %u", name, sub, port);
		else if (n == 2)
			CHECK(len == 5 && strcmp(name, "c.net") == 0 && sub &&
			    port == 0, "entry 2: %s %d %u", name, sub, port);
	}
	CHECK(n == 3, "%zu domain entries, not 3", n);
	host_list_free(&hl);

	CHECK(host_list_parse("a.com, .b.com:80", &hl, err, sizeof(err)) == 0,
	    "%s", err);
	CHECK(host_list_is_indexable(&hl), "domains only: indexable");
	host_list_free(&hl);
	CHECK(host_list_parse("a.com, *", &hl, err, sizeof(err)) == 0, "%s",
	    err);
	CHECK(!host_list_is_indexable(&hl), "\"*\": not indexable");
	CHECK(host_list_domains(&hl, 0, &name, &len, &sub, &port) == 1 &&
	    host_list_domains(&hl, 1, &name, &len, &sub, &port) == 0,
	    "\"*\" is no domain entry");
	host_list_free(&hl);
	CHECK(host_list_parse("", &hl, err, sizeof(err)) == 0 &&
	    host_list_is_indexable(&hl) &&
	    host_list_domains(&hl, 0, &name, &len, &sub, &port) == 0,
	    "empty list");
	host_list_free(&hl);
}

/* Go's path/match_test.go matchTests; want -1 is ErrBadPattern. */
static void
test_glob_go(void)
{
	static const struct {
		const char	*pattern;
		const char	*name;
		int		 want;
	} cases[] = {
		{ "abc", "abc", 1 },
		{ "*", "abc", 1 },
		{ "*c", "abc", 1 },
		{ "a*", "a", 1 },
		{ "a*", "abc", 1 },
		{ "a*", "ab/c", 0 },
		{ "a*/b", "abc/b", 1 },
		{ "a*/b", "a/c/b", 0 },
		{ "a*b*c*d*e*/f", "axbxcxdxe/f", 1 },
		{ "a*b*c*d*e*/f", "axbxcxdxexxx/f", 1 },
		{ "a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0 },
		{ "a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0 },
		{ "a*b?c*x", "abxbbxdbxebxczzx", 1 },
		{ "a*b?c*x", "abxbbxdbxebxczzy", 0 },
		{ "ab[c]", "abc", 1 },
		{ "ab[b-d]", "abc", 1 },
		{ "ab[e-g]", "abc", 0 },
		{ "ab[^c]", "abc", 0 },
		{ "ab[^b-d]", "abc", 0 },
		{ "ab[^e-g]", "abc", 1 },
		{ "a\\*b", "a*b", 1 },
		{ "a\\*b", "ab", 0 },
		{ "a?b", "a\xe2\x98\xba" "b", 1 },		/* a☺b */
		{ "a[^a]b", "a\xe2\x98\xba" "b", 1 },
		{ "a???b", "a\xe2\x98\xba" "b", 0 },
		{ "a[^a][^a][^a]b", "a\xe2\x98\xba" "b", 0 },
		{ "[a-\xce\xb6]*", "\xce\xb1", 1 },	/* [a-ζ]*, α */
		{ "*[a-\xce\xb6]", "A", 0 },
		{ "a?b", "a/b", 0 },
		{ "a*b", "a/b", 0 },
		{ "[\\]a]", "]", 1 },
		{ "[\\-]", "-", 1 },
		{ "[x\\-]", "x", 1 },
		{ "[x\\-]", "-", 1 },
		{ "[x\\-]", "z", 0 },
		{ "[\\-x]", "x", 1 },
		{ "[\\-x]", "-", 1 },
		{ "[\\-x]", "a", 0 },
		{ "[]a]", "]", -1 },
		{ "[-]", "-", -1 },
		{ "[x-]", "x", -1 },
		{ "[x-]", "-", -1 },
		{ "[x-]", "z", -1 },
		{ "[-x]", "x", -1 },
		{ "[-x]", "-", -1 },
		{ "[-x]", "a", -1 },
		{ "\\", "a", -1 },
		{ "[a-b-c]", "a", -1 },
		{ "[", "a", -1 },
		{ "[^", "a", -1 },
		{ "[^bc", "a", -1 },
		{ "a[", "a", -1 },
		{ "a[", "ab", -1 },
		{ "a[", "x", -1 },
		{ "a/b[", "x", -1 },
		{ "*x", "xxx", 1 },
		/* Ours: UTF-8 and corners Go's table does not name. */
		{ "", "", 1 },
		{ "", "a", 0 },
		{ "*", "", 1 },
		{ "**", "a", 1 },
		{ "*/*", "a/b", 1 },
		{ "*", "a/b", 0 },
		{ "a[/]b", "a/b", 1 },		/* a class may hold '/' */
		{ "a[^x]b", "a/b", 1 },
		{ "?", "\xff", 1 },		/* invalid UTF-8: one byte */
		{ "??", "\xe2\x98", 1 },	/* truncated: byte by byte */
		{ "?", "\xe2\x98\xba", 1 },
		{ "[\xff]", "a", -1 },		/* invalid UTF-8 in a class */
		{ "[\xef\xbf\xbd]", "\xff", 1 },	/* U+FFFD: RuneError */
		{ "[^a]", "\xc0\x80", 0 },	/* overlong: two characters */
		{ "\\[", "[", 1 },
		{ "a\\", "a", -1 },
		{ "x*[", "abc", -1 },		/* checked after a "no" */
		{ "*[a", "b", -1 },
		{ "a*b*[", "ab", -1 },
		{ "[*]", "*", 1 },		/* no star inside a class */
		{ "[a*]b", "*b", 1 },
	};
	size_t	i;
	int	got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = glob_path_match(cases[i].pattern, cases[i].name,
		    strlen(cases[i].name));
		CHECK(got == cases[i].want, "Match(%s, %s): got %d, want %d",
		    cases[i].pattern, cases[i].name, got, cases[i].want);
	}
	CHECK(glob_path_match("a*", "ab\0/c", 5) == 0, "name length is used");
}

/* Go's TestMatchPrefixPatterns (x/mod/module), and ours. */
static void
test_module_go(void)
{
	static const struct {
		const char	*globs;
		const char	*target;
		int		 want;
	} cases[] = {
		{ "", "rsc.io/quote", 0 },
		{ "/", "rsc.io/quote", 0 },
		{ "*/quote", "rsc.io/quote", 1 },
		{ "*/quo", "rsc.io/quote", 0 },
		{ "*/quo??", "rsc.io/quote", 1 },
		{ "*/quo*", "rsc.io/quote", 1 },
		{ "*quo*", "rsc.io/quote", 0 },
		{ "rsc.io", "rsc.io/quote", 1 },
		{ "*.io", "rsc.io/quote", 1 },
		{ "rsc.io/", "rsc.io/quote", 1 },
		{ "rsc", "rsc.io/quote", 0 },
		{ "rsc*", "rsc.io/quote", 1 },
		{ "rsc.io", "rsc.io/quote/v3", 1 },
		{ "*/quote", "rsc.io/quote/v3", 1 },
		{ "*/quote/", "rsc.io/quote/v3", 1 },
		{ "*/quote/*", "rsc.io/quote/v3", 1 },
		{ "*/quote/*/", "rsc.io/quote/v3", 1 },
		{ "*/v3", "rsc.io/quote/v3", 0 },
		{ "*/*/v3", "rsc.io/quote/v3", 1 },
		{ "*/*/*", "rsc.io/quote/v3", 1 },
		{ "*/*/*/", "rsc.io/quote/v3", 1 },
		{ "*/*/*", "rsc.io/quote", 0 },
		{ "*/*/*/", "rsc.io/quote", 0 },
		{ "*/*/*,,", "rsc.io/quote", 0 },
		{ "*/*/*,,*/quote", "rsc.io/quote", 1 },
		{ ",,*/quote", "rsc.io/quote", 1 },
		{ ",rsc.io", "rsc.io/quote", 1 },
		{ "rsc.io,", "rsc.io/quote", 1 },
		{ "*.com", "rsc.io/quote", 0 },
		{ "rsc.io/quote/v3", "rsc.io/quote", 0 },
		{ "rsc.io/quote/v3", "rsc.io/quote/v3", 1 },
		{ "*/quote*", "rsc.io/quote/v3", 1 },
		{ "*/quote*", "rsc.io/quotes", 1 },
		/* Ours. */
		{ "rsc.io//", "rsc.io/quote", 0 },	/* one slash goes */
		{ " rsc.io , x.org", "rsc.io/quote", 1 },	/* trimmed */
		{ "RSC.io", "rsc.io/quote", 0 },	/* case matters */
		{ "rsc.io", "rsc.io", 1 },
		{ "rsc.io", "rsc.iox/quote", 0 },
		{ "rsc.io", "", 0 },
		{ "*", "", 1 },
		{ "golang.org/x", "golang.org/x/net/http", 1 },
		{ "golang.org/x/*", "golang.org/x", 0 },
		{ "github.com/[a-c]*", "github.com/corp/repo", 1 },
		{ "github.com/[^a-c]*", "github.com/corp/repo", 0 },
		{ "a/b/c/d/e/f", "a/b/c/d/e/f/g/h", 1 },
		{ "a/b/c/d/e/f", "a/b/c/d/e", 0 },
	};
	struct module_list	ml;
	char			err[256];
	size_t			i;
	int			got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (module_list_parse(cases[i].globs, &ml, err,
		    sizeof(err)) == -1) {
			CHECK(0, "\"%s\": %s", cases[i].globs, err);
			continue;
		}
		got = module_list_match(&ml, cases[i].target,
		    strlen(cases[i].target));
		CHECK(got == cases[i].want, "\"%s\" vs %s: got %d",
		    cases[i].globs, cases[i].target, got);
		module_list_free(&ml);
	}
}

/* Paths deeper than the slashes module_list_match() notes up front. */
static void
test_module_deep(void)
{
	struct module_list	ml;
	char			path[200], glob[200], err[256];
	size_t			i, n;

	for (n = 0, i = 0; i < 40; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%se%zu",
		    i > 0 ? "/" : "", i);
	memcpy(glob, path, n + 1);
	glob[n - 1] = '*';	/* ".../e3*" */
	CHECK(module_list_parse(glob, &ml, err, sizeof(err)) == 0, "%s", err);
	CHECK(module_list_match(&ml, path, n), "40 elements, glob of 40");
	CHECK(!module_list_match(&ml, path, n - 4), "39 elements, glob of 40");
	module_list_free(&ml);
	/* The first 35 elements of path, then "*": matches 36 of them. */
	for (i = 0, n = 0; n < 35; i++)
		if (path[i] == '/')
			n++;
	memcpy(glob, path, i);
	memcpy(glob + i, "*", 2);
	CHECK(module_list_parse(glob, &ml, err, sizeof(err)) == 0, "%s", err);
	CHECK(module_list_match(&ml, path, strlen(path)), "36 of 40");
	CHECK(!module_list_match(&ml, path, i - 1), "35 elements");
	module_list_free(&ml);
	glob[i - 2] = 'X';	/* "e34" becomes "e3X" */
	CHECK(module_list_parse(glob, &ml, err, sizeof(err)) == 0 &&
	    !module_list_match(&ml, path, strlen(path)), "36 of 40, element 35 differs");
	module_list_free(&ml);
}

static void
test_module_parse(void)
{
	static const struct {
		const char	*globs;
		const char	*want;
	} bad[] = {
		{ "[", "bad glob \"[\"" },
		{ "ok.com, a[", "bad glob \"a[\"" },
		{ "x/[^", "bad glob \"x/[^\"" },
		{ "a\\", "bad glob \"a\\\"" },
		{ "[]a]/", "bad glob \"[]a]\"" },
		{ "*/[z-a", "bad glob \"*/[z-a\"" },
	};
	struct module_list	ml;
	char			err[256];
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(err, "(none)");
		rc = module_list_parse(bad[i].globs, &ml, err, sizeof(err));
		CHECK(rc == -1 && strcmp(err, bad[i].want) == 0,
		    "\"%s\": rc %d, err %s", bad[i].globs, rc, err);
		CHECK(ml.n == 0 && ml.globs == NULL, "\"%s\": not emptied",
		    bad[i].globs);
		module_list_free(&ml);
	}
	CHECK(module_list_parse(" a.com/ , ,b/*, /,", &ml, err,
	    sizeof(err)) == 0 && ml.n == 2 && strcmp(ml.globs[0], "a.com") ==
	    0 && strcmp(ml.globs[1], "b/*") == 0, "globs stored trimmed");
	module_list_free(&ml);
	/* A backward range is valid syntax that matches nothing, as in Go. */
	CHECK(module_list_parse("[z-a]", &ml, err, sizeof(err)) == 0 &&
	    !module_list_match(&ml, "m", 1), "[z-a] parses, never matches");
	module_list_free(&ml);
	CHECK(module_list_parse(NULL, &ml, err, sizeof(err)) == 0 &&
	    ml.n == 0 && !module_list_match(&ml, "a", 1), "NULL: empty");
	module_list_free(&ml);
}

/* Does pattern compile, and match s? -2 if it does not compile. */
static int
re_match(const char *pattern, const char *s, size_t len)
{
	struct regex	*re;
	struct regex_md	*md;
	char		 err[256];
	int		 rc;

	if ((re = regex_compile(pattern, err, sizeof(err))) == NULL)
		return -2;
	if ((md = regex_match_data_new()) == NULL) {
		regex_free(re);
		return -3;
	}
	rc = regex_match(re, s, len, md);
	regex_match_data_free(md);
	regex_free(re);
	return rc;
}

static void
test_regex(void)
{
	static const struct {
		const char	*pattern;
		const char	*s;
		int		 want;
	} cases[] = {
		{ "^example\\.com$", "example.com", 1 },
		{ "^example\\.com$", "www.example.com", 0 },
		{ "example", "www.example.com", 1 },		/* unanchored */
		{ "(?i)^EXAMPLE\\.com$", "example.COM", 1 },
		{ "^[a-z]+\\.corp\\.(com|net)$", "git.corp.net", 1 },
		{ "^[a-z]+\\.corp\\.(com|net)$", "git.corp.org", 0 },
		{ "^/v[0-9]+/", "/v2/x", 1 },
		{ "(a)(b)(c)", "abc", 1 },	/* more groups than pairs */
		{ "", "", 1 },
		{ "^.$", "\xff", 1 },		/* bytes, not UTF-8 */
		{ "^...$", "\xe2\x98\xba", 1 },
		{ "^\\xff$", "\xff", 1 },
	};
	size_t	i;
	int	got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = re_match(cases[i].pattern, cases[i].s,
		    strlen(cases[i].s));
		CHECK(got == cases[i].want, "/%s/ vs \"%s\": got %d",
		    cases[i].pattern, cases[i].s, got);
	}
	CHECK(re_match("^ab$", "abc", 2) == 1, "only len bytes are read");
	CHECK(re_match("^a\\x00b$", "a\0b", 3) == 1, "a NUL is a byte");
}

static void
test_regex_errors(void)
{
	static const struct {
		const char	*pattern;
		const char	*want;
	} bad[] = {
		{ "(ab", "at offset 3: missing closing parenthesis" },
		{ "a[b", "at offset 3: "
		    "missing terminating ] for character class" },
		{ "*a", "at offset 0: "
		    "quantifier does not follow a repeatable item" },
		{ "a{2,1}", "at offset 5: "
		    "numbers out of order in {} quantifier" },
		{ "(*UTF)a", "at offset 6: "
		    "using UTF is disabled by the application" },
	};
	struct regex	*re;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(err, "(none)");
		re = regex_compile(bad[i].pattern, err, sizeof(err));
		CHECK(re == NULL && strcmp(err, bad[i].want) == 0,
		    "/%s/: got \"%s\"", bad[i].pattern, err);
		regex_free(re);
	}
	CHECK(regex_compile("(", NULL, 0) == NULL, "no error buffer");
	regex_free(NULL);
	regex_match_data_free(NULL);
}

/* A pattern that backtracks past PCRE2's match limit is an error, -1. */
static void
test_regex_limit(void)
{
	char	s[64];

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	CHECK(re_match("^(a+)+$", s, sizeof(s) - 1) == 1, "(a+)+ matches");
	CHECK(re_match("^(a|aa)+$", s, sizeof(s) - 1) == 1, "(a|aa)+ ok");
	CHECK(re_match("^(\\w+\\s?)*$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", 31)
	    == -1, "catastrophic backtracking hits the limit");
}

/* host_list_entry: each entry back as NO_PROXY text (proxyd --env). */
static void
test_host_entries(void)
{
	static const struct {
		const char		*text;
		enum host_entry_kind	 kind;
		unsigned		 port;
	} want[] = {
		{ "example.com", HOST_ENTRY_DOMAIN, 0 },
		{ ".sub.example.com", HOST_ENTRY_SUBDOMAINS, 0 },
		{ ".star.test", HOST_ENTRY_SUBDOMAINS, 0 },
		{ "10.0.0.0/8", HOST_ENTRY_CIDR, 0 },
		{ "192.168.1.5", HOST_ENTRY_IP, 0 },
		{ "::1", HOST_ENTRY_IP, 0 },
		{ "fd00::/8", HOST_ENTRY_CIDR, 0 },
		{ "build.test:8443", HOST_ENTRY_DOMAIN, 8443 },
		{ "[::1]:80", HOST_ENTRY_IP, 80 },
	};
	struct host_list	hl;
	enum host_entry_kind	kind;
	char			err[128], buf[300];
	uint16_t		port;
	size_t			i;

	CHECK(host_list_parse("Example.COM., .sub.example.com, *.star.test, "
	    "10.0.0.0/8, 192.168.1.5, ::1, fd00::/8, build.test:8443, "
	    "[::1]:80, *", &hl, err, sizeof(err)) == 0, "parse: %s", err);
	CHECK(hl.n == sizeof(want) / sizeof(want[0]) && hl.any,
	    "%zu entries and *", hl.n);
	for (i = 0; i < hl.n && i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(host_list_entry(&hl, i, buf, sizeof(buf), &kind,
		    &port) == 0 && strcmp(buf, want[i].text) == 0 &&
		    kind == want[i].kind && port == want[i].port,
		    "entry %zu: %s kind %d port %u, want %s", i, buf,
		    (int)kind, (unsigned)port, want[i].text);
	}
	CHECK(host_list_entry(&hl, hl.n, buf, sizeof(buf), &kind, &port) ==
	    -1, "past the end");
	CHECK(host_list_entry(&hl, 0, buf, 5, &kind, &port) == -1,
	    "too small a buffer");
	host_list_free(&hl);
}

/*
 * host_parse_ip() reads a dotted quad itself; it must say what
 * cidr_parse() (inet_pton) says, on addresses and on near misses.
 */
static void
test_host_parse_ip(void)
{
	static const char *const hosts[] = {
		"127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3",
		"256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1.2.3.00",
		"1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3.4", "1..2.3",
		"1.2.3.4a", "a.1.2.3", "", ".", "1", "1234.1.1.1",
		"1.2.3.4/8", "1.2.3. 4", "999.999.999.999", "0.0.0.00",
		"::1", "::ffff:1.2.3.4", "fe80::1", "cafe.de", "abc",
		"1.2.3.4\0",
	};
	struct cidr	a, b;
	size_t		i, len;
	int		ra, rb;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		len = strlen(hosts[i]) + (i == sizeof(hosts) /
		    sizeof(hosts[0]) - 1);
		memset(&a, 0xa5, sizeof(a));
		memset(&b, 0x5a, sizeof(b));
		ra = host_parse_ip(hosts[i], len, &a);
		rb = cidr_parse(hosts[i], len, &b);
		if (len == 0 || memchr(hosts[i], '/', len) != NULL)
			rb = -1;	/* not hosts cidr_parse() sees */
		CHECK(ra == rb, "host_parse_ip(%s) %d, cidr_parse %d",
		    hosts[i], ra, rb);
		CHECK(ra == -1 || (a.family == b.family &&
		    a.prefix == b.prefix &&
		    memcmp(a.addr, b.addr, sizeof(a.addr)) == 0),
		    "host_parse_ip(%s) parsed differently", hosts[i]);
	}
}

int
main(void)
{
	test_host_entries();
	test_host_parse_ip();
	test_host_go_use_proxy();
	test_host_go_proxy_for_url();
	test_host_more();
	test_host_parse_errors();
	test_host_index();
	test_glob_go();
	test_module_go();
	test_module_deep();
	test_module_parse();
	test_regex();
	test_regex_errors();
	test_regex_limit();
	return unit_done("match");
}
