/*
 * modproxy.c - GOPROXY requests and the mirrors that serve them.
 *
 * The request is checked the way the go command builds it (module path
 * and version escaping, endpoint shapes), its route is chosen by module
 * path (`modules =`; a sumdb request by the sumdb's name), and it is sent
 * to the route's upstreams in order.  Each mirror attempt is an ordinary
 * exchange attempt (forward.c) with its own connection: directly or
 * through the route's `via` parents, then TLS for https mirrors.  A
 * response that Go's rules let fall through is dropped unread with its
 * connection, and the next upstream is tried; anything else is passed to
 * the client untouched.  When proxyd answers itself, the body says why
 * in terms the go command shows (modproxy_error.c); a route with
 * `unavailable = notfound` answers 404 when its mirrors failed, so that
 * the client's next GOPROXY entry is tried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cache_fetch.h"
#include "client.h"
#include "exchange.h"
#include "goproxy.h"
#include "headbuf.h"
#include "metrics.h"
#include "modproxy.h"
#include "modproxy_error.h"
#include "pool.h"
#include "route.h"
#include "tls.h"
#include "upstream.h"

/* A GOPROXY exchange: the engine's exchange plus the module request. */
struct mirror {
	struct exchange	 ex;		/* first: cast target */
	char		*modpath;	/* protocol path, escaped */
	char		 modlog[1400];	/* module=... version=... kind=... */
	char		 tried[400];	/* mirrors tried, with outcomes */
	int64_t		 attempt_start;
	/* For the error body: what was asked, each mirror's outcome. */
	char		 what[MODPROXY_WHAT_MAX];
	struct modproxy_attempt attempts[CONFIG_MAX_UPSTREAMS];
	size_t		 nattempts;
	size_t		 ntried;
	int		 gave_up;	/* no mirror left to try */
	/* The cache's word for the error body ("not cached", "stale, ..."):
	 * set by the module cache, NULL says nothing. */
	const char	*cache_state;
	struct cache_req cache;		/* the module cache's part */
};

static int	mirror_connect(struct exchange *ex);
static void	mirror_send_head(struct exchange *ex, struct evbuffer *out);
static int	mirror_response(struct exchange *ex,
		    const struct http_response *res);
static int	mirror_failed(struct exchange *ex, int status, const char *why);
static void	mirror_release(struct exchange *ex);
static size_t	mirror_error_body(struct exchange *ex, int status,
		    const char *why, char *buf, size_t len);
static void	mirror_body(struct exchange *ex, struct evbuffer *out,
		    size_t from);

static const struct exchange_ops mirror_ops = {
	mirror_connect,
	mirror_send_head,
	mirror_response,
	mirror_failed,
	mirror_release,
	1,
	mirror_error_body,
	mirror_body,
};

static void
mirror_release(struct exchange *ex)
{
	cache_end(ex, &((struct mirror *)ex)->cache);
	free(((struct mirror *)ex)->modpath);
}

static void
mirror_body(struct exchange *ex, struct evbuffer *out, size_t from)
{
	cache_body(ex, &((struct mirror *)ex)->cache, out, from);
}

static const char *const kind_names[] = {
	[GOPROXY_LIST] = "list", [GOPROXY_INFO] = "info",
	[GOPROXY_MOD] = "mod", [GOPROXY_ZIP] = "zip",
	[GOPROXY_LATEST] = "latest",
	[GOPROXY_SUMDB_SUPPORTED] = "sumdb-supported",
	[GOPROXY_SUMDB_LOOKUP] = "sumdb-lookup",
	[GOPROXY_SUMDB_TILE] = "sumdb-tile",
	[GOPROXY_SUMDB_LATEST] = "sumdb-latest",
};

int
modproxy_wants(const struct route *r)
{
	return route_has_upstream(r, UPSTREAM_MIRROR);
}

static int
is_sumdb(enum goproxy_kind k)
{
	return k == GOPROXY_SUMDB_SUPPORTED || k == GOPROXY_SUMDB_LOOKUP ||
	    k == GOPROXY_SUMDB_TILE || k == GOPROXY_SUMDB_LATEST;
}

/* The path of a mirror's base URL ("" for "https://goproxy.cn"). */
static const char *
mirror_base_path(const struct upstream_conf *uc)
{
	const char *p = strstr(uc->url, "://");

	p = p ? p + 3 : uc->url;
	return p + strcspn(p, "/");
}

static int
mirror_is_https(const struct upstream_conf *uc)
{
	return strncmp(uc->url, "https://", 8) == 0;
}

/*
 * Note one attempt and its outcome: for the access log, and for an
 * error body (mirrors only; body NULL: the same outcome).
 */
static void
mirror_note(struct exchange *ex, const char *outcome, const char *body)
{
	struct mirror *m = (struct mirror *)ex;
	const struct upstream_conf *uc = &ex->rq.route->upstreams[ex->rq.upi];
	size_t len = strlen(m->tried);
	struct modproxy_attempt *a;

	snprintf(m->tried + len, sizeof(m->tried) - len, "%s%s %s",
	    len ? ", " : "", uc->type == UPSTREAM_MIRROR ? uc->url : uc->label,
	    outcome);
	if (uc->type != UPSTREAM_MIRROR)
		return;
	if (m->ntried++ >= CONFIG_MAX_UPSTREAMS)
		return;		/* retried on a pooled connection too */
	a = &m->attempts[m->nattempts++];
	a->mirror = uc->url;
	snprintf(a->outcome, sizeof(a->outcome), "%s", body ? body : outcome);
}

/*
 * The status to answer with when the mirrors failed with status:
 * `unavailable = notfound` makes a 5xx 404, which go falls through on.
 * A refusal (403: the destination policy) stays what it is.
 */
static int
mirror_unavailable(struct exchange *ex, int status)
{
	((struct mirror *)ex)->gave_up = 1;
	return ex->rq.route->unavailable_notfound && status >= 500 ? 404 :
	    status;
}

/* The GOPROXY endpoint's own error body (modproxy_error.h). */
static size_t
mirror_error_body(struct exchange *ex, int status, const char *why,
    char *buf, size_t len)
{
	struct mirror *m = (struct mirror *)ex;
	struct modproxy_failure f;
	char verdict[200];

	memset(&f, 0, sizeof(f));
	f.what = m->what;
	f.route = ex->rq.route ? ex->rq.route->name : NULL;
	f.verdict = why;
	if (m->gave_up) {
		snprintf(verdict, sizeof(verdict), "no mirror could serve it%s",
		    status == 404 ? " (unavailable = notfound: 404, so that "
		    "go tries its next GOPROXY entry)" : "");
		f.verdict = verdict;
	}
	f.attempts = m->attempts;
	f.nattempts = m->nattempts;
	f.ntried = m->ntried;
	f.cache = m->cache_state;
	return modproxy_error_body(&f, buf, len);
}

/*
 * Go's rule: may the upstream after the current one be tried, given
 * that this one failed (notfound: it said 404 or 410)?
 */
static int
mirror_may_fall_back(const struct exchange *ex, int notfound)
{
	const struct upstream_conf *uc = &ex->rq.route->upstreams[ex->rq.upi];

	if ((size_t)ex->rq.upi + 1 >= ex->rq.route->nupstreams)
		return 0;
	return uc->fallback == '|' || (uc->fallback == ',' && notfound);
}

/* Give up on the current upstream and start the next one. */
static int
mirror_next(struct exchange *ex)
{
	exchange_drop_upstream(ex);
	ex->resp_state = RESP_WAIT;
	ex->reused = 0;
	ex->retried = 0;
	ex->rq.peer[0] = '\0';
	ex->rq.upi++;
	return mirror_connect(ex);
}

static int
mirror_failed(struct exchange *ex, int status, const char *why)
{
	char outcome[200], body[MODPROXY_OUTCOME_MAX];

	snprintf(outcome, sizeof(outcome), "failed (%s)", why);
	modproxy_error_outcome(body, sizeof(body), status, why,
	    ex->rq.route->connect_timeout, ex->rq.route->response_timeout);
	mirror_note(ex, outcome, body);
	/* A mirror that accepts but never answers fails here, after the
	 * connect: count it too, so that it is skipped for a while. */
	if (ex->up != NULL)
		upstream_report(ex->c->w->log, ex->rq.route, ex->rq.upi, 0,
		    now_ms(ex->c->w->base));
	if (mirror_may_fall_back(ex, 0))
		return mirror_next(ex);
	if (cache_serve_stale(ex, &((struct mirror *)ex)->cache) != -1)
		return 0;
	return exchange_fail(ex, mirror_unavailable(ex, status), why);
}

static int
mirror_response(struct exchange *ex, const struct http_response *res)
{
	int notfound = res->status == 404 || res->status == 410;
	char outcome[16];

	snprintf(outcome, sizeof(outcome), "%d", res->status);
	mirror_note(ex, outcome, NULL);
	if ((notfound || res->status >= 500) &&
	    mirror_may_fall_back(ex, notfound)) {
		(void)mirror_next(ex);
		return 2;
	}
	if (res->status >= 500 &&
	    cache_serve_stale(ex, &((struct mirror *)ex)->cache) != -1)
		return 0;
	/* The last mirror's own 5xx passes through, unless the route
	 * turns its mirrors' failure into a 404. */
	if (res->status >= 500 && ex->rq.route->unavailable_notfound)
		return exchange_fail(ex, mirror_unavailable(ex, 502),
		    "mirror failed");
	cache_response(ex, &((struct mirror *)ex)->cache, res);
	return 1;
}

static void
mirror_send_head(struct exchange *ex, struct evbuffer *out)
{
	const struct upstream_conf *uc = &ex->rq.route->upstreams[ex->rq.upi];
	int defport = uc->port == (mirror_is_https(uc) ? 443 : 80);
	struct headbuf hb;

	headbuf_init(&hb, out);
	headbuf_str(&hb, ex->rq.method);
	headbuf_add(&hb, " ", 1);
	headbuf_str(&hb, mirror_base_path(uc));
	headbuf_str(&hb, ((struct mirror *)ex)->modpath);
	headbuf_add(&hb, " HTTP/1.1\r\nHost: ", 17);
	headbuf_str(&hb, uc->host);
	if (!defport) {
		headbuf_add(&hb, ":", 1);
		headbuf_uint(&hb, uc->port);
	}
	headbuf_add(&hb, "\r\n", 2);
	exchange_head_to(ex, &hb);
	headbuf_flush(&hb);
}

/* The plain connection to the mirror is up: TLS for https. */
static void
mirror_plain_connected(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct exchange *ex = arg;
	const struct upstream_conf *uc = &ex->rq.route->upstreams[ex->rq.upi];
	int64_t left;

	ex->connecting = NULL;
	if (bev == NULL || !mirror_is_https(uc)) {
		exchange_connected(bev, err, peer, ex);
		return;
	}
	snprintf(ex->rq.peer, sizeof(ex->rq.peer), "%s", peer);
	left = ((struct mirror *)ex)->attempt_start + ex->rq.route->connect_timeout -
	    now_ms(ex->c->w->base);
	ex->connecting = tls_connect(ex->c->w->tls, ex->c->w, bev, uc->host,
	    uc->port, left > 1 ? (int)left : 1, exchange_connected, ex);
	if (ex->connecting == NULL)
		(void)exchange_fail(ex, 503, "out of memory");
}

/* Answer for a "direct" or "deny" upstream reached in a module route. */
static int
mirror_refuse(struct exchange *ex, const struct upstream_conf *uc)
{
	const char *modpath = ((struct mirror *)ex)->modpath;

	if (uc->audit_deny)	/* audit mode: "deny" answers as direct */
		request_would_deny(&ex->rq, METRICS_WD_ROUTE,
		    "denied by route '%s'", ex->rq.route->name);
	if (uc->type == UPSTREAM_DENY) {
		mirror_note(ex, "403", NULL);
		return exchange_fail(ex, 403, request_why(&ex->rq,
		    "%s: not allowed (route '%s' says %s)", modpath,
		    ex->rq.route->name, uc->label));
	}
	mirror_note(ex, "404", NULL);
	return exchange_fail(ex, 404, request_why(&ex->rq, "%s: not proxied "
	    "(route '%s' says direct); fetch it directly, e.g. with "
	    "GOPROXY=...,direct", modpath, ex->rq.route->name));
}

/* Connect to the current upstream, or answer for it. */
static int
mirror_connect(struct exchange *ex)
{
	const struct route *r = ex->rq.route;
	const struct upstream_conf *uc = &r->upstreams[ex->rq.upi];
	const struct upstream_conf *via = r->nvia ? &r->via[0] : NULL;
	struct worker *w = ex->c->w;
	struct bufferevent *up;
	int served;

	/* Before any mirror: the cache may answer (hit, offline miss). */
	if ((served = cache_serve(ex, &((struct mirror *)ex)->cache)) != -1)
		return served;
	if (uc->type == UPSTREAM_DIRECT || uc->type == UPSTREAM_DENY)
		return mirror_refuse(ex, uc);
	if (uc->type != UPSTREAM_MIRROR)
		return mirror_failed(ex, 502, "not a mirror (http and socks5 "
		    "parents of module routes belong in via =)");
	if (upstream_is_down(uc, now_ms(w->base)) &&
	    mirror_may_fall_back(ex, 0)) {
		mirror_note(ex, "skipped (failing)", NULL);
		return mirror_next(ex);
	}
	snprintf(ex->key, sizeof(ex->key), "mirror %s%s%s", uc->url,
	    via ? " via " : "", via ? via->label : "");
	if (!ex->retried &&
	    (up = pool_get(w->pool, ex->key, ex->rq.peer)) != NULL) {
		ex->reused = 1;
		return exchange_attach(ex, up);
	}
	((struct mirror *)ex)->attempt_start = now_ms(w->base);
	ex->rq.attempt_start = ((struct mirror *)ex)->attempt_start;
	/* Direct, the mirror's own conf carries the destination policy. */
	ex->connecting = upstream_connect(via ? upstream_kind_of(via->type) :
	    &upstream_direct, w, via ? via : uc, uc->host, uc->port,
	    r->connect_timeout,
	    mirror_plain_connected, ex);
	if (ex->connecting == NULL)
		return exchange_fail(ex, 503, "out of memory");
	return 1;
}

/* "module=M version=V kind=K" (or "sumdb=N kind=K") for the log. */
static void
modproxy_describe(struct mirror *m, const struct goproxy_req *g)
{
	if (is_sumdb(g->kind))
		snprintf(m->modlog, sizeof(m->modlog), "sumdb=%s kind=%s",
		    g->sumdb, kind_names[g->kind]);
	else
		snprintf(m->modlog, sizeof(m->modlog),
		    "module=%s version=%s kind=%s", g->module,
		    g->version[0] ? g->version : "-", kind_names[g->kind]);
}

/* The length of path[0..len) before its query (the go command sends none). */
static size_t
path_without_query(const char *path, size_t len)
{
	const char *q = memchr(path, '?', len);

	return q ? (size_t)(q - path) : len;
}

/* Check path as a GOPROXY request; answers the client when it is not. */
static int
modproxy_parse(struct client *c, const struct http_request *req,
    const char *path, size_t len, struct goproxy_req *g)
{
	const char *reason;
	char rbuf[256];
	int status;

	if (!(req->method_len == 3 && memcmp(req->method, "GET", 3) == 0) &&
	    !(req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0)) {
		client_refuse(c, req, 405, "GOPROXY endpoints answer GET and "
		    "HEAD only");
		return -1;
	}
	len = path_without_query(path, len);
	if (goproxy_parse(path, len, g, &status, &reason, rbuf,
	    sizeof(rbuf)) == -1) {
		client_refuse(c, req, status, reason);
		return -1;
	}
	return 0;
}

/*
 * A GOPROXY request for path[0..len) (checked: g) on route r: a mirror
 * exchange, run.
 */
static void
modproxy_run(struct client *c, const struct http_request *req,
    const struct route *r, const struct goproxy_req *g, const char *path,
    size_t len, size_t head_len)
{
	struct mirror *m;
	size_t desc;

	m = (struct mirror *)exchange_new(c, req, &mirror_ops, sizeof(*m));
	if (m == NULL)
		return;
	modproxy_describe(m, g);
	modproxy_error_what(g, m->what, sizeof(m->what));
	desc = strlen(m->modlog);
	cache_req_init(&m->cache, r, g, m->modlog + desc,
	    sizeof(m->modlog) - desc);
	cache_request_head(&m->ex, &m->cache);
	/* Offline misses say so in their verdict. */
	m->cache_state = m->cache.on && !r->offline ? "not cached" : NULL;
	m->ex.rq.module = m->modlog;
	m->ex.rq.tried = m->tried;
	m->ex.rq.route = r;
	m->ex.rq.upi = 0;
	if ((m->modpath = strndup(path, path_without_query(path, len))) ==
	    NULL) {
		exchange_free(&m->ex);
		client_refuse(c, req, 503, "out of memory");
		return;
	}
	exchange_run(&m->ex, head_len);
}

void
modproxy_start(struct client *c, const struct http_request *req,
    size_t head_len)
{
	struct goproxy_req g;

	if (modproxy_parse(c, req, req->target, req->target_len, &g) == -1)
		return;
	modproxy_run(c, req, request_route_module(c, req, is_sumdb(g.kind) ?
	    g.sumdb : g.module), &g, req->target, req->target_len, head_len);
}

void
modproxy_start_path(struct client *c, const struct http_request *req,
    const struct route *r, const char *path, size_t len, size_t head_len)
{
	struct goproxy_req g;

	if (modproxy_parse(c, req, path, len, &g) == -1)
		return;
	modproxy_run(c, req, r, &g, path, len, head_len);
}
