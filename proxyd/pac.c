/*
 * pac.c - the PAC file generated from the routes (see pac.h).
 *
 * The file decides only what it can decide exactly: a route that matches
 * by host names, IPs and CIDRs alone and sends everything direct is a
 * "DIRECT" answer.  Whatever else a route looks at (a regex on the
 * target, methods, ports, client addresses) the browser's PAC engine
 * cannot see as proxyd will, so such a route answers the proxy wherever
 * its hosts may match, and proxyd decides: a PAC "DIRECT" therefore
 * always agrees with the route proxyd would pick.  A route matching by
 * `modules` alone never takes a URL (module requests are GOPROXY ones),
 * so it is left out; `modules` next to `hosts` is ignored for URLs, as
 * route.c does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "pac.h"
#include "route.h"

/* Helpers of the generated file; CIDRs are compared as byte arrays. */
static const char pac_helpers[] =
"function proxyd_port(url) {\n"
"\tvar m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\\/\\/(?:[^\\/?#@]*@)?"
"(\\[[^\\]]*\\]|[^\\/?#:]*)(?::(\\d+))?/.exec(url), s;\n"
"\tif (!m)\n\t\treturn 0;\n"
"\tif (m[3])\n\t\treturn parseInt(m[3], 10);\n"
"\ts = m[1].toLowerCase();\n"
"\treturn s == \"https\" || s == \"wss\" ? 443 : s == \"ftp\" ? 21 : 80;\n"
"}\n"
"function proxyd_ip4(h) {\n"
"\tvar m = /^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$/.exec(h);\n"
"\tvar a = [], i;\n"
"\tif (!m)\n\t\treturn null;\n"
"\tfor (i = 1; i <= 4; i++) {\n"
"\t\tif (parseInt(m[i], 10) > 255)\n\t\t\treturn null;\n"
"\t\ta.push(parseInt(m[i], 10));\n"
"\t}\n"
"\treturn a;\n"
"}\n"
"function proxyd_ip6(h) {\n"
"\tvar p = h.split(\"::\"), hd, tl, g, a = [], i, v;\n"
"\tif (h.indexOf(\":\") < 0 || p.length > 2)\n\t\treturn null;\n"
"\thd = p[0] ? p[0].split(\":\") : [];\n"
"\ttl = p.length == 2 && p[1] ? p[1].split(\":\") : [];\n"
"\tif (p.length == 1 ? hd.length != 8 : hd.length + tl.length > 7)\n"
"\t\treturn null;\n"
"\tg = hd;\n"
"\tfor (i = hd.length + tl.length; i < 8; i++)\n\t\tg.push(\"0\");\n"
"\tg = g.concat(tl);\n"
"\tfor (i = 0; i < 8; i++) {\n"
"\t\tif (!/^[0-9a-f]{1,4}$/.test(g[i]))\n\t\t\treturn null;\n"
"\t\tv = parseInt(g[i], 16);\n"
"\t\ta.push(v >> 8, v & 255);\n"
"\t}\n"
"\treturn a;\n"
"}\n"
"function proxyd_in(ip, net, bits) {\n"
"\tvar i, m;\n"
"\tif (ip == null || ip.length != net.length)\n\t\treturn false;\n"
"\tfor (i = 0; bits > 0; i++, bits -= 8) {\n"
"\t\tm = bits >= 8 ? 255 : (255 << (8 - bits)) & 255;\n"
"\t\tif ((ip[i] & m) != net[i])\n\t\t\treturn false;\n"
"\t}\n"
"\treturn true;\n"
"}\n"
"function proxyd_dom(h, name, sub) {\n"
"\treturn (!sub && h == name) || (h.length > name.length &&\n"
"\t    h.substring(h.length - name.length - 1) == \".\" + name);\n"
"}\n";

static int
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
	    sin6->sin6_addr.s6_addr[12] == 127);
}

static int
is_wildcard(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port);
}

void
pac_proxy_address(const struct config *cfg, const struct sockaddr *local,
    char *buf, size_t len)
{
	const struct listen_addr *la = &cfg->listen[0];
	char host[INET6_ADDRSTRLEN];
	const void *a;
	size_t i;

	if (cfg->pac_proxy) {
		snprintf(buf, len, "%s", cfg->pac_proxy);
		return;
	}
	/* A transparent listener is no proxy to tell clients about. */
	for (i = cfg->nlisten; i-- > 0;)
		if (config_is_proxy_listener(cfg, i))
			la = &cfg->listen[i];
	for (i = 0; i < cfg->nlisten; i++)
		if (config_is_proxy_listener(cfg, i) &&
		    !is_loopback(&cfg->listen[i].ss)) {
			la = &cfg->listen[i];
			break;
		}
	if (!is_wildcard(&la->ss) || local == NULL ||
	    (local->sa_family != AF_INET && local->sa_family != AF_INET6)) {
		snprintf(buf, len, "%s", la->text);
		return;
	}
	a = local->sa_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)local)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)local)->sin6_addr;
	inet_ntop(local->sa_family, a, host, sizeof(host));
	addr_format(buf, len, host, sockaddr_port(&la->ss), 0);
}

/* A CIDR's bytes as a JavaScript array literal. */
static void
pac_bytes(FILE *out, const struct cidr *c)
{
	int i, n = c->family == AF_INET ? 4 : 16;

	fputc('[', out);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%u", i ? "," : "", c->addr[i]);
	fputc(']', out);
}

/* One entry's test, with its port if it has one. */
static void
pac_port(FILE *out, int *first, uint16_t port)
{
	fputs(*first ? "\t    " : " ||\n\t    ", out);
	*first = 0;
	if (port)
		fprintf(out, "(port == %u && ", port);
}

/* The condition of a host list: "true", or a disjunction of entries. */
static void
pac_hosts(FILE *out, const struct host_list *hl)
{
	const struct cidr *c;
	const char *name;
	size_t i, len;
	uint16_t port;
	int sub, first = 1;

	for (i = 0; (i = host_list_domains(hl, i, &name, &len, &sub,
	    &port)) != 0; ) {
		pac_port(out, &first, port);
		fprintf(out, "proxyd_dom(h, \"%s\", %d)", name, sub);
		fputs(port ? ")" : "", out);
	}
	for (i = 0; (i = host_list_addrs(hl, i, &c, &port)) != 0; ) {
		pac_port(out, &first, port);
		fprintf(out, "proxyd_in(ip, ");
		pac_bytes(out, c);
		fprintf(out, ", %d)", c->prefix);
		fputs(port ? ")" : "", out);
	}
}

/*
 * The test and answer of one route; returns 1 when it takes every URL
 * (nothing after it is reachable).
 */
static int
pac_route(FILE *out, const struct config *cfg, const struct route *r)
{
	int exact = r->regex == NULL && r->methods == NULL &&
	    r->ports == NULL && r->clients == NULL;
	const char *answer = exact && r->hosts &&
	    route_only_upstream(r, UPSTREAM_DIRECT) ?
	    "\"DIRECT\"" : "P";

	if (r->hosts == NULL && r->regex == NULL && r->modules != NULL)
		return 0;		/* module requests only */
	if (r->hosts != NULL && !r->hosts->any && r->hosts->n == 0)
		return 0;		/* an empty list matches nothing */
	fprintf(out, "\t// route %s (%s:%d)%s\n", r->name,
	    cfg->path ? cfg->path : "-", r->line,
	    answer[0] == 'P' ? "" : ": hosts only, direct");
	if (r->hosts == NULL || r->hosts->any) {
		fprintf(out, "\treturn %s;\n", answer);
		return 1;
	}
	fputs("\tif (\n", out);
	pac_hosts(out, r->hosts);
	fprintf(out, ")\n\t\treturn %s;\n", answer);
	return 0;
}

int
pac_write(const struct config *cfg, const char *proxy, FILE *out)
{
	size_t i;
	int done = 0;

	fprintf(out, "// proxyd: generated from the routes of %s, in "
	    "file order.\n", cfg->path ? cfg->path :
	    "the built-in defaults");
	fputs(pac_helpers, out);
	fputs("function FindProxyForURL(url, host) {\n", out);
	fprintf(out, "\tvar P = \"PROXY %s\";\n", proxy);
	fputs("\tvar h = host.toLowerCase(), port = proxyd_port(url), ip;\n"
	    "\tif (h.charAt(0) == \"[\")\n"
	    "\t\th = h.substring(1, h.length - 1);\n"
	    "\tif (h.charAt(h.length - 1) == \".\")\n"
	    "\t\th = h.substring(0, h.length - 1);\n"
	    "\tip = proxyd_ip4(h) || proxyd_ip6(h);\n", out);
	/* The last route is the built-in fallback: the proxy decides. */
	for (i = 0; i + 1 < cfg->nroutes && !done; i++)
		done = pac_route(out, cfg, &cfg->routes[i]);
	if (!done)
		fputs("\t// the fallback\n\treturn P;\n", out);
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}
