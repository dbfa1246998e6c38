/*
 * upstream.c - connecting to a destination.
 *
 * The "direct" kind: resolve with evdns (hosts file first, then DNS;
 * IPv4 and IPv6), then try each address in order until one connects.  One
 * timer bounds DNS and every attempt together, so a destination costs at
 * most its connect timeout whatever the number of addresses.
 *
 * Also the staged connect (upstream.h), on which the http, socks5 and
 * TLS attempts are built, and the failover bookkeeping of routes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "addr.h"
#include "destpolicy.h"
#include "log.h"
#include "throttle.h"
#include "upstream.h"

struct direct_conn {
	struct upconn			 base;	/* first: cast target */
	struct worker			*w;
	const struct route		*route;	/* policy; NULL: none */
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
	int				 allowed; /* addresses the policy let by */
	char				 denied[160]; /* the first refusal */
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
	char reason[384], peer[56], where[272];
	upstream_cb *cb = u->cb;
	void *arg = u->arg;
	struct timeval zero = { 0, 0 };

	if (u->starting) {
		u->deferred_status = status;
		snprintf(u->deferred_why, sizeof(u->deferred_why), "%s", why);
		evtimer_add(u->timer, &zero);
		return;
	}
	if (bev) {
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	} else {
		/* "[::1]:443: ...", as staged_dial() expects it; a connect
		 * that worked has no reason to print. */
		addr_format(where, sizeof(where), u->host, u->port, 0);
		snprintf(reason, sizeof(reason), "%s: %s", where, why);
		err.reason = reason;
	}
	snprintf(peer, sizeof(peer), "%s", u->peer[0] ? u->peer : "-");
	upconn_free(u);
	cb(bev, bev ? NULL : &err, peer, arg);
}

static void
upconn_fail(struct direct_conn *u)
{
	char why[256];

	if (u->denied[0] && u->allowed == 0) {
		/* Every address was forbidden: the client hears why. */
		upconn_finish(u, NULL, 403, u->denied);
	} else if (u->dns_error) {
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

/*
 * May the attempt connect to sa?  A forbidden address is skipped and
 * the first reason kept, so that a name with an allowed address among
 * forbidden ones still works.  Audit-mode refusals are allowed here:
 * request.c logs them from the peer connected to.
 */
static int
upconn_allowed(struct direct_conn *u, const struct sockaddr *sa)
{
	char why[160];

	if (dest_check(u->route, sa, why, sizeof(why)) == DEST_DENY) {
		if (u->denied[0] == '\0')
			snprintf(u->denied, sizeof(u->denied), "%s", why);
		return 0;
	}
	u->allowed++;
	return 1;
}

/* Try the next resolved address; fail when none is left. */
static void
upconn_try_next(struct direct_conn *u)
{
	struct evutil_addrinfo *a;
	struct bufferevent *bev;

	for (a = u->cur ? u->cur->ai_next : u->ai; a; a = a->ai_next) {
		u->cur = a;
		if (!upconn_allowed(u, a->ai_addr))
			continue;
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
			bev_own_reads(bev);
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

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->base.cancel = direct_cancel;
	u->w = w;
	u->route = uc ? uc->route : NULL;
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
	hints.ai_flags = addr_ip_literal(host, strlen(host), NULL) ?
	    EVUTIL_AI_NUMERICHOST : EVUTIL_AI_ADDRCONFIG;
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

/* "host:port", an IPv6 literal bracketed unless it already is. */
void
upstream_hostport(char *buf, size_t len, const char *host, uint16_t port)
{
	addr_format(buf, len, host, port, 0);
}

/* --- the staged connect --- */

/* Free s and all it holds, at any phase, without calling back. */
void
staged_free(struct staged_conn *s)
{
	/* Cancelling the dial also handles its pending DNS lookup. */
	if (s->inner)
		upstream_cancel(s->inner);
	if (s->bev)
		bufferevent_free(s->bev);
	event_free(s->timer);
	if (s->ops->release)
		s->ops->release(s);
	free(s);
}

/*
 * End the attempt with bev (success) or with the failure in s->fail_*:
 * free it first, then report, because the callback may well start
 * something that reuses the memory and must not find the attempt half
 * alive.  bev is handed over as upstream.h promises (no callbacks,
 * reading off).
 */
static void
staged_end(struct staged_conn *s, struct bufferevent *bev)
{
	struct http_error err = { s->fail_status, NULL };
	upstream_cb *cb = s->cb;
	void *arg = s->arg;
	char peer[sizeof(s->peer)], reason[sizeof(s->fail_why)];

	if (s->ops->finish)
		s->ops->finish(s, bev);
	if (bev) {
		s->bev = NULL;
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(bev, EV_READ);
	}
	snprintf(peer, sizeof(peer), "%s", s->peer[0] ? s->peer : "-");
	/* The reason lives in s, which is about to go. */
	snprintf(reason, sizeof(reason), "%s", s->fail_why);
	err.reason = reason;
	staged_free(s);
	cb(bev, bev ? NULL : &err, peer, arg);
}

/* Success: s->bev goes to the callback, s is freed. */
void
staged_deliver(struct staged_conn *s)
{
	staged_end(s, s->bev);
}

/*
 * Fail with status and a printf reason: at once, or through the zero
 * timer while the connect call is on the stack.  s may be gone after.
 */
void
staged_fail(struct staged_conn *s, int status, const char *fmt, ...)
{
	struct timeval zero = { 0, 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->fail_why, sizeof(s->fail_why), fmt, ap);
	va_end(ap);
	s->fail_status = status;
	if (s->starting) {
		evtimer_add(s->timer, &zero);
		return;
	}
	staged_end(s, NULL);
}

/*
 * The deadline passed during the handshake, or a failure parked inside
 * the connect call is due.  The timer is only armed by those two.
 */
static void
staged_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct staged_conn *s = arg;

	(void)fd;
	(void)what;
	if (s->starting) {
		staged_end(s, NULL);
		return;
	}
	s->ops->timeout(s);
}

/* upstream_cancel(): abandon the attempt at any phase; cb is not called. */
static void
staged_cancel(struct upconn *base)
{
	staged_free((struct staged_conn *)base);
}

/* A zeroed, starting attempt of size bytes; NULL: out of memory. */
void *
staged_new(size_t size, const struct staged_ops *ops, struct worker *w,
    int timeout_ms, upstream_cb *cb, void *arg)
{
	struct staged_conn *s;

	if ((s = calloc(1, size)) == NULL)
		return NULL;
	s->base.cancel = staged_cancel;
	s->ops = ops;
	s->w = w;
	s->cb = cb;
	s->arg = arg;
	s->deadline = now_ms(w->base) + timeout_ms;
	s->starting = 1;
	if ((s->timer = evtimer_new(w->base, staged_timer_cb, s)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* What is left of the deadline, in ms, never negative. */
static int
staged_left(const struct staged_conn *s)
{
	int64_t left = s->deadline - now_ms(s->w->base);

	return left > 0 ? (int)left : 0;
}

/* The handshake began: the timer gets what is left of the deadline. */
void
staged_wait(struct staged_conn *s)
{
	struct timeval tv;

	s->starting = 0;
	evtimer_add(s->timer, ms_to_tv(staged_left(s), &tv));
}

/*
 * The dial is over.  A failure's reason starts with the parent's
 * "host:port: " (unbracketed, as the direct kind writes it): drop it, the
 * kind names the hop its own way.
 */
static void
staged_dialed(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg)
{
	struct staged_conn *s = arg;
	struct http_error inner;
	size_t n = strlen(s->dial_prefix);

	s->inner = NULL;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	if (bev == NULL) {
		inner.status = err->status;
		inner.reason = strncmp(err->reason, s->dial_prefix, n) == 0 ?
		    err->reason + n : err->reason;
		s->ops->dialed(s, &inner);
		return;
	}
	s->bev = bev;
	s->ops->dialed(s, NULL);
}

/* Dial host:port directly within the deadline; 0, or -1: no memory. */
int
staged_dial(struct staged_conn *s, const char *host, uint16_t port)
{
	char where[272];

	/* What upconn_fail() puts before its reason. */
	addr_format(where, sizeof(where), host, port, 0);
	snprintf(s->dial_prefix, sizeof(s->dial_prefix), "%s: ", where);
	/* The direct kind never calls back from inside its connect call. */
	s->starting = 0;
	s->inner = upstream_connect(&upstream_direct, s->w, NULL, host, port,
	    staged_left(s), staged_dialed, s);
	return s->inner ? 0 : -1;
}

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

/*
 * An upstream that works again.  Only the thread that resets a count
 * that had reached the threshold says so (the exchange), and the common
 * case, a healthy upstream, only reads the shared counter.
 */
static void
upstream_report_ok(struct logger *log, const struct route *r, int i)
{
	struct upstream_health *h = r->upstreams[i].health;
	int fails;

	if (__atomic_load_n(&h->fails, __ATOMIC_RELAXED) == 0)
		return;
	fails = __atomic_exchange_n(&h->fails, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&h->down_until, 0, __ATOMIC_RELAXED);
	if (fails >= r->fail_threshold)
		log_error(log, "route %s: %s is up again, after %d failures "
		    "in a row", r->name, r->upstreams[i].label, fails);
}

/*
 * Is it time for another "still down" line?  Shared by every worker, so
 * the throttle is a compare-and-swap on the time of the last line: of
 * the threads failing at once, one wins and logs.
 */
static int
upstream_down_line_due(struct upstream_health *h, int64_t now)
{
	int64_t last = __atomic_load_n(&h->logged, __ATOMIC_RELAXED);

	return now - last >= THROTTLE_INTERVAL_MS &&
	    __atomic_compare_exchange_n(&h->logged, &last, now, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

int
upstream_failing_long(const struct route *r, int i)
{
	return __atomic_load_n(&r->upstreams[i].health->fails,
	    __ATOMIC_RELAXED) > r->fail_threshold;
}

void
upstream_report(struct logger *log, const struct route *r, int i, int ok,
    int64_t now)
{
	struct upstream_health *h = r->upstreams[i].health;
	int fails;

	if (ok) {
		upstream_report_ok(log, r, i);
		return;
	}
	fails = __atomic_add_fetch(&h->fails, 1, __ATOMIC_RELAXED);
	if (fails < r->fail_threshold)
		return;
	__atomic_store_n(&h->down_until, now + r->fail_cooldown,
	    __ATOMIC_RELAXED);
	if (fails == r->fail_threshold) {
		__atomic_store_n(&h->logged, now, __ATOMIC_RELAXED);
		log_error(log, "route %s: %s is down for %d ms, after %d "
		    "failures in a row", r->name, r->upstreams[i].label,
		    r->fail_cooldown, fails);
	} else if (upstream_down_line_due(h, now)) {
		log_error(log, "route %s: %s still down, %d failures in a row",
		    r->name, r->upstreams[i].label, fails);
	}
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

/*
 * A connect refused before it began (a parent asked for an IP literal
 * the destination policy forbids): the 403 is delivered from the event
 * loop, as every kind's result is.
 */
struct refused_conn {
	struct upconn	 base;		/* first: cast target */
	struct event	*timer;
	upstream_cb	*cb;
	void		*arg;
	char		 why[440];
};

static void
refused_cancel(struct upconn *base)
{
	struct refused_conn *r = (struct refused_conn *)base;

	event_free(r->timer);
	free(r);
}

static void
refused_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct refused_conn *r = arg;
	struct http_error err = { 403, NULL };
	upstream_cb *cb = r->cb;
	void *cbarg = r->arg;
	char why[sizeof(r->why)];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "%s", r->why);
	err.reason = why;
	refused_cancel(&r->base);
	cb(NULL, &err, "-", cbarg);
}

/*
 * Is host:port an IP literal uc's route may not reach?  The direct kind
 * checks every address itself; a parent resolves names where proxyd
 * cannot see them, so for parents only a literal can be judged here.
 */
static int
literal_forbidden(const struct upstream_conf *uc, const char *host,
    uint16_t port, char *why, size_t len)
{
	char where[272], reason[160];

	if (uc == NULL || uc->route == NULL ||
	    !addr_ip_literal(host, strlen(host), NULL))
		return 0;
	addr_format(where, sizeof(where), host, port, 0);
	if (dest_check_text(uc->route, where, reason, sizeof(reason)) !=
	    DEST_DENY)
		return 0;
	snprintf(why, len, "%s: %s", where, reason);
	return 1;
}

struct upconn *
upstream_connect(const struct upstream_kind *kind, struct worker *w,
    const struct upstream_conf *uc, const char *host, uint16_t port,
    int timeout_ms, upstream_cb *cb, void *arg)
{
	struct timeval zero = { 0, 0 };
	struct refused_conn *r;
	char why[sizeof(r->why)];

	if (kind == &upstream_direct ||
	    !literal_forbidden(uc, host, port, why, sizeof(why)))
		return kind->connect(w, uc, host, port, timeout_ms, cb, arg);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->timer = evtimer_new(w->base, refused_timer_cb, r)) == NULL) {
		free(r);
		return NULL;
	}
	r->base.cancel = refused_cancel;
	r->cb = cb;
	r->arg = arg;
	snprintf(r->why, sizeof(r->why), "%s", why);
	evtimer_add(r->timer, &zero);
	return &r->base;
}

void
upstream_cancel(struct upconn *u)
{
	if (u)
		u->cancel(u);
}
