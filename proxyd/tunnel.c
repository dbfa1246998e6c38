/*
 * tunnel.c - CONNECT tunnels.
 *
 * After the upstream connects, the client gets "200 Connection
 * established" and bytes flow both ways unchanged.  Each direction stops
 * reading when the other side's output passes BUF_HIGH and resumes below
 * BUF_LOW.  An EOF is passed on as a half-close (shutdown SHUT_WR) once
 * what preceded it is flushed; the tunnel ends when both directions have
 * ended, on any error, or when neither side moved for tunnel_idle_timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "client.h"
#include "log.h"
#include "tunnel.h"
#include "upstream.h"

/* One direction: bytes read on src are written to dst. */
struct half {
	struct bufferevent	*src;
	struct bufferevent	*dst;
	int			 eof;	/* src sent EOF */
	int			 shut;	/* dst write side shut down */
	int			 paused; /* src reads off: dst output full */
	uint64_t		 bytes;
};

struct tunnel {
	struct client		*c;
	struct upconn		*connecting;
	struct bufferevent	*up;
	struct half		 toup;	/* client -> upstream */
	struct half		 down;	/* upstream -> client */
	char			 host[256];
	uint16_t		 port;
	char			 target[272];
	char			 peer[56];
	int			 status;
	int64_t			 start;
	int64_t			 last_active;
};

static void	tunnel_end(struct tunnel *t, const char *why);

void
tunnel_free(struct tunnel *t, const char *reason)
{
	struct access_entry e;

	memset(&e, 0, sizeof(e));
	e.client = t->c->peer;
	e.method = "CONNECT";
	e.target = t->target;
	e.status = t->status;
	e.bytes_in = t->toup.bytes;
	e.bytes_out = t->down.bytes;
	e.ms = now_ms(t->c->w->base) - t->start;
	e.upstream = t->peer[0] ? t->peer : "-";
	e.note = t->status == 200 ? NULL : reason;
	log_access(t->c->w->log, &e);
	if (t->connecting)
		upstream_cancel(t->connecting);
	if (t->up)
		bufferevent_free(t->up);
	free(t);
}

/* End the tunnel: the client's teardown frees it (and logs). */
static void
tunnel_end(struct tunnel *t, const char *why)
{
	client_close(t->c, why);
}

static struct half *
tunnel_half_from(struct tunnel *t, struct bufferevent *src)
{
	return src == t->toup.src ? &t->toup : &t->down;
}

static struct half *
tunnel_half_to(struct tunnel *t, struct bufferevent *dst)
{
	return dst == t->toup.dst ? &t->toup : &t->down;
}

/* After src's EOF and a flushed dst: pass the half-close on. */
static void
tunnel_maybe_shut(struct tunnel *t, struct half *h)
{
	if (!h->eof || h->shut ||
	    evbuffer_get_length(bufferevent_get_output(h->dst)) != 0)
		return;
	h->shut = 1;
	shutdown(bufferevent_getfd(h->dst), SHUT_WR);
	if (t->toup.shut && t->down.shut)
		tunnel_end(t, "both sides closed");
}

static void
tunnel_relay(struct tunnel *t, struct half *h)
{
	struct evbuffer *in = bufferevent_get_input(h->src);
	struct evbuffer *out = bufferevent_get_output(h->dst);

	h->bytes += evbuffer_get_length(in);
	evbuffer_add_buffer(out, in);
	t->last_active = now_ms(t->c->w->base);
	if (evbuffer_get_length(out) >= BUF_HIGH && !h->paused) {
		h->paused = 1;
		bufferevent_disable(h->src, EV_READ);
		bufferevent_setwatermark(h->dst, EV_WRITE, BUF_LOW, 0);
	}
}

static void
tunnel_read_cb(struct bufferevent *bev, void *arg)
{
	struct tunnel *t = arg;

	tunnel_relay(t, tunnel_half_from(t, bev));
}

/* dst drained below its low watermark (or empty after an EOF). */
static void
tunnel_write_cb(struct bufferevent *bev, void *arg)
{
	struct tunnel *t = arg;
	struct half *h = tunnel_half_to(t, bev);

	if (h->paused) {
		h->paused = 0;
		bufferevent_setwatermark(h->dst, EV_WRITE, 0, 0);
		if (!h->eof)
			bufferevent_enable(h->src, EV_READ);
	}
	tunnel_maybe_shut(t, h);
}

/* A read timeout: end the tunnel only if neither side moved lately. */
static void
tunnel_timeout(struct tunnel *t, struct bufferevent *bev)
{
	int idle = t->c->w->cfg->tunnel_idle_timeout;
	int64_t quiet = now_ms(t->c->w->base) - t->last_active;
	struct timeval tv;

	if (quiet >= idle) {
		tunnel_end(t, "tunnel idle timeout");
		return;
	}
	bufferevent_set_timeouts(bev, ms_to_tv((int)(idle - quiet), &tv),
	    NULL);
	bufferevent_enable(bev, EV_READ);
}

static void
tunnel_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tunnel *t = arg;
	struct half *h = tunnel_half_from(t, bev);

	if (what & BEV_EVENT_EOF) {
		h->eof = 1;
		tunnel_relay(t, h);
		tunnel_maybe_shut(t, h);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		tunnel_timeout(t, bev);
		return;
	}
	tunnel_end(t, what & BEV_EVENT_TIMEOUT ? "tunnel write timeout" :
	    "tunnel connection error");
}

/* Both sides get the relay callbacks, limits and timeouts. */
static void
tunnel_setup_side(struct tunnel *t, struct bufferevent *bev)
{
	struct timeval tv;

	bufferevent_setcb(bev, tunnel_read_cb, tunnel_write_cb,
	    tunnel_event_cb, t);
	bufferevent_setwatermark(bev, EV_READ, 0, BUF_HIGH);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_set_max_single_read(bev, READ_CHUNK);
	bufferevent_set_timeouts(bev,
	    ms_to_tv(t->c->w->cfg->tunnel_idle_timeout, &tv),
	    ms_to_tv(t->c->w->cfg->tunnel_idle_timeout, &tv));
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
tunnel_connected(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct tunnel *t = arg;
	struct client *c = t->c;

	t->connecting = NULL;
	snprintf(t->peer, sizeof(t->peer), "%s", peer);
	if (bev == NULL) {
		t->status = err->status;
		c->tun = NULL;
		tunnel_free(t, err->reason);
		client_refuse(c, err->status, err->reason);
		return;
	}
	t->status = 200;
	t->up = bev;
	t->toup.src = c->bev;
	t->toup.dst = bev;
	t->down.src = bev;
	t->down.dst = c->bev;
	evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "HTTP/1.1 200 Connection established\r\n\r\n");
	t->last_active = now_ms(c->w->base);
	tunnel_setup_side(t, c->bev);
	tunnel_setup_side(t, bev);
	/* Bytes the client sent right after its CONNECT head. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		tunnel_relay(t, &t->toup);
}

void
tunnel_start(struct client *c, const struct http_request *req,
    size_t head_len)
{
	const struct config *cfg = c->w->cfg;
	struct http_uri uri;
	struct http_error err;
	struct tunnel *t;

	if (http_parse_authority(req->target, req->target_len, &uri,
	    &err) == -1) {
		client_refuse(c, err.status, err.reason);
		return;
	}
	if (!port_range_match_any(cfg->connect_ports, cfg->nconnect_ports,
	    uri.port)) {
		client_refuse(c, 403, "CONNECT to this port is not allowed");
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		client_refuse(c, 503, "out of memory");
		return;
	}
	t->c = c;
	t->start = now_ms(c->w->base);
	t->port = uri.port;
	snprintf(t->host, sizeof(t->host), "%.*s", (int)uri.host_len,
	    uri.host);
	snprintf(t->target, sizeof(t->target), "%.*s", (int)req->target_len,
	    req->target);
	evbuffer_drain(bufferevent_get_input(c->bev), head_len);
	c->tun = t;
	c->state = CLIENT_TUNNEL;
	/* No client timeout while connecting: the connect timeout bounds it. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	t->connecting = upstream_connect(&upstream_direct, c->w, t->host,
	    t->port, cfg->connect_timeout, tunnel_connected, t);
	if (t->connecting == NULL) {
		c->tun = NULL;
		tunnel_free(t, "out of memory");
		client_refuse(c, 503, "out of memory");
	}
}
