/*
 * test_route.c - route lookup: the first route in file order whose
 * matchers all match, found through the index of domain host entries.
 *
 * Configs are written to /tmp and loaded with config_load(), which
 * builds cfg->index.  Besides table cases, random configs and queries
 * compare route_lookup() with a linear reference written here from the
 * documented semantics and the matchers of match.h; a mismatch is shrunk
 * to a minimal config and printed.  Timings are printed, not checked.
 * ROUTE_SEED=n in the environment picks another random sequence.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "match.h"
#include "route.h"
#include "unit.h"

#define WHY_ALL	"no host, module or regex matcher (takes everything)"
/* The fallback has no matchers, and says so. */
#define WHY_FALLBACK	WHY_ALL

static struct regex_md	*md;

/* Load text as a config file; NULL (with the loader's messages) if not. */
static struct config *
load_quiet(const char *text, char **msgs)
{
	struct config	*c;
	char		 path[] = "/tmp/test_route.XXXXXX";
	size_t		 len = strlen(text), n = 0;
	FILE		*errs;
	int		 fd;

	*msgs = NULL;
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	if ((errs = open_memstream(msgs, &n)) == NULL) {
		unlink(path);
		return NULL;
	}
	c = config_load(path, errs);
	fclose(errs);
	unlink(path);
	return c;
}

/* text must load without a word; the caller unrefs the result. */
static struct config *
load_ok(const char *name, const char *text)
{
	struct config	*c;
	char		*msgs;

	c = load_quiet(text, &msgs);
	CHECK(c != NULL && msgs != NULL && msgs[0] == '\0',
	    "%s: not loaded cleanly:\n%s", name, msgs ? msgs : "");
	CHECK(c == NULL || c->index != NULL, "%s: no index", name);
	free(msgs);
	return c;
}

/* A client address as a sockaddr; "" gives none (NULL). */
struct client {
	struct sockaddr_storage	ss;
	int			set;
};

static struct client
client_of(const char *ip)
{
	struct client		 c;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&c.ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&c.ss;

	memset(&c, 0, sizeof(c));
	if (ip == NULL || *ip == '\0')
		return c;
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		c.set = 1;
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		c.set = 1;
	}
	return c;
}

/* A query; strings must outlive it.  NULL target: "http://HOST/". */
struct qspec {
	const char	*host;
	uint16_t	 port;
	const char	*method;
	const char	*target;
	const char	*module;
	const char	*client;
};

static void
query_of(const struct qspec *s, struct route_query *q, struct client *cl,
    char *tbuf, size_t tlen)
{
	memset(q, 0, sizeof(*q));
	q->host = s->host;
	q->host_len = s->host ? strlen(s->host) : 0;
	q->port = s->port;
	q->method = s->method ? s->method : "GET";
	q->method_len = strlen(q->method);
	if (s->target != NULL)
		snprintf(tbuf, tlen, "%s", s->target);
	else
		snprintf(tbuf, tlen, "http://%s/", s->host ? s->host : "");
	q->target = tbuf;
	q->target_len = strlen(tbuf);
	q->module = s->module;
	q->module_len = s->module ? strlen(s->module) : 0;
	*cl = client_of(s->client);
	q->client = cl->set ? (const struct sockaddr *)&cl->ss : NULL;
}

/* A table case: the query and the route (and why) it must take. */
struct tcase {
	struct qspec	 q;
	const char	*route;
	const char	*why;		/* NULL: not checked */
};

static void
run_cases(const char *name, const struct config *c, const struct tcase *t,
    size_t n)
{
	const struct route	*r;
	struct route_query	 q;
	struct client		 cl;
	const char		*why;
	char			 tbuf[512];
	size_t			 i;

	for (i = 0; i < n; i++) {
		query_of(&t[i].q, &q, &cl, tbuf, sizeof(tbuf));
		why = NULL;
		r = route_lookup(c, &q, md, &why);
		CHECK(r != NULL && strcmp(r->name, t[i].route) == 0,
		    "%s #%zu: %s %s port %u module %s client %s: route %s, "
		    "want %s", name, i, q.method, t[i].q.host ? t[i].q.host :
		    "(null)", t[i].q.port, t[i].q.module ? t[i].q.module : "-",
		    t[i].q.client ? t[i].q.client : "-", r ? r->name : "NULL",
		    t[i].route);
		if (t[i].why != NULL)
			CHECK(why != NULL && strcmp(why, t[i].why) == 0,
			    "%s #%zu (%s): why \"%s\", want \"%s\"", name, i,
			    t[i].q.host ? t[i].q.host : "(null)",
			    why ? why : "(null)", t[i].why);
		/* why may be NULL. */
		CHECK(route_lookup(c, &q, md, NULL) == r,
		    "%s #%zu: why NULL changes the route", name, i);
	}
}

/*
 * Table cases.
 */
static const char conf_hosts[] =
    "[route exact]\n"
    "hosts = example.com\n"
    "upstream = deny\n"
    "[route subonly]\n"
    "hosts = .sub.example.org\n"
    "[route star]\n"
    "hosts = *.wild.example\n"
    "[route tls]\n"
    "hosts = port.example:8443\n"
    "[route nets]\n"
    "hosts = 10.0.0.0/8, 192.168.1.1, [2001:db8::1]:443, fd00::/8,\n"
    "  172.16.0.9:8080\n"
    "[route mixed]\n"
    "hosts = Mixed.Case.EXAMPLE\n"
    "[route dl]\n"
    "regex = ^http://[^/]+/download/\n"
    "[route api]\n"
    "hosts = api.example.net\n"
    "methods = POST, put\n"
    "[route web]\n"
    "hosts = ports.example\n"
    "ports = 80, 8000-8999\n"
    "[route local]\n"
    "hosts = clients.example\n"
    "clients = 127.0.0.0/8, fd00::/8\n"
    "[route secret]\n"
    "hosts = both.example\n"
    "regex = /secret\n"
    "[route go]\n"
    "modules = github.com/corp/*, golang.org/x\n"
    "[route first]\n"
    "hosts = dup.example\n"
    "[route second]\n"
    "hosts = dup.example, other.example\n"
    "[route trail]\n"
    "hosts = trail.example.\n"
    "[route mixlist]\n"
    "hosts = named.example, 203.0.113.0/24\n"
    "[route textual]\n"
    "hosts = 0.0.1\n";

#define Q(h, p)		{ h, p, NULL, NULL, NULL, NULL }
#define QM(h, p, m)	{ h, p, m, NULL, NULL, NULL }
#define QT(h, t)	{ h, 80, "GET", t, NULL, NULL }
#define QC(h, c)	{ h, 443, "CONNECT", NULL, NULL, c }
#define QMOD(h, mod)	{ h, 443, "GET", NULL, mod, NULL }

static const struct tcase cases_hosts[] = {
	/* example.com: itself and every subdomain, any case, trailing dot */
	{ Q("example.com", 443), "exact", "hosts" },
	{ Q("www.example.com", 80), "exact", "hosts" },
	{ Q("a.b.c.example.com", 0), "exact", "hosts" },
	{ Q("EXAMPLE.COM", 443), "exact", "hosts" },
	{ Q("example.com.", 443), "exact", "hosts" },
	{ Q("WwW.Example.Com.", 443), "exact", "hosts" },
	{ Q("notexample.com", 443), "direct", WHY_FALLBACK },
	{ Q("example.com.evil", 443), "direct", NULL },
	{ Q("com", 443), "direct", NULL },
	{ Q("xample.com", 443), "direct", NULL },
	{ Q("", 443), "direct", NULL },
	{ Q(NULL, 443), "direct", NULL },
	/* .sub.example.org: subdomains only */
	{ Q("sub.example.org", 443), "direct", NULL },
	{ Q("SUB.example.org.", 443), "direct", NULL },
	{ Q("a.sub.example.org", 443), "subonly", "hosts" },
	{ Q("x.Y.sub.example.org.", 443), "subonly", "hosts" },
	{ Q("asub.example.org", 443), "direct", NULL },
	/* *.wild.example is .wild.example */
	{ Q("wild.example", 443), "direct", NULL },
	{ Q("a.wild.example", 443), "star", "hosts" },
	/* port-restricted entries; port 0 (unknown) matches none of them */
	{ Q("port.example", 8443), "tls", "hosts" },
	{ Q("x.port.example", 8443), "tls", "hosts" },
	{ Q("port.example", 443), "direct", NULL },
	{ Q("port.example", 0), "direct", NULL },
	/* IP and CIDR entries */
	{ Q("10.1.2.3", 443), "nets", "hosts" },
	{ Q("10.255.255.255", 80), "nets", "hosts" },
	{ Q("12.0.0.2", 443), "direct", NULL },
	{ Q("192.168.1.1", 443), "nets", "hosts" },
	{ Q("192.168.1.2", 443), "direct", NULL },
	{ Q("2001:db8::1", 443), "nets", "hosts" },
	{ Q("2001:DB8:0::1", 443), "nets", "hosts" },
	{ Q("2001:db8::1", 80), "direct", NULL },
	{ Q("2001:db8::2", 443), "direct", NULL },
	{ Q("fd00::5", 443), "nets", "hosts" },
	{ Q("FD00::5", 443), "nets", "hosts" },
	{ Q("::ffff:10.0.0.1", 443), "nets", "hosts" },
	{ Q("172.16.0.9", 8080), "nets", "hosts" },
	{ Q("172.16.0.9", 80), "direct", NULL },
	/* a list with names and addresses (not indexable) */
	{ Q("named.example", 443), "mixlist", "hosts" },
	{ Q("a.named.example", 443), "mixlist", "hosts" },
	{ Q("NAMED.example.", 443), "mixlist", "hosts" },
	{ Q("203.0.113.77", 443), "mixlist", "hosts" },
	{ Q("203.0.114.1", 443), "direct", NULL },
	/* a domain entry is compared with an IP host as text, as in Go */
	{ Q("10.0.0.1", 443), "nets", NULL },
	{ Q("11.0.0.1", 443), "textual", "hosts" },
	{ Q("9.0.0.1", 443), "textual", "hosts" },
	{ Q("9.0.0.2", 443), "direct", NULL },
	{ Q("0.0.1", 443), "textual", "hosts" },
	/* case-insensitive entries */
	{ Q("mixed.case.example", 443), "mixed", "hosts" },
	{ Q("MIXED.case.Example", 443), "mixed", "hosts" },
	{ Q("deep.mixed.case.example.", 443), "mixed", "hosts" },
	/* a trailing dot on the entry */
	{ Q("trail.example", 443), "trail", "hosts" },
	{ Q("a.trail.example.", 443), "trail", "hosts" },
	/* regex on the target */
	{ QT("anything.test", "http://anything.test/download/x.tgz"), "dl",
	    "regex" },
	{ QT("example.com", "http://example.com/download/x"), "exact",
	    "hosts" },
	{ QT("anything.test", "http://anything.test/upload/x"), "direct",
	    NULL },
	{ QT("anything.test", "anything.test:443"), "direct", NULL },
	/* methods: upper-cased in the config, compared exactly */
	{ QM("api.example.net", 443, "POST"), "api", "hosts" },
	{ QM("v1.api.example.net", 443, "PUT"), "api", "hosts" },
	{ QM("api.example.net", 443, "GET"), "direct", NULL },
	{ QM("api.example.net", 443, "POS"), "direct", NULL },
	{ QM("api.example.net", 443, "POSTX"), "direct", NULL },
	{ QM("api.example.net", 443, "post"), "direct", NULL },
	/* ports */
	{ Q("ports.example", 80), "web", "hosts" },
	{ Q("ports.example", 8000), "web", "hosts" },
	{ Q("ports.example", 8999), "web", "hosts" },
	{ Q("ports.example", 9000), "direct", NULL },
	{ Q("ports.example", 443), "direct", NULL },
	{ Q("ports.example", 0), "direct", NULL },
	/* clients; no client address matches no clients list */
	{ QC("clients.example", "127.0.0.1"), "local", "hosts" },
	{ QC("clients.example", "127.9.9.9"), "local", "hosts" },
	{ QC("clients.example", "fd00::1"), "local", "hosts" },
	{ QC("clients.example", "::ffff:127.0.0.1"), "local", "hosts" },
	{ QC("clients.example", "10.0.0.1"), "direct", NULL },
	{ QC("clients.example", "::1"), "direct", NULL },
	{ QC("clients.example", NULL), "direct", NULL },
	/* hosts and regex must both match */
	{ QT("both.example", "http://both.example/secret/x"), "secret",
	    "hosts and regex" },
	{ QT("both.example", "http://both.example/public"), "direct", NULL },
	{ QT("other.test", "http://other.test/secret"), "direct", NULL },
	/* first match in file order */
	{ Q("dup.example", 443), "first", "hosts" },
	{ Q("x.dup.example", 443), "first", "hosts" },
	{ Q("other.example", 443), "second", "hosts" },
	{ Q("x.other.example", 443), "second", "hosts" },
	/* module requests: modules routes only, never host or regex ones */
	{ QMOD("proxy.test", "github.com/corp/tool"), "go", "modules" },
	{ QMOD("proxy.test", "github.com/corp/tool/v2"), "go", "modules" },
	{ QMOD("proxy.test", "golang.org/x/net"), "go", "modules" },
	{ QMOD("proxy.test", "golang.org/y"), "direct", WHY_FALLBACK },
	{ QMOD("proxy.test", "github.com/other/x"), "direct", NULL },
	{ QMOD("example.com", "example.com/m"), "direct", NULL },
	{ { "anything.test", 80, "GET", "http://anything.test/download/x",
	    "example.com/m", NULL }, "direct", NULL },
	{ { "both.example", 80, "GET", "http://both.example/secret",
	    "github.com/corp/x", NULL }, "go", "modules" },
};

/* Routes without host, module or regex matchers take everything. */
static const char conf_takers[] =
    "[route postonly]\n"
    "methods = POST\n"
    "upstream = deny\n"
    "[route modonly]\n"
    "modules = corp.example/*\n"
    "[route hostsmods]\n"
    "hosts = h.example\n"
    "modules = h.example/*\n"
    "[route highports]\n"
    "ports = 10000-65535\n"
    "[route v6clients]\n"
    "clients = ::/0\n"
    "[route all]\n"
    "upstream = http proxy.example:3128\n";

static const struct tcase cases_takers[] = {
	{ QM("a.test", 443, "POST"), "postonly", WHY_ALL },
	{ { "a.test", 443, "POST", NULL, "corp.example/x", NULL },
	    "postonly", WHY_ALL },
	{ QMOD("a.test", "corp.example/x"), "modonly", "modules" },
	{ QMOD("a.test", "corp.example"), "all", WHY_ALL },
	{ Q("corp.example", 443), "all", WHY_ALL },
	{ Q("h.example", 443), "hostsmods", "hosts" },
	{ Q("x.h.example", 443), "hostsmods", "hosts" },
	{ QMOD("h.example", "h.example/foo"), "hostsmods", "modules" },
	{ QMOD("h.example", "other.example/foo"), "all", WHY_ALL },
	{ Q("a.test", 10000), "highports", WHY_ALL },
	{ QMOD("a.test", "other.example/foo"), "all", WHY_ALL },
	{ { "a.test", 12345, "GET", NULL, "x.example/y", NULL },
	    "highports", WHY_ALL },
	{ QC("a.test", "2001:db8::9"), "v6clients", WHY_ALL },
	{ QC("a.test", "192.0.2.1"), "all", WHY_ALL },
	{ Q("a.test", 443), "all", WHY_ALL },
};

static void
test_tables(void)
{
	struct config		*c;
	const struct route	*r;
	struct route_query	 q;
	struct client		 cl;
	char			 tbuf[64];
	struct qspec		 s = Q("nowhere.test", 443);

	if ((c = load_ok("hosts table", conf_hosts)) != NULL) {
		run_cases("hosts", c, cases_hosts,
		    sizeof(cases_hosts) / sizeof(cases_hosts[0]));
		/* The fallback: last, built in, named after its upstream. */
		query_of(&s, &q, &cl, tbuf, sizeof(tbuf));
		r = route_lookup(c, &q, md, NULL);
		CHECK(r == &c->routes[c->nroutes - 1] && r->line == 0 &&
		    r->nupstreams == 1 &&
		    r->upstreams[0].type == UPSTREAM_DIRECT,
		    "fallback is the last, built-in route");
		config_unref(c);
	}
	if ((c = load_ok("takers table", conf_takers)) != NULL) {
		run_cases("takers", c, cases_takers,
		    sizeof(cases_takers) / sizeof(cases_takers[0]));
		config_unref(c);
	}
	c = load_ok("fallback deny",
	    "[proxyd]\nfallback = deny\n[route a]\nhosts = a.example\n");
	if (c != NULL) {
		static const struct tcase t[] = {
			{ Q("a.example", 443), "a", "hosts" },
			{ Q("b.example", 443), "deny", WHY_FALLBACK },
			{ QMOD("a.example", "a.example/m"), "deny",
			    WHY_FALLBACK },
		};
		run_cases("fallback deny", c, t, sizeof(t) / sizeof(t[0]));
		r = &c->routes[c->nroutes - 1];
		CHECK(r->line == 0 && r->upstreams[0].type == UPSTREAM_DENY,
		    "fallback deny is a deny route");
		config_unref(c);
	}
	/* No [route] section: the built-in (Go module) routes first. */
	c = load_ok("no routes", "");
	if (c != NULL) {
		static const struct tcase t[] = {
			{ Q("a.example", 443), "direct", WHY_FALLBACK },
			{ QMOD("a.example", "a.example/m"), "go", "modules" },
			{ QMOD("sum.golang.org", "sum.golang.org"), "sumdb",
			    "modules" },
			{ Q("10.0.0.1", 443), "direct", WHY_FALLBACK },
		};
		run_cases("no routes", c, t, sizeof(t) / sizeof(t[0]));
		CHECK(c->nroutes == 4, "no routes: the built-in ones and the "
		    "fallback");
		config_unref(c);
	}
}

/*
 * More candidates than the index keeps (the lookup scans instead), a
 * host too long for its buffer, and hosts that differ from an entry
 * only by dots: all must agree with host_list_match().
 */
static void
test_edges(void)
{
	static const char *hosts[] = {
		"a.example", "a.example.", "a.example..", ".a.example",
		"x..a.example", "b.example", "b.example.", "b.example..",
		"x.b.example..", "..", ".", "a..example",
	};
	struct config		*c;
	const struct route	*r, *want;
	struct route_query	 q;
	struct client		 cl;
	struct qspec		 s;
	char			*text, tbuf[1024], host[400], meth[16];
	size_t			 i, len = 0;
	FILE			*f;

	/* 70 routes naming the same host, told apart by method. */
	if ((f = open_memstream(&text, &len)) == NULL)
		return;
	for (i = 0; i < 70; i++)
		fprintf(f, "[route m%zu]\nhosts = many.example, "
		    "m%zu.many.example\nmethods = M%zu\n", i, i, i);
	fclose(f);
	if ((c = load_ok("70 routes of one host", text)) != NULL) {
		for (i = 0; i < 72; i++) {
			snprintf(meth, sizeof(meth), "M%zu", i);
			s = (struct qspec){ "x.many.example", 443, meth, NULL,
			    NULL, NULL };
			query_of(&s, &q, &cl, tbuf, sizeof(tbuf));
			r = route_lookup(c, &q, md, NULL);
			CHECK(i < 70 ? r == &c->routes[i] :
			    r == &c->routes[c->nroutes - 1],
			    "70 routes, method %s: route %s", meth, r->name);
		}
		config_unref(c);
	}
	free(text);

	/* A host of 300 bytes is longer than the index's buffer. */
	c = load_ok("long host", "[route long]\nhosts = long.example\n"
	    "[route ip]\nhosts = 10.0.0.0/8, longer.example\n");
	if (c != NULL) {
		memset(host, 'a', sizeof(host));
		for (i = 60; i < 300; i += 60)
			host[i] = '.';
		memcpy(host + 300 - 13, ".long.example", 14);
		s = (struct qspec){ host, 443, "GET", "x", NULL, NULL };
		query_of(&s, &q, &cl, tbuf, sizeof(tbuf));
		r = route_lookup(c, &q, md, NULL);
		CHECK(strcmp(r->name, "long") == 0, "300-byte host: %s",
		    r->name);
		memcpy(host + 300 - 15, ".longer.example", 16);
		s.host = host;
		query_of(&s, &q, &cl, tbuf, sizeof(tbuf));
		r = route_lookup(c, &q, md, NULL);
		CHECK(strcmp(r->name, "ip") == 0, "300-byte host: %s",
		    r->name);
		config_unref(c);
	}

	/*
	 * Indexed ("a.example") and scanned ("b.example" beside an address)
	 * lists must treat extra dots as host_list_match() does.
	 */
	c = load_ok("dots", "[route idx]\nhosts = a.example\n"
	    "[route scan]\nhosts = b.example, 10.9.9.9\n");
	if (c != NULL) {
		for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
			s = (struct qspec){ hosts[i], 443, "GET", "x", NULL,
			    NULL };
			query_of(&s, &q, &cl, tbuf, sizeof(tbuf));
			r = route_lookup(c, &q, md, NULL);
			want = host_list_match(c->routes[0].hosts, q.host,
			    q.host_len, q.port) ? &c->routes[0] :
			    host_list_match(c->routes[1].hosts, q.host,
			    q.host_len, q.port) ? &c->routes[1] :
			    &c->routes[2];
			CHECK(r == want, "host \"%s\": route %s, but "
			    "host_list_match() says %s", hosts[i], r->name,
			    want->name);
		}
		config_unref(c);
	}
}

/*
 * The reference: every route in file order, each matcher of match.h
 * applied directly, as config.h and route.h describe them.
 */
static int
ref_method_ok(const struct route *r, const struct route_query *q)
{
	size_t	i;

	if (r->methods == NULL)
		return 1;
	for (i = 0; i < r->nmethods; i++)
		if (strlen(r->methods[i]) == q->method_len &&
		    memcmp(r->methods[i], q->method, q->method_len) == 0)
			return 1;
	return 0;
}

static int
ref_matches(const struct route *r, const struct route_query *q,
    const char **why)
{
	int	none = r->hosts == NULL && r->regex == NULL &&
		    r->modules == NULL;

	if (!ref_method_ok(r, q))
		return 0;
	if (r->ports != NULL &&
	    !port_range_match_any(r->ports, r->nports, q->port))
		return 0;
	if (r->clients != NULL && (q->client == NULL ||
	    !cidr_match_any(r->clients, r->nclients, q->client)))
		return 0;
	if (none) {
		*why = WHY_ALL;
		return 1;
	}
	if (q->module != NULL) {
		*why = "modules";
		return r->modules != NULL &&
		    module_list_match(r->modules, q->module, q->module_len);
	}
	if (r->hosts == NULL && r->regex == NULL)
		return 0;	/* modules only */
	if (r->hosts != NULL && !host_list_match(r->hosts, q->host,
	    q->host_len, q->port))
		return 0;
	if (r->regex != NULL &&
	    regex_match(r->regex, q->target, q->target_len, md) != 1)
		return 0;
	*why = r->hosts && r->regex ? "hosts and regex" :
	    r->hosts ? "hosts" : "regex";
	return 1;
}

static const struct route *
ref_lookup(const struct config *c, const struct route_query *q,
    const char **why)
{
	size_t	i;

	for (i = 0; i < c->nroutes; i++)
		if (ref_matches(&c->routes[i], q, why))
			return &c->routes[i];
	*why = "nothing else matched";
	return &c->routes[c->nroutes - 1];
}

/*
 * Random configs and queries.
 */
static uint64_t	rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t
pick(size_t n)
{
	return (size_t)(rng() % n);
}

static int
chance(int percent)
{
	return (int)pick(100) < percent;
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ANY(a)		((a)[pick(NELEM(a))])

static const char *names[] = {
	"alpha.test", "beta.test", "gamma.example", "a.b.c.test", "b.c.test",
	"c.test", "corp.internal", "svc.corp.internal", "x-1.org",
	"under_score.net", "deep.a.b.c.test", "mail.example.com",
	"example.com", "com", "0.1", "2.3", "0.0.1", "m1.many.test",
	"m2.many.test", "many.test", "z.y.x.w.v.test", "host", "h-2",
};
static const char *addrs[] = {
	"10.0.0.0/8", "10.1.0.0/16", "192.168.1.7", "192.168.1.7:443",
	"[2001:db8::1]:443", "2001:db8::/32", "fd00::/8", "127.0.0.1",
	"::1", "::ffff:10.1.0.0/112", "0.0.0.0/0", "[::ffff:10.1.2.3]:8080",
};
static const char *regexes[] = {
	"^http://[^/]*alpha", "/download/", "\\.tar\\.gz$", "(?i)secret",
	"^http://example\\.com/", "x-1", "[0-9]{3}", "^[^/]*:443$",
};
static const char *globs[] = {
	"github.com/corp/*", "golang.org/x", "example.com/m",
	"corp.internal/*/v2", "gitlab.*/team", "alpha.test",
};
static const char *methods[] = { "GET", "POST", "CONNECT", "PUT" };
static const char *portlists[] = {
	"80", "443", "8000-8999", "80, 443", "1-1024", "8080",
};
static const char *clientlists[] = {
	"127.0.0.0/8", "10.0.0.0/8", "::1", "192.168.0.0/16, ::1",
	"fd00::/8", "0.0.0.0/0",
};

/* Append s to f, each letter upper-cased at random. */
static void
put_case(FILE *f, const char *s, int percent)
{
	for (; *s != '\0'; s++)
		fputc(*s >= 'a' && *s <= 'z' && chance(percent) ?
		    *s - 'a' + 'A' : *s, f);
}

static void
gen_domain(FILE *f)
{
	const char	*n = ANY(names);
	int		 r = (int)pick(100);

	if (r < 25)
		fputc('.', f);
	else if (r < 35)
		fputs("*.", f);
	put_case(f, n, chance(20) ? 30 : 0);
	if (chance(5))
		fputc('.', f);
	if (chance(25))
		fprintf(f, ":%s", ANY(((const char *[]){ "80", "443",
		    "8080" })));
}

static void
gen_hosts(FILE *f, int addresses, int domains)
{
	size_t	i, n = 1 + pick(4);
	int	first = 1, a;

	fputs("hosts = ", f);
	for (i = 0; i < n || first; i++) {
		a = addresses && (!domains || chance(40));
		if (!first)
			fputs(", ", f);
		if (a)
			fputs(ANY(addrs), f);
		else
			gen_domain(f);
		first = 0;
	}
	if (addresses && domains && chance(50))
		fprintf(f, ", %s", ANY(addrs));
	fputc('\n', f);
}

static void
gen_restrictions(FILE *f, int force)
{
	size_t	i, n;
	int	any = 0;

	while (!any) {
		if (chance(15)) {
			n = 1 + pick(2);
			fputs("methods = ", f);
			for (i = 0; i < n; i++)
				fprintf(f, "%s%s", i ? ", " : "",
				    ANY(methods));
			fputc('\n', f);
			any = 1;
		}
		if (chance(15)) {
			fprintf(f, "ports = %s\n", ANY(portlists));
			any = 1;
		}
		if (chance(10)) {
			fprintf(f, "clients = %s\n", ANY(clientlists));
			any = 1;
		}
		if (!force)
			break;
	}
}

/* One route's keys (without its header); last: may take everything. */
static char *
gen_route(int last)
{
	char	*s;
	size_t	 len;
	FILE	*f;
	int	 k = (int)pick(100);

	if ((f = open_memstream(&s, &len)) == NULL)
		abort();
	if (last && chance(25)) {
		switch (pick(4)) {
		case 0:
			break;			/* takes everything */
		case 1:
			fputs("hosts = *\n", f);
			break;
		case 2:
			fputs("modules = *\n", f);
			break;
		default:
			fputs("hosts = *, alpha.test\nmodules = *\n", f);
		}
		fputs("upstream = deny\n", f);
		fclose(f);
		return s;
	}
	if (k < 45)
		gen_hosts(f, 0, 1);
	else if (k < 55)
		gen_hosts(f, 1, 1);
	else if (k < 62)
		gen_hosts(f, 1, 0);
	else if (k < 70)
		fprintf(f, "regex = %s\n", ANY(regexes));
	else if (k < 77) {
		gen_hosts(f, chance(30), 1);
		fprintf(f, "regex = %s\n", ANY(regexes));
	} else if (k < 85)
		fprintf(f, "modules = %s%s%s\n", ANY(globs), chance(30) ?
		    ", " : "", chance(30) ? ANY(globs) : "");
	else if (k < 89) {
		gen_hosts(f, 0, 1);
		fprintf(f, "modules = %s\n", ANY(globs));
	} else if (k < 92)
		fprintf(f, "hosts = *%s\n", chance(50) ? ", beta.test" : "");
	/* else: no matcher */
	gen_restrictions(f, k >= 89 || (k >= 55 && k < 62 && chance(50)));
	if (chance(30))
		fputs("upstream = deny\n", f);
	fclose(f);
	return s;
}

struct gconf {
	char	**route;	/* keys of each route */
	size_t	  n;
	int	 *on;		/* in the config (shrinking turns off) */
};

static char *
gconf_text(const struct gconf *g)
{
	char	*s;
	size_t	 i, len;
	FILE	*f;

	if ((f = open_memstream(&s, &len)) == NULL)
		abort();
	for (i = 0; i < g->n; i++)
		if (g->on[i])
			fprintf(f, "[route r%zu]\n%s", i, g->route[i]);
	fclose(f);
	return s;
}

/* A random query; its strings live in buf. */
struct gquery {
	char		host[300];
	char		target[400];
	char		module[64];
	char		method[16];
	uint16_t	port;
	const char	*client;
	int		has_module;
	int		preparse;	/* q.ip given by the caller */
};

static const char *qips[] = {
	"10.1.2.3", "10.200.0.1", "192.168.1.7", "192.168.1.8", "127.0.0.1",
	"2001:db8::1", "2001:db9::1", "fd00::1", "::ffff:10.1.2.3",
	"8.8.8.8", "10.0.0.1", "::1", "1.2.3", "FD00::ABCD",
};
static const char *qclients[] = {
	"127.0.0.1", "10.2.3.4", "192.168.7.7", "8.8.8.8", "::1", "fd00::1",
	"::ffff:127.0.0.1",
};
static const char *qmodules[] = {
	"github.com/corp/tool", "github.com/other/x", "golang.org/x/net",
	"golang.org/y", "example.com/m", "example.com/m/v2",
	"corp.internal/a/v2", "gitlab.com/team/p", "gitlab.com/other",
	"alpha.test/x",
};
static const char *qlabels[] = {
	"www", "a", "x-1", "api", "m1", "0", "deep", "ALPHA", "test",
};

static void
gen_query(struct gquery *g)
{
	FILE		*f;
	size_t		 len;
	char		*s;
	const char	*n;
	int		 r = (int)pick(100), k;

	memset(g, 0, sizeof(*g));
	if ((f = open_memstream(&s, &len)) == NULL)
		abort();
	if (r < 35)
		put_case(f, ANY(names), chance(20) ? 40 : 0);
	else if (r < 62) {
		for (k = 1 + (int)pick(2); k > 0; k--)
			fprintf(f, "%s.", ANY(qlabels));
		put_case(f, ANY(names), chance(20) ? 40 : 0);
	} else if (r < 72) {
		n = ANY(names);
		fputs(strchr(n, '.') ? strchr(n, '.') + 1 : n, f);
	} else if (r < 84)
		fprintf(f, "%s.%s", ANY(qlabels), ANY(qlabels));
	else if (r < 98)
		fputs(ANY(qips), f);
	/* else: empty host */
	k = (int)pick(100);
	if (k < 6)
		fputc('.', f);
	else if (k < 8)
		fputs("..", f);
	fclose(f);
	if (pick(100) == 0) {
		g->host[0] = '.';
		snprintf(g->host + 1, sizeof(g->host) - 1, "%s", s);
	} else
		snprintf(g->host, sizeof(g->host), "%s", s);
	free(s);

	g->port = ANY(((const uint16_t[]){ 0, 80, 443, 8080, 8443, 22,
	    8500, 1024 }));
	snprintf(g->method, sizeof(g->method), "%s", ANY(((const char *[]){
	    "GET", "POST", "CONNECT", "PUT", "DELETE", "get" })));
	if (chance(20))
		snprintf(g->target, sizeof(g->target), "%s:%u", g->host,
		    g->port);
	else
		snprintf(g->target, sizeof(g->target), "http://%s%s",
		    g->host, ANY(((const char *[]){ "/", "/download/file",
		    "/a.tar.gz", "/SECRET", "/x/123", "/alpha" })));
	if ((g->has_module = chance(12)))
		snprintf(g->module, sizeof(g->module), "%s", ANY(qmodules));
	g->client = chance(15) ? NULL : ANY(qclients);
	g->preparse = chance(30);
}

static void
gquery_of(const struct gquery *g, struct route_query *q, struct client *cl,
    struct cidr *ip)
{
	memset(q, 0, sizeof(*q));
	q->host = g->host;
	q->host_len = strlen(g->host);
	q->port = g->port;
	q->method = g->method;
	q->method_len = strlen(g->method);
	q->target = g->target;
	q->target_len = strlen(g->target);
	if (g->has_module) {
		q->module = g->module;
		q->module_len = strlen(g->module);
	}
	*cl = client_of(g->client);
	q->client = cl->set ? (const struct sockaddr *)&cl->ss : NULL;
	if (g->preparse && host_parse_ip(q->host, q->host_len, ip) == 0)
		q->ip = ip;
}

static void
gquery_print(const struct gquery *g)
{
	fprintf(stderr, "  query: host \"%s\" port %u method %s target "
	    "\"%s\" module %s%s%s client %s%s\n", g->host, g->port, g->method,
	    g->target, g->has_module ? "\"" : "",
	    g->has_module ? g->module : "-", g->has_module ? "\"" : "",
	    g->client ? g->client : "-",
	    g->preparse ? " (ip parsed by the caller)" : "");
}

/*
 * Does g disagree between route_lookup() and the reference on c?  With
 * noindex, route_lookup() runs without the index (its linear path).
 */
static int
mismatch(struct config *c, const struct gquery *g, int noindex,
    const struct route **got, const struct route **want,
    const char **gwhy, const char **wwhy)
{
	struct route_index	*ix = c->index;
	struct route_query	 q;
	struct client		 cl;
	struct cidr		 ip;

	gquery_of(g, &q, &cl, &ip);
	*gwhy = *wwhy = NULL;
	if (noindex)
		c->index = NULL;
	*got = route_lookup(c, &q, md, gwhy);
	c->index = ix;
	*want = ref_lookup(c, &q, wwhy);
	if (*got != *want)
		return 1;
	/* The fallback's why is route.c's business. */
	if (*want == &c->routes[c->nroutes - 1])
		return 0;
	return *gwhy == NULL || strcmp(*gwhy, *wwhy) != 0;
}

/* Does g still disagree on the config g describes? */
static int
reproduces(const struct gconf *gc, const struct gquery *g, int noindex)
{
	const struct route	*got, *want;
	const char		*gwhy, *wwhy;
	struct config		*c;
	char			*text, *msgs;
	int			 m = 0;

	text = gconf_text(gc);
	c = load_quiet(text, &msgs);
	if (c != NULL) {
		m = mismatch(c, g, noindex, &got, &want, &gwhy, &wwhy);
		config_unref(c);
	}
	free(msgs);
	free(text);
	return m;
}

/* Turn off every route the mismatch does not need; print what is left. */
static void
shrink_and_print(struct gconf *gc, const struct gquery *g, int noindex)
{
	const struct route	*got, *want;
	const char		*gwhy, *wwhy;
	struct config		*c;
	char			*text, *msgs;
	size_t			 i;

	for (i = gc->n; i-- > 0; ) {
		gc->on[i] = 0;
		if (!reproduces(gc, g, noindex))
			gc->on[i] = 1;
	}
	text = gconf_text(gc);
	fprintf(stderr, "  minimal config:\n%s", text);
	gquery_print(g);
	if ((c = load_quiet(text, &msgs)) != NULL) {
		mismatch(c, g, noindex, &got, &want, &gwhy, &wwhy);
		fprintf(stderr, "  route_lookup%s: %s (%s); reference: %s "
		    "(%s)\n", noindex ? " without index" : "", got->name,
		    gwhy ? gwhy : "-", want->name, wwhy ? wwhy : "-");
		config_unref(c);
	}
	free(msgs);
	free(text);
	for (i = 0; i < gc->n; i++)
		gc->on[i] = 1;
}

static void
test_equivalence(void)
{
	const struct route	*got, *want;
	const char		*gwhy, *wwhy, *e;
	struct gquery		 g;
	struct gconf		 gc;
	struct config		*c;
	char			*text, *msgs;
	size_t			 nconf = 150, nq = 400, i, j, k;
	size_t			 queries = 0, bad = 0, badnoix = 0, shown = 0;
	size_t			 fallbacks = 0, indexed_hits = 0;
	int			 noindex;

	rng_state = (e = getenv("ROUTE_SEED")) != NULL ?
	    strtoull(e, NULL, 0) : 20240607;
	for (i = 0; i < nconf; i++) {
		gc.n = 50 + pick(251);
		gc.route = calloc(gc.n, sizeof(*gc.route));
		gc.on = calloc(gc.n, sizeof(*gc.on));
		if (gc.route == NULL || gc.on == NULL)
			abort();
		for (j = 0; j < gc.n; j++) {
			gc.route[j] = gen_route(j == gc.n - 1);
			gc.on[j] = 1;
		}
		text = gconf_text(&gc);
		c = load_quiet(text, &msgs);
		CHECK(c != NULL && msgs[0] == '\0', "random config %zu: not "
		    "loaded:\n%s", i, msgs ? msgs : "");
		if (c == NULL) {
			fprintf(stderr, "%s", text);
			goto next;
		}
		for (j = 0; j < nq; j++) {
			gen_query(&g);
			queries++;
			for (noindex = 0; noindex < 2; noindex++) {
				if (!mismatch(c, &g, noindex, &got, &want,
				    &gwhy, &wwhy))
					continue;
				if (noindex)
					badnoix++;
				else
					bad++;
				if (shown++ < 3) {
					fprintf(stderr, "MISMATCH (config %zu, "
					    "%zu routes): route_lookup%s %s "
					    "(%s), reference %s (%s)\n", i,
					    gc.n, noindex ? " without index" :
					    "", got->name, gwhy ? gwhy : "-",
					    want->name, wwhy ? wwhy : "-");
					shrink_and_print(&gc, &g, noindex);
				}
			}
			if (want == &c->routes[c->nroutes - 1])
				fallbacks++;
			else if (want->hosts != NULL &&
			    host_list_is_indexable(want->hosts))
				indexed_hits++;
		}
		config_unref(c);
next:
		free(msgs);
		free(text);
		for (k = 0; k < gc.n; k++)
			free(gc.route[k]);
		free(gc.route);
		free(gc.on);
	}
	CHECK(bad == 0, "route_lookup disagrees with the reference on %zu "
	    "of %zu random queries", bad, queries);
	CHECK(badnoix == 0, "route_lookup without index disagrees with the "
	    "reference on %zu of %zu random queries", badnoix, queries);
	/* The generator must exercise both outcomes. */
	CHECK(fallbacks > queries / 200 && indexed_hits > queries / 10,
	    "random queries: %zu fell back, %zu took indexed routes of %zu",
	    fallbacks, indexed_hits, queries);
	printf("route: %zu random configs, %zu queries (%zu to the "
	    "fallback, %zu to indexed routes), %zu mismatches indexed, %zu "
	    "without index\n", nconf, queries, fallbacks, indexed_hits, bad,
	    badnoix);
}

/*
 * Timings: n routes "hosts = dK.example, .sK.example" (nscan of them
 * with an address entry or a regex instead, spread evenly); half the
 * queries hit a random route, half miss.
 */
static double
ns_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
time_lookups(size_t n, size_t nscan)
{
	enum { NQ = 1024 };
	static char		 hosts[NQ][64];
	struct route_query	 q[NQ];
	const struct route	*r;
	struct config		*c;
	char			*text, *msgs;
	size_t			 i, len, iters = 0, hits = 0, every;
	double			 t0, t;
	FILE			*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return;
	every = nscan ? n / nscan : 0;
	for (i = 0; i < n; i++) {
		fprintf(f, "[route r%zu]\n", i);
		if (every && i % every == every / 2 && i / every < nscan)
			fprintf(f, i / every % 2 ?
			    "hosts = d%zu.example, 10.%zu.0.0/16\n" :
			    "regex = ^http://d%zu\\.example\\.x%zu/\n", i,
			    i % 256);
		else
			fprintf(f, "hosts = d%zu.example, .s%zu.example\n",
			    i, i);
	}
	fclose(f);
	c = load_quiet(text, &msgs);
	free(text);
	if (c == NULL) {
		fprintf(stderr, "timing config of %zu routes: %s\n", n, msgs);
		free(msgs);
		CHECK(0, "timing config of %zu routes not loaded", n);
		return;
	}
	free(msgs);
	for (i = 0; i < NQ; i++) {
		if (i % 2)
			snprintf(hosts[i], sizeof(hosts[i]),
			    "www.d%zu.example", (size_t)pick(n));
		else
			snprintf(hosts[i], sizeof(hosts[i]),
			    "www.miss%zu.test", i);
		memset(&q[i], 0, sizeof(q[i]));
		q[i].host = hosts[i];
		q[i].host_len = strlen(hosts[i]);
		q[i].port = 443;
		q[i].method = "CONNECT";
		q[i].method_len = 7;
		q[i].target = hosts[i];
		q[i].target_len = q[i].host_len;
	}
	t0 = ns_now();
	do {
		for (i = 0; i < NQ; i++) {
			r = route_lookup(c, &q[i], md, NULL);
			hits += r != &c->routes[c->nroutes - 1];
		}
		iters += NQ;
		t = ns_now() - t0;
	} while (t < 2e8);
	printf("route: %5zu routes (%2zu not indexed): %8.1f ns per lookup "
	    "(%zu lookups, %.0f%% hits)\n", n, nscan, t / (double)iters,
	    iters, 100.0 * (double)hits / (double)iters);
	config_unref(c);
}

int
main(void)
{
	if ((md = regex_match_data_new()) == NULL) {
		fprintf(stderr, "no match data\n");
		return 1;
	}
	test_tables();
	test_edges();
	test_equivalence();
	if (getenv("ROUTE_NO_TIMING") == NULL) {
		time_lookups(1, 0);
		time_lookups(100, 0);
		time_lookups(1000, 0);
		time_lookups(10000, 0);
		time_lookups(1000, 20);
	}
	regex_match_data_free(md);
	return unit_done("route");
}
