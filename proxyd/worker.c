/*
 * worker.c - an event-loop thread.
 *
 * Each worker has its own SO_REUSEPORT listening sockets (the kernel
 * spreads connections across workers), its own resolver and upstream pool;
 * nothing is shared on the hot path but the read-only config snapshot and
 * the logger.  Accept errors such as EMFILE pause accepting for a moment
 * instead of spinning, and are logged when they start, every
 * THROTTLE_INTERVAL_MS with a count, and when an accept works again.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/listener.h>

#include "auth_client.h"
#include "cache_fetch.h"
#include "cache_store.h"
#include "client.h"
#include "fdpoll.h"
#include "idle.h"
#include "match.h"
#include "log.h"
#include "pool.h"
#include "splice.h"
#include "throttle.h"
#include "tls.h"
#include "worker.h"
#include "transparent.h"
#include "worker_swap.h"

#define ACCEPT_BACKLOG		1024
#define ACCEPT_RETRY_MS		100

int
worker_listen_socket(const struct listen_addr *la)
{
	int fd, one = 1;

	fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
		goto fail;
	if (la->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	/* Accepted sockets inherit TCP_NODELAY from the listener (Linux
	 * copies it to the child): one setsockopt here, none per client. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Bound now (before dropping privileges); listening only once the
	 * worker is ready (worker_init), so that a port that accepts is a
	 * port that answers. */
	if (bind(fd, (const struct sockaddr *)&la->ss, la->len) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int
worker_bind(struct worker *w, const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nlisten; i++) {
		w->listen_fds[i] = worker_listen_socket(&cfg->listen[i]);
		if (w->listen_fds[i] == -1) {
			fprintf(stderr, "proxyd: listen %s: %s\n",
			    cfg->listen[i].text, strerror(errno));
			return -1;
		}
		w->nlisteners = i + 1;
	}
	return 0;
}

/* An accept worked: if accepting had been failing, say it is over. */
static void
accept_recovered(struct worker *w)
{
	uint64_t total;
	int64_t ms;

	if (!w->accept_fail.active)	/* the usual case: no clock read */
		return;
	if (throttle_clear(&w->accept_fail, now_ms(w->base), &total, &ms) ==
	    THROTTLE_END)
		log_error(w->log, "worker %d: accepting again, after %llu "
		    "failed accepts in %lld ms", w->id,
		    (unsigned long long)total, (long long)ms);
}

/* The listen address of l (transparent, tls or plain), or NULL;
 * w->listeners follow w->cfg->listen. */
static const struct listen_addr *
worker_listen_addr(const struct worker *w, const struct evconnlistener *l)
{
	size_t i;

	for (i = 0; i < w->nlisteners; i++)
		if (w->listeners[i] == l)
			return &w->cfg->listen[i];
	return NULL;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct worker *w = arg;
	const struct listen_addr *la = worker_listen_addr(w, l);

	accept_recovered(w);
	if (la != NULL && la->transparent)
		transparent_accept(w, fd, sa, salen);
	else
		client_accept(w, fd, sa, salen, la != NULL && la->tls);
}

static void
accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	size_t i;

	(void)fd;
	(void)what;
	if (w->stopping)
		return;
	for (i = 0; i < w->nlisteners; i++)
		evconnlistener_enable(w->listeners[i]);
}

/*
 * The worker's event base.  epoll's changelist: the changes a loop turn
 * makes to a descriptor's events are merged and made with one
 * epoll_ctl() before the next wait, not one call each.  Taking a pooled
 * connection disables, enables reading and writing in one turn: three
 * calls became one.  libevent's caveat (an fd dup()ed while registered
 * confuses it) does not apply: proxyd never dups a socket it watches.
 */
static struct event_base *
worker_base_new(void)
{
	struct event_config	*ec;
	struct event_base	*base;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

/* EMFILE and friends: stop accepting for a moment rather than spin. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct worker *w = arg;
	struct timeval tv;
	size_t i;

	uint64_t n;
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	/* Under fd exhaustion this fails every ACCEPT_RETRY_MS until
	 * connections close: one line at the start, then one an interval. */
	switch (throttle_hit(&w->accept_fail, now_ms(w->base), &n)) {
	case THROTTLE_START:
		log_error(w->log, "worker %d: accept: %s; retrying every %d ms",
		    w->id, strerror(err), ACCEPT_RETRY_MS);
		break;
	case THROTTLE_REPEAT:
		log_error(w->log, "worker %d: accept: %s; still failing, "
		    "%llu times since the last line", w->id, strerror(err),
		    (unsigned long long)n);
		break;
	default:
		break;
	}
	for (i = 0; i < w->nlisteners; i++)
		evconnlistener_disable(w->listeners[i]);
	evtimer_add(w->accept_retry, ms_to_tv(ACCEPT_RETRY_MS, &tv));
}

struct evconnlistener *
worker_listener(struct worker *w, int fd)
{
	struct evconnlistener *l;

	l = evconnlistener_new(w->base, accept_cb, w,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, ACCEPT_BACKLOG, fd);
	if (l == NULL)
		close(fd);
	else
		evconnlistener_set_error_cb(l, accept_error_cb);
	return l;
}

static int
worker_resolver(struct worker *w, const struct config *cfg)
{
	int r;

	if ((w->dns = evdns_base_new(w->base, 0)) == NULL)
		return -1;
	/* Our own hosts file instead of the default one. */
	r = evdns_base_resolv_conf_parse(w->dns, DNS_OPTION_NAMESERVERS |
	    DNS_OPTION_SEARCH | DNS_OPTION_MISC, cfg->resolv_conf);
	if (r != 0 && r != 6)	/* 6: no nameservers, 127.0.0.1 is used */
		log_error(w->log, "%s: cannot use it (evdns error %d)",
		    cfg->resolv_conf, r);
	if (evdns_base_load_hosts(w->dns, cfg->hosts_file) != 0)
		log_error(w->log, "%s: cannot read hosts file",
		    cfg->hosts_file);
	return 0;
}

static int
worker_tls(struct worker *w, const struct config *cfg)
{
	char err[256];

	if ((w->tls = tls_client_new(cfg->ca_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "proxyd: TLS for mirrors: %s\n", err);
		return -1;
	}
	return 0;
}

static void	stop_cb(evutil_socket_t, short, void *);
static void	stop_timer_cb(evutil_socket_t, short, void *);
static void	reap_cb(evutil_socket_t, short, void *);
static void	worker_client_gone(struct worker *w);

int
worker_init(struct worker *w, int id, struct config *cfg, struct logger *log,
    int max_clients)
{
	size_t i;

	w->id = id;
	w->cfg = config_ref(cfg);
	w->log = log;
	w->max_clients = max_clients;
	throttle_init(&w->accept_fail, THROTTLE_INTERVAL_MS,
	    THROTTLE_SETTLE_MS);
	TAILQ_INIT(&w->clients);
	TAILQ_INIT(&w->closed);
	w->nhdrs = cfg->max_headers;
	if ((w->hdrs = calloc(w->nhdrs, sizeof(*w->hdrs))) == NULL ||
	    (w->scratch = malloc(TUNNEL_CHUNK)) == NULL ||
	    (w->md = regex_match_data_new()) == NULL ||
	    worker_tls(w, cfg) == -1 ||
	    (w->base = worker_base_new()) == NULL ||
	    worker_resolver(w, cfg) == -1 ||
	    (w->pool = pool_new(w->base, cfg->keepalive_timeout)) == NULL ||
	    (w->accept_retry = evtimer_new(w->base, accept_retry_cb, w)) ==
	    NULL ||
	    pipe2(w->stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (w->stop_ev = event_new(w->base, w->stop_pipe[0], EV_READ,
	    stop_cb, w)) == NULL || event_add(w->stop_ev, NULL) == -1 ||
	    (w->stop_timer = evtimer_new(w->base, stop_timer_cb, w)) == NULL ||
	    (w->reap_ev = event_new(w->base, -1, 0, reap_cb, w)) == NULL ||
	    worker_swap_init(w) == -1)
		return -1;
	for (i = 0; i < w->nlisteners; i++) {
		w->listeners[i] = worker_listener(w, w->listen_fds[i]);
		w->listen_fds[i] = -1;	/* owned by the listener now */
		if (w->listeners[i] == NULL)
			return -1;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

int
worker_start(struct worker *w)
{
	return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

/* Free the clients closed during the last callbacks. */
static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_reap(arg);
	worker_client_gone(arg);
}

/* In the worker: stop accepting, close idle clients, arm the deadline. */
static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv;
	size_t i;

	(void)fd;
	(void)what;
	w->stopping = 1;
	for (i = 0; i < w->nlisteners; i++) {
		evconnlistener_free(w->listeners[i]);
		w->listeners[i] = NULL;
	}
	w->nlisteners = 0;
	client_close_idle(w);
	evtimer_add(w->stop_timer, ms_to_tv(w->cfg->shutdown_timeout, &tv));
	worker_client_gone(w);
}

static void
stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	log_error(w->log, "worker %d: %d connections left at shutdown "
	    "deadline", w->id, w->nclients);
	event_base_loopbreak(w->base);
}

/* A client of this worker is gone; lets a stopping worker exit early. */
static void
worker_client_gone(struct worker *w)
{
	if (w->stopping && w->nclients == 0)
		event_base_loopbreak(w->base);
}

/*
 * A byte on the worker's pipe, not event_active(): the event bases are
 * used without libevent's locks (each belongs to one thread), which
 * keeps every bufferevent operation free of mutex calls.
 */
void
worker_stop(struct worker *w)
{
	if (w->stop_pipe[1] != -1)
		(void)!write(w->stop_pipe[1], "x", 1);
}

void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

/*
 * libevent finishes some frees from its loop: a bufferevent is finalized
 * by a deferred callback, and a cancelled evdns lookup delivers its
 * cancellation (which frees our orphaned attempt).  Once the loop has
 * stopped for good, give it the few non-blocking turns those need, so
 * that a shutdown with requests in flight leaves nothing behind.
 */
static void
worker_settle(struct worker *w)
{
	int i;

	if (w->base == NULL)
		return;
	for (i = 0; i < 4; i++)
		event_base_loop(w->base, EVLOOP_NONBLOCK);
}

void
worker_free(struct worker *w)
{
	struct client *c;
	size_t i;

	/* Whatever is still in flight is logged as cut by the shutdown. */
	while ((c = TAILQ_FIRST(&w->clients)) != NULL)
		client_close(c, "shutdown");
	if (w->accept_retry)
		event_free(w->accept_retry);
	w->accept_retry = NULL;
	for (i = 0; i < CONFIG_MAX_LISTEN; i++) {
		if (w->listeners[i])
			evconnlistener_free(w->listeners[i]);
		else if (i < w->nlisteners && w->listen_fds[i] > 0)
			close(w->listen_fds[i]);
		w->listeners[i] = NULL;
	}
	pool_free(w->pool);
	w->pool = NULL;
	auth_worker_free(w);
	worker_settle(w);
	client_reap(w);
	cache_store_free(w->cache_store);	/* after the fills ended */
	w->cache_store = NULL;
	cache_wake_free(w->cache_wake);
	w->cache_wake = NULL;
	if (w->reap_ev)
		event_free(w->reap_ev);
	if (w->stop_ev)
		event_free(w->stop_ev);
	if (w->stop_pipe[0] != -1)
		close(w->stop_pipe[0]);
	if (w->stop_pipe[1] != -1)
		close(w->stop_pipe[1]);
	if (w->stop_timer)
		event_free(w->stop_timer);
	worker_swap_free(w);
	fdpoll_free(w->tunnel_poll);	/* the tunnels are gone */
	idle_set_free(w->tunnel_idle);
	if (w->dns)
		evdns_base_free(w->dns, 0);
	if (w->base)
		event_base_free(w->base);
	free(w->hdrs);
	free(w->scratch);
	splice_worker_free(w);
	if (w->md)
		regex_match_data_free(w->md);
	if (w->tls)
		tls_client_free(w->tls);
	if (w->cfg)
		config_unref(w->cfg);
}
