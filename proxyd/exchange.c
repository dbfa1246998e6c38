/*
 * exchange.c - the relay of one request and its response.
 *
 * The request head is kept until the response head arrives, so that a
 * stale pooled connection can be retried once and an idempotent request
 * can fail over.  Bodies are never buffered whole: body_pump() moves what
 * is available from one side's input to the other side's output,
 * following the framing, within the route's bandwidth, and reading stops
 * on a side whose partner's output is above BUF_HIGH.
 *
 * Every function that may end the exchange returns 1 (alive) or 0
 * (freed); see exchange.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "client.h"
#include "exchange.h"
#include "headbuf.h"
#include "limit.h"
#include "pool.h"
#include "upstream.h"

#define PEEK_VECS	16

static int	exchange_pump_request(struct exchange *ex);
static int	exchange_pump_response(struct exchange *ex);
static void	exchange_client_read(void *arg);
static void	exchange_client_write(void *arg);
static void	exchange_client_event(void *arg, short what);
static void	exchange_close(void *arg, const char *note);

/* The client's events while an exchange owns it. */
static const struct client_ops exchange_client_ops = {
	exchange_client_read,
	exchange_client_write,
	exchange_client_event,
	exchange_close,
};

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
 * Chunked in, the data alone out (for an HTTP/1.0 client): consumes at
 * most max bytes of src.  Framing bytes are scanned one at a time (they
 * are a few per chunk); data moves in spans.  Returns the bytes consumed
 * or -1 on invalid framing.
 */
static ssize_t
body_dechunk(struct body *b, struct evbuffer *src, struct evbuffer *dst,
    size_t max)
{
	size_t avail = evbuffer_get_length(src), n = 0;
	uint64_t left;
	ssize_t span;
	char ch;

	if (avail > max)
		avail = max;
	while (!b->done && n < avail) {
		left = http_chunked_data_left(&b->chunked);
		if (left > 0) {
			span = body_chunked_span(b, src,
			    left < avail - n ? (size_t)left : avail - n);
			if (span <= 0)
				return span < 0 ? -1 : (ssize_t)n;
			evbuffer_remove_buffer(src, dst, (size_t)span);
		} else {
			evbuffer_copyout(src, &ch, 1);
			if (http_chunked_scan(&b->chunked, &ch, 1,
			    &b->done) < 0)
				return -1;
			evbuffer_drain(src, 1);
			span = 1;
		}
		b->total += (uint64_t)span;
		n += (size_t)span;
	}
	return (ssize_t)n;
}

/*
 * Move at most max of the body bytes available in src to dst, following
 * b's framing.  Returns the bytes consumed from src, or -1 on invalid
 * chunked framing.  Bytes after the end of the body (a pipelined
 * request) stay in src.
 */
static ssize_t
body_pump(struct body *b, struct evbuffer *src, struct evbuffer *dst,
    size_t max)
{
	size_t avail = evbuffer_get_length(src);
	ssize_t n = 0, span;

	if (b->dechunk)
		return body_dechunk(b, src, dst, max);
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
head_add_header(struct headbuf *hb, const struct http_header *h)
{
	headbuf_add(hb, h->name, h->name_len);
	headbuf_add(hb, ": ", 2);
	headbuf_add(hb, h->value, h->value_len);
	headbuf_add(hb, "\r\n", 2);
}

/*
 * Copy the end-to-end headers of a message, except skip and skip2 (may
 * be NULL).
 */
static void
head_copy_headers(struct headbuf *hb, const struct http_header *hdrs,
    size_t n, const char *skip, const char *skip2)
{
	unsigned char hop[HTTP_HEADERS_MAX];
	size_t i;

	if (n > HTTP_HEADERS_MAX)	/* the parser stores no more */
		n = HTTP_HEADERS_MAX;
	http_hop_by_hop_mark(hdrs, n, hop);
	for (i = 0; i < n; i++) {
		if (hop[i])
			continue;
		if (skip && http_header_is(&hdrs[i], skip))
			continue;
		if (skip2 && http_header_is(&hdrs[i], skip2))
			continue;
		head_add_header(hb, &hdrs[i]);
	}
}

/* Append "Via: 1.m proxyd\r\n" for an HTTP/1.m message. */
static void
head_add_via(struct headbuf *hb, int minor)
{
	headbuf_add(hb, "Via: 1.", 7);
	headbuf_uint(hb, (unsigned)minor);
	headbuf_add(hb, " proxyd\r\n", 9);
}

/*
 * The end-to-end headers, the same for every upstream: Host is added per
 * upstream (an origin's, or a mirror's), the rest ends the head.  A
 * request's only accepted coding is a lone chunked.
 */
static int
exchange_build_head(struct exchange *ex, const struct http_request *req,
    const struct exchange_ops *ops)
{
	struct headbuf hb;

	headbuf_init(&hb, ex->head);
	head_copy_headers(&hb, req->headers, req->num_headers, "Host",
	    ops->own_authorization ? "Authorization" : NULL);
	if (ex->req.kind == HTTP_BODY_CHUNKED)
		headbuf_add(&hb, "Transfer-Encoding: chunked\r\n", 28);
	head_add_via(&hb, req->minor_version);
	headbuf_add(&hb, "\r\n", 2);
	return headbuf_flush(&hb);
}

void
exchange_free(struct exchange *ex)
{
	if (ex->ops && ex->ops->release)
		ex->ops->release(ex);
	if (ex->shape_timer)
		event_free(ex->shape_timer);
	if (ex->connecting)
		upstream_cancel(ex->connecting);
	if (ex->up)
		bufferevent_free(ex->up);
	if (ex->head)
		evbuffer_free(ex->head);
	/* Last: what was cancelled above may point into the snapshot. */
	request_release(&ex->rq);
	free(ex);
}

struct exchange *
exchange_new(struct client *c, const struct http_request *req,
    const struct exchange_ops *ops, size_t size)
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
	if ((ex = calloc(1, size)) == NULL)
		goto fail;
	if (request_init(&ex->rq, c, req->method, req->method_len,
	    req->target, req->target_len) == -1 ||
	    (ex->head = evbuffer_new()) == NULL)
		goto fail;
	ex->c = c;
	ex->client_minor = req->minor_version;
	ex->client_keep_alive = f.keep_alive;
	ex->head_request = req->method_len == 4 &&
	    memcmp(req->method, "HEAD", 4) == 0;
	body_init(&ex->req, &f);
	if (exchange_build_head(ex, req, ops) == -1)
		goto fail;
	ex->ops = ops;
	return ex;
fail:
	if (ex)
		exchange_free(ex);
	client_refuse(c, req, 503, "out of memory");
	return NULL;
}

/* The limits said go (status 0) or no. */
static void
exchange_admitted(void *arg, int status, const char *why)
{
	struct exchange *ex = arg;

	if (status != 0)
		exchange_fail(ex, status, why);
	else
		ex->ops->connect(ex);
}

void
exchange_run(struct exchange *ex, size_t head_len)
{
	struct client *c = ex->c;

	evbuffer_drain(bufferevent_get_input(c->bev), head_len);
	ex->rq.bytes_in = head_len;
	client_own(c, &exchange_client_ops, ex);
	bev_timeouts(c->bev, ex->rq.route->idle_timeout,
	    ex->rq.route->idle_timeout);
	bev_write_direct(c->bev);
	if (ex->rq.upi == -1) {
		exchange_fail(ex, 403, request_denied(&ex->rq));
		return;
	}
	request_admit(&ex->rq, exchange_admitted, ex);
}

void
exchange_connected(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct exchange *ex = arg;

	ex->connecting = NULL;
	request_connected(&ex->rq, err, peer);
	if (bev != NULL) {
		ex->reused = 0;
		exchange_attach(ex, bev);
		return;
	}
	ex->ops->failed(ex, err->status, err->reason);
}

/*
 * Before the response head reached the client it gets an error answer;
 * after, the connection is cut (nothing else is honest about a
 * truncated response).
 */
int
exchange_fail(struct exchange *ex, int status, const char *why)
{
	struct client *c = ex->c;
	int started = ex->resp_started;
	/* A client reading to the close could take the cut for the end. */
	int unseen = started && (ex->resp.kind == HTTP_BODY_CLOSE ||
	    ex->resp.dechunk);
	char keep[400], body[1024];
	size_t n = 0;

	/* Built first: why may live in ex. */
	if (!started && ex->ops->error_body)
		n = ex->ops->error_body(ex, status, why, body, sizeof(body));
	why = request_end(&ex->rq, started ? 0 : status, why, keep,
	    sizeof(keep));
	client_disown(c);
	exchange_free(ex);
	if (unseen)
		client_abort(c, why);
	else if (started)
		client_close(c, why);
	else if (n > 0)
		client_answer_body(c, status, body, n);
	else
		client_answer(c, status, why);
	return 0;
}

/* client_ops.close: the client is being torn down (reason). */
static void
exchange_close(void *arg, const char *note)
{
	struct exchange *ex = arg;

	if (ex->rq.status == 0)
		ex->rq.status = 503;	/* cut before any response */
	request_log(&ex->rq, note);
	exchange_free(ex);
}

/*
 * The response is complete.  The upstream goes back to the pool if both
 * messages ended cleanly and the origin allows it; the client goes back
 * to reading heads if it allows it and its request was read whole.
 */
static int
exchange_done(struct exchange *ex)
{
	struct client *c = ex->c;
	struct bufferevent *up = ex->up;
	int reuse, keep;

	ex->resp_state = RESP_DONE;
	request_log(&ex->rq, NULL);
	/* After the log line: whoever got the response may look for it. */
	bev_write_now(c->bev);
	reuse = ex->resp_keep_alive && ex->req.done && !ex->up_eof &&
	    evbuffer_get_length(bufferevent_get_input(up)) == 0;
	keep = ex->client_keep_alive && ex->req.done;
	ex->up = NULL;
	if (reuse)
		pool_put(c->w->pool, ex->key, up, ex->rq.peer);
	else
		bufferevent_free(up);
	exchange_free(ex);
	client_exchange_done(c, keep);
	return 0;
}

/* "HTTP/1.1 status reason\r\n": we always speak HTTP/1.1. */
static void
head_add_status_line(struct headbuf *hb, const struct http_response *res)
{
	headbuf_add(hb, "HTTP/1.1 ", 9);
	headbuf_uint(hb, (unsigned)res->status);
	headbuf_add(hb, " ", 1);
	headbuf_add(hb, res->reason, res->reason_len);
	headbuf_add(hb, "\r\n", 2);
}

/*
 * The response head the client gets.  Its Transfer-Encoding (te, may be
 * empty) is generated, not copied: empty list elements and odd spacing
 * that a recipient might read differently never leave proxyd ("gzip,
 * chunked" stays so; a close-delimited "gzip" is kept too).
 */
static void
exchange_write_resp_head(struct exchange *ex, const struct http_response *res,
    const char *te, int keep)
{
	struct headbuf hb;

	headbuf_init(&hb, bufferevent_get_output(ex->c->bev));
	head_add_status_line(&hb, res);
	head_copy_headers(&hb, res->headers, res->num_headers, NULL, NULL);
	if (te[0] != '\0' && !ex->resp.dechunk &&
	    (ex->resp.kind != HTTP_BODY_NONE || ex->head_request)) {
		headbuf_add(&hb, "Transfer-Encoding: ", 19);
		headbuf_str(&hb, te);
		headbuf_add(&hb, "\r\n", 2);
	}
	head_add_via(&hb, res->minor_version);
	headbuf_str(&hb, keep ? "Connection: keep-alive\r\n\r\n" :
	    "Connection: close\r\n\r\n");
	headbuf_flush(&hb);
}

/* An interim (1xx) response: passed on to HTTP/1.1 clients only. */
static int
exchange_interim(struct exchange *ex, const struct http_response *res)
{
	struct headbuf hb;

	if (res->status == 101)
		return -1;	/* we never forward Upgrade */
	if (ex->client_minor >= 1) {
		headbuf_init(&hb, bufferevent_get_output(ex->c->bev));
		head_add_status_line(&hb, res);
		head_copy_headers(&hb, res->headers, res->num_headers, NULL,
		    NULL);
		headbuf_add(&hb, "\r\n", 2);
		headbuf_flush(&hb);
		/* Now: a client waits for its 100 before sending a body. */
		bev_write_now(ex->c->bev);
	}
	return 0;
}

/*
 * A final response head: framing, keep-alive, and on to the body.  We
 * always ask in HTTP/1.1; an HTTP/1.0 client gets a chunked body as its
 * data alone, delimited by the close.
 */
static int
exchange_final(struct exchange *ex, const struct http_response *res,
    struct http_error *err)
{
	struct http_framing f;
	char te[1024];
	int keep;

	if (http_response_framing(res, ex->head_request, &f, err) == -1)
		return -1;
	if (http_te_normalize(res->headers, res->num_headers, te,
	    sizeof(te)) < 0) {
		err->status = 502;
		err->reason = "upstream Transfer-Encoding too long";
		return -1;
	}
	body_init(&ex->resp, &f);
	ex->resp.dechunk = f.body == HTTP_BODY_CHUNKED && ex->client_minor == 0;
	ex->resp_keep_alive = f.keep_alive;
	ex->rq.status = res->status;
	keep = ex->client_keep_alive && f.body != HTTP_BODY_CLOSE &&
	    !ex->resp.dechunk && ex->req.done && !ex->c->w->stopping;
	if (!keep)
		ex->client_keep_alive = 0;
	exchange_write_resp_head(ex, res, te, keep);
	ex->resp_started = 1;
	ex->resp_state = RESP_BODY;
	evbuffer_free(ex->head);
	ex->head = NULL;
	bev_timeouts(ex->up, ex->rq.route->idle_timeout,
	    ex->rq.route->idle_timeout);
	return 0;
}

/*
 * Parse response heads from the upstream: interim ones are passed on and
 * skipped, the final one starts the body.  Returns 1 when the body may be
 * pumped, 2 when more bytes are needed, 0 when the exchange was ended or
 * handed to another upstream (either way: stop here).
 */
static int
exchange_parse_response(struct exchange *ex)
{
	const struct config *cfg = ex->rq.cfg;	/* the request's snapshot */
	struct evbuffer *in = bufferevent_get_input(ex->up);
	struct http_limits lim = { cfg->max_header_size, cfg->max_header_size,
	    cfg->max_headers };
	struct http_response res;
	struct http_error err;
	size_t len, want;
	int n, r;

	memset(&err, 0, sizeof(err));
	for (;;) {
		if ((len = evbuffer_get_length(in)) == 0)
			return 2;
		want = len < lim.max_head + 1 ? len : lim.max_head + 1;
		memset(&res, 0, sizeof(res));
		res.headers = ex->c->w->hdrs;
		res.num_headers = ex->c->w->nhdrs;
		n = http_parse_response((const char *)evbuffer_pullup(in,
		    (ssize_t)want), want, &lim, &res, &err);
		if (n == HTTP_PARSE_INCOMPLETE)
			return 2;
		if (n < 0)
			break;
		if (res.status >= 200) {
			if (ex->ops->response &&
			    (r = ex->ops->response(ex, &res)) != 1)
				return 0;	/* ended, or went elsewhere */
			if (exchange_final(ex, &res, &err) == -1)
				break;
			ex->rq.bytes_out += (uint64_t)n;
			evbuffer_drain(in, (size_t)n);
			return 1;
		}
		if (exchange_interim(ex, &res) == -1) {
			err.reason = "upstream switched protocols";
			break;
		}
		evbuffer_drain(in, (size_t)n);
	}
	return exchange_fail(ex, 502, err.reason ? err.reason :
	    "invalid response from upstream");
}

static void
up_read_cb(struct bufferevent *bev, void *arg)
{
	struct exchange *ex = arg;

	(void)bev;
	if (ex->resp_state == RESP_WAIT && exchange_parse_response(ex) != 1)
		return;
	(void)exchange_pump_response(ex);
}

static void
up_write_cb(struct bufferevent *bev, void *arg)
{
	bev_write_direct(bev);	/* drained: direct writes again */
	(void)exchange_pump_request(arg);
}

/*
 * Retry a request that met a pooled connection the origin had closed.
 * Returns 1 if it was retried (the exchange may be gone), 0 if not.
 */
static int
exchange_retry(struct exchange *ex)
{
	if (!ex->reused || ex->retried || ex->resp_state != RESP_WAIT ||
	    ex->req.kind != HTTP_BODY_NONE || ex->head == NULL)
		return 0;
	ex->retried = 1;
	exchange_drop_upstream(ex);
	(void)ex->ops->connect(ex);
	return 1;
}

static void
up_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct exchange *ex = arg;
	int status = what & BEV_EVENT_TIMEOUT ? 504 : 502;
	char why[160];

	(void)bev;
	if ((what & BEV_EVENT_EOF) && ex->resp_state == RESP_BODY) {
		/* Bytes already read are delivered (at the shaped rate)
		 * before the EOF is acted on: exchange_pump_response(). */
		ex->up_eof = 1;
		(void)exchange_pump_response(ex);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) && exchange_retry(ex))
		return;
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "%s", ex->resp_state == RESP_WAIT ?
		    "upstream response timeout" : "upstream idle timeout");
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "upstream closed the connection "
		    "before responding");
	else
		snprintf(why, sizeof(why), "upstream connection error: %s",
		    strerror(EVUTIL_SOCKET_ERROR()));
	if (ex->resp_state == RESP_WAIT)
		(void)ex->ops->failed(ex, status, why);
	else
		(void)exchange_fail(ex, status, why);
}

int
exchange_resendable(const struct exchange *ex)
{
	static const char *const idempotent[] = {
		"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"
	};
	size_t i;

	if (ex->req.total > 0 || ex->resp_state != RESP_WAIT ||
	    ex->head == NULL || (ex->up != NULL &&
	    evbuffer_get_length(bufferevent_get_input(ex->up)) > 0))
		return 0;
	for (i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
		if (strcmp(ex->rq.method, idempotent[i]) == 0)
			return 1;
	return 0;
}

void
exchange_drop_upstream(struct exchange *ex)
{
	if (ex->up) {
		bufferevent_free(ex->up);
		ex->up = NULL;
	}
	ex->up_paused = 0;
	ex->up_eof = 0;
}

/*
 * The head is copied, not moved: it is kept for one retry on a stale
 * pooled connection and for failover.
 */
void
exchange_head_to(struct exchange *ex, struct headbuf *hb)
{
	headbuf_add(hb, evbuffer_pullup(ex->head, -1),
	    evbuffer_get_length(ex->head));
}

int
exchange_attach(struct exchange *ex, struct bufferevent *up)
{
	struct evbuffer *out = bufferevent_get_output(up);
	const struct route *r = ex->rq.route;

	ex->up = up;
	bufferevent_setcb(up, up_read_cb, up_write_cb, up_event_cb, ex);
	bev_read_bound(up);
	bufferevent_setwatermark(up, EV_WRITE, BUF_LOW, 0);
	bev_set_io_sizes(up);
	bev_timeouts(up, r->response_timeout, r->idle_timeout);
	bufferevent_enable(up, EV_READ);
	bev_write_direct(up);
	ex->ops->send_head(ex, out);
	if (!exchange_pump_request(ex))
		return 0;
	bev_write_now(up);
	return 1;
}

static void
exchange_shape_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exchange *ex = arg;

	(void)fd;
	(void)what;
	if (exchange_pump_request(ex))
		(void)exchange_pump_response(ex);
}

/*
 * body_pump() within the route's bandwidth: move what the byte buckets
 * grant now; when they grant less than is waiting, pump again when they
 * will (the bytes wait in src, and reading stops once src is full).
 */
static ssize_t
exchange_shaped_pump(struct exchange *ex, struct body *b,
    struct evbuffer *src, struct evbuffer *dst)
{
	const struct route *r = ex->rq.route;
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
			    exchange_shape_cb, ex);
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

/* Move request body bytes from the client to the upstream. */
static int
exchange_pump_request(struct exchange *ex)
{
	const struct config *cfg = ex->rq.cfg;	/* the request's snapshot */
	struct evbuffer *out;
	ssize_t n;

	if (ex->up == NULL || ex->req.done)
		return 1;
	out = bufferevent_get_output(ex->up);
	if (evbuffer_get_length(out) >= BUF_HIGH)
		return 1;	/* up_write_cb calls again below BUF_LOW */
	n = exchange_shaped_pump(ex, &ex->req,
	    bufferevent_get_input(ex->c->bev), out);
	if (n < 0)
		return exchange_fail(ex, 400, "invalid chunked request body");
	ex->rq.bytes_in += (uint64_t)n;
	if (cfg->max_body_size && ex->req.total > cfg->max_body_size)
		return exchange_fail(ex, 413,
		    "request body larger than max_body_size");
	bev_write_now(ex->up);
	return 1;
}

/*
 * The upstream closed and every byte it sent has been passed on: a
 * close-delimited body ends here, any other is cut short.
 */
static int
exchange_upstream_ended(struct exchange *ex)
{
	if (ex->resp.kind == HTTP_BODY_CLOSE) {
		ex->resp.done = 1;
		ex->resp_keep_alive = 0;
		return exchange_done(ex);
	}
	return exchange_fail(ex, 502,
	    "upstream closed the connection mid-response");
}

/* Move response body bytes from the upstream to the client. */
static int
exchange_pump_response(struct exchange *ex)
{
	struct evbuffer *out = bufferevent_get_output(ex->c->bev);
	size_t before = evbuffer_get_length(out);
	struct evbuffer *in;
	ssize_t n;

	if (ex->resp_state != RESP_BODY)
		return 1;
	in = bufferevent_get_input(ex->up);
	n = exchange_shaped_pump(ex, &ex->resp, in, out);
	if (n < 0)
		return exchange_fail(ex, 502, "invalid chunked response body");
	ex->rq.bytes_out += (uint64_t)n;
	if (ex->ops->body)
		ex->ops->body(ex, out, before);
	if (ex->resp.done)
		return exchange_done(ex);	/* logs, then writes */
	bev_write_now(ex->c->bev);
	if (ex->up_eof && evbuffer_get_length(in) == 0)
		return exchange_upstream_ended(ex);
	if (evbuffer_get_length(out) >= BUF_HIGH && !ex->up_paused) {
		/* Backpressure: resume from exchange_client_write(). */
		ex->up_paused = 1;
		bufferevent_disable(ex->up, EV_READ);
		bufferevent_setwatermark(ex->c->bev, EV_WRITE, BUF_LOW, 0);
	}
	return 1;
}

static void
exchange_client_read(void *arg)
{
	(void)exchange_pump_request(arg);
}

static void
exchange_client_write(void *arg)
{
	struct exchange *ex = arg;

	bev_write_direct(ex->c->bev);	/* drained: direct writes again */
	if (!ex->up_paused)
		return;
	ex->up_paused = 0;
	bufferevent_setwatermark(ex->c->bev, EV_WRITE, 0, 0);
	if (!ex->up_eof)
		bufferevent_enable(ex->up, EV_READ);
	(void)exchange_pump_response(ex);
}

/*
 * An EOF from the client ends the exchange, request complete or not, as
 * in squid (half_closed_clients off) and nginx (proxy_ignore_client_abort
 * off): a client that went away (go cancels a request by closing) must
 * not keep an upstream transfer and a connection slot busy.  Tunnels
 * pass half-closes on; plain HTTP has no use for them.
 */
static void
exchange_client_event(void *arg, short what)
{
	struct exchange *ex = arg;
	const char *note;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		if (ex->req.done) {
			/* Waiting for the upstream, not for the client. */
			bufferevent_enable(ex->c->bev, EV_READ);
			return;
		}
		(void)exchange_fail(ex, 408, "request body not received in time");
		return;
	}
	if (!ex->resp_started)
		ex->rq.status = 499;
	note = what & BEV_EVENT_EOF ? "client closed" :
	    what & BEV_EVENT_TIMEOUT ? "client write timeout" : "client error";
	request_log(&ex->rq, note);
	client_close(ex->c, note);
}
