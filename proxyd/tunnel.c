/*
 * tunnel.c - CONNECT tunnels.
 *
 * Connecting uses the upstream kinds and bufferevents like everything
 * else.  Once the tunnel is up, both sockets leave their bufferevents and
 * are relayed with plain read(2)/write(2): a chunk is read into the
 * worker's scratch buffer and written to the other side at once, so a
 * flowing tunnel costs one read and one write per chunk and no epoll_ctl.
 * Only bytes the peer could not take yet are copied into a per-direction
 * pending buffer; then reading that direction stops until they are
 * written (backpressure), and the buffer is freed once empty.  An idle
 * tunnel therefore holds no buffer at all.
 *
 * Nor an event or a timer of its own: the sockets it reads wait in the
 * worker's tunnel epoll set (fdpoll.c), and its idle timeout is an entry
 * in the worker's queue for that timeout length (idle.c).  Only a flow
 * blocked on writing, or waiting for bandwidth, has an event meanwhile.
 *
 * Between two plain TCP sockets of an unshaped tunnel, a direction that
 * moves bulk (SPLICE_MIN and more at a time) is relayed with splice(2)
 * through the worker's pipe instead (splice.c): the bytes stay in the
 * kernel.  Bytes the receiver does not take come back out of the pipe
 * into the same pending buffer, so backpressure works as above.  A
 * shaped tunnel reads in allowances and a TLS side is encrypted in user
 * space: both stay on read/write.
 *
 * An EOF is passed on as a half-close (shutdown SHUT_WR) once pending
 * bytes are written; the tunnel ends when both directions have ended, on
 * any error, or when neither side moved for tunnel_idle_timeout.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "bev_relay.h"
#include "client.h"
#include "fdpoll.h"
#include "idle.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "splice.h"
#include "tunnel.h"
#include "upstream.h"

/* One direction: bytes read from fd `from` are written to fd `to`. */
struct flow {
	struct tunnel	*t;
	int		 from;
	int		 to;
	struct event	*wr;		/* write event on to, only while
					   blocked: an idle tunnel has none */
	struct event	*shape;		/* bandwidth: read again, lazily made */
	char		*pend;		/* bytes `to` has not taken yet */
	uint32_t	 pend_off;	/* pend holds at most one read */
	uint32_t	 pend_len;
	unsigned char	 eof;		/* from sent EOF */
	unsigned char	 shut;		/* to's write side shut down */
	unsigned char	 zerocopy;	/* splice.c may relay this flow */
	unsigned char	 spliced;	/* it does: the last move was bulk */
	unsigned char	 watched;	/* from is in the worker's fdpoll */
	uint64_t	 bytes;
};

/*
 * Every idle tunnel has one: laid out without holes, and what only one
 * phase needs shares its bytes with the other phase's.
 */
struct tunnel {
	struct request		 rq;
	struct client		*c;
	int			 cfd;		/* client socket, once relaying */
	int			 ufd;		/* upstream socket */
	struct flow		 toup;		/* client -> upstream */
	struct flow		 down;		/* upstream -> client */
	struct idle_entry	 idle;		/* the worker's idle queue */
	uint16_t		 port;
	unsigned char		 shaped;	/* the route limits bandwidth */
	unsigned char		 quiet;		/* transparent: no HTTP answer
						   (no 200, no error page) */
	unsigned char		 tls_relay;	/* the union holds relay */
	union {
		struct {	/* until connected */
			struct upconn	*connecting;
			char		*host;	/* unbracketed */
		};
		struct {	/* a TLS client's tunnel relays
				   bufferevents (bev_relay.c) */
			struct bev_relay	*relay;
			struct bufferevent	*upbev;
		};
	};
};

/*
 * The client's events before the relay takes its socket.  A plain
 * client's EOF is a half-close (printf 'CONNECT ...' | nc): reading
 * stops and the relay, whose first read of the socket sees the EOF
 * again, passes it on once the upstream is there.
 */
static void
tunnel_client_event(void *arg, short what)
{
	struct tunnel *t = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    !t->c->tls) {
		bufferevent_disable(t->c->bev, EV_READ);
		return;
	}
	client_close(t->c, "client gone while connecting");
}

static void	tunnel_free(void *arg, const char *reason);

/* Bytes the client sends while connecting wait in its input. */
static const struct client_ops tunnel_client_ops = {
	NULL,
	NULL,
	tunnel_client_event,
	tunnel_free,
};

/* Read from's input from now on (flow_ready): 0, or -1. */
static int
flow_watch(struct flow *f)
{
	struct worker *w = f->t->c->w;

	if (f->watched)
		return 0;
	if (fdpoll_watch(w->tunnel_poll, f->from, f) == -1)
		return -1;
	f->watched = 1;
	return 0;
}

/* Stop reading from (backpressure, bandwidth, EOF, the end). */
static void
flow_unwatch(struct flow *f)
{
	if (!f->watched)
		return;
	fdpoll_unwatch(f->t->c->w->tunnel_poll, f->from, f);
	f->watched = 0;
}

/* The tunnel ends: its sockets are closed next (tunnel_free). */
static void
flow_clear(struct flow *f)
{
	if (f->watched)		/* the close unwatches: no epoll_ctl */
		fdpoll_closing(f->t->c->w->tunnel_poll, f);
	f->watched = 0;
	if (f->wr)
		event_free(f->wr);
	if (f->shape)
		event_free(f->shape);
	free(f->pend);
	f->wr = f->shape = NULL;
	f->pend = NULL;
}

/* client_ops.close, and the end of a tunnel that never came up. */
static void
tunnel_free(void *arg, const char *reason)
{
	struct tunnel *t = arg;

	metrics_tunnels(t->c->w->metrics, -1);
	if (t->tls_relay && t->relay != NULL) {
		t->toup.bytes = bev_relay_moved(t->relay, 0);
		t->down.bytes = bev_relay_moved(t->relay, 1);
		bev_relay_free(t->relay);
	}
	if (t->tls_relay && t->upbev != NULL)
		bufferevent_free(t->upbev);
	idle_stop(&t->idle);
	t->rq.bytes_in = t->toup.bytes;
	t->rq.bytes_out = t->down.bytes;
	if (t->rq.status == 0)
		t->rq.status = 503;	/* cut while connecting */
	request_log(&t->rq, t->rq.status == 200 ? NULL : reason);
	if (!t->tls_relay) {
		free(t->host);
		if (t->connecting)
			upstream_cancel(t->connecting);
	}
	flow_clear(&t->toup);
	flow_clear(&t->down);
	if (t->cfd != -1)
		close(t->cfd);
	if (t->ufd != -1)
		close(t->ufd);
	/* Last: what was cancelled above may point into the snapshot. */
	request_release(&t->rq);
	free(t);
}

/* End the tunnel: the client's teardown frees it (and logs). */
static void
tunnel_end(struct tunnel *t, const char *why)
{
	client_close(t->c, why);
}

/*
 * Pass the EOF on; once both directions ended the tunnel is done.  The
 * last EOF needs no shutdown: both sockets were read to their end, so
 * the close that follows sends the FIN (a reset only comes from unread
 * bytes) after whatever is still in the send buffer.
 */
static void
flow_shut(struct flow *f)
{
	struct tunnel *t = f->t;

	f->shut = 1;
	if (t->toup.shut && t->down.shut)
		tunnel_end(t, "both sides closed");
	else
		shutdown(f->to, SHUT_WR);
}

static void	flow_write_cb(evutil_socket_t fd, short what, void *arg);

/*
 * Keep buf[0..len) that `to` did not take, stop reading until it is
 * written.  Returns -1 when out of memory.
 */
static int
flow_block(struct flow *f, const char *buf, size_t len)
{
	struct timeval tv;

	if (f->wr == NULL && (f->wr = event_new(f->t->c->w->base, f->to,
	    EV_WRITE | EV_PERSIST, flow_write_cb, f)) == NULL)
		return -1;
	if (f->pend == NULL) {
		/* Reading stops while bytes are pending: buf is a fresh read
		 * (at most TUNNEL_CHUNK) or bytes from before the relay. */
		if ((f->pend = malloc(len)) == NULL)
			return -1;
		memcpy(f->pend, buf, len);
	} else {
		memmove(f->pend, buf, len);	/* the rest of pend itself */
	}
	f->pend_off = 0;
	f->pend_len = len;
	flow_unwatch(f);
	event_add(f->wr, ms_to_tv(f->t->rq.route->tunnel_idle_timeout, &tv));
	return 0;
}

/*
 * Write buf[0..len) to `to`; what it cannot take is kept (flow_block).
 * Returns 1 when all was written, 0 when blocked, -1 on error.
 */
static int
flow_write(struct flow *f, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(f->to, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			f->bytes += (uint64_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return flow_block(f, buf, len) == 0 ? 0 : -1;
		return -1;
	}
	return 1;
}

static void	flow_pump(struct flow *f);

static void
flow_shape_cb(evutil_socket_t fd, short what, void *arg)
{
	struct flow *f = arg;

	(void)fd;
	(void)what;
	if (flow_watch(f) == -1) {
		tunnel_end(f->t, "tunnel poll error");
		return;
	}
	flow_pump(f);
}

/*
 * How much this direction may read now under the route's bandwidth
 * (TUNNEL_CHUNK when unlimited).  0: reading stops until the buckets refill.
 */
static size_t
flow_allowance(struct flow *f)
{
	struct tunnel *t = f->t;
	struct timeval tv;
	int64_t wait = 0;
	size_t n;

	if (!t->shaped)
		return TUNNEL_CHUNK;
	n = limiter_bytes(t->rq.route->limiter, (struct sockaddr *)&t->c->addr,
	    TUNNEL_CHUNK, now_ms(t->c->w->base), &wait);
	if (n > 0)
		return n;
	if (f->shape == NULL && (f->shape = evtimer_new(t->c->w->base,
	    flow_shape_cb, f)) == NULL)
		return TUNNEL_CHUNK;	/* cannot wait: do not stall */
	flow_unwatch(f);
	evtimer_add(f->shape, ms_to_tv(wait > 0 ? (int)wait : 10, &tv));
	return 0;
}

/*
 * Take up to `allowed` bytes from `from` and pass them on, spliced
 * (bytes `to` does not take come back in buf) or read into buf and
 * written.  Returns what was taken (0: EOF, -1: errno) and, when it took
 * some, flow_write's answer in *r.
 *
 * Which one is decided per size class by the last move (measured, see
 * SPLICE_MIN): a bulk flow splices, a chatty one reads and writes.
 */
static ssize_t
flow_move(struct flow *f, char *buf, size_t allowed, int *r)
{
	size_t sent;
	ssize_t n;
	int werr;

	if (f->spliced) {
		n = splice_relay(f->t->c->w, f->from, f->to, allowed, buf,
		    &sent, &werr);
		if (n == -1 && errno == ENOSYS) {
			f->zerocopy = f->spliced = 0;	/* read/write it */
			return flow_move(f, buf, allowed, r);
		}
		if (n > 0) {
			f->bytes += sent;
			*r = werr ? -1 : sent == (size_t)n ? 1 :
			    flow_write(f, buf, (size_t)n - sent);
		}
	} else {
		n = read(f->from, buf, allowed);
		if (n > 0)
			*r = flow_write(f, buf, (size_t)n);
	}
	if (n > 0)
		f->spliced = f->zerocopy && (size_t)n >= SPLICE_MIN;
	return n;
}

/* Read what `from` has and pass it on, until it would block. */
static void
flow_pump(struct flow *f)
{
	struct tunnel *t = f->t;
	char *buf = t->c->w->scratch;
	size_t allowed;
	ssize_t n;
	int r = 0;

	for (;;) {
		if ((allowed = flow_allowance(f)) == 0)
			return;
		n = flow_move(f, buf, allowed, &r);
		if (t->shaped && (n < 0 || (size_t)n < allowed))
			limiter_bytes_unused(t->rq.route->limiter,
			    (struct sockaddr *)&t->c->addr,
			    allowed - (n > 0 ? (size_t)n : 0));
		if (n > 0) {
			idle_touch(&t->idle, now_ms(t->c->w->base));
			if (r == 1 && (size_t)n == allowed)
				continue;	/* likely more waiting */
			if (r == -1)
				tunnel_end(t, "tunnel write error");
			return;
		}
		if (n == 0) {
			f->eof = 1;
			flow_unwatch(f);
			flow_shut(f);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			tunnel_end(t, "tunnel read error");
		return;
	}
}

/* from has input, an EOF or an error (the worker's fdpoll). */
static void
flow_ready(void *arg)
{
	flow_pump(arg);
}

/*
 * Neither side was read for tunnel_idle_timeout (the worker's idle
 * queue).  As when each read event had that timeout: a tunnel whose
 * directions are all blocked on writing (or ended) is not idle but
 * waiting, and its write timeout decides; it is looked at again later.
 */
static void
tunnel_idle_expired(struct idle_entry *e)
{
	struct tunnel *t = (struct tunnel *)((char *)e -
	    offsetof(struct tunnel, idle));
	struct worker *w = t->c->w;

	if ((t->toup.eof || t->toup.pend != NULL) &&
	    (t->down.eof || t->down.pend != NULL) &&
	    idle_start(w->tunnel_idle, e, t->rq.route->tunnel_idle_timeout,
	    now_ms(w->base)) == 0)
		return;
	tunnel_end(t, "tunnel idle timeout");
}

/* `to` can take more: flush the pending bytes, then read again. */
static void
flow_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct flow *f = arg;
	int r;

	(void)fd;
	if (what & EV_TIMEOUT) {
		tunnel_end(f->t, "tunnel write timeout");
		return;
	}
	r = flow_write(f, f->pend + f->pend_off, f->pend_len);
	if (r == 0)
		return;		/* flow_block re-armed us */
	if (r == -1) {
		tunnel_end(f->t, "tunnel write error");
		return;
	}
	/* Unblocked: what only a blocked flow needs goes (freeing the
	 * event from its own callback is allowed). */
	event_free(f->wr);
	f->wr = NULL;
	free(f->pend);
	f->pend = NULL;
	f->pend_len = 0;
	if (f->eof) {
		flow_shut(f);
		return;
	}
	if (flow_watch(f) == -1) {
		tunnel_end(f->t, "tunnel poll error");
		return;
	}
	flow_pump(f);
}

static int
flow_init(struct tunnel *t, struct flow *f, int from, int to)
{
	f->t = t;
	f->from = from;
	f->to = to;
	return flow_watch(f);
}

/*
 * The worker's tunnel epoll set and idle queues, made with its first
 * relaying tunnel; then t's idle timeout starts.  0, or -1.
 */
static int
tunnel_wait_init(struct tunnel *t)
{
	struct worker *w = t->c->w;

	if (w->tunnel_poll == NULL &&
	    (w->tunnel_poll = fdpoll_new(w->base, flow_ready)) == NULL)
		return -1;
	if (w->tunnel_idle == NULL &&
	    (w->tunnel_idle = idle_set_new(w->base,
	    tunnel_idle_expired)) == NULL)
		return -1;
	return idle_start(w->tunnel_idle, &t->idle,
	    t->rq.route->tunnel_idle_timeout, now_ms(w->base));
}

/*
 * Take a socket out of its bufferevent: the bytes already read are
 * returned in `early` (caller frees), the bufferevent is freed without
 * closing the socket.
 */
static int
tunnel_take_fd(struct bufferevent *bev, struct evbuffer **early)
{
	int fd = bufferevent_getfd(bev);

	*early = NULL;
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0 &&
	    (*early = evbuffer_new()) != NULL)
		evbuffer_add_buffer(*early, bufferevent_get_input(bev));
	bufferevent_setfd(bev, -1);
	bufferevent_free(bev);
	return fd;
}

static void
tunnel_free_buffers(struct evbuffer *a, struct evbuffer *b)
{
	if (a)
		evbuffer_free(a);
	if (b)
		evbuffer_free(b);
}

/* Write bytes that arrived before the relay started (bounded by BUF_HIGH). */
static int
tunnel_write_early(struct flow *f, struct evbuffer *buf)
{
	return flow_write(f, (char *)evbuffer_pullup(buf, -1),
	    evbuffer_get_length(buf));
}

static const char tunnel_ok[] =
    "HTTP/1.1 200 Connection established\r\n\r\n";

/* The route's bandwidth, for a relay of bufferevents. */
static size_t
tunnel_allow(void *arg, size_t want, int64_t *wait_ms)
{
	struct tunnel *t = arg;

	if (!t->shaped)
		return want;
	return limiter_bytes(t->rq.route->limiter,
	    (struct sockaddr *)&t->c->addr, want, now_ms(t->c->w->base),
	    wait_ms);
}

static void
tunnel_relay_end(void *arg, const char *why)
{
	tunnel_end(arg, why);
}

static const struct bev_relay_ops tunnel_relay_ops = {
	tunnel_allow,
	tunnel_relay_end,
};

/*
 * The client's socket is not ours to read (TLS decrypts it): relay its
 * bufferevent and the upstream's instead of the descriptors.
 */
static void
tunnel_relay_bev(struct tunnel *t, struct bufferevent *up)
{
	struct client *c = t->c;

	t->rq.status = 200;
	free(t->host);		/* connected: the union is the relay's now */
	t->host = NULL;
	t->tls_relay = 1;
	t->upbev = up;
	bufferevent_write(c->bev, tunnel_ok, sizeof(tunnel_ok) - 1);
	t->relay = bev_relay_new(c->w->base, c->bev, up,
	    t->rq.route->tunnel_idle_timeout, &tunnel_relay_ops, t);
	if (t->relay == NULL) {
		tunnel_end(t, "out of memory");
		return;
	}
	bev_relay_start(t->relay);
}

/* The upstream is connected: answer 200 and start relaying. */
static void
tunnel_relay(struct tunnel *t, struct bufferevent *up)
{
	const char *ok = tunnel_ok;
	struct client *c = t->c;
	struct evbuffer *early, *first;
	int r, zerocopy;

	if (c->tls) {
		tunnel_relay_bev(t, up);
		return;
	}
	t->rq.status = 200;
	/* Decided while the bufferevents still say what the sockets carry;
	 * a shaped tunnel reads in allowances (flow_allowance). */
	zerocopy = !t->shaped && splice_usable(c->bev, up);
	free(t->host);		/* only failover needed it */
	t->host = NULL;
	/* A parent may pass on what a server-speaks-first origin said. */
	t->ufd = tunnel_take_fd(up, &first);
	t->cfd = tunnel_take_fd(c->bev, &early);
	c->bev = NULL;
	/* The sockets move from libevent's epoll set to the worker's tunnel
	 * set (fdpoll.c): an epoll_ctl each way, the price of an idle tunnel
	 * holding no event of its own. */
	if (tunnel_wait_init(t) == -1 ||
	    flow_init(t, &t->toup, t->cfd, t->ufd) == -1 ||
	    flow_init(t, &t->down, t->ufd, t->cfd) == -1) {
		tunnel_free_buffers(early, first);
		tunnel_end(t, "out of memory");
		return;
	}
	t->toup.zerocopy = t->down.zerocopy = zerocopy;
	/* The 200 goes first on the client's side, then what came early;
	 * a redirected client never asked for a tunnel: no 200. */
	if (first && !t->quiet)
		evbuffer_prepend(first, ok, sizeof(tunnel_ok) - 1);
	r = first ? tunnel_write_early(&t->down, first) : t->quiet ? 1 :
	    flow_write(&t->down, ok, sizeof(tunnel_ok) - 1);
	if (!t->quiet)
		t->down.bytes -= sizeof(tunnel_ok) - 1;
	if (r != -1 && early)
		r = tunnel_write_early(&t->toup, early);
	tunnel_free_buffers(early, first);
	if (r == -1)
		tunnel_end(t, "tunnel write error");
}

static void	tunnel_connect(struct tunnel *t);

/* The tunnel never came up: log it and answer the client. */
static void
tunnel_fail(struct tunnel *t, int status, const char *why)
{
	struct client *c = t->c;
	char keep[400];

	why = request_end(&t->rq, status, why, keep, sizeof(keep));
	if (t->quiet) {
		client_close(c, why);	/* frees t: logged already */
		return;
	}
	client_disown(c);
	tunnel_free(t, why);
	client_answer(c, status, why);
}

static void
tunnel_connected(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct tunnel *t = arg;

	t->connecting = NULL;
	request_connected(&t->rq, err, peer);
	if (bev != NULL) {
		tunnel_relay(t, bev);
		return;
	}
	if (!request_failover(&t->rq, err->reason)) {
		tunnel_fail(t, err->status, err->reason);
		return;
	}
	tunnel_connect(t);
}

/* The limits said go (status 0) or no. */
static void
tunnel_admitted(void *arg, int status, const char *why)
{
	struct tunnel *t = arg;

	if (status != 0)
		tunnel_fail(t, status, why);
	else
		tunnel_connect(t);
}

/* Connect through the current upstream (an http parent gets CONNECT). */
static void
tunnel_connect(struct tunnel *t)
{
	const struct upstream_conf *uc = &t->rq.route->upstreams[t->rq.upi];

	t->rq.attempt_start = now_ms(t->c->w->base);
	t->connecting = upstream_connect(upstream_kind_of(uc->type), t->c->w,
	    uc, t->host, t->port, t->rq.route->connect_timeout,
	    tunnel_connected, t);
	if (t->connecting == NULL)
		tunnel_fail(t, 503, "out of memory");
}

/* A refusal before the tunnel exists: an HTTP answer, or (quiet) the
 * access-log line and a close. */
static void
tunnel_refuse(struct client *c, const struct http_request *req, int quiet,
    int status, const char *reason)
{
	if (!quiet) {
		client_refuse(c, req, status, reason);
		return;
	}
	request_log_refusal(c, req, status, reason);
	client_close(c, reason);
}

static void	tunnel_open(struct client *c, const struct http_request *req,
		    size_t head_len, int quiet);

void
tunnel_start(struct client *c, const struct http_request *req,
    size_t head_len)
{
	tunnel_open(c, req, head_len, 0);
}

void
tunnel_start_quiet(struct client *c, const struct http_request *req)
{
	tunnel_open(c, req, 0, 1);
}

/* Check the CONNECT target, route it and connect (or refuse). */
static void
tunnel_open(struct client *c, const struct http_request *req,
    size_t head_len, int quiet)
{
	const struct config *cfg = c->w->cfg;
	struct http_uri uri;
	struct http_error err;
	struct tunnel *t;

	if (http_parse_authority(req->target, req->target_len, &uri,
	    &err) == -1) {
		tunnel_refuse(c, req, quiet, err.status, err.reason);
		return;
	}
	if (!port_range_match_any(cfg->connect_ports, cfg->nconnect_ports,
	    uri.port)) {
		tunnel_refuse(c, req, quiet, 403,
		    "CONNECT to this port is not allowed");
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    request_init(&t->rq, c, req->method, req->method_len,
	    req->target, req->target_len) == -1 ||
	    (t->host = strndup(uri.host, uri.host_len)) == NULL) {
		if (t) {
			request_release(&t->rq);
			free(t->host);
		}
		free(t);
		tunnel_refuse(c, req, quiet, 503, "out of memory");
		return;
	}
	t->c = c;
	t->quiet = quiet;
	metrics_tunnels(c->w->metrics, 1);
	t->cfd = t->ufd = -1;
	t->port = uri.port;
	t->rq.route = request_route_host(c, req, uri.host, uri.host_len,
	    uri.port);
	t->rq.upi = upstream_next(t->rq.route, -1, 0, t->rq.start);
	evbuffer_drain(bufferevent_get_input(c->bev), head_len);
	client_own(c, &tunnel_client_ops, t);
	/* A plain client's 200 is written on the socket by the relay: the
	 * write event the bufferevent enabled (in this loop turn, for a
	 * new client) never reaches epoll, saving an epoll_ctl pair and a
	 * wakeup; a refusal's client_answer() turns writing back on. */
	bev_write_direct(c->bev);
	/* No client timeout while connecting: the connect timeout bounds it. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	t->shaped = t->rq.route->bandwidth || t->rq.route->client_bandwidth;
	if (t->rq.upi == -1)
		tunnel_fail(t, 403, request_denied(&t->rq));
	else
		request_admit(&t->rq, tunnel_admitted, t);
}
