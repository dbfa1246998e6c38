/*
 * route.c - choosing a route.
 *
 * The first route in file order whose matchers all match wins.  With
 * thousands of routes a linear scan would show in a profile, so routes
 * whose hosts lists hold only domain names are indexed: a hash of those
 * names gives, for each suffix of the request's host, the routes that
 * name it.  Only they, plus the routes that cannot be indexed (regex,
 * IP/CIDR or `*` entries, no hosts at all), are tested, in file order.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "http_parse.h"
#include "auth.h"
#include "route.h"

#define IX_MAX_CANDIDATES	64

struct ix_entry {
	struct ix_entry	*next;
	const char	*name;		/* owned by the route's host list */
	size_t		 len;
	uint32_t	 route;
	uint16_t	 port;		/* 0 = any */
	int		 subdomains_only;
};

struct route_index {
	struct ix_entry	**buckets;
	size_t		  nbuckets;	/* power of two */
	struct ix_entry	 *entries;
	uint32_t	 *scan;		/* unindexed routes, ascending */
	size_t		  nscan;
};

/* Does r's method list allow the query's method? */
static int
route_method_ok(const struct route *r, const struct route_query *q)
{
	size_t i;

	if (r->methods == NULL)
		return 1;
	for (i = 0; i < r->nmethods; i++)
		if (strlen(r->methods[i]) == q->method_len &&
		    memcmp(r->methods[i], q->method, q->method_len) == 0)
			return 1;
	return 0;
}

/*
 * Do all of r's matchers match q?  Module requests are matched by
 * `modules`; other requests by `hosts` and `regex`.  A route with none
 * of the three takes both kinds.
 */
static int
route_matches(const struct route *r, const struct route_query *q,
    struct regex_md *md, const char **why)
{
	if (!route_method_ok(r, q) ||
	    (r->ports && !port_range_match_any(r->ports, r->nports, q->port)) ||
	    (r->clients && (q->client == NULL ||
	    !cidr_match_any(r->clients, r->nclients, q->client))))
		return 0;
	if (q->module) {
		*why = "modules";
		if (r->modules)
			return module_list_match(r->modules, q->module,
			    q->module_len);
		*why = "no host, module or regex matcher (takes everything)";
		return r->hosts == NULL && r->regex == NULL;
	}
	if (r->hosts == NULL && r->regex == NULL) {
		*why = "no host, module or regex matcher (takes everything)";
		return r->modules == NULL;
	}
	if (r->hosts && !host_list_match_parsed(r->hosts, q->host, q->host_len,
	    q->port, q->ip))
		return 0;
	if (r->regex && regex_match(r->regex, q->target, q->target_len,
	    md) != 1)
		return 0;
	*why = r->hosts && r->regex ? "hosts and regex" :
	    r->hosts ? "hosts" : "regex";
	return 1;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Routes the index names for host (lowercase, no trailing dot), sorted.
 * Returns their count, or -1 when there are too many to keep (then the
 * caller scans every route).
 */
static int
ix_candidates(const struct route_index *ix, const char *host, size_t len,
    uint16_t port, uint32_t *out)
{
	const struct ix_entry *e;
	size_t off = 0;
	int n = 0;

	for (;;) {
		const char *s = host + off;
		size_t slen = len - off;
		uint32_t h = addr_fnv1a(s, slen) & (ix->nbuckets - 1);

		for (e = ix->buckets[h]; e; e = e->next) {
			if (e->len != slen || memcmp(e->name, s, slen) != 0 ||
			    (e->port && e->port != port) ||
			    (e->subdomains_only && off == 0))
				continue;
			if (n == IX_MAX_CANDIDATES)
				return -1;
			out[n++] = e->route;
		}
		while (off < len && host[off] != '.')
			off++;
		if (off++ >= len)
			break;
	}
	if (n > 1)	/* most hosts have one candidate or none */
		qsort(out, (size_t)n, sizeof(*out), cmp_u32);
	return n;
}

/*
 * Lowercase copy without a trailing dot; 0, or -1 when too long.  ASCII
 * only, as host names are: tolower() would consult the locale per byte.
 */
static int
host_normalize(const struct route_query *q, char *buf, size_t size,
    size_t *len)
{
	size_t i, n = q->host_len;

	if (n > 0 && q->host[n - 1] == '.')
		n--;
	if (n >= size)
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = (q->host[i] >= 'A' && q->host[i] <= 'Z') ?
		    (char)(q->host[i] + ('a' - 'A')) : q->host[i];
	buf[n] = '\0';
	*len = n;
	return 0;
}

static const struct route *
route_scan_all(const struct config *cfg, const struct route_query *q,
    struct regex_md *md, const char **why)
{
	size_t i;

	for (i = 0; i < cfg->nroutes; i++)
		if (route_matches(&cfg->routes[i], q, md, why))
			return &cfg->routes[i];
	return &cfg->routes[cfg->nroutes - 1];
}

const struct route *
route_lookup(const struct config *cfg, const struct route_query *q,
    struct regex_md *md, const char **why)
{
	const struct route_index *ix = cfg->index;
	uint32_t cand[IX_MAX_CANDIDATES];
	struct route_query nq = *q;
	const char *dummy;
	struct cidr ip;
	char host[256];
	size_t len, a = 0, b = 0;
	uint32_t r;
	int n;

	if (why == NULL)
		why = &dummy;
	/* Parsed once here, not once per route that lists addresses. */
	if (q->host != NULL && q->ip == NULL &&
	    host_parse_ip(q->host, q->host_len, &ip) == 0)
		nq.ip = &ip;
	if (ix == NULL || q->module != NULL ||
	    host_normalize(q, host, sizeof(host), &len) == -1 ||
	    (n = ix_candidates(ix, host, len, q->port, cand)) == -1)
		return route_scan_all(cfg, &nq, md, why);
	/*
	 * Merge the two ascending lists; test each route once, in order.
	 * The lowercase copy is only the index's: the matchers take the
	 * host as sent (they ignore case and one trailing dot themselves).
	 */
	while (a < ix->nscan || b < (size_t)n) {
		if (b == (size_t)n ||
		    (a < ix->nscan && ix->scan[a] <= cand[b]))
			r = ix->scan[a++];
		else
			r = cand[b++];
		while (b < (size_t)n && cand[b] == r)
			b++;
		if (route_matches(&cfg->routes[r], &nq, md, why))
			return &cfg->routes[r];
	}
	*why = "nothing else matched";
	return &cfg->routes[cfg->nroutes - 1];
}

static size_t
ix_count_entries(const struct config *cfg)
{
	const char *name;
	size_t i, k, len, n = 0;
	uint16_t port;
	int sub;

	for (i = 0; i < cfg->nroutes; i++) {
		if (cfg->routes[i].hosts == NULL ||
		    !host_list_is_indexable(cfg->routes[i].hosts))
			continue;
		for (k = 0; (k = host_list_domains(cfg->routes[i].hosts, k,
		    &name, &len, &sub, &port)) != 0; )
			n++;
	}
	return n;
}

/* Index route i's domain entries. */
static void
ix_add_route(struct route_index *ix, const struct route *r, uint32_t i,
    size_t *next)
{
	struct ix_entry *e;
	size_t k;
	uint32_t h;

	for (k = 0; ; ) {
		e = &ix->entries[*next];
		if ((k = host_list_domains(r->hosts, k, &e->name, &e->len,
		    &e->subdomains_only, &e->port)) == 0)
			break;
		(*next)++;
		e->route = i;
		h = addr_fnv1a(e->name, e->len) & (ix->nbuckets - 1);
		e->next = ix->buckets[h];
		ix->buckets[h] = e;
	}
}

struct route_index *
route_index_build(const struct config *cfg)
{
	struct route_index *ix;
	size_t i, nent = ix_count_entries(cfg), next = 0;

	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return NULL;
	for (ix->nbuckets = 16; ix->nbuckets < nent * 2; ix->nbuckets *= 2)
		;
	ix->buckets = calloc(ix->nbuckets, sizeof(*ix->buckets));
	ix->entries = calloc(nent ? nent : 1, sizeof(*ix->entries));
	ix->scan = calloc(cfg->nroutes, sizeof(*ix->scan));
	if (ix->buckets == NULL || ix->entries == NULL || ix->scan == NULL) {
		route_index_free(ix);
		return NULL;
	}
	for (i = 0; i < cfg->nroutes; i++) {
		const struct route *r = &cfg->routes[i];

		if (r->hosts && host_list_is_indexable(r->hosts))
			ix_add_route(ix, r, (uint32_t)i, &next);
		else
			ix->scan[ix->nscan++] = (uint32_t)i;
	}
	return ix;
}

void
route_index_free(struct route_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->buckets);
	free(ix->entries);
	free(ix->scan);
	free(ix);
}

/* "1m30s"-free rendering of a duration: the largest exact unit. */
static void
explain_duration(FILE *out, const char *name, int ms)
{
	if (ms % 3600000 == 0)
		fprintf(out, "%s %dh", name, ms / 3600000);
	else if (ms % 60000 == 0)
		fprintf(out, "%s %dm", name, ms / 60000);
	else if (ms % 1000 == 0)
		fprintf(out, "%s %ds", name, ms / 1000);
	else
		fprintf(out, "%s %dms", name, ms);
}

/* Append to buf[0..len) at *n, never past the end. */
static void
buf_add(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int m;

	if (*n >= len)
		return;
	va_start(ap, fmt);
	m = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (m > 0)
		*n += (size_t)m;
}

/* "rate 50/s burst 100; max_conns 4; queue 64 for up to 2000ms" or "none". */
static const char *
explain_limits(const struct route *r, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (r->rate > 0)
		buf_add(buf, len, &n, "rate %g/s burst %g; ", r->rate,
		    r->burst);
	if (r->client_rate > 0)
		buf_add(buf, len, &n, "per client %g/s burst %g; ",
		    r->client_rate, r->client_burst);
	if (r->bandwidth)
		buf_add(buf, len, &n, "bandwidth %llu B/s; ",
		    (unsigned long long)r->bandwidth);
	if (r->client_bandwidth)
		buf_add(buf, len, &n, "per client %llu B/s; ",
		    (unsigned long long)r->client_bandwidth);
	if (r->max_conns)
		buf_add(buf, len, &n, "max_conns %d; ", r->max_conns);
	if (n == 0)
		return "none";
	buf_add(buf, len, &n, "queue %d for up to %dms", r->queue,
	    r->queue_timeout);
	return buf;
}

void
route_explain_settings(FILE *out, const struct route *r)
{
	char lim[400];
	size_t i;

	fprintf(out, "upstreams: ");
	for (i = 0; i < r->nupstreams; i++)
		fprintf(out, "%s%s%s", i ? " " : "", r->upstreams[i].label,
		    r->upstreams[i].fallback == '|' ? " |" :
		    r->upstreams[i].fallback == ',' ? "," : "");
	fprintf(out, "\ntimeouts:  ");
	explain_duration(out, "connect", r->connect_timeout);
	explain_duration(out, ", response", r->response_timeout);
	explain_duration(out, ", idle", r->idle_timeout);
	explain_duration(out, ", tunnel idle", r->tunnel_idle_timeout);
	fprintf(out, "\nlimits:    %s\n", explain_limits(r, lim, sizeof(lim)));
	fprintf(out, "failover:  skip an upstream for %dms after %d failures "
	    "in a row\n", r->fail_cooldown, r->fail_threshold);
}

int
route_explain(const struct config *cfg, const char *target,
    const char *user, FILE *out)
{
	struct route_query q;
	struct http_error err;
	struct http_uri uri;
	const struct route *r;
	const char *why = NULL;
	struct regex_md *md;
	size_t len = strlen(target);
	int connect = strstr(target, "://") == NULL;

	if (target[0] == '/')
		return route_explain_module(cfg, target, user, out);

	if ((connect ? http_parse_authority(target, len, &uri, &err) :
	    http_parse_absolute_uri(target, len, &uri, &err)) == -1) {
		fprintf(out, "proxyd: %s: %s\n", target, err.reason);
		return -1;
	}
	memset(&q, 0, sizeof(q));
	q.host = uri.host;
	q.host_len = uri.host_len;
	q.port = uri.port;
	q.method = connect ? "CONNECT" : "GET";
	q.method_len = strlen(q.method);
	q.target = target;
	q.target_len = len;
	if ((md = regex_match_data_new()) == NULL)
		return -1;
	r = route_lookup(cfg, &q, md, &why);
	regex_match_data_free(md);
	fprintf(out, "request:   %s %s (host %.*s, port %u)\n", q.method,
	    target, (int)uri.host_len, uri.host, uri.port);
	route_explain_name(out, cfg, r);
	fprintf(out, "matched:   %s\n", why ? why : "-");
	route_explain_settings(out, r);
	auth_explain(out, cfg, r, user);
	return 0;
}

void
route_explain_name(FILE *out, const struct config *cfg,
    const struct route *r)
{
	if (r->line > 0 && cfg->path != NULL && !r->builtin)
		fprintf(out, "route:     %s (%s:%d)\n", r->name, cfg->path,
		    r->line);
	else if (r->line > 0)
		fprintf(out, "route:     %s (built-in, as in "
		    "rules/default.conf)\n", r->name);
	else
		fprintf(out, "route:     %s (built-in fallback)\n", r->name);
}

int
route_has_upstream(const struct route *r, enum upstream_type t)
{
	size_t i;

	for (i = 0; i < r->nupstreams; i++)
		if (r->upstreams[i].type == t)
			return 1;
	return 0;
}

int
route_only_upstream(const struct route *r, enum upstream_type t)
{
	size_t i;

	for (i = 0; i < r->nupstreams; i++)
		if (r->upstreams[i].type != t)
			return 0;
	return r->nupstreams > 0;
}
