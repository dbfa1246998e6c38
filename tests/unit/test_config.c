/*
 * test_config.c - the configuration loader and the CIDR and port matchers.
 *
 * Config files are written to /tmp, loaded with their messages captured,
 * and the messages compared whole, with the temporary path shown as "F".
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "match.h"
#include "route.h"
#include "unit.h"

/* Write text[0..len) to a new temporary file; returns its malloc'd name. */
static char *
write_temp(const char *text, size_t len)
{
	char	*path;
	int	 fd;

	if ((path = strdup("/tmp/test_config.XXXXXX")) == NULL)
		return NULL;
	if ((fd = mkstemp(path)) == -1) {
		free(path);
		return NULL;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

/* Replace every "old" in s (malloc'd) by "new"; returns the new string. */
static char *
replace_all(char *s, const char *old, const char *new)
{
	char	*out, *p;
	size_t	 oldlen = strlen(old), n = 0;
	FILE	*f;

	if ((f = open_memstream(&out, &n)) == NULL)
		return s;
	for (p = s; *p != '\0'; ) {
		if (strncmp(p, old, oldlen) == 0) {
			fputs(new, f);
			p += oldlen;
		} else
			fputc(*p++, f);
	}
	fclose(f);
	free(s);
	return out;
}

/*
 * Load path, returning the config and, in *msgs (malloc'd), everything
 * config_load() said, with path replaced by "F".
 */
static struct config *
load_path(const char *path, char **msgs)
{
	struct config	*c;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*errs;

	if ((errs = open_memstream(&buf, &len)) == NULL)
		return NULL;
	c = config_load(path, errs);
	fclose(errs);
	*msgs = replace_all(buf, path, "F");
	return c;
}

/* Load text[0..len) as a config file; see load_path(). */
static struct config *
load_bytes(const char *text, size_t len, char **msgs)
{
	struct config	*c;
	char		*path;

	*msgs = NULL;
	if ((path = write_temp(text, len)) == NULL) {
		CHECK(0, "cannot write a temporary file");
		return NULL;
	}
	c = load_path(path, msgs);
	unlink(path);
	free(path);
	return c;
}

static struct config *
load_text(const char *text, char **msgs)
{
	return load_bytes(text, strlen(text), msgs);
}

/* text must load without a word; the caller unrefs the result. */
static struct config *
load_ok(const char *name, const char *text)
{
	struct config	*c;
	char		*msgs;

	c = load_text(text, &msgs);
	CHECK(c != NULL, "%s: not loaded", name);
	CHECK(msgs != NULL && msgs[0] == '\0', "%s: unexpected errors:\n%s",
	    name, msgs != NULL ? msgs : "");
	free(msgs);
	return c;
}

/* text must fail to load, saying exactly want. */
static void
load_bad(const char *name, const char *text, const char *want)
{
	struct config	*c;
	char		*msgs;

	c = load_text(text, &msgs);
	CHECK(c == NULL, "%s: loaded anyway", name);
	CHECK(msgs != NULL && strcmp(msgs, want) == 0,
	    "%s: errors differ\n--- got:\n%s--- want:\n%s", name,
	    msgs != NULL ? msgs : "(none)\n", want);
	free(msgs);
	config_unref(c);
}

static struct sockaddr_storage
sa_from(const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	return ss;
}

/* Does CIDR text c match address text a? -1 if c does not parse. */
static int
matches(const char *c, const char *a)
{
	struct cidr		cidr;
	struct sockaddr_storage	ss = sa_from(a);

	if (cidr_parse(c, strlen(c), &cidr) == -1)
		return -1;
	return cidr_match(&cidr, (struct sockaddr *)&ss);
}

static void
test_cidr_parse(void)
{
	static const char *bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x",
		"10.0.0.0/+8", "10.0.0.0/-1", "1.2.3", "1.2.3.4.5", "abc",
		"256.0.0.0", "10.0.0.0 /8", " 10.0.0.0", "fe80::1%eth0",
		"10.0.0.0/8/8", "[::1]", "::1/", "1:2:3:4:5:6:7:8:9",
	};
	struct cidr	c;
	size_t		i;

	CHECK(cidr_parse("10.1.2.3/8", 10, &c) == 0 && c.family == AF_INET &&
	    c.prefix == 8 && c.addr[0] == 10 && c.addr[1] == 0 &&
	    c.addr[3] == 0, "10.1.2.3/8: host bits cleared");
	CHECK(cidr_parse("1.2.3.4", 7, &c) == 0 && c.prefix == 32 &&
	    c.addr[3] == 4, "bare IPv4 is a /32");
	CHECK(cidr_parse("::1", 3, &c) == 0 && c.family == AF_INET6 &&
	    c.prefix == 128 && c.addr[15] == 1, "bare IPv6 is a /128");
	CHECK(cidr_parse("2001:db8:ffff::/33", 18, &c) == 0 &&
	    c.prefix == 33 && c.addr[4] == 0x80 && c.addr[5] == 0,
	    "2001:db8:ffff::/33: bits past 33 cleared");
	CHECK(cidr_parse("0.0.0.0/0", 9, &c) == 0 && c.prefix == 0,
	    "0.0.0.0/0");
	CHECK(cidr_parse("::ffff:10.9.0.0/104", 19, &c) == 0 &&
	    c.family == AF_INET && c.prefix == 8 && c.addr[0] == 10 &&
	    c.addr[1] == 0, "IPv4-mapped CIDR becomes IPv4");
	CHECK(cidr_parse("::ffff:0:0/95", 13, &c) == 0 &&
	    c.family == AF_INET6 && c.prefix == 95,
	    "a /95 around the mapped range stays IPv6");
	CHECK(cidr_parse("10.0.0.0/8xyz", 10, &c) == 0 && c.prefix == 8,
	    "only len bytes are read");
	CHECK(cidr_parse("1.2.3.4\0/8", 10, &c) == -1, "embedded NUL");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(cidr_parse(bad[i], strlen(bad[i]), &c) == -1,
		    "cidr_parse(\"%s\") accepted", bad[i]);
}

static void
test_cidr_match(void)
{
	struct cidr		cs[2];
	struct sockaddr_storage	ss;
	struct sockaddr_un {
		sa_family_t	family;
	}			un = { AF_UNIX };

	CHECK(matches("10.0.0.0/8", "10.255.1.2") == 1, "v4 in");
	CHECK(matches("10.0.0.0/8", "11.0.0.0") == 0, "v4 out");
	CHECK(matches("172.16.0.0/12", "172.31.255.255") == 1, "/12 top");
	CHECK(matches("172.16.0.0/12", "172.32.0.0") == 0, "/12 past top");
	CHECK(matches("192.168.1.2/31", "192.168.1.3") == 1, "/31 pair");
	CHECK(matches("192.168.1.2/31", "192.168.1.4") == 0, "/31 out");
	CHECK(matches("1.2.3.4", "1.2.3.4") == 1, "host");
	CHECK(matches("1.2.3.4", "1.2.3.5") == 0, "host, other");
	CHECK(matches("0.0.0.0/0", "255.255.255.255") == 1, "v4 /0");
	CHECK(matches("0.0.0.0/0", "::1") == 0, "v4 /0 vs v6");
	CHECK(matches("::/0", "1.2.3.4") == 0, "v6 /0 vs v4");
	CHECK(matches("2001:db8::/32", "2001:db8:1::1") == 1, "v6 in");
	CHECK(matches("2001:db8::/32", "2001:db9::1") == 0, "v6 out");
	CHECK(matches("::1", "::1") == 1, "::1");
	CHECK(matches("::1", "::2") == 0, "::1 vs ::2");
	CHECK(matches("127.0.0.0/8", "::ffff:127.0.0.1") == 1,
	    "mapped client vs v4 CIDR");
	CHECK(matches("127.0.0.0/8", "::ffff:128.0.0.1") == 0,
	    "mapped client outside v4 CIDR");
	CHECK(matches("::ffff:127.0.0.0/104", "127.1.1.1") == 1,
	    "v4 client vs mapped CIDR");
	CHECK(matches("::ffff:127.0.0.0/104", "::ffff:127.1.1.1") == 1,
	    "mapped client vs mapped CIDR");
	CHECK(matches("::/0", "::ffff:1.2.3.4") == 0,
	    "mapped client is IPv4, not IPv6");

	cidr_parse("10.0.0.0/8", 10, &cs[0]);
	cidr_parse("::1", 3, &cs[1]);
	ss = sa_from("::1");
	CHECK(cidr_match_any(cs, 2, (struct sockaddr *)&ss), "any: ::1");
	ss = sa_from("10.1.1.1");
	CHECK(cidr_match_any(cs, 2, (struct sockaddr *)&ss), "any: 10/8");
	ss = sa_from("11.1.1.1");
	CHECK(!cidr_match_any(cs, 2, (struct sockaddr *)&ss), "any: none");
	CHECK(!cidr_match_any(cs, 0, (struct sockaddr *)&ss), "any: empty");
	CHECK(!cidr_match(&cs[0], (struct sockaddr *)(void *)&un),
	    "AF_UNIX never matches");
	CHECK(!cidr_match(&cs[0], NULL), "NULL never matches");
}

static void
test_ports(void)
{
	static const char *bad[] = {
		"", "0", "65536", "0-10", "10-5", "-5", "5-", "-", "a", "4a",
		" 443", "443 ", "1 - 2", "1-2-3", "+443", "99999999999999999999",
	};
	struct port_range	r, rs[2];
	size_t			i;

	CHECK(port_range_parse("443", 3, &r) == 0 && r.lo == 443 &&
	    r.hi == 443, "443");
	CHECK(port_range_parse("1024-65535", 10, &r) == 0 && r.lo == 1024 &&
	    r.hi == 65535, "1024-65535");
	CHECK(port_range_parse("1-1", 3, &r) == 0 && r.lo == 1 && r.hi == 1,
	    "1-1");
	CHECK(port_range_parse("80,443", 2, &r) == 0 && r.lo == 80,
	    "only len bytes are read");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(port_range_parse(bad[i], strlen(bad[i]), &r) == -1,
		    "port_range_parse(\"%s\") accepted", bad[i]);

	port_range_parse("443", 3, &rs[0]);
	port_range_parse("8000-8080", 9, &rs[1]);
	CHECK(port_range_match_any(rs, 2, 443), "443 allowed");
	CHECK(port_range_match_any(rs, 2, 8000), "8000 allowed");
	CHECK(port_range_match_any(rs, 2, 8080), "8080 allowed");
	CHECK(!port_range_match_any(rs, 2, 8081), "8081 refused");
	CHECK(!port_range_match_any(rs, 2, 80), "80 refused");
	CHECK(!port_range_match_any(rs, 0, 443), "empty list refuses");
}

static void
test_duration(void)
{
	static const struct {
		const char	*s;
		int		 ms;
	} good[] = {
		{ "10s", 10000 }, { "500ms", 500 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "7", 7000 }, { "0", 0 }, { "1ms", 1 },
		{ "596h", 596 * 3600000 }, { "2147483647ms", INT_MAX },
		{ "2147483s", 2147483000 }, { "007s", 7000 },
	};
	static const char *bad[] = {
		"", "s", "ms", "10x", "10S", "-1s", "+1s", "10 s", " 10s",
		"10s ", "1.5s", "597h", "2147483648ms", "2147484", "1d",
		"10sm", "99999999999999999999999s",
	};
	size_t	i;
	int	ms;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		CHECK(config_parse_duration(good[i].s, &ms) == 0 &&
		    ms == good[i].ms, "duration \"%s\" gave %d", good[i].s, ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(config_parse_duration(bad[i], &ms) == -1,
		    "duration \"%s\" accepted", bad[i]);
}

static void
test_size(void)
{
	static const struct {
		const char	*s;
		size_t		 n;
	} good[] = {
		{ "512", 512 }, { "8k", 8192 }, { "8K", 8192 },
		{ "1m", 1048576 }, { "1M", 1048576 }, { "1g", 1073741824 },
		{ "2G", 2147483648u }, { "0", 0 }, { "0k", 0 },
	};
	static const char *bad[] = {
		"", "k", "8kb", "8 k", "-1", "+1", "1.5k", "1t", " 1",
		"17179869184g", "99999999999999999999999",
	};
	size_t	i, n;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = 1;
		CHECK(config_parse_size(good[i].s, &n) == 0 && n == good[i].n,
		    "size \"%s\" gave %zu", good[i].s, n);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(config_parse_size(bad[i], &n) == -1,
		    "size \"%s\" accepted", bad[i]);
}

static int
online_cpus(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

/*
 * Is r a route with no matchers and the route defaults: its timeouts
 * those of c, queue 64 for 2s, failover after 3 failures for 30s?
 */
static void
check_plain_route(const char *name, const struct config *c,
    const struct route *r)
{
	CHECK(r->hosts == NULL && r->modules == NULL && r->regex == NULL &&
	    r->regex_src == NULL && r->methods == NULL && r->nmethods == 0 &&
	    r->ports == NULL && r->clients == NULL, "%s: %s: no matchers",
	    name, r->name);
	CHECK(r->connect_timeout == c->connect_timeout &&
	    r->response_timeout == c->response_timeout &&
	    r->idle_timeout == c->idle_timeout &&
	    r->tunnel_idle_timeout == c->tunnel_idle_timeout,
	    "%s: %s: timeouts of [proxyd]", name, r->name);
	CHECK(r->rate == 0 && r->burst == 0 && r->client_rate == 0 &&
	    r->client_burst == 0 && r->bandwidth == 0 &&
	    r->client_bandwidth == 0 && r->max_conns == 0,
	    "%s: %s: no limits", name, r->name);
	CHECK(r->queue == 64 && r->queue_timeout == 2000 &&
	    r->fail_threshold == 3 && r->fail_cooldown == 30000,
	    "%s: %s: queue and failover defaults", name, r->name);
	CHECK(r->limiter == NULL, "%s: %s: no limiter", name, r->name);
}

/* Is the last route of c the built-in fallback, named and going to kind? */
static void
check_fallback(const char *name, const struct config *c, const char *kind)
{
	const struct route	*r = &c->routes[c->nroutes - 1];
	enum upstream_type	 type;

	type = strcmp(kind, "deny") == 0 ? UPSTREAM_DENY : UPSTREAM_DIRECT;
	CHECK(c->index != NULL, "%s: route index built", name);
	CHECK(strcmp(r->name, kind) == 0 && r->line == 0,
	    "%s: fallback \"%s\" line %d", name, r->name, r->line);
	CHECK(r->nupstreams == 1 && r->upstreams[0].type == type &&
	    strcmp(r->upstreams[0].label, kind) == 0 &&
	    r->upstreams[0].fallback == 0 && r->upstreams[0].host == NULL &&
	    r->upstreams[0].health != NULL &&
	    r->upstreams[0].health->fails == 0 &&
	    r->upstreams[0].health->down_until == 0,
	    "%s: fallback upstream", name);
	check_plain_route(name, c, r);
}

/*
 * Is c the built-in default configuration: its keys, and the built-in
 * routes (builtin) or none but the fallback?
 */
static void
check_defaults(const char *name, const struct config *c, int builtin)
{
	const struct sockaddr_in	*sin;
	struct sockaddr_storage		 ss;

	sin = (const struct sockaddr_in *)&c->listen[0].ss;
	CHECK(c->refcnt == 1, "%s: refcnt %d", name, c->refcnt);
	CHECK(c->nlisten == 1 && sin->sin_family == AF_INET &&
	    ntohs(sin->sin_port) == 3128 &&
	    ntohl(sin->sin_addr.s_addr) == 0x7f000001 &&
	    c->listen[0].len == sizeof(*sin) &&
	    strcmp(c->listen[0].text, "127.0.0.1:3128") == 0,
	    "%s: listen", name);
	CHECK(c->nallow == 2 && c->allow[0].family == AF_INET &&
	    c->allow[0].prefix == 8 && c->allow[0].addr[0] == 127 &&
	    c->allow[1].family == AF_INET6 && c->allow[1].prefix == 128,
	    "%s: allow", name);
	ss = sa_from("127.9.9.9");
	CHECK(cidr_match_any(c->allow, c->nallow, (struct sockaddr *)&ss),
	    "%s: 127.9.9.9 allowed", name);
	CHECK(c->nconnect_ports == 1 && c->connect_ports[0].lo == 443 &&
	    c->connect_ports[0].hi == 443, "%s: connect_ports", name);
	CHECK(c->workers == online_cpus(), "%s: workers %d", name,
	    c->workers);
	CHECK(c->max_clients == 4096, "%s: max_clients", name);
	CHECK(c->header_timeout == 10000 && c->keepalive_timeout == 60000 &&
	    c->connect_timeout == 10000 && c->response_timeout == 60000 &&
	    c->idle_timeout == 60000 && c->tunnel_idle_timeout == 600000 &&
	    c->shutdown_timeout == 10000, "%s: timeouts", name);
	CHECK(c->max_request_line == 8192 && c->max_header_size == 32768 &&
	    c->max_headers == 100 && c->max_body_size == 0,
	    "%s: sizes", name);
	CHECK(c->access_log == NULL && c->error_log == NULL &&
	    c->user == NULL, "%s: logs and user", name);
	CHECK(c->resolv_conf != NULL &&
	    strcmp(c->resolv_conf, "/etc/resolv.conf") == 0 &&
	    c->hosts_file != NULL && strcmp(c->hosts_file, "/etc/hosts") == 0,
	    "%s: resolver files", name);
	CHECK(c->nroutes == (builtin ? 4u : 1u), "%s: %zu routes", name,
	    c->nroutes);
	if (builtin && c->nroutes == 4)
		CHECK(strcmp(c->routes[0].name, "sumdb") == 0 &&
		    strcmp(c->routes[1].name, "private") == 0 &&
		    strcmp(c->routes[2].name, "go") == 0,
		    "%s: built-in routes %s, %s, %s", name, c->routes[0].name,
		    c->routes[1].name, c->routes[2].name);
	if (c->nroutes >= 1)
		check_fallback(name, c, "direct");
}

static void
test_defaults(void)
{
	struct config	*c;

	if ((c = config_default()) == NULL) {
		CHECK(0, "config_default() failed");
		return;
	}
	CHECK(c->path == NULL, "defaults have no path");
	check_defaults("config_default", c, 1);
	CHECK(config_ref(c) == c && c->refcnt == 2, "ref");
	config_unref(c);
	CHECK(c->refcnt == 1, "unref");
	config_unref(c);
	config_unref(NULL);
	CHECK(config_ref(NULL) == NULL, "ref NULL");

	c = load_ok("empty file", "");
	if (c != NULL) {
		CHECK(c->path != NULL && strncmp(c->path, "/tmp/", 5) == 0,
		    "path kept");
		check_defaults("empty file", c, 1);
	}
	config_unref(c);
	c = load_ok("empty section", "[proxyd]\n");
	if (c != NULL)
		check_defaults("empty section", c, 1);
	config_unref(c);
}

/* The path of rel in the source tree, found from this file's own path. */
static void
source_path(char *path, size_t size, const char *rel)
{
	const char	*me = __FILE__, *tail = "tests/unit/test_config.c";
	size_t		 dirlen = strlen(me) - strlen(tail);

	if (strlen(me) < strlen(tail) || strcmp(me + dirlen, tail) != 0)
		dirlen = 0;
	snprintf(path, size, "%.*s%s", (int)dirlen, me, rel);
}

/* rules/default.conf is the defaults. */
static void
test_shipped_default(void)
{
	struct config	*c;
	char		 path[PATH_MAX], *msgs = NULL;

	source_path(path, sizeof(path), "rules/default.conf");
	if (access(path, R_OK) == -1) {
		fprintf(stderr, "SKIP %s: not found\n", path);
		return;
	}
	c = load_path(path, &msgs);
	CHECK(c != NULL && msgs != NULL && msgs[0] == '\0',
	    "%s: errors:\n%s", path, msgs != NULL ? msgs : "");
	if (c != NULL)
		check_defaults(path, c, 1);
	free(msgs);
	config_unref(c);
}

/* The name of the route c gives a GET of module (or sumdb name) m. */
static const char *
module_route(const struct config *c, const char *m)
{
	struct route_query	q;

	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.method_len = 3;
	q.target = "/";
	q.target_len = 1;
	q.module = m;
	q.module_len = strlen(m);
	return route_lookup(c, &q, NULL, NULL)->name;
}

/* Do routes a and b say the same, apart from where they were read? */
static void
check_same_route(const char *name, const struct route *a,
    const struct route *b)
{
	size_t	i;

	CHECK(strcmp(a->name, b->name) == 0, "%s: route %s vs %s", name,
	    a->name, b->name);
	CHECK(a->nupstreams == b->nupstreams && a->nvia == b->nvia,
	    "%s: %s: upstream counts", name, a->name);
	for (i = 0; i < a->nupstreams && i < b->nupstreams; i++)
		CHECK(strcmp(a->upstreams[i].label, b->upstreams[i].label) ==
		    0 && a->upstreams[i].fallback == b->upstreams[i].fallback,
		    "%s: %s: upstream %zu: %s (then %d) vs %s (then %d)",
		    name, a->name, i, a->upstreams[i].label,
		    a->upstreams[i].fallback, b->upstreams[i].label,
		    b->upstreams[i].fallback);
	CHECK((a->hosts == NULL) == (b->hosts == NULL) &&
	    (a->modules == NULL) == (b->modules == NULL) &&
	    (a->modules == NULL || a->modules->n == b->modules->n) &&
	    a->regex == NULL && b->regex == NULL && a->methods == NULL &&
	    b->methods == NULL && a->ports == NULL && b->ports == NULL &&
	    a->clients == NULL && b->clients == NULL,
	    "%s: %s: matchers", name, a->name);
	for (i = 0; a->modules && i < a->modules->n && i < b->modules->n; i++)
		CHECK(strcmp(a->modules->globs[i], b->modules->globs[i]) == 0,
		    "%s: %s: module glob %s vs %s", name, a->name,
		    a->modules->globs[i], b->modules->globs[i]);
	CHECK(a->connect_timeout == b->connect_timeout &&
	    a->response_timeout == b->response_timeout &&
	    a->idle_timeout == b->idle_timeout &&
	    a->tunnel_idle_timeout == b->tunnel_idle_timeout &&
	    a->rate == b->rate && a->client_rate == b->client_rate &&
	    a->bandwidth == b->bandwidth && a->max_conns == b->max_conns &&
	    a->queue == b->queue && a->fail_threshold == b->fail_threshold,
	    "%s: %s: timeouts and limits", name, a->name);
}

/* Set or (value NULL) unset GONOPROXY and GOPRIVATE. */
static void
set_go_env(const char *gonoproxy, const char *goprivate)
{
	if (gonoproxy)
		setenv("GONOPROXY", gonoproxy, 1);
	else
		unsetenv("GONOPROXY");
	if (goprivate)
		setenv("GOPRIVATE", goprivate, 1);
	else
		unsetenv("GOPRIVATE");
}

/*
 * The built-in routes are rules/default.conf's, with GONOPROXY and
 * GOPRIVATE set or not, and they route modules as the go command would
 * use its proxy: sumdb names to the mirror, GONOPROXY (else GOPRIVATE)
 * direct, every other module to the mirror.
 */
static void
test_builtin_routes(void)
{
	static const struct {
		const char	*gonoproxy, *goprivate;
		const char	*module, *route;
	} cases[] = {
		{ NULL, NULL, "golang.org/x/text", "go" },
		{ NULL, NULL, "corp.example/lib", "go" },
		{ NULL, NULL, "sum.golang.org", "sumdb" },
		{ NULL, NULL, "sum.golang.google.cn", "sumdb" },
		{ NULL, "corp.example", "corp.example/lib", "private" },
		{ NULL, "corp.example", "golang.org/x/text", "go" },
		{ "", "*.corp.example", "git.corp.example/a/b", "private" },
		{ "other.example", "corp.example", "corp.example/lib", "go" },
		{ "other.example", "corp.example", "other.example/x",
		    "private" },
		{ NULL, "*", "golang.org/x/text", "private" },
		{ NULL, "*", "sum.golang.org", "sumdb" },
	};
	struct config	*b, *f;
	char		 path[PATH_MAX], *msgs = NULL;
	size_t		 i, k;

	source_path(path, sizeof(path), "rules/default.conf");
	if (access(path, R_OK) == -1) {
		fprintf(stderr, "SKIP %s: not found\n", path);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_go_env(cases[i].gonoproxy, cases[i].goprivate);
		b = config_default();
		f = load_path(path, &msgs);
		CHECK(b != NULL && f != NULL && msgs && msgs[0] == '\0',
		    "case %zu: loads (%s)", i, msgs ? msgs : "");
		free(msgs);
		msgs = NULL;
		if (b != NULL && f != NULL) {
			CHECK(b->nroutes == f->nroutes, "case %zu: %zu routes "
			    "built in, %zu in the file", i, b->nroutes,
			    f->nroutes);
			for (k = 0; k < b->nroutes && k < f->nroutes; k++)
				check_same_route("built-in vs default.conf",
				    &b->routes[k], &f->routes[k]);
			CHECK(strcmp(module_route(b, cases[i].module),
			    cases[i].route) == 0 && strcmp(module_route(f,
			    cases[i].module), cases[i].route) == 0,
			    "case %zu: %s goes to %s / %s, want %s", i,
			    cases[i].module, module_route(b, cases[i].module),
			    module_route(f, cases[i].module), cases[i].route);
		}
		config_unref(b);
		config_unref(f);
	}
	set_go_env(NULL, NULL);
	/* Routes are one setting: a file's replace the built-in ones all. */
	f = load_text("[route mine]\nhosts = a.example\n", &msgs);
	CHECK(f != NULL && f->nroutes == 2 && !f->routes[0].builtin &&
	    strcmp(f->routes[0].name, "mine") == 0,
	    "a file with a route has only its own (%s)", msgs ? msgs : "");
	free(msgs);
	config_unref(f);
	f = load_text("[proxyd]\nfallback = deny\n", &msgs);
	CHECK(f != NULL && f->nroutes == 4 && f->routes[0].builtin &&
	    f->routes[2].builtin && !f->routes[3].builtin &&
	    strcmp(f->routes[3].name, "deny") == 0,
	    "a file without routes has the built-in ones, then its fallback");
	free(msgs);
	config_unref(f);
}

static void
test_full(void)
{
	struct config			*c;
	const struct sockaddr_in6	*sin6;
	struct sockaddr_storage		 ss;

	c = load_ok("every key",
	    "; a comment\n"
	    "# another\n"
	    "[proxyd]\n"
	    "listen = 0.0.0.0:8080, [::]:8080,[::1]:1\n"
	    "allow = 10.0.0.0/8 ,192.168.1.1, 2001:db8::/32\n"
	    "connect_ports = 443, 8443, 1024-65535\n"
	    "workers = 256\n"
	    "max_clients = 1000000\n"
	    "header_timeout = 500ms\n"
	    "keepalive_timeout = 2m\n"
	    "connect_timeout = 1h\n"
	    "response_timeout = 30\n"
	    "idle_timeout = 1ms\n"
	    "tunnel_idle_timeout = 596h\n"
	    "shutdown_timeout = 3s\n"
	    "max_request_line = 512\n"
	    "max_header_size = 1m\n"
	    "max_headers = 10000\n"
	    "max_body_size = 1g\n"
	    "access_log = -\n"
	    "error_log = /var/log/proxyd/error.log\n"
	    "user = proxy\n"
	    "resolv_conf = /tmp/resolv.conf\n"
	    "hosts_file = /tmp/hosts\n");
	if (c == NULL)
		return;
	sin6 = (const struct sockaddr_in6 *)&c->listen[2].ss;
	CHECK(c->nlisten == 3 && c->listen[1].ss.ss_family == AF_INET6 &&
	    c->listen[1].len == sizeof(*sin6) && ntohs(sin6->sin6_port) == 1 &&
	    sin6->sin6_addr.s6_addr[15] == 1 &&
	    strcmp(c->listen[1].text, "[::]:8080") == 0 &&
	    strcmp(c->listen[2].text, "[::1]:1") == 0, "listen list");
	CHECK(c->nallow == 3 && c->allow[1].prefix == 32 &&
	    c->allow[2].prefix == 32 && c->allow[2].family == AF_INET6,
	    "allow list");
	ss = sa_from("::ffff:10.1.2.3");
	CHECK(cidr_match_any(c->allow, c->nallow, (struct sockaddr *)&ss),
	    "mapped client allowed");
	ss = sa_from("127.0.0.1");
	CHECK(!cidr_match_any(c->allow, c->nallow, (struct sockaddr *)&ss),
	    "allow replaced the default");
	CHECK(c->nconnect_ports == 3 && c->connect_ports[1].lo == 8443 &&
	    c->connect_ports[2].lo == 1024 && c->connect_ports[2].hi == 65535,
	    "connect_ports list");
	CHECK(c->workers == 256 && c->max_clients == 1000000, "counts");
	CHECK(c->header_timeout == 500 && c->keepalive_timeout == 120000 &&
	    c->connect_timeout == 3600000 && c->response_timeout == 30000 &&
	    c->idle_timeout == 1 && c->tunnel_idle_timeout == 2145600000 &&
	    c->shutdown_timeout == 3000, "timeouts");
	CHECK(c->max_request_line == 512 && c->max_header_size == 1048576 &&
	    c->max_headers == 10000 && c->max_body_size == 1073741824,
	    "sizes");
	CHECK(strcmp(c->access_log, "-") == 0 &&
	    strcmp(c->error_log, "/var/log/proxyd/error.log") == 0 &&
	    strcmp(c->user, "proxy") == 0 &&
	    strcmp(c->resolv_conf, "/tmp/resolv.conf") == 0 &&
	    strcmp(c->hosts_file, "/tmp/hosts") == 0, "strings");
	config_unref(c);
}

static void
test_syntax_ok(void)
{
	struct config	*c;

	c = load_ok("comments, colon, CRLF, BOM, spacing",
	    "\xef\xbb\xbf[proxyd] ; the section\r\n"
	    "workers = 3 ; inline\r\n"
	    "max_clients=7\r\n");
	if (c != NULL)
		CHECK(c->workers == 3 && c->max_clients == 7, "CRLF values");
	config_unref(c);
	load_bad("'#' inside a value is no comment",
	    "[proxyd]\nmax_clients = 7# not a comment\n",
	    "F:2: max_clients: expected a number from 1 to 1000000, "
	    "got \"7# not a comment\"\n");

	c = load_ok("inline comments",
	    "\t[ proxyd ]\t# spaced header\n"
	    "  # indented comment\n"
	    "workers: 3 # colon separator\n"
	    "  ; indented comment after a key\n"
	    "access_log = /var/log/a;b#c   ; only the last is a comment\n"
	    "error_log = /off\n"
	    "\n"
	    "   \n"
	    "[proxyd]\n"
	    "  max_clients = 9\n");
	if (c != NULL) {
		CHECK(c->workers == 3 && c->max_clients == 9, "values");
		CHECK(strcmp(c->access_log, "/var/log/a;b#c") == 0,
		    "';' and '#' inside a value kept: %s", c->access_log);
		CHECK(strcmp(c->error_log, "/off") == 0, "error_log");
	}
	config_unref(c);

	c = load_ok("continuation lines",
	    "[proxyd]\n"
	    "allow = 10.0.0.0/8,\n"
	    "\t192.168.0.0/16, 172.16.0.0/12\n"
	    "  # a comment between\n"
	    "\n"
	    "    ::1\n"
	    "connect_ports =\n"
	    "  443\n"
	    "listen = 127.0.0.1:1 , ,\n"
	    "  127.0.0.1:2\n");
	if (c != NULL) {
		CHECK(c->nallow == 4 && c->allow[3].family == AF_INET6,
		    "allow over 4 lines: %zu", c->nallow);
		CHECK(c->nconnect_ports == 1, "connect_ports on the next line");
		CHECK(c->nlisten == 2, "listen with empty items");
	}
	config_unref(c);

	c = load_ok("empty lists", "[proxyd]\nallow =\nconnect_ports = ,\n");
	if (c != NULL)
		CHECK(c->nallow == 0 && c->nconnect_ports == 0,
		    "empty allow and connect_ports");
	config_unref(c);

	c = load_ok("16 listeners",
	    "[proxyd]\nlisten = 127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, "
	    "127.0.0.1:4, 127.0.0.1:5, 127.0.0.1:6, 127.0.0.1:7,\n"
	    "  127.0.0.1:8, 127.0.0.1:9, 127.0.0.1:10, 127.0.0.1:11, "
	    "127.0.0.1:12, 127.0.0.1:13, 127.0.0.1:14,\n"
	    "  127.0.0.1:15, [::1]:16\n");
	if (c != NULL)
		CHECK(c->nlisten == CONFIG_MAX_LISTEN, "16 listeners");
	config_unref(c);

	c = load_ok("transparent listener",
	    "[proxyd]\nlisten = transparent 127.0.0.1:3129, [::1]:3128\n");
	if (c != NULL)
		CHECK(c->nlisten == 2 && c->listen[0].transparent &&
		    strcmp(c->listen[0].text, "127.0.0.1:3129") == 0 &&
		    !c->listen[1].transparent, "transparent listener");
	config_unref(c);
}

static void
test_value_errors(void)
{
	load_bad("connect_ports",
	    "[proxyd]\n\n\n\n\n\nconnect_ports = 443, abc, 0, 70000, 9-8\n",
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"abc\"\n"
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"0\"\n"
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"70000\"\n"
	    "F:7: connect_ports: expected a port or range like 443 or "
	    "1024-65535, got \"9-8\"\n");
	load_bad("allow",
	    "[proxyd]\nallow = 10.0.0.0/33, localhost, ::1\n",
	    "F:2: allow: expected an address or CIDR like 10.0.0.0/8 or ::1, "
	    "got \"10.0.0.0/33\"\n"
	    "F:2: allow: expected an address or CIDR like 10.0.0.0/8 or ::1, "
	    "got \"localhost\"\n");
	load_bad("listen",
	    "[proxyd]\nlisten = 127.0.0.1, ::1:80, [::1]:0, localhost:80, "
	    "[::1]:80, 1.2.3.4:65536, [1.2.3.4]:80, 127.0.0.1:80\n",
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got \"127.0.0.1\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got \"::1:80\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got \"[::1]:0\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got \"localhost:80\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got \"1.2.3.4:65536\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got \"[1.2.3.4]:80\"\n");
	load_bad("transparent listen",
	    "[proxyd]\nlisten = transparent localhost:80, transparent\n",
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got "
	    "\"localhost:80\"\n"
	    "F:2: listen: expected an address and port like 127.0.0.1:3128 "
	    "or [::1]:3128, or transparent 127.0.0.1:3129, got "
	    "\"transparent\"\n");
	load_bad("listen twice",
	    "[proxyd]\nlisten = [::1]:80, [0::1]:80\n",
	    "F:2: listen: [0::1]:80 is listed twice\n");
	load_bad("listen empty", "[proxyd]\nlisten = ,\n",
	    "F:2: listen: expected at least one address and port\n");
	load_bad("17 listeners",
	    "[proxyd]\nlisten = 127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, "
	    "127.0.0.1:4, 127.0.0.1:5, 127.0.0.1:6, 127.0.0.1:7,\n"
	    "  127.0.0.1:8, 127.0.0.1:9, 127.0.0.1:10, 127.0.0.1:11, "
	    "127.0.0.1:12, 127.0.0.1:13, 127.0.0.1:14,\n"
	    "  127.0.0.1:15, 127.0.0.1:16, 127.0.0.1:17\n",
	    "F:4: listen: more than 16 addresses\n");
}

static void
test_scalar_errors(void)
{
	load_bad("numbers",
	    "[proxyd]\n"
	    "workers = 0\n"
	    "max_clients = 1000001\n"
	    "max_headers = 1k\n"
	    "header_timeout = 0s\n"
	    "keepalive_timeout = 597h\n"
	    "connect_timeout = 10 s\n"
	    "max_body_size = 1t\n"
	    "max_request_line = 0\n"
	    "user =\n"
	    "access_log =\n"
	    "error_log = off\n"
	    "resolv_conf = resolv.conf\n"
	    "hosts_file = ./hosts\n",
	    "F:2: workers: expected a number from 1 to 256, got \"0\"\n"
	    "F:3: max_clients: expected a number from 1 to 1000000, "
	    "got \"1000001\"\n"
	    "F:4: max_headers: expected a number from 1 to 10000, "
	    "got \"1k\"\n"
	    "F:5: header_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"0s\"\n"
	    "F:6: keepalive_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"597h\"\n"
	    "F:7: connect_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"10 s\"\n"
	    "F:8: max_body_size: expected a size like 512, 8k, 1m or 1g "
	    "(0 for unlimited), got \"1t\"\n"
	    "F:9: max_request_line: expected a size like 512, 8k, 1m or 1g, "
	    "at least 1, got \"0\"\n"
	    "F:10: user: expected a user name, got \"\"\n"
	    "F:11: access_log: expected an absolute path, - for stdout, "
	    "or off, got \"\"\n"
	    "F:12: error_log: expected an absolute path, stderr or syslog, "
	    "got \"off\"\n"
	    "F:13: resolv_conf: expected an absolute path, "
	    "got \"resolv.conf\"\n"
	    "F:14: hosts_file: expected an absolute path, got \"./hosts\"\n");
	load_bad("log format",
	    "[proxyd]\naccess_log_format = JSON\n",
	    "F:2: access_log_format: expected text or json, got \"JSON\"\n");
	load_bad("request line vs header size",
	    "[proxyd]\nmax_request_line = 32k\n",
	    "F:2: max_request_line (32768) must be smaller than "
	    "max_header_size (32768)\n");
	load_bad("header size vs request line",
	    "[proxyd]\nmax_request_line = 4k\n\nmax_header_size = 4095\n",
	    "F:4: max_request_line (4096) must be smaller than "
	    "max_header_size (4095)\n");
}

static void
test_structure_errors(void)
{
	load_bad("outside, unknown, duplicate",
	    "listen = 127.0.0.1:1\n"
	    "[proxyd]\n"
	    "listen = 127.0.0.1:2\n"
	    "lisen = 127.0.0.1:3\n"
	    "listen = 127.0.0.1:4\n"
	    "[proxyd]\n"
	    "listen = 127.0.0.1:5\n",
	    "F:1: key \"listen\" is outside any section; put it under "
	    "[proxyd]\n"
	    "F:4: unknown key \"lisen\"\n"
	    "F:5: duplicate key \"listen\" (first set at line 3)\n"
	    "F:7: duplicate key \"listen\" (first set at line 3)\n");
	load_bad("sections",
	    "[route foo]\n"
	    "match = whatever\n"
	    "[route]\n"
	    "[routes]\n"
	    "x = 1\n"
	    "[]\n"
	    "[proxyd\n"
	    "workers = 2\n"
	    "[proxyd] trailing\n"
	    "workers = 3\n",
	    "F:2: unknown key \"match\" in [route foo]\n"
	    "F:3: [route] needs a name, like [route go]\n"
	    "F:4: unknown section [routes]\n"
	    "F:6: unknown section []\n"
	    "F:7: syntax error: missing \"]\"\n"
	    "F:9: syntax error: text after \"]\"\n");
	load_bad("syntax errors",
	    "[proxyd]\n"
	    "workers\n"
	    "workers = 2\n"
	    "just some words\n",
	    "F:2: syntax error: expected key = value\n"
	    "F:4: syntax error: expected key = value\n");
	load_bad("continuations",
	    "[proxyd]\n"
	    "workers = 2\n"
	    "  3\n"
	    "allow = ::1\n"
	    "  max_clients = 5\n"
	    "  [route x]\n"
	    "  nonsense\n"
	    "lisen = 1\n"
	    "  ignored with the key\n"
	    "[other]\n"
	    "k = v\n"
	    "  ignored with the section\n",
	    "F:3: indented line continues \"workers\", which takes a single "
	    "value\n"
	    "F:5: indented line continues \"allow\"; remove the indentation "
	    "if it starts a new key or section\n"
	    "F:6: indented line continues \"allow\"; remove the indentation "
	    "if it starts a new key or section\n"
	    "F:7: allow: expected an address or CIDR like 10.0.0.0/8 or ::1, "
	    "got \"nonsense\"\n"
	    "F:8: unknown key \"lisen\"\n"
	    "F:10: unknown section [other]\n");
}

static void
test_line_errors(void)
{
	struct config	*c;
	static const char nul[] = "[proxyd]\nuser = a\0b\nworkers = x\n";
	char		 text[1200], *msgs;

	/* 198 characters, 200 and a long comment, which does not count. */
	snprintf(text, sizeof(text), "[proxyd]\nuser = %0191d\n"
	    "resolv_conf = %0186d\nhosts_file = /h ; %0300d\n"
	    "workers = 2\nworkers = 3\n", 0, 0, 0);
	load_bad("long lines", text,
	    "F:3: line is longer than 198 characters\n"
	    "F:6: duplicate key \"workers\" (first set at line 5)\n");
	snprintf(text, sizeof(text), "[proxyd]\nuser = %0191d\n"
	    "hosts_file = /h ; %0300d\n", 0, 0);
	c = load_ok("198 characters and a long comment", text);
	if (c != NULL)
		CHECK(strlen(c->user) == 191 &&
		    strcmp(c->hosts_file, "/h") == 0, "long values kept");
	config_unref(c);

	c = load_bytes(nul, sizeof(nul) - 1, &msgs);
	CHECK(c == NULL && msgs != NULL && strcmp(msgs,
	    "F:2: line contains a NUL byte\n"
	    "F:3: workers: expected a number from 1 to 256, got \"x\"\n") == 0,
	    "NUL byte: %s", msgs != NULL ? msgs : "");
	free(msgs);
}

static void
test_files(void)
{
	struct config	*c;
	char		*msgs = NULL;

	c = load_path("/nonexistent/proxyd.conf", &msgs);
	CHECK(c == NULL && msgs != NULL && strcmp(msgs,
	    "F: cannot open: No such file or directory\n") == 0,
	    "missing file: %s", msgs != NULL ? msgs : "");
	free(msgs);
	c = load_path("/tmp", &msgs);
	CHECK(c == NULL && msgs != NULL && strcmp(msgs,
	    "F: read error: Is a directory\n") == 0,
	    "directory: %s", msgs != NULL ? msgs : "");
	free(msgs);
	c = load_path("/dev/null", &msgs);
	CHECK(c != NULL && msgs != NULL && msgs[0] == '\0', "/dev/null");
	free(msgs);
	config_unref(c);
	c = config_load("/nonexistent", NULL);
	CHECK(c == NULL, "errs may be NULL");
}

/* The route of c named name, or NULL. */
static const struct route *
route_named(const struct config *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].name, name) == 0)
			return &c->routes[i];
	return NULL;
}

/* Does r's regex match s? */
static int
regex_says(const struct route *r, const char *s)
{
	struct regex_md	*md;
	int		 m;

	if (r->regex == NULL || (md = regex_match_data_new()) == NULL)
		return -1;
	m = regex_match(r->regex, s, strlen(s), md);
	regex_match_data_free(md);
	return m;
}

static void
check_route_full(const struct config *c)
{
	const struct route		*r = route_named(c, "full");
	const struct upstream_conf	*u;
	struct sockaddr_storage		 ss;

	CHECK(r != NULL && c->nroutes == 2 && r == &c->routes[0] &&
	    r->line == 2, "route full, first of 2");
	if (r == NULL)
		return;
	CHECK(r->hosts != NULL && r->hosts->n == 3 && !r->hosts->any &&
	    host_list_match(r->hosts, "a.corp.example", 14, 443) &&
	    !host_list_match(r->hosts, "example.org", 11, 443), "hosts");
	CHECK(r->modules != NULL && r->modules->n == 2 &&
	    strcmp(r->modules->globs[0], "example.com/private/*") == 0 &&
	    module_list_match(r->modules, "corp.example/x", 14), "modules");
	CHECK(r->regex_src != NULL &&
	    strcmp(r->regex_src, "^https?://[^/]+/api/, v[0-9]") == 0 &&
	    regex_says(r, "http://x/api/, v2") == 1 &&
	    regex_says(r, "http://x/web/") == 0, "regex, commas and all");
	CHECK(r->nmethods == 3 && strcmp(r->methods[0], "GET") == 0 &&
	    strcmp(r->methods[1], "POST") == 0 &&
	    strcmp(r->methods[2], "M-SEARCH") == 0, "methods upper-cased");
	CHECK(r->nports == 3 && r->ports[2].lo == 8000 &&
	    r->ports[2].hi == 8999, "ports");
	ss = sa_from("::1");
	CHECK(r->nclients == 2 &&
	    cidr_match_any(r->clients, r->nclients, (struct sockaddr *)&ss),
	    "clients");
	CHECK(r->nupstreams == 3, "3 upstreams");
	u = &r->upstreams[0];
	CHECK(u->type == UPSTREAM_HTTP && strcmp(u->host, "proxy.example") ==
	    0 && u->port == 3128 && strcmp(u->user, "alice") == 0 &&
	    strcmp(u->pass, "s3cret") == 0 && u->url == NULL &&
	    u->fallback == '|' &&
	    strcmp(u->label, "http proxy.example:3128") == 0, "http: %s",
	    u->label);
	u = &r->upstreams[1];
	CHECK(u->type == UPSTREAM_SOCKS5 && strcmp(u->host, "10.1.2.3") == 0 &&
	    u->port == 1080 && u->user == NULL && u->pass == NULL &&
	    u->fallback == ',' &&
	    strcmp(u->label, "socks5 10.1.2.3:1080") == 0, "socks5: %s",
	    u->label);
	u = &r->upstreams[2];
	CHECK(u->type == UPSTREAM_DIRECT && u->fallback == 0 &&
	    strcmp(u->label, "direct") == 0, "direct");
	CHECK(r->upstreams[0].health != NULL && r->upstreams[1].health !=
	    NULL && r->upstreams[2].health != NULL &&
	    r->upstreams[0].health != r->upstreams[1].health,
	    "a health record each");
	CHECK(r->connect_timeout == 5000 && r->response_timeout == 30000 &&
	    r->idle_timeout == 60000 && r->tunnel_idle_timeout == 3600000,
	    "timeouts");
	CHECK(r->rate == 50 && r->burst == 100 && r->client_rate == 10 &&
	    r->client_burst == 20, "rates %g %g %g %g", r->rate, r->burst,
	    r->client_rate, r->client_burst);
	CHECK(r->bandwidth == 10485760 && r->client_bandwidth == 524288,
	    "bandwidth");
	CHECK(r->max_conns == 200 && r->queue == 0 &&
	    r->queue_timeout == 500 && r->fail_threshold == 1000 &&
	    r->fail_cooldown == 60000, "conns, queue and failover");
	CHECK(r->limiter != NULL && c->index != NULL,
	    "limiter and index built at load");
	check_fallback("full", c, "direct");
}

static void
test_route_full(void)
{
	struct config	*c;

	c = load_ok("a route with every key",
	    "[proxyd]\n"
	    "[route full]\n"
	    "hosts = example.com, .corp.example, 10.0.0.0/8\n"
	    "modules = example.com/private/*, corp.example\n"
	    "regex = ^https?://[^/]+/api/, v[0-9]\n"
	    "methods = get, POST , m-search\n"
	    "ports = 80, 443, 8000-8999\n"
	    "clients = 10.0.0.0/8, ::1\n"
	    "upstream = http alice:s3cret@proxy.example:3128 |\n"
	    "    socks5 10.1.2.3:1080, direct\n"
	    "connect_timeout = 5s\n"
	    "response_timeout = 30s\n"
	    "idle_timeout = 1m\n"
	    "tunnel_idle_timeout = 1h\n"
	    "rate = 3000/m\n"
	    "burst = 100\n"
	    "client_rate = 10\n"
	    "client_burst = 20\n"
	    "bandwidth = 10m\n"
	    "client_bandwidth = 512k/s\n"
	    "max_conns = 200\n"
	    "queue = 0\n"
	    "queue_timeout = 500ms\n"
	    "fail_threshold = 1000\n"
	    "fail_cooldown = 1m\n");
	if (c != NULL)
		check_route_full(c);
	config_unref(c);
}

static void
test_route_values(void)
{
	const struct route	*r;
	struct config		*c;

	c = load_ok("route defaults, rates and bursts",
	    "[route plain]\nhosts = plain.example\n"
	    "[route a]\nhosts = a.example\nrate = 50/s\n"
	    "[route b]\nhosts = b.example\nrate = 150/m\nclient_rate = 10/h\n"
	    "[route c]\nhosts = c.example\nrate = 7\nbandwidth = 2G/s\n"
	    "client_rate = 1\nclient_burst = 1000000000\n"
	    "client_bandwidth = 512\n"
	    "[route d]\nhosts = d.example\nqueue = 100000\n"
	    "fail_threshold = 1\nmax_conns = 1000000\n");
	if (c == NULL)
		return;
	CHECK(c->nroutes == 6, "5 routes and the fallback");
	if ((r = route_named(c, "plain")) != NULL) {
		CHECK(r->line == 1 && r->nupstreams == 1 &&
		    r->upstreams[0].type == UPSTREAM_DIRECT &&
		    strcmp(r->upstreams[0].label, "direct") == 0 &&
		    r->upstreams[0].health != NULL,
		    "upstream defaults to direct");
		CHECK(r->hosts != NULL && r->hosts->n == 1, "plain hosts");
		CHECK(r->queue == 64 && r->queue_timeout == 2000 &&
		    r->fail_threshold == 3 && r->fail_cooldown == 30000 &&
		    r->rate == 0 && r->burst == 0 && r->max_conns == 0 &&
		    r->connect_timeout == 10000 &&
		    r->tunnel_idle_timeout == 600000, "route defaults");
	}
	if ((r = route_named(c, "a")) != NULL)
		CHECK(r->rate == 50 && r->burst == 50, "50/s: burst 50");
	if ((r = route_named(c, "b")) != NULL)
		CHECK(r->rate == 2.5 && r->burst == 3 &&
		    r->client_rate == 10.0 / 3600 && r->client_burst == 1,
		    "150/m: burst 3; 10/h: burst 1 (%g, %g)", r->burst,
		    r->client_burst);
	if ((r = route_named(c, "c")) != NULL)
		CHECK(r->rate == 7 && r->burst == 7 &&
		    r->bandwidth == 2147483648u && r->client_rate == 1 &&
		    r->client_burst == 1000000000 &&
		    r->client_bandwidth == 512, "bare rate, big burst");
	if ((r = route_named(c, "d")) != NULL)
		CHECK(r->queue == 100000 && r->fail_threshold == 1 &&
		    r->max_conns == 1000000, "upper bounds");
	config_unref(c);
}

/* Route timeouts left out are [proxyd]'s, even when [proxyd] is later. */
static void
test_route_timeouts(void)
{
	const struct route	*r;
	struct config		*c;

	c = load_ok("inherited timeouts",
	    "[route early]\n"
	    "hosts = early.example\n"
	    "idle_timeout = 5s\n"
	    "[proxyd]\n"
	    "connect_timeout = 3s\n"
	    "response_timeout = 20s\n"
	    "tunnel_idle_timeout = 1h\n"
	    "[route late]\n"
	    "hosts = late.example\n"
	    "connect_timeout = 1s\n");
	if (c == NULL)
		return;
	if ((r = route_named(c, "early")) != NULL)
		CHECK(r->connect_timeout == 3000 &&
		    r->response_timeout == 20000 && r->idle_timeout == 5000 &&
		    r->tunnel_idle_timeout == 3600000, "early route");
	if ((r = route_named(c, "late")) != NULL)
		CHECK(r->connect_timeout == 1000 &&
		    r->response_timeout == 20000 && r->idle_timeout == 60000 &&
		    r->tunnel_idle_timeout == 3600000, "late route");
	r = &c->routes[c->nroutes - 1];
	CHECK(c->nroutes == 3 && r->line == 0 && r->connect_timeout == 3000 &&
	    r->response_timeout == 20000 && r->idle_timeout == 60000 &&
	    r->tunnel_idle_timeout == 3600000, "fallback route");
	config_unref(c);
}

static void
test_route_upstreams(void)
{
	const struct upstream_conf	*u;
	const struct route		*r;
	struct config			*c;
	size_t				 i;

	c = load_ok("upstream lists",
	    "[route go]\n"
	    "modules = *\n"
	    "upstream = mirror https://goproxy.cn |\n"
	    "  mirror HTTP://[::1]:8081/go/ ,\n"
	    "\tmirror https://u%40corp:p%7Cw%2C@mirror.corp:8443/\n"
	    "\t| direct\n"
	    "[route parents]\n"
	    "hosts = parents.example\n"
	    "upstream = socks5 [2001:db8::1]:1080|"
	    "http user:p@ss:w@proxy:8080,\n"
	    "  socks5 bob:%25@proxy.corp.:1,http 127.0.0.1:65535\n"
	    "[route deny]\n"
	    "hosts = deny.example\n"
	    "upstream = deny\n");
	if (c == NULL)
		return;
	if ((r = route_named(c, "go")) != NULL && r->nupstreams == 4) {
		u = &r->upstreams[0];
		CHECK(u->type == UPSTREAM_MIRROR &&
		    strcmp(u->url, "https://goproxy.cn") == 0 &&
		    strcmp(u->host, "goproxy.cn") == 0 && u->port == 443 &&
		    u->user == NULL && u->fallback == '|' &&
		    strcmp(u->label, "mirror https://goproxy.cn") == 0,
		    "mirror 0: %s", u->label);
		u = &r->upstreams[1];
		CHECK(strcmp(u->url, "http://[::1]:8081/go") == 0 &&
		    strcmp(u->host, "::1") == 0 && u->port == 8081 &&
		    u->fallback == ',' &&
		    strcmp(u->label, "mirror http://[::1]:8081/go") == 0,
		    "mirror 1: %s", u->label);
		u = &r->upstreams[2];
		CHECK(strcmp(u->url, "https://mirror.corp:8443") == 0 &&
		    strcmp(u->host, "mirror.corp") == 0 && u->port == 8443 &&
		    strcmp(u->user, "u@corp") == 0 &&
		    strcmp(u->pass, "p|w,") == 0 && u->fallback == '|' &&
		    strcmp(u->label, "mirror https://mirror.corp:8443") == 0,
		    "mirror 2: %s", u->label);
		u = &r->upstreams[3];
		CHECK(u->type == UPSTREAM_DIRECT && u->fallback == 0,
		    "then direct");
	} else
		CHECK(0, "route go: %zu upstreams", r ? r->nupstreams : 0);
	if ((r = route_named(c, "parents")) != NULL && r->nupstreams == 4) {
		u = &r->upstreams[0];
		CHECK(u->type == UPSTREAM_SOCKS5 &&
		    strcmp(u->host, "2001:db8::1") == 0 && u->port == 1080 &&
		    u->fallback == '|' &&
		    strcmp(u->label, "socks5 [2001:db8::1]:1080") == 0,
		    "socks5 v6: %s", u->label);
		u = &r->upstreams[1];
		CHECK(u->type == UPSTREAM_HTTP &&
		    strcmp(u->user, "user") == 0 &&
		    strcmp(u->pass, "p@ss:w") == 0 &&
		    strcmp(u->host, "proxy") == 0 && u->port == 8080 &&
		    u->fallback == ',' &&
		    strcmp(u->label, "http proxy:8080") == 0,
		    "password with @ and :: %s", u->label);
		u = &r->upstreams[2];
		CHECK(strcmp(u->user, "bob") == 0 &&
		    strcmp(u->pass, "%") == 0 &&
		    strcmp(u->label, "socks5 proxy.corp.:1") == 0 &&
		    u->fallback == ',', "%%25: %s", u->label);
		u = &r->upstreams[3];
		CHECK(strcmp(u->label, "http 127.0.0.1:65535") == 0 &&
		    u->fallback == 0, "last: %s", u->label);
	} else
		CHECK(0, "route parents: %zu upstreams", r ? r->nupstreams : 0);
	for (r = c->routes; r < c->routes + c->nroutes; r++)
		for (i = 0; i < r->nupstreams; i++)
			CHECK(strstr(r->upstreams[i].label, "@") == NULL &&
			    strstr(r->upstreams[i].label, "ss") == NULL &&
			    strstr(r->upstreams[i].label, "bob") == NULL,
			    "credentials in label \"%s\"",
			    r->upstreams[i].label);
	if ((r = route_named(c, "deny")) != NULL)
		CHECK(r->nupstreams == 1 &&
		    r->upstreams[0].type == UPSTREAM_DENY &&
		    strcmp(r->upstreams[0].label, "deny") == 0, "deny");
	config_unref(c);

	c = load_ok("16 upstreams",
	    "[route many]\n"
	    "upstream = direct, direct, direct, direct, direct, direct,\n"
	    "  direct, direct, direct, direct | direct | direct | direct,\n"
	    "  direct, direct, direct\n");
	if (c != NULL)
		CHECK(c->routes[0].nupstreams == CONFIG_MAX_UPSTREAMS &&
		    c->routes[0].upstreams[9].fallback == '|' &&
		    c->routes[0].upstreams[15].fallback == 0, "16 upstreams");
	config_unref(c);

	c = load_ok("via",
	    "[route m]\n"
	    "modules = corp.example\n"
	    "upstream = mirror https://m.example\n"
	    "via = http p:1,\n"
	    "  socks5 [::1]:1080\n");
	if (c != NULL && (r = route_named(c, "m")) != NULL)
		CHECK(r->nupstreams == 1 && r->nvia == 2 &&
		    strcmp(r->via[0].label, "http p:1") == 0 &&
		    r->via[0].fallback == ',' &&
		    strcmp(r->via[1].label, "socks5 [::1]:1080") == 0 &&
		    r->via[1].fallback == 0, "via: %zu parents", r->nvia);
	config_unref(c);
}

/* Is route r exactly one "off" upstream, which denies? */
static int
is_off(const struct route *r)
{
	return r != NULL && r->nupstreams == 1 &&
	    r->upstreams[0].type == UPSTREAM_DENY &&
	    strcmp(r->upstreams[0].label, "off") == 0 &&
	    r->upstreams[0].fallback == 0;
}

/*
 * upstream = list, and list with every "deny" spelt "off", must load
 * alike: both or neither, to the same kinds, with the same messages but
 * for the word.
 */
static void
off_like_deny(const char *list)
{
	struct config	*cd, *co;
	char		*text, *off_text, *md, *mo;
	size_t		 i;
	int		 same;

	if (asprintf(&text, "[route r]\nhosts = r.example\nupstream = %s\n",
	    list) == -1)
		return;
	off_text = replace_all(strdup(text), "deny", "off");
	cd = load_text(text, &md);
	co = load_text(off_text, &mo);
	md = replace_all(md, "deny", "off");
	same = (cd == NULL) == (co == NULL) && strcmp(md, mo) == 0;
	for (i = 0; same && cd != NULL && i < cd->routes[0].nupstreams; i++)
		same = co->routes[0].nupstreams == cd->routes[0].nupstreams &&
		    co->routes[0].upstreams[i].type ==
		    cd->routes[0].upstreams[i].type;
	CHECK(same, "off like deny in \"%s\":\n--- deny:\n%s--- off:\n%s",
	    list, md, mo);
	config_unref(cd);
	config_unref(co);
	free(md);
	free(mo);
	free(text);
	free(off_text);
}

/* "off", GOPROXY's spelling of "deny", wherever deny goes. */
static void
test_route_off(void)
{
	static const char *lists[] = {
		"deny", "deny, direct", "direct | deny", "deny,", "deny deny",
		"http p:1, deny", "deny |\n  direct", "deny x", "deny, deny",
	};
	struct config	*c;
	size_t		 i;

	c = load_ok("upstream = off",
	    "[route go-off]\n"
	    "modules = corp.example\n"
	    "upstream = off\n"
	    "[route host-off]\n"
	    "hosts = off.example\n"
	    "upstream = off\n");
	if (c != NULL) {
		CHECK(is_off(route_named(c, "go-off")), "module route off");
		CHECK(is_off(route_named(c, "host-off")), "host route off");
	}
	config_unref(c);

	setenv("PROXYD_TEST_GOPROXY", "off", 1);
	c = load_ok("upstream = $GOPROXY, which is off",
	    "[route go]\nmodules = *\nupstream = $PROXYD_TEST_GOPROXY\n");
	if (c != NULL)
		CHECK(is_off(route_named(c, "go")), "GOPROXY=off pasted");
	config_unref(c);
	unsetenv("PROXYD_TEST_GOPROXY");

	load_bad("off goes alone, like deny",
	    "[route o1]\nhosts = o1.example\nupstream = off, direct\n"
	    "[route o2]\nhosts = o2.example\n"
	    "upstream = mirror https://m.example |\n  off\n"
	    "[route o3]\nhosts = o3.example\nupstream = deny | off\n"
	    "[route o4]\nhosts = o4.example\nupstream = off now\n"
	    "[route o5]\nmodules = o5.example\n"
	    "upstream = mirror https://m.example\nvia = off\n",
	    "F:3: upstream: off must be the only upstream\n"
	    "F:7: upstream: off must be the only upstream\n"
	    "F:10: upstream: off must be the only upstream\n"
	    "F:13: upstream: off takes no argument\n"
	    "F:17: via: only http and socks5 parents can lead to mirrors, "
	    "not off\n");
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		off_like_deny(lists[i]);
}

static void
test_route_env(void)
{
	const struct route	*r;
	struct config		*c;
	char			*msgs;

	setenv("PROXYD_TEST_HOSTS", "a.example, b.example", 1);
	setenv("PROXYD_TEST_UP", "http bob:pw@10.9.9.9:8080 | direct", 1);
	setenv("PROXYD_TEST_EMPTY", "", 1);
	unsetenv("PROXYD_TEST_UNSET");
	c = load_text(
	    "[route env]\n"
	    "hosts = $PROXYD_TEST_HOSTS\n"
	    "upstream = ${PROXYD_TEST_UP}\n"
	    "[route private]\n"
	    "modules = $PROXYD_TEST_UNSET\n"
	    "hosts = ${PROXYD_TEST_UNSET}\n"
	    "methods = $PROXYD_TEST_EMPTY\n"
	    "[route literal]\n"
	    "regex = ${PROXYD_TEST_HOSTS\n"
	    "[proxyd]\n"
	    "user = $PROXYD_TEST_UNSET\n", &msgs);
	CHECK(c != NULL, "environment: not loaded");
	CHECK(msgs != NULL && strcmp(msgs,
	    "F:5: warning: $PROXYD_TEST_UNSET is not set\n"
	    "F:6: warning: $PROXYD_TEST_UNSET is not set\n") == 0,
	    "environment: messages:\n%s", msgs != NULL ? msgs : "");
	free(msgs);
	if (c == NULL)
		return;
	if ((r = route_named(c, "env")) != NULL)
		CHECK(r->hosts != NULL && r->hosts->n == 2 &&
		    host_list_match(r->hosts, "x.b.example", 11, 80) &&
		    r->nupstreams == 2 && strcmp(r->upstreams[0].user,
		    "bob") == 0 && r->upstreams[0].fallback == '|' &&
		    strcmp(r->upstreams[0].label, "http 10.9.9.9:8080") == 0,
		    "values from the environment");
	if ((r = route_named(c, "private")) != NULL)
		CHECK(r->modules != NULL && r->modules->n == 0 &&
		    !module_list_match(r->modules, "x", 1) &&
		    r->hosts != NULL && r->hosts->n == 0 && !r->hosts->any &&
		    !host_list_match(r->hosts, "x", 1, 80) &&
		    r->methods != NULL && r->nmethods == 0,
		    "unset and empty: empty lists that match nothing");
	if ((r = route_named(c, "literal")) != NULL)
		CHECK(strcmp(r->regex_src, "${PROXYD_TEST_HOSTS") == 0,
		    "not exactly ${NAME}: literal");
	CHECK(strcmp(c->user, "$PROXYD_TEST_UNSET") == 0,
	    "[proxyd] values are literal");
	config_unref(c);

	load_bad("an unset upstream",
	    "[route u]\nupstream = $PROXYD_TEST_UNSET\n",
	    "F:2: warning: $PROXYD_TEST_UNSET is not set\n"
	    "F:2: upstream: expected at least one upstream\n");
	setenv("PROXYD_TEST_BAD", "localhost, a..b", 1);
	load_bad("a bad value from the environment",
	    "[route b]\nhosts = $PROXYD_TEST_BAD\n",
	    "F:2: hosts: bad host \"a..b\"\n");
	unsetenv("PROXYD_TEST_HOSTS");
	unsetenv("PROXYD_TEST_UP");
	unsetenv("PROXYD_TEST_EMPTY");
	unsetenv("PROXYD_TEST_BAD");
}

/* ${NAME:-DEFAULT}: NAME, or where it is unset or empty, DEFAULT. */
static void
test_route_env_default(void)
{
	const struct route	*r;
	struct config		*c;
	char			*msgs;

	setenv("PROXYD_TEST_A", "a.example", 1);
	setenv("PROXYD_TEST_B", "b.example", 1);
	setenv("PROXYD_TEST_EMPTY", "", 1);
	unsetenv("PROXYD_TEST_UNSET");
	c = load_text(
	    "[route set]\nmodules = ${PROXYD_TEST_A:-$PROXYD_TEST_B}\n"
	    "[route empty]\nmodules = ${PROXYD_TEST_EMPTY:-${PROXYD_TEST_B}}\n"
	    "[route unset]\nmodules = ${PROXYD_TEST_UNSET:-c.example, *.d}\n"
	    "[route none]\nmodules = ${PROXYD_TEST_UNSET:-$PROXYD_TEST_UNSET}\n"
	    "[route star]\nmodules = ${PROXYD_TEST_UNSET:-*}\n"
	    "[route after]\nmodules = z.example\n"
	    "[route odd]\nregex = ${PROXYD_TEST_A:-x\n", &msgs);
	CHECK(c != NULL && msgs != NULL && msgs[0] == '\0',
	    "${NAME:-DEFAULT}: loads without a warning or a shadowed route "
	    "(%s)", msgs != NULL ? msgs : "");
	free(msgs);
	if (c != NULL) {
		r = route_named(c, "set");
		CHECK(r && r->modules->n == 1 &&
		    strcmp(r->modules->globs[0], "a.example") == 0, "set");
		r = route_named(c, "empty");
		CHECK(r && r->modules->n == 1 &&
		    strcmp(r->modules->globs[0], "b.example") == 0, "empty");
		r = route_named(c, "unset");
		CHECK(r && r->modules->n == 2 &&
		    strcmp(r->modules->globs[1], "*.d") == 0, "literal");
		r = route_named(c, "none");
		CHECK(r && r->modules->n == 0, "both unset: empty");
		r = route_named(c, "odd");
		CHECK(r && strcmp(r->regex_src, "${PROXYD_TEST_A:-x") == 0,
		    "no closing brace: literal");
	}
	config_unref(c);
	unsetenv("PROXYD_TEST_A");
	unsetenv("PROXYD_TEST_B");
	unsetenv("PROXYD_TEST_EMPTY");
}

static void
test_route_continuation(void)
{
	const struct route	*r;
	struct config		*c;
	char			 text[4096], *p = text;
	int			 i;

	/* 60 hosts, 5 to a line: one line would be ~1900 characters. */
	p += sprintf(p, "[route long]\nhosts =\n");
	for (i = 0; i < 60; i++)
		p += sprintf(p, "%sinternal-host-%02d.corp.example,%s",
		    i % 5 == 0 ? "  " : " ", i, i % 5 == 4 ? "\n" : "");
	sprintf(p, "  *.last.example\n"
	    "  # a comment between\n"
	    "\n"
	    "methods = GET,\n\tHEAD\n"
	    "ports = 80\n  443\n"
	    "clients = 10.0.0.0/8\n  ::1,\n"
	    "upstream = http 10.0.0.1:3128\n  | http 10.0.0.2:3128\n"
	    "[route go]\n"
	    "modules = example.com/a,\n  example.com/b\n"
	    "upstream = direct\n");
	c = load_ok("continuation lines", text);
	if (c == NULL)
		return;
	if ((r = route_named(c, "long")) != NULL) {
		CHECK(r->hosts != NULL && r->hosts->n == 61 &&
		    host_list_match(r->hosts, "internal-host-59.corp.example",
		    29, 443) && host_list_match(r->hosts, "x.last.example", 14,
		    443), "61 hosts over 13 lines");
		CHECK(r->nmethods == 2 && r->nports == 2 && r->nclients == 2,
		    "methods, ports, clients over 2 lines");
		CHECK(r->nupstreams == 2 && r->upstreams[0].fallback == '|' &&
		    r->upstreams[1].fallback == 0,
		    "upstream, | leading line 2");
	}
	if ((r = route_named(c, "go")) != NULL)
		CHECK(r->modules != NULL && r->modules->n == 2 &&
		    r->nupstreams == 1 && r->upstreams[0].fallback == 0,
		    "modules over 2 lines");
	config_unref(c);
}

static void
test_route_fallback(void)
{
	struct config	*c;

	c = load_ok("fallback deny", "[proxyd]\nfallback = deny\n");
	if (c != NULL) {
		/* No [route] section: the built-in routes, the fallback. */
		CHECK(c->nroutes == 4, "the built-in routes and the fallback");
		check_fallback("fallback deny", c, "deny");
	}
	config_unref(c);
	c = load_ok("fallback direct, routes first",
	    "[route a]\nhosts = a.example\nupstream = deny\n"
	    "[proxyd]\nfallback = direct\n");
	if (c != NULL) {
		CHECK(c->nroutes == 2 && strcmp(c->routes[0].name, "a") == 0,
		    "a, then the fallback");
		check_fallback("fallback direct", c, "direct");
	}
	config_unref(c);
	c = load_ok("fallback deny after routes",
	    "[route a]\nhosts = a.example\n[proxyd]\nfallback = deny\n");
	if (c != NULL)
		check_fallback("fallback deny after routes", c, "deny");
	config_unref(c);
	c = load_ok("a route may be named like the fallback",
	    "[route direct]\nhosts = d.example\nupstream = http p:1\n");
	if (c != NULL)
		CHECK(c->nroutes == 2 && c->routes[0].upstreams[0].type ==
		    UPSTREAM_HTTP && c->routes[1].upstreams[0].type ==
		    UPSTREAM_DIRECT, "two routes named direct");
	config_unref(c);
	load_bad("fallback value", "[proxyd]\nfallback = off\n",
	    "F:2: fallback: expected direct or deny, got \"off\"\n");
}

static void
test_route_shadow(void)
{
	const struct route	*r;
	struct config		*c;

	load_bad("a catch-all route",
	    "[route catchall]\n"
	    "upstream = direct\n"
	    "[route b]\n"
	    "hosts = b.example\n",
	    "F:3: route \"b\" can never match: route \"catchall\" (line 1) "
	    "takes all its traffic\n");
	load_bad("hosts and modules taken by different routes",
	    "[route allhosts]\n"
	    "hosts = a.example, *\n"
	    "[route gomods]\n"
	    "modules = example.com/*\n"
	    "[route re]\n"
	    "regex = ^/x\n"
	    "[route allmods]\n"
	    "modules = corp.example, *\n"
	    "[route both]\n"
	    "methods = GET\n"
	    "[route late-mod]\n"
	    "modules = late.example\n"
	    "[route h2]\n"
	    "hosts = h2.example\n"
	    "ports = 443\n",
	    "F:5: route \"re\" can never match: route \"allhosts\" (line 1) "
	    "takes all its traffic\n"
	    "F:9: route \"both\" can never match: routes \"allhosts\" "
	    "(line 1) and \"allmods\" (line 7) take all its traffic\n"
	    "F:11: route \"late-mod\" can never match: route \"allmods\" "
	    "(line 7) takes all its traffic\n"
	    "F:13: route \"h2\" can never match: route \"allhosts\" "
	    "(line 1) takes all its traffic\n");
	c = load_ok("not shadowed",
	    "[route allhosts]\n"
	    "hosts = *\n"
	    "[route gomods]\n"
	    "modules = example.com/*\n"
	    "[route get-only]\n"
	    "methods = GET\n"
	    "[route some-clients]\n"
	    "clients = 10.0.0.0/8\n"
	    "[route some-ports]\n"
	    "ports = 80\n"
	    "[route mods-star-later]\n"
	    "modules = */*\n"
	    "[route empty-hosts]\n"
	    "hosts =\n"
	    "modules = go.example\n");
	if (c != NULL) {
		r = route_named(c, "gomods");
		CHECK(c->nroutes == 8 && r != NULL && r->line == 3,
		    "module route after hosts = *");
	}
	config_unref(c);
	load_bad("a broken route shadows nothing",
	    "[route broken]\n"
	    "hosts = a..b\n"
	    "[route b]\n"
	    "hosts = b.example\n",
	    "F:2: hosts: bad host \"a..b\"\n");
}

static void
test_route_errors(void)
{
	char	text[1024];

	load_bad("route names",
	    "[route go]\nhosts = go.example\n"
	    "[route go]\nhosts = go2.example\n"
	    "[route a b]\nhosts = ab.example\n"
	    "[route]\nhosts = none.example\n"
	    "[route x/y]\nhosts = xy.example\n"
	    "[route   spaced.name_1-2 ]\nhosts = s.example\n"
	    "[route\tgo]\nhostz = 1\n",
	    "F:3: duplicate route \"go\" (first at line 1)\n"
	    "F:5: bad route name \"a b\": use letters, digits, \"-\", \"_\" "
	    "and \".\"\n"
	    "F:7: [route] needs a name, like [route go]\n"
	    "F:9: bad route name \"x/y\": use letters, digits, \"-\", \"_\" "
	    "and \".\"\n"
	    "F:13: duplicate route \"go\" (first at line 1)\n"
	    "F:14: unknown key \"hostz\" in [route go]\n");
	load_bad("keys",
	    "[route go]\n"
	    "hostz = x\n"
	    "hosts = a.example\n"
	    "hosts = b.example\n"
	    "workers = 2\n"
	    "regex = ^a\n"
	    "  b\n"
	    "burst = 10\n"
	    "client_burst = 10\n"
	    "client_rate = 0\n"
	    "[route two]\n"
	    "hosts = two.example\n"
	    "rate = 5\n"
	    "client_rate = 1/m\n"
	    "client_burst = 3\n",
	    "F:2: unknown key \"hostz\" in [route go]\n"
	    "F:4: duplicate key \"hosts\" (first set at line 3)\n"
	    "F:5: unknown key \"workers\" in [route go]\n"
	    "F:7: indented line continues \"regex\", which takes a single "
	    "value\n"
	    "F:10: client_rate: expected a rate like 50/s, 3000/m or 10/h "
	    "(a bare number is per second), from 1 to 1000000000 per unit, "
	    "got \"0\"\n"
	    "F:8: burst is set without rate\n");
	load_bad("matcher values",
	    "[route v]\n"
	    "hosts = example.com, 10.0.0.0/33\n"
	    "modules = example.com/[bad\n"
	    "regex = a(b\n"
	    "methods = get, G ET, P/ST, -X-\n"
	    "ports = 443, 0, 5-4\n"
	    "clients = ::1, 10.0.0.0/33, localhost\n"
	    "[route w]\n"
	    "regex =\n"
	    "[route x]\n"
	    "regex = [z-a]\n",
	    "F:2: hosts: bad CIDR \"10.0.0.0/33\"\n"
	    "F:3: modules: bad glob \"example.com/[bad\"\n"
	    "F:4: regex: missing closing parenthesis at offset 3\n"
	    "F:5: methods: expected a method like GET or CONNECT, "
	    "got \"G ET\"\n"
	    "F:5: methods: expected a method like GET or CONNECT, "
	    "got \"P/ST\"\n"
	    "F:6: ports: expected a port or range like 443 or 1024-65535, "
	    "got \"0\"\n"
	    "F:6: ports: expected a port or range like 443 or 1024-65535, "
	    "got \"5-4\"\n"
	    "F:7: clients: expected an address or CIDR like 10.0.0.0/8 or "
	    "::1, got \"10.0.0.0/33\"\n"
	    "F:7: clients: expected an address or CIDR like 10.0.0.0/8 or "
	    "::1, got \"localhost\"\n"
	    "F:9: regex: expected a PCRE2 pattern, got \"\"\n"
	    "F:11: regex: range out of order in character class at "
	    "offset 3\n");
	load_bad("limit values",
	    "[route l]\n"
	    "hosts = l.example\n"
	    "connect_timeout = 0\n"
	    "response_timeout = 597h\n"
	    "idle_timeout = 1d\n"
	    "tunnel_idle_timeout = -1\n"
	    "rate = 0/s\n"
	    "burst = 0\n"
	    "client_rate = 5/d\n"
	    "client_burst = 1000000001\n"
	    "bandwidth = 0\n"
	    "client_bandwidth = 1t/s\n"
	    "max_conns = 0\n"
	    "queue = 100001\n"
	    "queue_timeout = 2x\n"
	    "fail_threshold = 1001\n"
	    "fail_cooldown = 0s\n"
	    "rate = 1.5/s\n",
	    "F:3: connect_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"0\"\n"
	    "F:4: response_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"597h\"\n"
	    "F:5: idle_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"1d\"\n"
	    "F:6: tunnel_idle_timeout: expected a duration like 10s, 500ms, "
	    "2m or 1h, from 1ms to 596h, got \"-1\"\n"
	    "F:7: rate: expected a rate like 50/s, 3000/m or 10/h (a bare "
	    "number is per second), from 1 to 1000000000 per unit, "
	    "got \"0/s\"\n"
	    "F:8: burst: expected a number from 1 to 1000000000, got \"0\"\n"
	    "F:9: client_rate: expected a rate like 50/s, 3000/m or 10/h "
	    "(a bare number is per second), from 1 to 1000000000 per unit, "
	    "got \"5/d\"\n"
	    "F:10: client_burst: expected a number from 1 to 1000000000, "
	    "got \"1000000001\"\n"
	    "F:11: bandwidth: expected a size per second like 512k, 1m/s or "
	    "1g/s, at least 1, got \"0\"\n"
	    "F:12: client_bandwidth: expected a size per second like 512k, "
	    "1m/s or 1g/s, at least 1, got \"1t/s\"\n"
	    "F:13: max_conns: expected a number from 1 to 1000000, "
	    "got \"0\"\n"
	    "F:14: queue: expected a number from 0 to 100000, "
	    "got \"100001\"\n"
	    "F:15: queue_timeout: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"2x\"\n"
	    "F:16: fail_threshold: expected a number from 1 to 1000, "
	    "got \"1001\"\n"
	    "F:17: fail_cooldown: expected a duration like 10s, 500ms, 2m "
	    "or 1h, from 1ms to 596h, got \"0s\"\n"
	    "F:18: duplicate key \"rate\" (first set at line 7)\n");
	load_bad("upstream items",
	    "[route u1]\n"
	    "hosts = u1.example\n"
	    "upstream = htp x:1, direct now,\n"
	    "  http proxy | socks5 a:b@h:0 | http |\n"
	    "  http :pw@h:1, http a%zz:b@h:1, http nocolon@h:1,\n"
	    "  mirror ftp://x, mirror https://u:p@h:0/x, mirror https://h?x,\n"
	    "  http [::1:80, http [::1]:80x, socks5 [::1]:1080, deny\n"
	    "[route u2]\n"
	    "hosts = u2.example\n"
	    "upstream = , direct\n"
	    "  direct,, direct |\n"
	    "[route u3]\n"
	    "hosts = u3.example\n"
	    "upstream =\n"
	    "[route u4]\n"
	    "hosts = u4.example\n"
	    "upstream = deny, direct\n",
	    "F:3: upstream: expected direct, deny, http HOST:PORT, socks5 "
	    "HOST:PORT or mirror URL, got \"htp\"\n"
	    "F:3: upstream: direct takes no argument\n"
	    "F:4: upstream: http: expected [user:pass@]HOST:PORT, "
	    "got \"proxy\"\n"
	    "F:4: upstream: socks5: expected [user:pass@]HOST:PORT, "
	    "got \"h:0\"\n"
	    "F:4: upstream: http: expected [user:pass@]HOST:PORT, got \"\"\n"
	    "F:5: upstream: http: expected user:password before \"@\"\n"
	    "F:5: upstream: http: expected user:password before \"@\"\n"
	    "F:5: upstream: http: expected user:password before \"@\"\n"
	    "F:6: upstream: mirror: expected an http:// or https:// URL, "
	    "got \"ftp://x\"\n"
	    "F:6: upstream: mirror: expected an http:// or https:// URL\n"
	    "F:6: upstream: mirror: expected an http:// or https:// URL, "
	    "got \"https://h?x\"\n"
	    "F:7: upstream: http: expected [user:pass@]HOST:PORT, "
	    "got \"[::1:80\"\n"
	    "F:7: upstream: http: expected [user:pass@]HOST:PORT, "
	    "got \"[::1]:80x\"\n"
	    "F:7: upstream: deny must be the only upstream\n"
	    "F:10: upstream: expected an upstream before \",\"\n"
	    "F:11: upstream: expected \",\" or \"|\" at the end of the "
	    "previous line\n"
	    "F:11: upstream: expected an upstream before \",\"\n"
	    "F:11: upstream: expected an upstream after \"|\"\n"
	    "F:14: upstream: expected at least one upstream\n"
	    "F:17: upstream: deny must be the only upstream\n");
	load_bad("upstream and via lists end apart",
	    "[route v1]\n"
	    "modules = v1.example\n"
	    "upstream = mirror https://m1.example ,\n"
	    "via = http p:1\n"
	    "[route v2]\n"
	    "modules = v2.example\n"
	    "upstream = mirror https://m2.example\n"
	    "via =\n"
	    "[route v3]\n"
	    "modules = v3.example\n"
	    "via = http p:1 |\n"
	    "[route v4]\n"
	    "modules = v4.example\n"
	    "upstream = mirror https://m4.example\n",
	    "F:3: upstream: expected an upstream after \",\"\n"
	    "F:8: via: expected at least one upstream\n"
	    "F:11: via: expected an upstream after \"|\"\n");
	load_bad("17 upstreams",
	    "[route many]\n"
	    "upstream = direct, direct, direct, direct, direct, direct,\n"
	    "  direct, direct, direct, direct, direct, direct, direct,\n"
	    "  direct, direct, direct, direct\n",
	    "F:4: upstream: more than 16 upstreams\n");

	/* Lines are at most 198 characters; values from $VAR are not. */
	snprintf(text, sizeof(text), "mirror https://h.example/%0262d/", 0);
	setenv("PROXYD_TEST_OK", text, 1);
	snprintf(text, sizeof(text), "mirror https://h.example/%0263d", 0);
	setenv("PROXYD_TEST_LONG", text, 1);
	snprintf(text, sizeof(text), "socks5 %0255d:%0255d@h:1 | "
	    "socks5 u:%0256d@h:1", 0, 0, 0);
	setenv("PROXYD_TEST_CRED", text, 1);
	load_bad("long values",
	    "[route ok]\nhosts = ok.example\nupstream = $PROXYD_TEST_OK\n"
	    "[route long]\nhosts = long.example\n"
	    "upstream = $PROXYD_TEST_LONG\n"
	    "[route cred]\nhosts = cred.example\n"
	    "upstream = $PROXYD_TEST_CRED\n",
	    "F:6: upstream: mirror: URL longer than 280 characters\n"
	    "F:9: upstream: socks5: user name and password may have 255 "
	    "bytes at most\n");
	unsetenv("PROXYD_TEST_OK");
	unsetenv("PROXYD_TEST_LONG");
	unsetenv("PROXYD_TEST_CRED");
}

/* Does msgs (NULL: no) hold warnings only? */
static int
only_warnings(const char *msgs)
{
	const char	*nl;

	if (msgs == NULL)
		return 0;
	for (; *msgs != '\0'; msgs = nl + 1) {
		if ((nl = strchr(msgs, '\n')) == NULL)
			return 0;
		if (memmem(msgs, (size_t)(nl - msgs), ": warning: ", 11) ==
		    NULL)
			return 0;
	}
	return 1;
}

/*
 * Load an example with the variables it reads unset (warnings, but no
 * errors) and set (not a word).
 */
static void
load_example(const char *path)
{
	struct config	*c;
	char		*msgs;

	unsetenv("NO_PROXY");
	unsetenv("GOPRIVATE");
	c = load_path(path, &msgs);
	CHECK(c != NULL && only_warnings(msgs), "%s: errors:\n%s", path,
	    msgs != NULL ? msgs : "");
	CHECK(c == NULL || c->nroutes >= 4, "%s: %zu routes", path,
	    c != NULL ? c->nroutes : 0);
	free(msgs);
	config_unref(c);

	setenv("NO_PROXY", "localhost, .corp.example, 10.0.0.0/8, ::1", 1);
	setenv("GOPRIVATE", "*.corp.example,github.com/example-corp", 1);
	c = load_path(path, &msgs);
	CHECK(c != NULL && msgs != NULL && msgs[0] == '\0',
	    "%s, variables set: errors:\n%s", path, msgs != NULL ? msgs : "");
	free(msgs);
	config_unref(c);
}

/* Every .conf in rules/examples loads. */
static void
test_shipped_examples(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 dir[PATH_MAX], path[PATH_MAX + 256];
	size_t		 len;
	int		 n = 0;

	source_path(dir, sizeof(dir), "rules/examples");
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "SKIP %s: not found\n", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		load_example(path);
		n++;
	}
	closedir(d);
	CHECK(n >= 3, "%d examples in %s", n, dir);
}

/* access_log_format and error_log = syslog (issue 10). */
static void
test_log_keys(void)
{
	struct config	*c;

	c = load_ok("json, syslog", "[proxyd]\naccess_log_format = json\n"
	    "error_log = syslog\n");
	CHECK(c && c->access_log_json == 1 && c->error_log &&
	    strcmp(c->error_log, "syslog") == 0, "json + syslog");
	config_unref(c);
	c = load_ok("text", "[proxyd]\naccess_log_format = text\n");
	CHECK(c && c->access_log_json == 0 && c->error_log == NULL,
	    "text, stderr");
	config_unref(c);
}

/* unavailable = error (default) | notfound, per route. */
static void
test_unavailable(void)
{
	struct config	*c;

	c = load_ok("unavailable", "[route a]\nmodules = a.test\n"
	    "upstream = mirror http://127.0.0.1:1\nunavailable = notfound\n"
	    "[route b]\nmodules = *\nupstream = mirror http://127.0.0.1:1\n");
	CHECK(c != NULL && c->nroutes >= 2 &&
	    c->routes[0].unavailable_notfound == 1 &&
	    c->routes[1].unavailable_notfound == 0, "unavailable values");
	config_unref(c);
	load_bad("unavailable", "[route a]\nmodules = *\n"
	    "upstream = mirror http://127.0.0.1:1\nunavailable = 404\n",
	    "F:4: unavailable: expected error or notfound, got \"404\"\n");
}

int
main(void)
{
	test_unavailable();
	test_log_keys();
	test_cidr_parse();
	test_cidr_match();
	test_ports();
	test_duration();
	test_size();
	test_defaults();
	test_shipped_default();
	test_builtin_routes();
	test_route_env_default();
	test_full();
	test_syntax_ok();
	test_value_errors();
	test_scalar_errors();
	test_structure_errors();
	test_line_errors();
	test_files();
	test_route_full();
	test_route_values();
	test_route_timeouts();
	test_route_upstreams();
	test_route_off();
	test_route_env();
	test_route_continuation();
	test_route_fallback();
	test_route_shadow();
	test_route_errors();
	test_shipped_examples();
	return unit_done("config");
}
