/*
 * env.c - `proxyd --env`: from a loaded config, the environment that
 * points curl, git, wget, Python and go at this proxy the way the rules
 * mean it, and its printing for sh, fish, dotenv and $GITHUB_ENV.
 *
 * Leaving a host out of NO_PROXY (or a module out of GONOPROXY) is
 * always safe: the client asks proxyd, which routes it as the rules say.
 * Putting one in is safe only when the rules send it direct anyway, for
 * every request to it.  So an entry is printed only when its route is
 * direct without conditions (no methods, ports, clients or regex) and no
 * earlier route that is not direct could take any of its hosts (or
 * modules); the others are explained on stderr.  Entries that some
 * clients ignore (CIDRs, ports, "*") are printed with a warning: a
 * client that ignores one uses the proxy, which is safe.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "match.h"
#include "route.h"

#define WARN	"proxyd --env: "

/* A comma-separated list without duplicates. */
struct list {
	char	*s;		/* NULL while empty */
	size_t	 len;
	int	 nomem;
};

static int
list_has(const struct list *l, const char *item)
{
	size_t n = strlen(item);
	const char *p;

	for (p = l->s; p != NULL; p = strchr(p, ',') ? strchr(p, ',') + 1 :
	    NULL)
		if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static void
list_add(struct list *l, const char *item)
{
	size_t n = strlen(item);
	char *s;

	if (list_has(l, item))
		return;
	if ((s = realloc(l->s, l->len + n + 2)) == NULL) {
		l->nomem = 1;
		return;
	}
	if (l->len > 0)
		s[l->len++] = ',';
	memcpy(s + l->len, item, n + 1);
	l->s = s;
	l->len += n;
}

/* ------------------------------------------------------------ routes */

/* Does r take only some requests of a host (or module) it matches? */
static int
route_conditional(const struct route *r)
{
	return r->methods != NULL || r->ports != NULL || r->clients != NULL;
}

/* Can r take requests by host (as route_matches() decides)? */
static int
route_takes_hosts(const struct route *r)
{
	return r->hosts != NULL || r->regex != NULL || r->modules == NULL;
}

/* Can r take GOPROXY requests? */
static int
route_takes_modules(const struct route *r)
{
	return r->modules != NULL || (r->hosts == NULL && r->regex == NULL);
}

/* ---------------------------------------------------------- NO_PROXY */

/* Could a request for entry d (a name, no leading dot) match hl? */
static int
hosts_overlap_domain(const struct host_list *hl, const char *d)
{
	const char *name;
	size_t i, len, dlen = strlen(d);
	int sub;
	uint16_t port;

	if (host_list_match(hl, d, dlen, 0))
		return 1;	/* d itself, or d under an entry of hl */
	for (i = 0; (i = host_list_domains(hl, i, &name, &len, &sub,
	    &port)) != 0; )
		if ((len == dlen && memcmp(name, d, len) == 0) || (len > dlen &&
		    name[len - dlen - 1] == '.' &&
		    memcmp(name + len - dlen, d, dlen) == 0))
			return 1;	/* an entry of hl under d */
	return 0;
}

/* Does hl have an address entry (an IP or a CIDR)? */
static int
hosts_have_address(const struct host_list *hl)
{
	enum host_entry_kind kind;
	char text[128];
	uint16_t port;
	size_t i;

	for (i = 0; i < hl->n; i++)
		if (host_list_entry(hl, i, text, sizeof(text), &kind,
		    &port) == 0 && (kind == HOST_ENTRY_IP ||
		    kind == HOST_ENTRY_CIDR))
			return 1;
	return 0;
}

/*
 * Could an earlier route than routes[ri] that is not direct take a
 * request for entry (text without port, of kind)?  Its name, or NULL.
 */
static const char *
env_host_shadow(const struct config *cfg, size_t ri, const char *entry,
    enum host_entry_kind kind)
{
	const struct route *e;
	const char *d = entry + (kind == HOST_ENTRY_SUBDOMAINS);
	size_t k;

	for (k = 0; k < ri; k++) {
		e = &cfg->routes[k];
		if (route_only_upstream(e, UPSTREAM_DIRECT) ||
		    !route_takes_hosts(e))
			continue;
		if (e->hosts == NULL || e->hosts->any)
			return e->name;
		if ((kind == HOST_ENTRY_DOMAIN ||
		    kind == HOST_ENTRY_SUBDOMAINS) &&
		    hosts_overlap_domain(e->hosts, d))
			return e->name;
		if (kind == HOST_ENTRY_IP &&
		    host_list_match(e->hosts, entry, strlen(entry), 0))
			return e->name;
		if (kind == HOST_ENTRY_CIDR && hosts_have_address(e->hosts))
			return e->name;
	}
	return NULL;
}

/* Do GETs and CONNECTs to host go to a route that is all direct? */
static int
env_host_direct(const struct config *cfg, struct regex_md *md,
    const char *host)
{
	static const struct { const char *method; uint16_t port; } q[] = {
		{ "GET", 80 }, { "CONNECT", 443 }
	};
	struct route_query rq;
	char target[300];
	size_t i;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		memset(&rq, 0, sizeof(rq));
		snprintf(target, sizeof(target), i == 0 ? "http://%s/" :
		    "%s:443", host);
		rq.host = host;
		rq.host_len = strlen(host);
		rq.port = q[i].port;
		rq.method = q[i].method;
		rq.method_len = strlen(q[i].method);
		rq.target = target;
		rq.target_len = strlen(target);
		if (!route_only_upstream(route_lookup(cfg, &rq, md, NULL),
		    UPSTREAM_DIRECT))
			return 0;
	}
	return 1;
}

/*
 * May entry i of routes[ri]'s hosts go into NO_PROXY?  Says why not,
 * or which clients will ignore it, on warn.
 */
static int
env_host_ok(const struct config *cfg, struct regex_md *md, size_t ri,
    const char *text, enum host_entry_kind kind, uint16_t port, FILE *warn)
{
	const struct route *r = &cfg->routes[ri];
	const char *shadow;
	char bare[300];

	snprintf(bare, sizeof(bare), "%s", text);
	if (port != 0)		/* the entry without ":port" */
		*strrchr(bare, ':') = '\0';
	if (bare[0] == '[') {
		memmove(bare, bare + 1, strlen(bare));
		bare[strlen(bare) - 1] = '\0';
	}
	if ((shadow = env_host_shadow(cfg, ri, bare, kind)) != NULL) {
		fprintf(warn, WARN "route %s: %s left to the proxy: route %s, "
		    "before it, may take some of its hosts\n", r->name, text,
		    shadow);
		return 0;
	}
	/* curl and Python read ".example.com" as example.com too. */
	if (kind == HOST_ENTRY_SUBDOMAINS && !env_host_direct(cfg, md,
	    bare + 1)) {
		fprintf(warn, WARN "route %s: %s left to the proxy: curl and "
		    "Python would bypass it for %s too, which the rules do "
		    "not send direct\n", r->name, text, bare + 1);
		return 0;
	}
	if (kind == HOST_ENTRY_CIDR)
		fprintf(warn, WARN "route %s: %s: a CIDR, which wget, Python's "
		    "urllib and curl before 7.86 ignore (they use the proxy "
		    "for it)\n", r->name, text);
	if (port != 0)
		fprintf(warn, WARN "route %s: %s: only Go and Python match "
		    "a port (the others use the proxy for it)\n", r->name, text);
	return 1;
}

/* The entries of routes[ri]'s hosts that may bypass the proxy. */
static void
env_route_hosts(const struct config *cfg, struct regex_md *md, size_t ri,
    struct list *np, FILE *warn)
{
	const struct host_list *hl = cfg->routes[ri].hosts;
	enum host_entry_kind kind;
	char text[300];
	uint16_t port;
	size_t i;

	for (i = 0; i < hl->n; i++)
		if (host_list_entry(hl, i, text, sizeof(text), &kind,
		    &port) == 0 &&
		    env_host_ok(cfg, md, ri, text, kind, port, warn))
			list_add(np, text);
}

/* Is there a route before ri, not direct, that takes requests by host? */
static const char *
env_any_shadow(const struct config *cfg, size_t ri)
{
	size_t k;

	for (k = 0; k < ri; k++)
		if (!route_only_upstream(&cfg->routes[k], UPSTREAM_DIRECT) &&
		    route_takes_hosts(&cfg->routes[k]))
			return cfg->routes[k].name;
	return NULL;
}

/*
 * NO_PROXY: the client's own loopback, which no proxy can reach for it
 * and which Go never proxies (so curl, Python and wget agree with it),
 * then what the direct routes (not the fallback) match by host.
 */
static void
env_no_proxy(const struct config *cfg, struct regex_md *md,
    struct list *np, FILE *warn)
{
	const struct route *r;
	const char *shadow;
	size_t i;
	int any = 0;

	list_add(np, "localhost");
	list_add(np, "127.0.0.1");
	list_add(np, "::1");
	for (i = 0; i + 1 < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (r->hosts == NULL || !route_only_upstream(r, UPSTREAM_DIRECT))
			continue;
		if (route_conditional(r) || r->regex != NULL) {
			fprintf(warn, WARN "route %s: direct only for some "
			    "requests (methods, ports, clients or regex): its "
			    "hosts are left to the proxy\n", r->name);
			continue;
		}
		if (r->hosts->any && (shadow = env_any_shadow(cfg, i)))
			fprintf(warn, WARN "route %s: * left to the proxy: "
			    "route %s, before it, is not direct\n", r->name,
			    shadow);
		else if (r->hosts->any)
			any = 1;
		env_route_hosts(cfg, md, i, np, warn);
	}
	if (any) {
		/* curl takes "*" only alone; it covers the rest anyway. */
		free(np->s);
		np->s = NULL;
		np->len = 0;
		list_add(np, "*");
		fprintf(warn, WARN "NO_PROXY=*: wget does not understand it "
		    "(it uses the proxy, which sends everything direct)\n");
	}
}

/* ----------------------------------------------------------- modules */

/* Does a route before ri take every module request it is offered? */
static int
env_module_unreachable(const struct config *cfg, size_t ri)
{
	const struct route *e;
	size_t k, j;

	for (k = 0; k < ri; k++) {
		e = &cfg->routes[k];
		if (route_conditional(e) || !route_takes_modules(e))
			continue;
		if (e->modules == NULL)
			return 1;
		for (j = 0; j < e->modules->n; j++)
			if (strcmp(e->modules->globs[j], "*") == 0)
				return 1;
	}
	return 0;
}

/*
 * Could glob g of routes[ri] and a module route before it that is not
 * direct match the same module?  Globs are compared as paths both ways,
 * which catches the usual nesting ("corp.com" and "corp.com/public").
 */
static const char *
env_module_shadow(const struct config *cfg, size_t ri, const char *g)
{
	const struct route *e;
	struct module_list one;
	char err[200];
	size_t k, j;
	const char *hit = NULL;

	if (module_list_parse(g, &one, err, sizeof(err)) == -1) {
		module_list_free(&one);
		return cfg->routes[ri].name;
	}
	for (k = 0; k < ri && hit == NULL; k++) {
		e = &cfg->routes[k];
		if (route_only_upstream(e, UPSTREAM_DIRECT) ||
		    !route_takes_modules(e))
			continue;
		if (e->modules == NULL ||
		    module_list_match(e->modules, g, strlen(g)))
			hit = e->name;
		for (j = 0; hit == NULL && j < e->modules->n; j++)
			if (module_list_match(&one, e->modules->globs[j],
			    strlen(e->modules->globs[j])))
				hit = e->name;
	}
	module_list_free(&one);
	return hit;
}

/* GONOPROXY: the globs of the direct module routes (fetched by go). */
static void
env_private(const struct config *cfg, struct list *gp, FILE *warn)
{
	const struct route *r;
	const char *shadow;
	size_t i, j;

	for (i = 0; i + 1 < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (r->modules == NULL || !route_only_upstream(r, UPSTREAM_DIRECT) ||
		    env_module_unreachable(cfg, i))
			continue;
		if (route_conditional(r)) {
			fprintf(warn, WARN "route %s: direct only for some "
			    "requests: its modules are left to the proxy\n",
			    r->name);
			continue;
		}
		for (j = 0; j < r->modules->n; j++) {
			shadow = env_module_shadow(cfg, i, r->modules->globs[j]);
			if (shadow == NULL)
				list_add(gp, r->modules->globs[j]);
			else
				fprintf(warn, WARN "route %s: module %s left "
				    "to the proxy: route %s, before it, may "
				    "take some of it\n", r->name,
				    r->modules->globs[j], shadow);
		}
	}
}

/* Does a reachable route that takes module requests say direct? */
static int
env_goproxy_direct(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nroutes; i++)
		if (route_takes_modules(&cfg->routes[i]) &&
		    route_has_upstream(&cfg->routes[i], UPSTREAM_DIRECT) &&
		    !env_module_unreachable(cfg, i))
			return 1;
	return 0;
}

/*
 * GOSUMDB: when a route of the rules (not the fallback) sends Go's
 * checksum database to mirrors, name it, so that go asks for it through
 * GOPROXY whatever the environment had.  Other databases need their key,
 * which the rules do not have.
 */
static const char *
env_sumdb(const struct config *cfg, struct regex_md *md)
{
	static const char name[] = "sum.golang.org";
	struct route_query q;
	const struct route *r;

	memset(&q, 0, sizeof(q));
	q.module = name;
	q.module_len = strlen(name);
	q.host = "";
	q.method = "GET";
	q.method_len = 3;
	q.target = "/sumdb/sum.golang.org/supported";
	q.target_len = strlen(q.target);
	r = route_lookup(cfg, &q, md, NULL);
	if (r == &cfg->routes[cfg->nroutes - 1] ||
	    !route_has_upstream(r, UPSTREAM_MIRROR))
		return NULL;
	return name;
}

/* ------------------------------------------------------------- whole */

/* Is la loopback (127/8, ::1) or a wildcard (0.0.0.0, ::)? */
static int
listen_is_local(const struct listen_addr *la, int *wildcard)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&la->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&la->ss;

	if (sin->sin_family == AF_INET) {
		*wildcard = sin->sin_addr.s_addr == htonl(INADDR_ANY);
		return *wildcard || (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	*wildcard = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	return *wildcard || IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

/* la as "host:port" ("[v6]:port"), a wildcard as its loopback twin. */
static void
listen_dial_text(const struct listen_addr *la, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&la->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&la->ss;
	char host[INET6_ADDRSTRLEN] = "127.0.0.1";
	int wildcard;

	listen_is_local(la, &wildcard);
	if (sin->sin_family == AF_INET) {
		if (!wildcard)
			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
		return;
	}
	if (wildcard)
		snprintf(host, sizeof(host), "::1");
	else
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(sin6->sin6_port));
}

void
env_proxy_address(const struct config *cfg, char *buf, size_t len,
    FILE *warn)
{
	const struct listen_addr *la = &cfg->listen[0];
	size_t i;
	int wildcard;

	/* A transparent listener is no proxy to tell clients about. */
	for (i = cfg->nlisten; i-- > 0;)
		if (config_is_proxy_listener(cfg, i))
			la = &cfg->listen[i];
	for (i = 0; i < cfg->nlisten; i++)
		if (config_is_proxy_listener(cfg, i) &&
		    !listen_is_local(&cfg->listen[i], &wildcard)) {
			la = &cfg->listen[i];
			break;
		}
	listen_dial_text(la, buf, len);
	if (listen_is_local(la, &wildcard) && wildcard)
		fprintf(warn, WARN "listen %s is a wildcard: printed as %s, "
		    "right on this host (and in its pod); other machines "
		    "need the proxy's name\n", la->text, buf);
}

static int
env_set(struct env_vars *out, const char *name, const char *value)
{
	if (out->n == ENV_MAX_VARS ||
	    (out->v[out->n].value = strdup(value ? value : "")) == NULL)
		return -1;
	out->v[out->n++].name = name;
	return 0;
}

int
env_compute(const struct config *cfg, const char *addr, struct env_vars *out,
    FILE *warn)
{
	struct list np = { NULL, 0, 0 }, gp = { NULL, 0, 0 };
	struct regex_md *md;
	char url[300], goproxy[320];
	const char *sumdb;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((md = regex_match_data_new()) == NULL)
		return -1;
	env_no_proxy(cfg, md, &np, warn);
	env_private(cfg, &gp, warn);
	sumdb = env_sumdb(cfg, md);
	snprintf(url, sizeof(url), "http://%s", addr);
	snprintf(goproxy, sizeof(goproxy), "%s%s", url,
	    env_goproxy_direct(cfg) ? ",direct" : "");
	if (np.nomem || gp.nomem ||
	    env_set(out, "HTTP_PROXY", url) == -1 ||
	    env_set(out, "HTTPS_PROXY", url) == -1 ||
	    env_set(out, "NO_PROXY", np.s) == -1 ||
	    env_set(out, "http_proxy", url) == -1 ||
	    env_set(out, "https_proxy", url) == -1 ||
	    env_set(out, "no_proxy", np.s) == -1 ||
	    env_set(out, "GOPROXY", goproxy) == -1 ||
	    env_set(out, "GONOPROXY", gp.s) == -1 ||
	    env_set(out, "GOPRIVATE", gp.s) == -1 ||
	    env_set(out, "GONOSUMDB", gp.s) == -1 ||
	    (sumdb && env_set(out, "GOSUMDB", sumdb) == -1))
		goto fail;
	rc = 0;
fail:
	regex_match_data_free(md);
	free(np.s);
	free(gp.s);
	return rc;
}

void
env_vars_free(struct env_vars *vars)
{
	size_t i;

	for (i = 0; i < vars->n; i++)
		free(vars->v[i].value);
	vars->n = 0;
}

/* ---------------------------------------------------------- printing */

/* value in single quotes; quote itself is written as quote_as. */
static void
print_quoted(FILE *out, const char *value, const char *quote_as,
    int backslash)
{
	const char *p;

	fputc('\'', out);
	for (p = value; *p; p++)
		if (*p == '\'')
			fputs(quote_as, out);
		else if (backslash && *p == '\\')
			fputs("\\\\", out);
		else
			fputc(*p, out);
	fputc('\'', out);
}

/* dotenv readers differ on quotes: none when none are needed. */
static void
print_dotenv(FILE *out, const char *name, const char *value)
{
	const char *p;

	if (strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.,:/*@%+=-[]") == strlen(value)) {
		fprintf(out, "%s=%s\n", name, value);
		return;
	}
	fprintf(out, "%s=\"", name);
	for (p = value; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '$' || *p == '`')
			fputc('\\', out);
		if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fputs("\"\n", out);
}

/* $GITHUB_ENV: NAME=value, or the delimiter form for several lines. */
static void
print_github(FILE *out, const char *name, const char *value)
{
	char delim[64];
	unsigned n = 0;

	if (strchr(value, '\n') == NULL && strchr(value, '\r') == NULL) {
		fprintf(out, "%s=%s\n", name, value);
		return;
	}
	do
		snprintf(delim, sizeof(delim), "PROXYD_EOF_%u", n++);
	while (strstr(value, delim) != NULL);
	fprintf(out, "%s<<%s\n%s\n%s\n", name, delim, value, delim);
}

int
env_print(const struct env_vars *vars, enum env_format f, FILE *out)
{
	size_t i;

	for (i = 0; i < vars->n; i++) {
		const char *name = vars->v[i].name, *value = vars->v[i].value;

		switch (f) {
		case ENV_SH:
			fprintf(out, "export %s=", name);
			print_quoted(out, value, "'\\''", 0);
			fputc('\n', out);
			break;
		case ENV_FISH:
			fprintf(out, "set -gx %s ", name);
			print_quoted(out, value, "\\'", 1);
			fputc('\n', out);
			break;
		case ENV_DOTENV:
			print_dotenv(out, name, value);
			break;
		case ENV_GITHUB:
			print_github(out, name, value);
			break;
		}
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int
env_format_parse(const char *s, enum env_format *f)
{
	static const char *const names[] = { "sh", "fish", "dotenv",
	    "github" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum env_format)i;
			return 0;
		}
	return -1;
}

int
env_main(const struct config *cfg, const char *format, FILE *out,
    FILE *warn)
{
	struct env_vars vars;
	enum env_format f = ENV_SH;
	char addr[128];
	int rc;

	if (format && env_format_parse(format, &f) == -1) {
		fprintf(warn, WARN "--format %s: expected sh, fish, dotenv or "
		    "github\n", format);
		return 2;
	}
	env_proxy_address(cfg, addr, sizeof(addr), warn);
	rc = env_compute(cfg, addr, &vars, warn);
	if (rc == 0)
		rc = env_print(&vars, f, out);
	if (rc != 0)
		fprintf(warn, WARN "out of memory or output error\n");
	env_vars_free(&vars);
	return rc == 0 ? 0 : 1;
}
