/*
 * forward.c - one absolute-form request and its response.
 *
 * The request head is rewritten for the origin (origin-form target, Host
 * from the URI, hop-by-hop headers dropped, Via added) and kept until the
 * response head arrives, so a stale pooled connection can be retried once.
 * Bodies are never buffered whole: body_pump() moves what is available from
 * one side's input to the other side's output, following the framing, and
 * reading stops on a side whose partner's output is above BUF_HIGH.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "admit.h"
#include "client.h"
#include "exchange.h"
#include "limit.h"
#include "forward.h"
#include "log.h"
#include "modproxy.h"
#include "pool.h"
#include "reply.h"
#include "upstream.h"

#define PEEK_VECS	16

static void	forward_connect_ops(struct exchange *ex);
static void	forward_send_head(struct exchange *ex, struct evbuffer *out);
static void	forward_failed(struct exchange *ex, int status, const char *why);

static int	forward_response(struct exchange *ex,
		    const struct http_response *res);

/* Origins, directly or through parent proxies, with failover. */
static const struct exchange_ops forward_ops = {
	forward_connect_ops,
	forward_send_head,
	forward_response,
	forward_failed,
};

static void	forward_admit(struct exchange *ex);
static void	forward_pump_request(struct exchange *ex);
static void	forward_pump_response(struct exchange *ex);

static void
body_init(struct body *b, const struct http_framing *f)
{
	memset(b, 0, sizeof(*b));
	b->kind = f->body;
	b->left = f->content_length;
	http_chunked_init(&b->chunked);
	b->done = b->kind == HTTP_BODY_NONE ||
	    (b->kind == HTTP_BODY_LENGTH && b->left == 0);
}

/*
 * How many of the first max bytes in src belong to the chunked body;
 * -1 if the framing is invalid.
 */
static ssize_t
body_chunked_span(struct body *b, struct evbuffer *src, size_t max)
{
	struct evbuffer_iovec vec[PEEK_VECS];
	ssize_t n, span = 0;
	size_t len;
	int i, nvec;

	nvec = evbuffer_peek(src, (ev_ssize_t)max, NULL, vec, PEEK_VECS);
	if (nvec > PEEK_VECS)
		nvec = PEEK_VECS;
	for (i = 0; i < nvec && !b->done && (size_t)span < max; i++) {
		len = vec[i].iov_len;
		if (len > max - (size_t)span)
			len = max - (size_t)span;
		n = http_chunked_scan(&b->chunked, vec[i].iov_base, len,
		    &b->done);
		if (n < 0)
			return -1;
		span += n;
	}
	return span;
}

/*
 * Move at most max of the body bytes available in src to dst, following
 * b's framing.  Returns the bytes moved, or -1 on invalid chunked
 * framing.  Bytes after the end of the body (a pipelined request) stay
 * in src.
 */
static ssize_t
body_pump(struct body *b, struct evbuffer *src, struct evbuffer *dst,
    size_t max)
{
	size_t avail = evbuffer_get_length(src);
	ssize_t n = 0, span;

	if (avail > max)
		avail = max;
	while (!b->done && avail > 0) {
		switch (b->kind) {
		case HTTP_BODY_LENGTH:
			span = avail < b->left ? (ssize_t)avail :
			    (ssize_t)b->left;
			b->left -= (uint64_t)span;
			b->done = b->left == 0;
			break;
		case HTTP_BODY_CHUNKED:
			if ((span = body_chunked_span(b, src, avail)) < 0)
				return -1;
			break;
		default:	/* HTTP_BODY_CLOSE: everything, until EOF */
			span = (ssize_t)avail;
			break;
		}
		if (span == 0)
			break;
		evbuffer_remove_buffer(src, dst, (size_t)span);
		b->total += (uint64_t)span;
		n += span;
		avail -= (size_t)span;
	}
	return n;
}

/* Append "name: value\r\n". */
static void
head_add_header(struct evbuffer *out, const struct http_header *h)
{
	evbuffer_add(out, h->name, h->name_len);
	evbuffer_add(out, ": ", 2);
	evbuffer_add(out, h->value, h->value_len);
	evbuffer_add(out, "\r\n", 2);
}

/* Copy the end-to-end headers of a message, except skip (may be NULL). */
static void
head_copy_headers(struct evbuffer *out, const struct http_header *hdrs,
    size_t n, const char *skip)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (http_header_is_hop_by_hop(&hdrs[i], hdrs, n))
			continue;
		if (skip && http_header_is(&hdrs[i], skip))
			continue;
		head_add_header(out, &hdrs[i]);
	}
}

/*
 * Copy the headers called name as they are: the framing of a chunked
 * message is kept whole ("gzip, chunked" stays so).
 */
static void
head_copy_named(struct evbuffer *out, const struct http_header *hdrs,
    size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (http_header_is(&hdrs[i], name))
			head_add_header(out, &hdrs[i]);
}

/*
 * The origin-form request line, for an origin (directly or through a
 * SOCKS5 tunnel); forward_send_head() derives the absolute-form one a
 * parent HTTP proxy gets from it.  "http://a?q" has no path: "/?q".
 */
static int
forward_build_lines(struct exchange *ex, const struct http_request *req,
    const struct http_uri *uri)
{
	const char *slash = uri->path_implied || uri->path[0] == '?' ? "/" : "";
	int plen = uri->path_implied ? 0 : (int)uri->path_len;

	if (asprintf(&ex->line_origin, "%.*s %s%.*s HTTP/1.%d\r\n",
	    (int)req->method_len, req->method, slash, plen, uri->path,
	    req->minor_version) == -1) {
		ex->line_origin = NULL;
		return -1;
	}
	return 0;
}

/*
 * The end-to-end headers, the same for every upstream: Host is added per
 * upstream (an origin's, or a mirror's), the rest ends the head.
 */
static int
exchange_build_head(struct exchange *ex, const struct http_request *req)
{
	struct evbuffer *h = ex->head;

	head_copy_headers(h, req->headers, req->num_headers, "Host");
	if (ex->req.kind == HTTP_BODY_CHUNKED)
		head_copy_named(h, req->headers, req->num_headers,
		    "Transfer-Encoding");
	return evbuffer_add_printf(h, "Via: 1.%d proxyd\r\n\r\n",
	    req->minor_version) < 0 ? -1 : 0;
}

/* "host[:port]" as a Host header and an absolute URI carry it. */
static void
forward_hostport(struct exchange *ex, const struct http_uri *uri)
{
	int v6 = memchr(uri->host, ':', uri->host_len) != NULL;

	snprintf(ex->hostport, sizeof(ex->hostport), "%s%.*s%s", v6 ? "[" : "",
	    (int)uri->host_len, uri->host, v6 ? "]" : "");
	if (uri->port != 80)
		snprintf(ex->hostport + strlen(ex->hostport),
		    sizeof(ex->hostport) - strlen(ex->hostport), ":%u",
		    uri->port);
}

static void
forward_log(struct exchange *ex, const char *note)
{
	struct access_entry e;

	memset(&e, 0, sizeof(e));
	e.client = ex->c->peer;
	e.method = ex->method;
	e.target = ex->target;
	e.status = ex->status;
	e.bytes_in = ex->bytes_in;
	e.bytes_out = ex->bytes_out;
	e.ms = now_ms(ex->c->w->base) - ex->start;
	e.upstream = ex->peer[0] ? ex->peer : "-";
	e.route = ex->route ? ex->route->name : "-";
	e.via = ex->route && ex->upi >= 0 && ex->peer[0] ?
	    ex->route->upstreams[ex->upi].label : "-";
	e.note = note;
	e.wait_ms = ex->adm.waited;
	e.module = ex->modlog[0] ? ex->modlog : NULL;
	e.tried = ex->tried[0] ? ex->tried : NULL;
	log_access(ex->c->w->log, &e);
}

void
forward_free(struct exchange *ex)
{
	admit_done(&ex->adm);
	if (ex->shape_timer)
		event_free(ex->shape_timer);
	if (ex->connecting)
		upstream_cancel(ex->connecting);
	if (ex->up)
		bufferevent_free(ex->up);
	if (ex->head)
		evbuffer_free(ex->head);
	free(ex->line_origin);
	free(ex->modpath);
	free(ex->method);
	free(ex->target);
	free(ex);
}

struct exchange *
exchange_new(struct client *c, const struct http_request *req,
    const struct exchange_ops *ops)
{
	const struct config *cfg = c->w->cfg;
	struct http_framing f;
	struct http_error err;
	struct exchange *ex;

	if (http_request_framing(req, &f, &err) == -1) {
		client_refuse(c, req, err.status, err.reason);
		return NULL;
	}
	if (cfg->max_body_size && f.body == HTTP_BODY_LENGTH &&
	    f.content_length > cfg->max_body_size) {
		client_refuse(c, req, 413, "request body larger than max_body_size");
		return NULL;
	}
	if ((ex = calloc(1, sizeof(*ex))) == NULL ||
	    (ex->head = evbuffer_new()) == NULL ||
	    (ex->method = strndup(req->method, req->method_len)) == NULL ||
	    (ex->target = strndup(req->target, req->target_len)) == NULL) {
		if (ex)
			forward_free(ex);
		client_refuse(c, req, 503, "out of memory");
		return NULL;
	}
	ex->ops = ops;
	ex->c = c;
	ex->start = now_ms(c->w->base);
	ex->client_minor = req->minor_version;
	ex->client_keep_alive = f.keep_alive;
	ex->head_request = req->method_len == 4 &&
	    memcmp(req->method, "HEAD", 4) == 0;
	body_init(&ex->req, &f);
	if (exchange_build_head(ex, req) == -1) {
		forward_free(ex);
		client_refuse(c, req, 503, "out of memory");
		return NULL;
	}
	return ex;
}

void
exchange_run(struct exchange *ex, size_t head_len)
{
	struct client *c = ex->c;
	struct timeval tv;

	evbuffer_drain(bufferevent_get_input(c->bev), head_len);
	ex->bytes_in = head_len;
	c->ex = ex;
	c->state = CLIENT_FORWARD;
	bufferevent_set_timeouts(c->bev, ms_to_tv(ex->route->idle_timeout, &tv),
	    ms_to_tv(ex->route->idle_timeout, &tv));
	if (ex->upi == -1) {
		exchange_fail(ex, 403, client_denied_reason(c, ex->route));
		return;
	}
	forward_admit(ex);
}

void
forward_start(struct client *c, const struct http_request *req,
    size_t head_len)
{
	struct exchange *ex;
	struct http_uri uri;
	struct http_error err;
	size_t i;

	if (http_parse_absolute_uri(req->target, req->target_len, &uri,
	    &err) == -1) {
		client_refuse(c, req, err.status, err.reason);
		return;
	}
	if ((ex = exchange_new(c, req, &forward_ops)) == NULL)
		return;
	snprintf(ex->host, sizeof(ex->host), "%.*s", (int)uri.host_len,
	    uri.host);
	for (i = 0; ex->host[i]; i++)
		ex->host[i] = (char)tolower((unsigned char)ex->host[i]);
	ex->port = uri.port;
	forward_hostport(ex, &uri);
	if (forward_build_lines(ex, req, &uri) == -1) {
		forward_free(ex);
		client_refuse(c, req, 503, "out of memory");
		return;
	}
	ex->route = client_route(c, req, uri.host, uri.host_len, uri.port);
	if (modproxy_wants(ex->route)) {
		/* A GOPROXY host routed to mirrors: speak GOPROXY. */
		modproxy_take(ex, req, uri.path_implied ? "/" : uri.path,
		    uri.path_implied ? 1 : uri.path_len, head_len);
		return;
	}
	ex->upi = upstream_next(ex->route, -1, 0, now_ms(c->w->base));
	exchange_run(ex, head_len);
}


static void
forward_admitted(void *arg, int status, const char *why, int retry_after)
{
	struct exchange *ex = arg;

	if (status != 0) {
		ex->c->retry_after = retry_after;
		exchange_fail(ex, status, why);
		return;
	}
	ex->ops->connect(ex);
}

/* Wait for the route's limits, then connect. */
static void
forward_admit(struct exchange *ex)
{
	int status, retry, r;

	r = admit_start(&ex->adm, ex->c->w, ex->route,
	    (struct sockaddr *)&ex->c->addr, forward_admitted, ex, &status,
	    &retry);
	if (r == 1)
		ex->ops->connect(ex);
	else if (r == -1)
		forward_admitted(ex, status, ex->adm.why, retry);
}

void
exchange_connected(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct exchange *ex = arg;
	int64_t now = now_ms(ex->c->w->base);

	ex->connecting = NULL;
	snprintf(ex->peer, sizeof(ex->peer), "%s", peer);
	upstream_report(ex->route, ex->upi, bev != NULL, now);
	if (bev != NULL) {
		ex->reused = 0;
		exchange_attach(ex, bev);
		return;
	}
	ex->ops->failed(ex, err->status, err->reason);
}

/*
 * forward_ops.response: a parent proxy's 407 is about our credentials,
 * not the client's: passed on, it would ask the client for a password
 * proxyd never forwards.  It is a 502, as for CONNECT.
 */
static int
forward_response(struct exchange *ex, const struct http_response *res)
{
	const struct upstream_conf *uc = &ex->route->upstreams[ex->upi];
	char why[400];

	if (uc->type != UPSTREAM_HTTP || res->status != 407)
		return 0;
	snprintf(why, sizeof(why), "parent proxy %s:%u requires "
	    "authentication (407)%s", uc->host, uc->port,
	    uc->user ? ": our credentials were rejected" : "");
	exchange_fail(ex, 502, why);
	return 1;
}

/*
 * forward_ops.failed: before the request went out (no upstream yet), the
 * route's next upstream may try; after, the client gets the error.
 */
static void
forward_failed(struct exchange *ex, int status, const char *why)
{
	int next;

	if (ex->up != NULL ||
	    (next = upstream_next(ex->route, ex->upi, 0,
	    now_ms(ex->c->w->base))) == -1) {
		exchange_fail(ex, status, why);
		return;
	}
	log_error(ex->c->w->log, "route %s: %s failed (%s), trying %s",
	    ex->route->name, ex->route->upstreams[ex->upi].label, why,
	    ex->route->upstreams[next].label);
	ex->upi = next;
	forward_connect_ops(ex);
}

/*
 * Where the connection for upstream uc goes, and the pool key that
 * names it: an origin directly, a parent HTTP proxy (any origin may
 * share its connections), or an origin through a SOCKS5 parent.
 */
static const struct upstream_kind *
forward_target(struct exchange *ex, const struct upstream_conf *uc,
    const char **host, uint16_t *port)
{
	switch (uc->type) {
	case UPSTREAM_HTTP:
		snprintf(ex->key, sizeof(ex->key), "http %s:%u", uc->host,
		    uc->port);
		*host = uc->host;
		*port = uc->port;
		return &upstream_direct;
	case UPSTREAM_SOCKS5:
		snprintf(ex->key, sizeof(ex->key), "socks5 %s:%u %s:%u",
		    uc->host, uc->port, ex->host, ex->port);
		break;
	default:
		snprintf(ex->key, sizeof(ex->key), "%s:%u", ex->host,
		    ex->port);
		break;
	}
	*host = ex->host;
	*port = ex->port;
	return upstream_kind_of(uc->type);
}

/* Take a pooled connection for the current upstream, or open one. */
static void
forward_connect_ops(struct exchange *ex)
{
	const struct upstream_conf *uc = &ex->route->upstreams[ex->upi];
	const struct upstream_kind *kind;
	struct worker *w = ex->c->w;
	struct bufferevent *up;
	const char *host;
	uint16_t port;

	kind = forward_target(ex, uc, &host, &port);
	if (!ex->retried &&
	    (up = pool_get(w->pool, ex->key, ex->peer)) != NULL) {
		ex->reused = 1;
		exchange_attach(ex, up);
		return;
	}
	ex->connecting = upstream_connect(kind, w, uc, host, port,
	    ex->route->connect_timeout, exchange_connected, ex);
	if (ex->connecting == NULL)
		exchange_fail(ex, 503, "out of memory");
}

/*
 * The exchange failed.  Before the response head reached the client it
 * gets an error answer; after, the connection is cut (nothing else is
 * honest about a truncated response).
 */
void
exchange_fail(struct exchange *ex, int status, const char *why)
{
	struct client *c = ex->c;
	int started = ex->resp_started;
	char reason[400];

	/* why may live in ex (a limit's reason): keep it past the free. */
	snprintf(reason, sizeof(reason), "%s", why);
	why = reason;
	if (!started)
		ex->status = status;
	forward_log(ex, why);
	c->ex = NULL;
	forward_free(ex);
	if (started)
		client_close(c, why);
	else
		client_answer(c, status, why);
}

/*
 * The response is complete.  The upstream goes back to the pool if both
 * messages ended cleanly and the origin allows it; the client goes back
 * to reading heads if it allows it and its request was read whole.
 */
static void
forward_done(struct exchange *ex)
{
	struct client *c = ex->c;
	struct bufferevent *up = ex->up;
	int reuse, keep;

	ex->resp_state = RESP_DONE;
	forward_log(ex, NULL);
	reuse = ex->resp_keep_alive && ex->req.done &&
	    evbuffer_get_length(bufferevent_get_input(up)) == 0;
	keep = ex->client_keep_alive && ex->req.done;
	ex->up = NULL;
	if (reuse)
		pool_put(c->w->pool, ex->key, up, ex->peer);
	else
		bufferevent_free(up);
	forward_free(ex);
	client_exchange_done(c, keep);
}

/* The response head the client gets. */
static void
forward_write_resp_head(struct exchange *ex, const struct http_response *res,
    int keep)
{
	struct evbuffer *out = bufferevent_get_output(ex->c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %.*s\r\n", res->status,
	    (int)res->reason_len, res->reason);
	head_copy_headers(out, res->headers, res->num_headers, NULL);
	if (ex->resp.kind == HTTP_BODY_CHUNKED)
		head_copy_named(out, res->headers, res->num_headers,
		    "Transfer-Encoding");
	evbuffer_add_printf(out, "Via: 1.%d proxyd\r\nConnection: %s\r\n\r\n",
	    res->minor_version, keep ? "keep-alive" : "close");
}

/* An interim (1xx) response: passed on to HTTP/1.1 clients only. */
static int
forward_interim(struct exchange *ex, const struct http_response *res)
{
	struct evbuffer *out = bufferevent_get_output(ex->c->bev);

	if (res->status == 101)
		return -1;	/* we never forward Upgrade */
	if (ex->client_minor >= 1) {
		evbuffer_add_printf(out, "HTTP/1.1 %d %.*s\r\n", res->status,
		    (int)res->reason_len, res->reason);
		head_copy_headers(out, res->headers, res->num_headers, NULL);
		evbuffer_add(out, "\r\n", 2);
	}
	return 0;
}

/* A final response head: framing, keep-alive, and on to the body. */
static int
forward_final(struct exchange *ex, const struct http_response *res,
    struct http_error *err)
{
	struct http_framing f;
	struct timeval tv;
	int keep;

	if (http_response_framing(res, ex->head_request, &f, err) == -1)
		return -1;
	if (f.body == HTTP_BODY_CHUNKED && ex->client_minor == 0) {
		/* We asked in HTTP/1.0: the origin must not chunk. */
		err->status = 502;
		err->reason = "upstream sent chunked framing to HTTP/1.0";
		return -1;
	}
	body_init(&ex->resp, &f);
	ex->resp_keep_alive = f.keep_alive;
	ex->status = res->status;
	keep = ex->client_keep_alive && f.body != HTTP_BODY_CLOSE &&
	    ex->req.done && !ex->c->w->stopping;
	if (!keep)
		ex->client_keep_alive = 0;
	forward_write_resp_head(ex, res, keep);
	ex->resp_started = 1;
	ex->resp_state = RESP_BODY;
	evbuffer_free(ex->head);
	ex->head = NULL;
	bufferevent_set_timeouts(ex->up, ms_to_tv(ex->route->idle_timeout, &tv),
	    ms_to_tv(ex->route->idle_timeout, &tv));
	return 0;
}

/*
 * Parse response heads from the upstream: interim ones are passed on and
 * skipped, the final one starts the body.  Returns 1 when the body may be
 * pumped, 0 when more bytes are needed, -1 when the exchange failed.
 */
static int
forward_parse_response(struct exchange *ex)
{
	const struct config *cfg = ex->c->w->cfg;
	struct evbuffer *in = bufferevent_get_input(ex->up);
	struct http_limits lim = { cfg->max_header_size, cfg->max_header_size,
	    cfg->max_headers };
	struct http_response res;
	struct http_error err;
	size_t len, want;
	int n;

	memset(&err, 0, sizeof(err));
	for (;;) {
		if ((len = evbuffer_get_length(in)) == 0)
			return 0;
		want = len < lim.max_head + 1 ? len : lim.max_head + 1;
		memset(&res, 0, sizeof(res));
		res.headers = ex->c->w->hdrs;
		res.num_headers = ex->c->w->nhdrs;
		n = http_parse_response((const char *)evbuffer_pullup(in,
		    (ssize_t)want), want, &lim, &res, &err);
		if (n == HTTP_PARSE_INCOMPLETE)
			return 0;
		if (n < 0)
			break;
		if (res.status >= 200) {
			if (ex->ops->response && ex->ops->response(ex, &res))
				return -1;	/* it fell back elsewhere */
			if (forward_final(ex, &res, &err) == -1)
				break;
			ex->bytes_out += (uint64_t)n;
			evbuffer_drain(in, (size_t)n);
			return 1;
		}
		if (forward_interim(ex, &res) == -1) {
			err.reason = "upstream switched protocols";
			break;
		}
		evbuffer_drain(in, (size_t)n);
	}
	exchange_fail(ex, 502, err.reason ? err.reason :
	    "invalid response from upstream");
	return -1;
}

static void
up_read_cb(struct bufferevent *bev, void *arg)
{
	struct exchange *ex = arg;

	(void)bev;
	if (ex->resp_state == RESP_WAIT && forward_parse_response(ex) != 1)
		return;
	forward_pump_response(ex);
}

static void
up_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	forward_pump_request(arg);
}

/* Retry a request that met a pooled connection the origin had closed. */
static int
forward_retry(struct exchange *ex)
{
	if (!ex->reused || ex->retried || ex->resp_state != RESP_WAIT ||
	    ex->req.kind != HTTP_BODY_NONE || ex->head == NULL)
		return 0;
	ex->retried = 1;
	bufferevent_free(ex->up);
	ex->up = NULL;
	ex->ops->connect(ex);
	return 1;
}

static void
up_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct exchange *ex = arg;
	char why[160];

	(void)bev;
	if ((what & BEV_EVENT_EOF) && ex->resp_state == RESP_BODY &&
	    ex->resp.kind == HTTP_BODY_CLOSE) {
		/* Close-delimited: EOF ends the body (pumping cannot fail). */
		forward_pump_response(ex);
		ex->resp.done = 1;
		ex->resp_keep_alive = 0;
		forward_done(ex);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) && forward_retry(ex))
		return;
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "%s", ex->resp_state == RESP_WAIT ?
		    "upstream response timeout" : "upstream idle timeout");
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "upstream closed the connection%s",
		    ex->resp_state == RESP_WAIT ? " before responding" :
		    " mid-response");
	else
		snprintf(why, sizeof(why), "upstream connection error: %s",
		    strerror(EVUTIL_SOCKET_ERROR()));
	if (ex->resp_state == RESP_WAIT)
		ex->ops->failed(ex, what & BEV_EVENT_TIMEOUT ? 504 : 502, why);
	else
		exchange_fail(ex, what & BEV_EVENT_TIMEOUT ? 504 : 502, why);
}

void
exchange_drop_upstream(struct exchange *ex)
{
	if (ex->up) {
		bufferevent_free(ex->up);
		ex->up = NULL;
	}
	ex->up_paused = 0;
}

/*
 * The request head for the current upstream: absolute-form and the
 * parent's credentials for a parent HTTP proxy, origin-form otherwise.
 * The head is copied, not moved: it is kept for one retry on a stale
 * pooled connection and for failover.
 */
void
exchange_add_head(struct exchange *ex, struct evbuffer *out)
{
	evbuffer_add(out, evbuffer_pullup(ex->head, -1),
	    evbuffer_get_length(ex->head));
}

static void
forward_send_head(struct exchange *ex, struct evbuffer *out)
{
	const struct upstream_conf *uc = &ex->route->upstreams[ex->upi];
	char auth[700];

	if (uc->type == UPSTREAM_HTTP) {
		/* Absolute-form: the origin line with the URI's authority
		 * put back in front of its path (rare: not built per request). */
		evbuffer_add_printf(out, "%s http://%s%s", ex->method,
		    ex->hostport, ex->line_origin + strlen(ex->method) + 1);
		if (uc->user && basic_credentials(uc->user, uc->pass, auth,
		    sizeof(auth)) == 0)
			evbuffer_add_printf(out, "Proxy-Authorization: %s\r\n",
			    auth);
	} else {
		evbuffer_add(out, ex->line_origin, strlen(ex->line_origin));
	}
	evbuffer_add_printf(out, "Host: %s\r\n", ex->hostport);
	exchange_add_head(ex, out);
}

void
exchange_attach(struct exchange *ex, struct bufferevent *up)
{
	struct evbuffer *out = bufferevent_get_output(up);
	struct timeval rt, wt;

	ex->up = up;
	bufferevent_setcb(up, up_read_cb, up_write_cb, up_event_cb, ex);
	bufferevent_setwatermark(up, EV_READ, 0, BUF_HIGH);
	bufferevent_setwatermark(up, EV_WRITE, BUF_LOW, 0);
	bev_set_io_sizes(up);
	bufferevent_set_timeouts(up, ms_to_tv(ex->route->response_timeout, &rt),
	    ms_to_tv(ex->route->idle_timeout, &wt));
	ex->ops->send_head(ex, out);
	bufferevent_enable(up, EV_READ | EV_WRITE);
	forward_pump_request(ex);
}

static void
forward_shape_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exchange *ex = arg;

	(void)fd;
	(void)what;
	forward_pump_request(ex);
	if (ex->c->ex == ex)	/* the request side may have ended it */
		forward_pump_response(ex);
}

/*
 * body_pump() within the route's bandwidth: move what the byte buckets
 * grant now; when they grant nothing, pump again when they will (the
 * bytes wait in src, and reading stops once src is full).
 */
static ssize_t
forward_shaped_pump(struct exchange *ex, struct body *b, struct evbuffer *src,
    struct evbuffer *dst)
{
	const struct route *r = ex->route;
	const struct sockaddr *client = (struct sockaddr *)&ex->c->addr;
	size_t want = evbuffer_get_length(src), granted;
	struct timeval tv;
	int64_t wait = 0;
	ssize_t n;

	if (r->bandwidth == 0 && r->client_bandwidth == 0)
		return body_pump(b, src, dst, SIZE_MAX);
	if (want == 0 || b->done)
		return 0;
	granted = limiter_bytes(r->limiter, client, want,
	    now_ms(ex->c->w->base), &wait);
	if (granted < want) {
		if (ex->shape_timer == NULL)
			ex->shape_timer = evtimer_new(ex->c->w->base,
			    forward_shape_cb, ex);
		/* Arm it once: re-arming on every read as upstream bytes
		 * keep arriving would push the wake-up out and starve the
		 * transfer below its rate. */
		if (ex->shape_timer && !evtimer_pending(ex->shape_timer, NULL))
			evtimer_add(ex->shape_timer, ms_to_tv(wait > 0 ?
			    (int)wait : 10, &tv));
	}
	if ((n = body_pump(b, src, dst, granted)) >= 0 && (size_t)n < granted)
		limiter_bytes_unused(r->limiter, client, granted - (size_t)n);
	return n;
}

/* Move request body bytes from the client to the origin. */
static void
forward_pump_request(struct exchange *ex)
{
	const struct config *cfg = ex->c->w->cfg;
	struct evbuffer *out;
	ssize_t n;

	if (ex->up == NULL || ex->req.done)
		return;
	out = bufferevent_get_output(ex->up);
	if (evbuffer_get_length(out) >= BUF_HIGH)
		return;		/* up_write_cb calls again below BUF_LOW */
	n = forward_shaped_pump(ex, &ex->req, bufferevent_get_input(ex->c->bev),
	    out);
	if (n < 0) {
		exchange_fail(ex, 400, "invalid chunked request body");
		return;
	}
	ex->bytes_in += (uint64_t)n;
	if (cfg->max_body_size && ex->req.total > cfg->max_body_size)
		exchange_fail(ex, 413, "request body larger than max_body_size");
}

/* Move response body bytes from the origin to the client. */
static void
forward_pump_response(struct exchange *ex)
{
	struct evbuffer *out = bufferevent_get_output(ex->c->bev);
	ssize_t n;

	if (ex->resp_state != RESP_BODY)
		return;
	n = forward_shaped_pump(ex, &ex->resp, bufferevent_get_input(ex->up),
	    out);
	if (n < 0) {
		exchange_fail(ex, 502, "invalid chunked response body");
		return;
	}
	ex->bytes_out += (uint64_t)n;
	if (ex->resp.done) {
		forward_done(ex);
		return;
	}
	if (evbuffer_get_length(out) >= BUF_HIGH && !ex->up_paused) {
		/* Backpressure: resume from forward_client_write(). */
		ex->up_paused = 1;
		bufferevent_disable(ex->up, EV_READ);
		bufferevent_setwatermark(ex->c->bev, EV_WRITE, BUF_LOW, 0);
	}
}

void
forward_client_read(struct exchange *ex)
{
	forward_pump_request(ex);
}

void
forward_client_write(struct exchange *ex)
{
	if (!ex->up_paused)
		return;
	ex->up_paused = 0;
	bufferevent_setwatermark(ex->c->bev, EV_WRITE, 0, 0);
	bufferevent_enable(ex->up, EV_READ);
	forward_pump_response(ex);
}

void
forward_client_event(struct exchange *ex, short what)
{
	if ((what & BEV_EVENT_EOF) && ex->req.done) {
		/* Half-close after a complete request: still answer it. */
		ex->c->read_eof = 1;
		ex->client_keep_alive = 0;
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		if (ex->req.done) {
			/* Waiting for the origin, not for the client. */
			bufferevent_enable(ex->c->bev, EV_READ);
			return;
		}
		exchange_fail(ex, 408, "request body not received in time");
		return;
	}
	ex->status = ex->resp_started ? ex->status : 499;
	forward_log(ex, what & BEV_EVENT_EOF ? "client closed" :
	    what & BEV_EVENT_TIMEOUT ? "client write timeout" : "client error");
	client_close(ex->c, "client gone mid-exchange");
}
