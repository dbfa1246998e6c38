/*
 * bev_relay.c - relaying bytes both ways between two bufferevents: the
 * CONNECT tunnels whose client side is not a plain socket (a client of a
 * tls listener, whose bytes OpenSSL decrypts and encrypts), where
 * tunnel.c's read(2)/write(2) relay cannot take the descriptor.
 *
 * The same rules as that relay: backpressure (a side's output above
 * BUF_HIGH stops reading the other side until it drains to BUF_LOW), an
 * EOF passed on as a half-close once the bytes before it are written
 * (close_notify first on a TLS side), the end when both directions have
 * ended, on an error, or when neither side moved for the idle timeout;
 * and the owner's byte allowance (bandwidth) asked before bytes move.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bev_relay.h"
#include "proxyd.h"
#include "tls_server.h"

struct relay_side {
	struct bev_relay	*r;
	struct bufferevent	*bev;
	struct relay_side	*to;		/* where its input goes */
	struct event		*shape;		/* waiting for allowance */
	uint64_t		 moved;		/* bytes from it to `to` */
	int			 eof;		/* it sent EOF */
	int			 shut;		/* its write side was shut */
};

struct bev_relay {
	struct relay_side		 side[2];
	const struct bev_relay_ops	*ops;
	void				*arg;
	struct event_base		*base;
	int				 idle_ms;
	int64_t				 last_active;
	int				 ending;
};

static void	side_move(struct relay_side *s);

/* The relay is over: the owner frees it (from inside ops->end, maybe). */
static void
relay_end(struct bev_relay *r, const char *why)
{
	if (r->ending)
		return;
	r->ending = 1;
	r->ops->end(r->arg, why);
}

/* Shut s's write side: its peer has sent all it will. */
static void
side_shut(struct relay_side *s)
{
	struct bev_relay	*r = s->r;

	s->shut = 1;
	tls_server_close_notify(s->bev);
	shutdown(bufferevent_getfd(s->bev), SHUT_WR);
	if (r->side[0].shut && r->side[1].shut)
		relay_end(r, "both sides closed");
}

static void
shape_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_side	*s = arg;

	(void)fd;
	(void)what;
	bufferevent_enable(s->bev, EV_READ);
	side_move(s);
}

/*
 * How much of want may move now; 0: reading s stops until the owner's
 * allowance comes back (a timer), or for good when out of memory.
 */
static size_t
side_allowance(struct relay_side *s, size_t want)
{
	struct bev_relay	*r = s->r;
	struct timeval		 tv;
	int64_t			 wait = 0;
	size_t			 n;

	if (r->ops->allow == NULL)
		return want;
	if ((n = r->ops->allow(r->arg, want, &wait)) > 0)
		return n;
	if (s->shape == NULL &&
	    (s->shape = evtimer_new(r->base, shape_cb, s)) == NULL)
		return want;	/* cannot wait: do not stall */
	bufferevent_disable(s->bev, EV_READ);
	evtimer_add(s->shape, ms_to_tv(wait > 0 ? (int)wait : 10, &tv));
	return 0;
}

/*
 * Move what s has read to its partner's output, as far as allowed; after
 * s's EOF, shut the partner once that output is empty.  May end the
 * relay: callers touch nothing after it.
 */
static void
side_move(struct relay_side *s)
{
	struct evbuffer	*in = bufferevent_get_input(s->bev);
	struct evbuffer	*out = bufferevent_get_output(s->to->bev);
	size_t		 len, n;

	while ((len = evbuffer_get_length(in)) > 0) {
		if (len > TUNNEL_CHUNK)
			len = TUNNEL_CHUNK;
		if ((n = side_allowance(s, len)) == 0)
			return;
		if (n > len)
			n = len;
		n = (size_t)evbuffer_remove_buffer(in, out, n);
		s->moved += n;
		s->r->last_active = now_ms(s->r->base);
	}
	if (evbuffer_get_length(out) > BUF_HIGH)
		bufferevent_disable(s->bev, EV_READ);	/* until it drains */
	else if (s->eof && !s->to->shut && evbuffer_get_length(out) == 0)
		side_shut(s->to);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	side_move(arg);
}

/* s's output went below BUF_LOW (or empty): its partner may read again. */
static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct relay_side	*s = arg;
	struct relay_side	*from = s->to;

	(void)bev;
	if (from->eof) {
		if (!s->shut && evbuffer_get_length(
		    bufferevent_get_output(s->bev)) == 0)
			side_shut(s);
		return;
	}
	if (from->shape == NULL || !evtimer_pending(from->shape, NULL))
		bufferevent_enable(from->bev, EV_READ);
	side_move(from);
}

/* A read timeout: end the relay only if neither side moved lately. */
static void
side_idle(struct relay_side *s)
{
	struct bev_relay	*r = s->r;

	if (now_ms(r->base) - r->last_active >= r->idle_ms)
		relay_end(r, "tunnel idle timeout");
	else
		bufferevent_enable(s->bev, EV_READ);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct relay_side	*s = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		side_idle(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		s->eof = 1;
		side_move(s);	/* last: it may end (and free) the relay */
		return;
	}
	if (what & BEV_EVENT_ERROR)
		relay_end(s->r, what & BEV_EVENT_WRITING ?
		    "tunnel write error" : "tunnel read error");
}

static void
side_init(struct bev_relay *r, int i, struct bufferevent *bev)
{
	struct relay_side	*s = &r->side[i];
	struct timeval		 tv;

	s->r = r;
	s->bev = bev;
	s->to = &r->side[!i];
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_setwatermark(bev, EV_WRITE, BUF_LOW, 0);
	bufferevent_set_timeouts(bev, ms_to_tv(r->idle_ms, &tv), NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

struct bev_relay *
bev_relay_new(struct event_base *base, struct bufferevent *a,
    struct bufferevent *b, int idle_ms, const struct bev_relay_ops *ops,
    void *arg)
{
	struct bev_relay	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->ops = ops;
	r->arg = arg;
	r->base = base;
	r->idle_ms = idle_ms;
	r->last_active = now_ms(base);
	side_init(r, 0, a);
	side_init(r, 1, b);
	return r;
}

void
bev_relay_start(struct bev_relay *r)
{
	int	i;

	/* What either side sent before the relay existed, from the loop:
	 * moving it may end the relay, which the caller still holds. */
	for (i = 0; i < 2; i++)
		if (evbuffer_get_length(bufferevent_get_input(
		    r->side[i].bev)) > 0)
			bufferevent_trigger(r->side[i].bev, EV_READ,
			    BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
}

uint64_t
bev_relay_moved(const struct bev_relay *r, int from)
{
	return r->side[from].moved;
}

void
bev_relay_free(struct bev_relay *r)
{
	int	i;

	if (r == NULL)
		return;
	for (i = 0; i < 2; i++) {
		bufferevent_setcb(r->side[i].bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(r->side[i].bev, EV_READ | EV_WRITE);
		if (r->side[i].shape)
			event_free(r->side[i].shape);
	}
	free(r);
}
