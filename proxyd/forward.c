/*
 * forward.c - absolute-form requests for origins: directly, or through
 * parent proxies (absolute-form to an http parent, a tunnel through a
 * socks5 one), with failover between the route's upstreams.  The relay
 * itself is exchange.c's; this file is the forwarding kind of exchange.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "addr.h"
#include "client.h"
#include "exchange.h"
#include "forward.h"
#include "headbuf.h"
#include "modproxy.h"
#include "pool.h"
#include "upstream.h"

/* An exchange with an origin. */
struct forward {
	struct exchange	 ex;		/* first: cast target */
	char		*line_origin;	/* "GET /p HTTP/1.1\r\n" */
	char		 host[256];	/* origin, lowercase */
	uint16_t	 port;
	char		 hostport[272];	/* Host header for the origin */
};

static int	forward_connect(struct exchange *ex);
static void	forward_send_head(struct exchange *ex, struct evbuffer *out);
static int	forward_response(struct exchange *ex,
		    const struct http_response *res);
static int	forward_failed(struct exchange *ex, int status, const char *why);
static void	forward_release(struct exchange *ex);

static const struct exchange_ops forward_ops = {
	forward_connect,
	forward_send_head,
	forward_response,
	forward_failed,
	forward_release,
	0,
	NULL,		/* main's error body */
	NULL,		/* no copy of the body */
};

static void
forward_release(struct exchange *ex)
{
	free(((struct forward *)ex)->line_origin);
}

/*
 * The origin-form request line, for an origin (directly or through a
 * SOCKS5 tunnel); forward_send_head() derives the absolute-form one a
 * parent HTTP proxy gets from it.  "http://a?q" has no path: "/?q".
 * Always HTTP/1.1: a proxy sends its own version (RFC 9110 2.5), which
 * keeps the upstream connection reusable for HTTP/1.0 clients too.
 */
static int
forward_build_line(struct forward *fw, const struct http_request *req,
    const struct http_uri *uri)
{
	size_t plen = uri->path_implied ? 0 : uri->path_len;
	int slash = uri->path_implied || uri->path[0] == '?';
	size_t len = req->method_len + 1 + (size_t)slash + plen + 11;
	char *p;

	/* Copied, not printed: this runs for every forwarded request. */
	if ((p = fw->line_origin = malloc(len + 1)) == NULL)
		return -1;
	memcpy(p, req->method, req->method_len);
	p += req->method_len;
	*p++ = ' ';
	if (slash)
		*p++ = '/';
	memcpy(p, uri->path, plen);
	memcpy(p + plen, " HTTP/1.1\r\n", 12);	/* with its NUL */
	return 0;
}

/* The origin's name and port, and "host[:port]" as Host carries it. */
static void
forward_set_origin(struct forward *fw, const struct http_uri *uri)
{
	size_t i, len = uri->host_len < sizeof(fw->host) - 1 ?
	    uri->host_len : sizeof(fw->host) - 1;

	for (i = 0; i < len; i++)
		fw->host[i] = (char)tolower((unsigned char)uri->host[i]);
	fw->host[len] = '\0';
	fw->port = uri->port;
	addr_format(fw->hostport, sizeof(fw->hostport), fw->host, fw->port, 80);
}

void
forward_start(struct client *c, const struct http_request *req,
    size_t head_len)
{
	const struct route *route;
	struct forward *fw;
	struct http_uri uri;
	struct http_error err;

	if (http_parse_absolute_uri(req->target, req->target_len, &uri,
	    &err) == -1) {
		client_refuse(c, req, err.status, err.reason);
		return;
	}
	route = request_route_host(c, req, uri.host, uri.host_len, uri.port);
	if (modproxy_wants(route)) {
		/* A GOPROXY host routed to mirrors: speak GOPROXY. */
		modproxy_start_path(c, req, route, uri.path_implied ? "/" :
		    uri.path, uri.path_implied ? 1 : uri.path_len, head_len);
		return;
	}
	fw = (struct forward *)exchange_new(c, req, &forward_ops,
	    sizeof(*fw));
	if (fw == NULL)
		return;
	forward_set_origin(fw, &uri);
	if (forward_build_line(fw, req, &uri) == -1) {
		exchange_free(&fw->ex);
		client_refuse(c, req, 503, "out of memory");
		return;
	}
	fw->ex.rq.route = route;
	fw->ex.rq.upi = upstream_next(route, -1, 0, now_ms(c->w->base));
	exchange_run(&fw->ex, head_len);
}

/*
 * forward_ops.response: a parent proxy's 407 is about our credentials,
 * not the client's: passed on, it would ask the client for a password
 * proxyd never forwards.  It is a 502, as for CONNECT.
 */
static int
forward_response(struct exchange *ex, const struct http_response *res)
{
	const struct upstream_conf *uc = &ex->rq.route->upstreams[ex->rq.upi];

	if (uc->type != UPSTREAM_HTTP || res->status != 407)
		return 1;
	return exchange_fail(ex, 502, request_why(&ex->rq, "parent proxy "
	    "%s:%u requires authentication (407)%s", uc->host, uc->port,
	    uc->user ? ": our credentials were rejected" : ""));
}

/*
 * forward_ops.failed: the route's next upstream may try when nothing was
 * sent yet, or when the request may be sent again (exchange_resendable:
 * a response timeout or a close before any response byte, counted
 * against the upstream's health); otherwise the client gets the error.
 */
static int
forward_failed(struct exchange *ex, int status, const char *why)
{
	if (ex->up != NULL && !exchange_resendable(ex))
		return exchange_fail(ex, status, why);
	if (ex->up != NULL)
		request_upstream_failed(&ex->rq, status, why);
	if (!request_failover(&ex->rq, why))
		return exchange_fail(ex, status, why);
	exchange_drop_upstream(ex);
	ex->reused = 0;
	ex->retried = 0;
	return forward_connect(ex);
}

/*
 * Where the connection for upstream uc goes, and the pool key that
 * names it: an origin directly, a parent HTTP proxy (any origin may
 * share its connections), or an origin through a SOCKS5 parent.
 */
static const struct upstream_kind *
forward_target(struct forward *fw, const struct upstream_conf *uc,
    const char **host, uint16_t *port)
{
	char *key = fw->ex.key;
	size_t len = sizeof(fw->ex.key);

	switch (uc->type) {
	case UPSTREAM_HTTP:
		snprintf(key, len, "http %s:%u", uc->host, uc->port);
		*host = uc->host;
		*port = uc->port;
		return &upstream_direct;
	case UPSTREAM_SOCKS5:
		snprintf(key, len, "socks5 %s:%u %s:%u", uc->host, uc->port,
		    fw->host, fw->port);
		break;
	default:
		addr_format(key, len, fw->host, fw->port, 0);
		break;
	}
	*host = fw->host;
	*port = fw->port;
	return upstream_kind_of(uc->type);
}

/* Take a pooled connection for the current upstream, or open one. */
static int
forward_connect(struct exchange *ex)
{
	struct forward *fw = (struct forward *)ex;
	const struct upstream_conf *uc = &ex->rq.route->upstreams[ex->rq.upi];
	const struct upstream_kind *kind;
	struct worker *w = ex->c->w;
	struct bufferevent *up;
	const char *host;
	uint16_t port;

	kind = forward_target(fw, uc, &host, &port);
	if (!ex->retried &&
	    (up = pool_get(w->pool, ex->key, ex->rq.peer)) != NULL) {
		ex->reused = 1;
		return exchange_attach(ex, up);
	}
	ex->rq.attempt_start = now_ms(w->base);
	ex->connecting = upstream_connect(kind, w, uc, host, port,
	    ex->rq.route->connect_timeout, exchange_connected, ex);
	if (ex->connecting == NULL)
		return exchange_fail(ex, 503, "out of memory");
	return 1;
}

/*
 * The request head for the current upstream: absolute-form and the
 * parent's credentials for a parent HTTP proxy, origin-form otherwise.
 */
static void
forward_send_head(struct exchange *ex, struct evbuffer *out)
{
	struct forward *fw = (struct forward *)ex;
	const struct upstream_conf *uc = &ex->rq.route->upstreams[ex->rq.upi];
	size_t mlen = strlen(ex->rq.method);
	struct headbuf hb;
	char auth[700];

	headbuf_init(&hb, out);
	if (uc->type == UPSTREAM_HTTP) {
		/* Absolute-form: the origin line with the URI's authority
		 * put back in front of its path (rare: not built per request). */
		headbuf_add(&hb, ex->rq.method, mlen);
		headbuf_add(&hb, " http://", 8);
		headbuf_str(&hb, fw->hostport);
		headbuf_str(&hb, fw->line_origin + mlen + 1);
		if (uc->user && basic_credentials(uc->user, uc->pass, auth,
		    sizeof(auth)) == 0) {
			headbuf_add(&hb, "Proxy-Authorization: ", 21);
			headbuf_str(&hb, auth);
			headbuf_add(&hb, "\r\n", 2);
		}
	} else {
		headbuf_str(&hb, fw->line_origin);
	}
	headbuf_add(&hb, "Host: ", 6);
	headbuf_str(&hb, fw->hostport);
	headbuf_add(&hb, "\r\n", 2);
	exchange_head_to(ex, &hb);
	headbuf_flush(&hb);
}
