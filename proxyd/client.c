/*
 * client.c - a client connection.
 *
 * States: HEAD (waiting for a request head; slowloris-bounded by
 * header_timeout from the first byte, keep-alive idle bounded by
 * keepalive_timeout), FORWARD (forward.c owns the exchange), TUNNEL
 * (tunnel.c owns the callbacks), CLOSING (an answer is flushing; the rest
 * of the request is read and dropped so the peer gets it before a reset).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "auth_client.h"
#include "client.h"
#include "forward.h"
#include "log.h"
#include "metrics.h"
#include "modproxy.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "tls_server.h"
#include "transparent.h"
#include "tunnel.h"
#include "upstream.h"

#define LINGER_MS	2000

static void	client_read_cb(struct bufferevent *, void *);
static void	client_write_cb(struct bufferevent *, void *);
static void	client_event_cb(struct bufferevent *, short, void *);
static void	client_parse_head(struct client *c);
static void	client_tls_deadline_cb(evutil_socket_t, short, void *);

/* A new client bufferevent's callbacks, sizes and head timeout. */
static void
client_setup_bev(struct client *c)
{
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	bev_read_bound(c->bev);
	bev_set_io_sizes(c->bev);
	bev_timeouts(c->bev, c->w->cfg->header_timeout, -1);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/*
 * The bufferevent of a plain client, made when its first byte comes: a
 * connection that has sent nothing holds an event (about 130 bytes),
 * not a bufferevent and two buffers (about 900).  0, or -1.
 */
static int
client_make_bev(struct client *c)
{
	c->bev = bufferevent_socket_new(c->w->base, c->fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return -1;
	c->fd = -1;	/* the bufferevent's */
	bev_own_reads(c->bev);
	client_setup_bev(c);
	return 0;
}

/*
 * The first byte, or header_timeout without one.  The byte is read at
 * once (the loop would only report it again) and handled as any read.
 */
static void
client_first_byte_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	ssize_t n;

	/* The bufferevent's read event joins wait_ev on the socket before
	 * wait_ev goes (it persists, so firing did not remove it): epoll is
	 * not told, where a remove and an add in one turn cost an
	 * epoll_ctl(MOD) to say nothing changed. */
	if (client_make_bev(c) == -1) {
		client_close(c, "out of memory");
		return;
	}
	event_free(c->wait_ev);
	c->wait_ev = NULL;
	if (what & EV_TIMEOUT) {
		client_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
		    c);
		return;
	}
	n = bev_read_into(c->bev, fd);
	if (n > 0)
		client_read_cb(c->bev, c);
	else if (n == 0)
		client_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_EOF, c);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		client_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_ERROR,
		    c);
}

struct client *
client_accept(struct worker *w, int fd, const struct sockaddr *sa, int salen,
    int tls)
{
	const struct config *cfg = w->cfg;
	struct client *c;
	struct timeval tv;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	c->w = w;
	c->fd = fd;
	memcpy(&c->addr, sa, (size_t)salen < sizeof(c->addr) ?
	    (size_t)salen : sizeof(c->addr));
	c->tls = tls && cfg->tls_ctx != NULL;
	if (c->tls) {
		/* The handshake is the bufferevent's: made at once.  The
		 * read timeout restarts with every byte: a handshake sent a
		 * byte at a time needs a deadline of its own. */
		if ((c->bev = tls_server_accept(w->base, cfg->tls_ctx,
		    fd)) == NULL)
			goto fail;
		c->fd = -1;	/* the bufferevent's */
		if ((c->tls_deadline = evtimer_new(w->base,
		    client_tls_deadline_cb, c)) == NULL ||
		    evtimer_add(c->tls_deadline, ms_to_tv(cfg->header_timeout,
		    &tv)) == -1)
			goto fail;
		client_setup_bev(c);
	} else {
		c->wait_ev = event_new(w->base, fd, EV_READ | EV_PERSIST,
		    client_first_byte_cb, c);
		if (c->wait_ev == NULL || event_add(c->wait_ev,
		    ms_to_tv(cfg->header_timeout, &tv)) == -1)
			goto fail;
	}
	/* TCP_NODELAY comes from the listener (worker_listen_socket()). */
	TAILQ_INSERT_TAIL(&w->clients, c, link);
	w->nclients++;
	metrics_clients(w->metrics, 1);

	/* Refusals are answered once the head is read, so the peer sees them. */
	if (!cidr_match_any(cfg->allow, cfg->nallow, sa)) {
		c->refuse_status = 403;
		c->refuse_reason = "client address not allowed";
	} else if (w->nclients > w->max_clients) {
		c->refuse_status = 503;
		c->refuse_reason = "too many clients";
	}
	c->state = CLIENT_HEAD;
	return c;
fail:
	if (c->tls_deadline)
		event_free(c->tls_deadline);
	if (c->wait_ev)
		event_free(c->wait_ev);
	if (c->bev)
		bufferevent_free(c->bev);	/* closes fd */
	else
		evutil_closesocket(fd);
	free(c);
	return NULL;
}

const char *
client_peer(const struct client *c, char *buf)
{
	sockaddr_text(&c->addr.sa, buf, CLIENT_PEER_LEN);
	return buf;
}

void
client_close(struct client *c, const char *reason)
{
	char peer[CLIENT_PEER_LEN];
	struct worker *w = c->w;

	if (c->state == CLIENT_CLOSED)
		return;
	if (log_debugging(w->log))
		log_debug(w->log, "client %s: closed: %s", client_peer(c,
		    peer), reason);
	auth_client_closed(c);
	if (c->state == CLIENT_OWNED) {
		c->state = CLIENT_CLOSING;	/* no event reaches the owner */
		c->ops->close(c->owner, reason);
	}
	c->ops = NULL;
	c->owner = NULL;
	if (c->bev) {
		tls_server_close_notify(c->bev);
		bufferevent_free(c->bev);
	}
	if (c->tls_deadline)
		event_free(c->tls_deadline);
	c->tls_deadline = NULL;
	c->bev = NULL;
	if (c->wait_ev)
		event_free(c->wait_ev);
	c->wait_ev = NULL;
	if (c->fd != -1)
		evutil_closesocket(c->fd);
	c->fd = -1;
	c->state = CLIENT_CLOSED;
	TAILQ_REMOVE(&w->clients, c, link);
	w->nclients--;
	metrics_clients(w->metrics, -1);
	/* The struct itself is freed from the loop, not under a caller that
	 * may still hold it (Redis' freeClientAsync). */
	TAILQ_INSERT_TAIL(&w->closed, c, link);
	if (w->reap_ev)
		event_active(w->reap_ev, EV_TIMEOUT, 0);
}

void
client_abort(struct client *c, const char *reason)
{
	static const struct linger rst = { 1, 0 };
	int fd = c->bev != NULL ? bufferevent_getfd(c->bev) : c->fd;

	if (c->state == CLIENT_CLOSED)
		return;
	tls_server_no_close_notify(c->bev);
	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	client_close(c, reason);
}

void
client_reap(struct worker *w)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&w->closed)) != NULL) {
		TAILQ_REMOVE(&w->closed, c, link);
		free(c->user);
		free(c->tp);
		free(c);
	}
}

void
client_own(struct client *c, const struct client_ops *ops, void *owner)
{
	c->state = CLIENT_OWNED;
	c->ops = ops;
	c->owner = owner;
}

void
client_disown(struct client *c)
{
	c->ops = NULL;
	c->owner = NULL;
	if (c->state == CLIENT_OWNED)
		c->state = CLIENT_HEAD;	/* the caller moves it on at once */
}

/* Send what is queued, then shut our side and drop what the peer still sends. */
static void
client_linger(struct client *c)
{

	c->state = CLIENT_CLOSING;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bev_timeouts(c->bev, LINGER_MS, c->w->cfg->idle_timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_write_cb(c->bev, c);
}

void
client_answer(struct client *c, int status, const char *reason)
{
	if (status == 407)
		reply_auth(bufferevent_get_output(c->bev), c->w->cfg->auth_realm,
		    reason);
	else
		reply_error(bufferevent_get_output(c->bev), status, reason,
		    c->retry_after);
	client_linger(c);
}

void
client_answer_body(struct client *c, int status, const char *body,
    size_t len)
{
	reply_text(bufferevent_get_output(c->bev), status, body, len,
	    c->retry_after);
	client_linger(c);
}

void
client_refuse(struct client *c, const struct http_request *req, int status,
    const char *reason)
{
	request_log_refusal(c, req, status, reason);
	client_answer(c, status, reason);
}

void
client_exchange_done(struct client *c, int keep_alive)
{

	client_disown(c);
	if (!keep_alive || c->read_eof || c->w->stopping) {
		client_linger(c);
		return;
	}
	c->state = CLIENT_HEAD;
	c->head_deadline = 0;
	c->scanned = 0;
	c->saw_lf = 0;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bev_timeouts(c->bev, c->w->cfg->keepalive_timeout, -1);
	bufferevent_enable(c->bev, EV_READ);
	/* A pipelined request may already be waiting. */
	client_parse_head(c);
}

void
client_close_idle(struct worker *w)
{
	struct client *c, *next;

	for (c = TAILQ_FIRST(&w->clients); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->state == CLIENT_HEAD && c->head_deadline == 0 &&
		    (c->bev == NULL ||
		    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0))
			client_close(c, "shutting down");
	}
}

/*
 * Is a complete head (or an over-limit one) buffered?  Searches only the
 * bytes that arrived since the last call, so a head sent byte by byte
 * costs linear time, not quadratic.
 */
static int
client_head_ready(struct client *c, struct evbuffer *in, size_t len)
{
	const struct config *cfg = c->w->cfg;
	struct evbuffer_ptr from, found;
	size_t start = c->scanned > 2 ? c->scanned - 2 : 0;

	if (len > cfg->max_header_size)
		return 1;
	evbuffer_ptr_set(in, &from, start, EVBUFFER_PTR_SET);
	found = evbuffer_search(in, "\n\r\n", 3, &from);
	if (found.pos != -1)
		return 1;
	found = evbuffer_search(in, "\n\n", 2, &from);
	if (found.pos != -1)
		return 1;	/* bare LF head: let the parser refuse it */
	if (!c->saw_lf) {
		found = evbuffer_search(in, "\n", 1, &from);
		c->saw_lf = found.pos != -1;
		if (!c->saw_lf && len > cfg->max_request_line)
			return 1;	/* 414 */
	}
	c->scanned = len;
	return 0;
}

static int
is_connect(const struct http_request *req)
{
	return req->method_len == 7 && memcmp(req->method, "CONNECT", 7) == 0;
}

/* Addressed to proxyd itself: GOPROXY=http://proxyd:3128 */
static int
is_origin_form(const struct http_request *req)
{
	return req->target_len > 0 && req->target[0] == '/';
}

/* The kinds of request, tried in order; the last takes the rest. */
static const struct {
	int	(*wants)(const struct http_request *req);
	void	(*start)(struct client *c, const struct http_request *req,
		    size_t head_len);
} request_kinds[] = {
	{ is_connect, tunnel_start },
	{ is_origin_form, modproxy_start },
	{ NULL, forward_start },
};

/* A parsed head: refuse it, or hand it to its kind of request. */
static void
client_dispatch(struct client *c, const struct http_request *req,
    size_t head_len)
{
	size_t i;

	c->nrequests++;
	if (c->refuse_status) {
		client_refuse(c, req, c->refuse_status, c->refuse_reason);
		return;
	}
	if (c->tp != NULL) {
		/* A redirected client knows of no proxy: no 407 for it. */
		transparent_dispatch(c, req, head_len);
		return;
	}
	/* A verified client certificate is the user (tls_client_ca);
	 * the others prove themselves with a password. */
	if (!c->user_by_cert && c->w->cfg->users != NULL &&
	    !auth_client_check(c, req))
		return;
	for (i = 0; request_kinds[i].wants && !request_kinds[i].wants(req); i++)
		continue;
	request_kinds[i].start(c, req, head_len);
}

void
client_auth_resume(struct client *c)
{
	client_parse_head(c);
}

/*
 * The header timeout counts from the first byte of the head, not from
 * the last read: re-arm the read timeout with what is left of it.
 */
static void
client_head_deadline(struct client *c)
{
	int64_t left = c->head_deadline - now_ms(c->w->base);
	struct timeval tv;

	bufferevent_set_timeouts(c->bev, ms_to_tv(left > 1 ? (int)left : 1,
	    &tv), NULL);
}

static void
client_parse_head(struct client *c)
{
	const struct config *cfg = c->w->cfg;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct http_limits lim;
	struct http_request req;
	struct http_error err;
	size_t len, want;
	const char *p;
	int n;

	if ((len = evbuffer_get_length(in)) == 0)
		return;
	if (c->head_deadline == 0)
		c->head_deadline = now_ms(c->w->base) + cfg->header_timeout;
	if (c->tp != NULL && transparent_classify(c) != TP_HTTP) {
		if (c->state == CLIENT_HEAD && c->tp->kind == TP_UNKNOWN)
			client_head_deadline(c);
		return;
	}
	if (!client_head_ready(c, in, len)) {
		client_head_deadline(c);
		return;
	}
	want = len < cfg->max_header_size + 1 ? len : cfg->max_header_size + 1;
	p = (const char *)evbuffer_pullup(in, (ssize_t)want);
	lim.max_line = cfg->max_request_line;
	lim.max_head = cfg->max_header_size;
	lim.max_headers = cfg->max_headers;
	memset(&req, 0, sizeof(req));
	req.headers = c->w->hdrs;
	req.num_headers = c->w->nhdrs;
	n = http_parse_request(p, want, &lim, &req, &err);
	if (n == HTTP_PARSE_INCOMPLETE) {
		c->scanned = len;
		client_head_deadline(c);
		return;
	}
	if (n < 0) {
		client_refuse(c, NULL, err.status, err.reason);
		return;
	}
	client_dispatch(c, &req, (size_t)n);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	switch (c->state) {
	case CLIENT_HEAD:
		client_parse_head(c);
		break;
	case CLIENT_OWNED:
		if (c->ops->read)
			c->ops->read(c->owner);
		break;
	case CLIENT_CLOSING:
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	case CLIENT_CLOSED:
		break;
	}
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->state == CLIENT_OWNED) {
		if (c->ops->write)
			c->ops->write(c->owner);
	} else if (c->state == CLIENT_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		if (c->read_eof) {
			client_close(c, "answered");
			return;
		}
		tls_server_close_notify(bev);
		shutdown(bufferevent_getfd(bev), SHUT_WR);
	}
}

/*
 * The TLS handshake of a tls listener's client is over: its certificate
 * (tls_client_ca) may have named the user.
 */
static void
client_tls_connected(struct client *c)
{
	char	*name = tls_server_peer_name(c->bev), peer[CLIENT_PEER_LEN];

	if (c->tls_deadline)
		event_free(c->tls_deadline);
	c->tls_deadline = NULL;
	if (name == NULL)
		return;
	log_debug(c->w->log, "client %s: TLS certificate of %s",
	    client_peer(c, peer), name);
	free(c->user);
	c->user = name;
	c->user_by_cert = 1;
}

/* The TLS handshake took header_timeout: closed, as a failed one. */
static void
client_tls_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_close(arg, "TLS handshake not done within header_timeout");
}

static void
client_head_event(struct client *c, short what)
{
	char	why[200];

	if (what & BEV_EVENT_CONNECTED) {
		client_tls_connected(c);
		return;
	}
	if ((what & BEV_EVENT_ERROR) && c->tls) {
		/* Not answered: there is no TLS session to answer on. */
		tls_server_error(c->bev, why, sizeof(why));
		client_close(c, why);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && c->tp != NULL &&
	    transparent_timeout(c))
		return;
	if ((what & BEV_EVENT_TIMEOUT) && c->head_deadline != 0) {
		client_refuse(c, NULL, 408, "request head not received in time");
		return;
	}
	client_close(c, what & BEV_EVENT_EOF ? "client closed" :
	    what & BEV_EVENT_TIMEOUT ? "keep-alive timeout" : "client error");
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	(void)bev;
	switch (c->state) {
	case CLIENT_HEAD:
		client_head_event(c, what);
		break;
	case CLIENT_OWNED:
		c->ops->event(c->owner, what);
		break;
	case CLIENT_CLOSING:
		if ((what & BEV_EVENT_EOF) &&
		    evbuffer_get_length(bufferevent_get_output(bev)) != 0) {
			c->read_eof = 1;	/* still flushing */
			return;
		}
		client_close(c, "closed after answer");
		break;
	case CLIENT_CLOSED:
		break;
	}
}
