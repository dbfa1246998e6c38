/*
 * upstream.c - connecting to a destination.
 *
 * The "direct" kind: resolve with evdns (hosts file first, then DNS;
 * IPv4 and IPv6), then try each address in order until one connects.  One
 * timer bounds DNS and every attempt together, so a destination costs at
 * most its connect timeout whatever the number of addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "upstream.h"

struct direct_conn {
	struct upconn			 base;	/* first: cast target */
	struct worker			*w;
	char				 host[256];
	uint16_t			 port;
	struct evdns_getaddrinfo_request *dnsreq;
	struct evutil_addrinfo		*ai;	/* all addresses */
	struct evutil_addrinfo		*cur;	/* being tried */
	struct bufferevent		*bev;	/* attempt in progress */
	struct event			*timer;	/* whole-connect deadline */
	upstream_cb			*cb;
	void				*arg;
	int				 starting; /* inside upstream_connect */
	int				 orphan;   /* freed, awaiting DNS cancel */
	int				 deferred_status; /* failed while starting */
	char				 deferred_why[256];
	int				 last_errno;
	int				 dns_error;
	char				 peer[56];
};

static void	upconn_try_next(struct direct_conn *u);

void
upstream_tune_socket(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Free the attempt.  A pending DNS lookup is cancelled, but evdns still
 * calls upconn_dns_cb once more (EVUTIL_EAI_CANCEL), possibly later: the
 * struct is then left to that callback.
 */
static void
upconn_free(struct direct_conn *u)
{
	struct evdns_getaddrinfo_request *req = u->dnsreq;

	if (u->bev)
		bufferevent_free(u->bev);
	if (u->ai)
		evutil_freeaddrinfo(u->ai);
	if (u->timer)
		event_free(u->timer);
	u->bev = NULL;
	u->ai = NULL;
	u->timer = NULL;
	if (req) {
		u->orphan = 1;
		u->dnsreq = NULL;
		evdns_getaddrinfo_cancel(req);	/* may free u */
		return;
	}
	free(u);
}

/*
 * Deliver the result and free the attempt.  A result known while
 * upstream_connect() is still on the stack (a numeric host that cannot be
 * connected, a DNS error from the hosts file) is delivered from the event
 * loop instead, so callers never see their callback run inside the call.
 */
static void
upconn_finish(struct direct_conn *u, struct bufferevent *bev, int status,
    const char *why)
{
	struct http_error err = { status, NULL };
	char reason[384], peer[56];
	upstream_cb *cb = u->cb;
	void *arg = u->arg;
	struct timeval zero = { 0, 0 };

	if (u->starting) {
		u->deferred_status = status;
		snprintf(u->deferred_why, sizeof(u->deferred_why), "%s", why);
		evtimer_add(u->timer, &zero);
		return;
	}
	if (bev)
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	snprintf(reason, sizeof(reason), "%s:%u: %s", u->host, u->port, why);
	err.reason = reason;
	snprintf(peer, sizeof(peer), "%s", u->peer[0] ? u->peer : "-");
	upconn_free(u);
	cb(bev, bev ? NULL : &err, peer, arg);
}

static void
upconn_fail(struct direct_conn *u)
{
	char why[256];

	if (u->dns_error) {
		snprintf(why, sizeof(why), "cannot resolve host: %s",
		    evutil_gai_strerror(u->dns_error));
		upconn_finish(u, NULL, 502, why);
	} else {
		snprintf(why, sizeof(why), "connect failed: %s",
		    strerror(u->last_errno ? u->last_errno : ECONNREFUSED));
		upconn_finish(u, NULL, 502, why);
	}
}

static void
upconn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct direct_conn *u = arg;

	(void)fd;
	(void)what;
	if (u->deferred_status) {
		upconn_finish(u, NULL, u->deferred_status, u->deferred_why);
		return;
	}
	upconn_finish(u, NULL, 504, u->ai || u->peer[0] ?
	    "connect timed out" : "name resolution timed out");
}

static void
upconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct direct_conn *u = arg;

	if (what & BEV_EVENT_CONNECTED) {
		u->bev = NULL;
		upstream_tune_socket(bufferevent_getfd(bev));
		upconn_finish(u, bev, 0, "connected");
		return;
	}
	u->last_errno = EVUTIL_SOCKET_ERROR();
	u->bev = NULL;
	bufferevent_free(bev);
	upconn_try_next(u);
}

/* Try the next resolved address; fail when none is left. */
static void
upconn_try_next(struct direct_conn *u)
{
	struct evutil_addrinfo *a;
	struct bufferevent *bev;

	for (a = u->cur ? u->cur->ai_next : u->ai; a; a = a->ai_next) {
		u->cur = a;
		sockaddr_text(a->ai_addr, u->peer, sizeof(u->peer));
		bev = bufferevent_socket_new(u->w->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			u->last_errno = ENOMEM;
			continue;
		}
		bufferevent_setcb(bev, NULL, NULL, upconn_event_cb, u);
		if (bufferevent_socket_connect(bev, a->ai_addr,
		    (int)a->ai_addrlen) == 0) {
			u->bev = bev;
			return;
		}
		u->last_errno = EVUTIL_SOCKET_ERROR();
		bufferevent_free(bev);
	}
	upconn_fail(u);
}

static void
upconn_dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct direct_conn *u = arg;

	u->dnsreq = NULL;
	if (u->orphan) {
		if (res)
			evutil_freeaddrinfo(res);
		free(u);
		return;
	}
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0) {
		u->dns_error = result;
		upconn_fail(u);
		return;
	}
	u->ai = res;
	u->cur = NULL;
	upconn_try_next(u);
}

static int
is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

static void
direct_cancel(struct upconn *base)
{
	upconn_free((struct direct_conn *)base);
}

static struct upconn *
direct_connect(struct worker *w, const struct upstream_conf *uc,
    const char *host, uint16_t port, int timeout_ms, upstream_cb *cb,
    void *arg)
{
	struct evutil_addrinfo hints;
	struct timeval tv;
	struct direct_conn *u;
	char portstr[8];

	(void)uc;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->base.cancel = direct_cancel;
	u->w = w;
	u->cb = cb;
	u->arg = arg;
	u->port = port;
	snprintf(u->host, sizeof(u->host), "%s", host);
	if ((u->timer = evtimer_new(w->base, upconn_timeout_cb, u)) == NULL) {
		free(u);
		return NULL;
	}
	evtimer_add(u->timer, ms_to_tv(timeout_ms, &tv));

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/*
	 * ADDRCONFIG spares AAAA lookups on IPv4-only hosts, but libevent
	 * would then refuse an IPv6 literal such as ::1: not for literals.
	 */
	hints.ai_flags = is_ip_literal(host) ? EVUTIL_AI_NUMERICHOST :
	    EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", port);

	u->starting = 1;
	u->dnsreq = evdns_getaddrinfo(w->dns, u->host, portstr, &hints,
	    upconn_dns_cb, u);
	u->starting = 0;
	return &u->base;
}

const struct upstream_kind upstream_direct = {
	"direct",
	direct_connect,
};

static int
upstream_usable(const struct upstream_conf *uc, int module)
{
	return uc->type != UPSTREAM_DENY &&
	    (uc->type != UPSTREAM_MIRROR || module);
}

static int
upstream_is_up(const struct upstream_conf *uc, int64_t now)
{
	return __atomic_load_n(&uc->health->down_until, __ATOMIC_RELAXED) <=
	    now;
}

int
upstream_is_down(const struct upstream_conf *uc, int64_t now)
{
	return !upstream_is_up(uc, now);
}

int
upstream_next(const struct route *r, int after, int module, int64_t now)
{
	size_t i;
	int any_up = 0;

	for (i = 0; i < r->nupstreams; i++)
		if (upstream_usable(&r->upstreams[i], module) &&
		    upstream_is_up(&r->upstreams[i], now))
			any_up = 1;
	for (i = (size_t)(after + 1); i < r->nupstreams; i++)
		if (upstream_usable(&r->upstreams[i], module) &&
		    (!any_up || upstream_is_up(&r->upstreams[i], now)))
			return (int)i;
	return -1;
}

void
upstream_report(const struct route *r, int i, int ok, int64_t now)
{
	struct upstream_health *h = r->upstreams[i].health;
	int fails;

	if (ok) {
		__atomic_store_n(&h->fails, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&h->down_until, 0, __ATOMIC_RELAXED);
		return;
	}
	fails = __atomic_add_fetch(&h->fails, 1, __ATOMIC_RELAXED);
	if (fails >= r->fail_threshold)
		__atomic_store_n(&h->down_until, now + r->fail_cooldown,
		    __ATOMIC_RELAXED);
}

const struct upstream_kind *
upstream_kind_of(enum upstream_type t)
{
	switch (t) {
	case UPSTREAM_DIRECT:
		return &upstream_direct;
	case UPSTREAM_HTTP:
		return &upstream_http;
	case UPSTREAM_SOCKS5:
		return &upstream_socks5;
	default:
		return NULL;
	}
}

struct upconn *
upstream_connect(const struct upstream_kind *kind, struct worker *w,
    const struct upstream_conf *uc, const char *host, uint16_t port,
    int timeout_ms, upstream_cb *cb, void *arg)
{
	return kind->connect(w, uc, host, port, timeout_ms, cb, arg);
}

void
upstream_cancel(struct upconn *u)
{
	if (u)
		u->cancel(u);
}
