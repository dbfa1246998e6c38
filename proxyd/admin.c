/*
 * admin.c - the admin listener: /healthz, /readyz, /metrics and
 * /proxy.pac (see admin.h).
 *
 * One thread, one event base, one request per connection (answered with
 * Connection: close; scrapers and browsers reconnect).  Requests are
 * read with the proxy port's parser and limits, so a malformed one gets
 * the same precise status there as here; clients outside admin_allow
 * (default: allow) get 403.  The thread reads the config through its
 * own reference, swapped under a mutex by admin_set_config(), and the
 * counters through metrics.c; it never touches a worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "admin.h"
#include "log.h"
#include "metrics.h"
#include "pac.h"
#include "proxyd.h"
#include "reply.h"

#define ADMIN_BACKLOG		64
#define ADMIN_MAX_CONNS		64	/* more: closed at once */
#define ADMIN_LINGER_MS		1000	/* reading what follows an answer */
#define ADMIN_MAX_HEADERS	100
#define ADMIN_RETRY_MS		100	/* accept paused after EMFILE */

struct admin {
	int			 fd;		/* bound, until listening */
	struct evconnlistener	*listener;
	struct event_base	*base;
	struct event		*stop_ev;
	struct event		*retry_ev;	/* accepting again */
	int			 stop_pipe[2];
	pthread_t		 thread;
	int			 started;
	pthread_mutex_t		 lock;		/* cfg */
	struct config		*cfg;
	struct metrics		*metrics;
	struct logger		*log;
	int			 ready;		/* atomic */
	int			 nconns;	/* admin thread only */
	TAILQ_HEAD(, admin_conn) conns;		/* freed at the end */
};

struct admin_conn {
	struct admin		*a;
	struct bufferevent	*bev;
	struct sockaddr_storage	 local;		/* for the PAC's proxy */
	int			 refused;	/* not in admin_allow */
	int			 answered;
	TAILQ_ENTRY(admin_conn)	 link;
};

/* An answer being built: status, extra header, type, body. */
struct answer {
	int		 status;
	const char	*type;
	const char	*extra;		/* "Allow: GET, HEAD\r\n" or "" */
	char		*body;		/* malloc'd */
	size_t		 len;
	int		 head_only;	/* HEAD */
};

struct admin *
admin_bind(const struct config *cfg)
{
	const struct listen_addr *la = &cfg->admin_listen;
	struct admin *a;
	int one = 1;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->stop_pipe[0] = a->stop_pipe[1] = -1;
	TAILQ_INIT(&a->conns);
	pthread_mutex_init(&a->lock, NULL);
	a->fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (a->fd == -1 ||
	    setsockopt(a->fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(a->fd, (const struct sockaddr *)&la->ss, la->len) == -1) {
		fprintf(stderr, "proxyd: admin_listen %s: %s\n", la->text,
		    strerror(errno));
		admin_free(a);
		return NULL;
	}
	return a;
}

void
admin_set_ready(struct admin *a, int ready)
{
	if (a)
		__atomic_store_n(&a->ready, ready, __ATOMIC_RELAXED);
}

void
admin_set_config(struct admin *a, struct config *cfg)
{
	struct config *old;

	if (a == NULL)
		return;
	config_ref(cfg);
	pthread_mutex_lock(&a->lock);
	old = a->cfg;
	a->cfg = cfg;
	pthread_mutex_unlock(&a->lock);
	if (old)
		config_unref(old);
}

static struct config *
admin_config(struct admin *a)
{
	struct config *cfg;

	pthread_mutex_lock(&a->lock);
	cfg = config_ref(a->cfg);
	pthread_mutex_unlock(&a->lock);
	return cfg;
}

static void
conn_free(struct admin_conn *ac)
{
	ac->a->nconns--;
	TAILQ_REMOVE(&ac->a->conns, ac, link);
	bufferevent_free(ac->bev);
	free(ac);
}

/* Done with the client's bytes (EOF, error, linger timeout). */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_free(arg);
}

/* After the answer: discard what the client still sends, until EOF. */
static void
conn_discard_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

/*
 * The answer is written: half-close and read until the client's EOF
 * (or ADMIN_LINGER_MS), so that bytes it sent after the head do not
 * turn the close into a reset that could destroy the answer in flight.
 */
static void
conn_written_cb(struct bufferevent *bev, void *arg)
{
	struct timeval tv;

	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_setcb(bev, conn_discard_cb, NULL, conn_event_cb, arg);
	bufferevent_set_timeouts(bev, ms_to_tv(ADMIN_LINGER_MS, &tv), NULL);
	bufferevent_enable(bev, EV_READ);
}

static void
conn_send(struct admin_conn *ac, struct answer *an)
{
	struct evbuffer *out = bufferevent_get_output(ac->bev);

	ac->answered = 1;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n%s"
	    "Connection: close\r\n\r\n", an->status,
	    reply_status_text(an->status), an->type, an->len, an->extra);
	if (!an->head_only)
		evbuffer_add(out, an->body, an->len);
	free(an->body);
	bufferevent_disable(ac->bev, EV_READ);
	bufferevent_setcb(ac->bev, NULL, conn_written_cb, conn_event_cb, ac);
	bufferevent_set_timeouts(ac->bev, NULL, NULL);
}

/* A text/plain answer "proxyd: why" (or the body as given for 200s). */
static void
answer_text(struct answer *an, int status, const char *text)
{
	an->status = status;
	an->type = "text/plain; charset=utf-8";
	if (status >= 400)
		an->len = (size_t)asprintf(&an->body, "proxyd: %s\n", text);
	else
		an->len = (size_t)asprintf(&an->body, "%s\n", text);
	if (an->len == (size_t)-1) {
		an->body = NULL;
		an->len = 0;
	}
}

/* Run write(ctx, FILE) into a memory stream as the 200 answer's body. */
static void
answer_stream(struct answer *an, const char *type,
    int (*write)(void *ctx, FILE *out), void *ctx)
{
	FILE *f;
	int rc;

	an->body = NULL;
	an->len = 0;
	if ((f = open_memstream(&an->body, &an->len)) == NULL) {
		answer_text(an, 500, "out of memory");
		return;
	}
	rc = write(ctx, f);
	if (fclose(f) != 0 || rc == -1) {
		free(an->body);
		answer_text(an, 500, "out of memory");
		return;
	}
	an->status = 200;
	an->type = type;
}

static int
write_metrics(void *ctx, FILE *out)
{
	return metrics_write(ctx, out);
}

struct pac_ctx {
	struct config		*cfg;
	const struct sockaddr	*local;
};

static int
write_pac(void *ctx, FILE *out)
{
	struct pac_ctx *p = ctx;
	char proxy[300];

	pac_proxy_address(p->cfg, p->local, proxy, sizeof(proxy));
	return pac_write(p->cfg, proxy, out);
}

/* The endpoint named by path[0..len). */
static void
admin_endpoint(struct admin_conn *ac, const char *path, size_t len,
    struct answer *an)
{
	struct pac_ctx p;

#define IS(s)	(len == sizeof(s) - 1 && memcmp(path, s, len) == 0)
	if (IS("/healthz")) {
		answer_text(an, 200, "ok");
	} else if (IS("/readyz")) {
		if (__atomic_load_n(&ac->a->ready, __ATOMIC_RELAXED))
			answer_text(an, 200, "ready");
		else
			answer_text(an, 503, "not ready (starting or "
			    "draining)");
	} else if (IS("/metrics")) {
		answer_stream(an, "text/plain; version=0.0.4; charset=utf-8",
		    write_metrics, ac->a->metrics);
	} else if (IS("/proxy.pac")) {
		p.cfg = admin_config(ac->a);
		p.local = (const struct sockaddr *)&ac->local;
		answer_stream(an, "application/x-ns-proxy-autoconfig",
		    write_pac, &p);
		config_unref(p.cfg);
	} else {
		answer_text(an, 404, "no such admin endpoint (/healthz, "
		    "/readyz, /metrics, /proxy.pac)");
	}
#undef IS
}

/* A complete, well-formed head: refuse or route it. */
static void
admin_request(struct admin_conn *ac, const struct http_request *req,
    struct answer *an)
{
	struct http_framing fr;
	struct http_error err;
	const char *q;

	an->head_only = req->method_len == 4 &&
	    memcmp(req->method, "HEAD", 4) == 0;
	if (ac->refused)
		answer_text(an, 403, "client address not allowed");
	else if (http_request_framing(req, &fr, &err) == -1)
		answer_text(an, err.status, err.reason);
	else if (!an->head_only && !(req->method_len == 3 &&
	    memcmp(req->method, "GET", 3) == 0)) {
		answer_text(an, 405, "the admin endpoints take GET and HEAD");
		an->extra = "Allow: GET, HEAD\r\n";
	} else if (fr.body != HTTP_BODY_NONE &&
	    !(fr.body == HTTP_BODY_LENGTH && fr.content_length == 0))
		answer_text(an, 413, "no request body is taken here");
	else if (req->target_len == 0 || req->target[0] != '/')
		answer_text(an, 400, "an origin-form target (/path) is "
		    "expected");
	else {
		q = memchr(req->target, '?', req->target_len);
		admin_endpoint(ac, req->target, q ? (size_t)(q - req->target) :
		    req->target_len, an);
	}
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *ac = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct http_header hdrs[ADMIN_MAX_HEADERS];
	struct answer an = { 0, NULL, "", NULL, 0, 0 };
	struct http_request req;
	struct http_limits lim;
	struct http_error err;
	struct config *cfg;
	size_t len = evbuffer_get_length(in);
	int n;

	cfg = admin_config(ac->a);
	lim.max_line = cfg->max_request_line;
	lim.max_head = cfg->max_header_size;
	lim.max_headers = cfg->max_headers < ADMIN_MAX_HEADERS ?
	    cfg->max_headers : ADMIN_MAX_HEADERS;
	config_unref(cfg);
	if (len > lim.max_head + 1)
		len = lim.max_head + 1;
	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.num_headers = lim.max_headers;
	n = http_parse_request((const char *)evbuffer_pullup(in,
	    (ssize_t)len), len, &lim, &req, &err);
	if (n == HTTP_PARSE_INCOMPLETE)
		return;
	if (n < 0)
		answer_text(&an, ac->refused ? 403 : err.status,
		    ac->refused ? "client address not allowed" : err.reason);
	else
		admin_request(ac, &req, &an);
	conn_send(ac, &an);
}

/* Before an answer: a timeout is a 408, EOF or an error just closes. */
static void
conn_head_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_conn *ac = arg;
	struct answer an = { 0, NULL, "", NULL, 0, 0 };

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && !ac->answered) {
		answer_text(&an, 408, "request head not complete in time");
		conn_send(ac, &an);
		return;
	}
	conn_free(ac);
}

static void
admin_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct admin *a = arg;
	struct admin_conn *ac;
	struct config *cfg;
	socklen_t sl = sizeof(ac->local);
	struct timeval tv;

	(void)l;
	(void)salen;
	if (a->nconns >= ADMIN_MAX_CONNS ||
	    (ac = calloc(1, sizeof(*ac))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	ac->a = a;
	if ((ac->bev = bufferevent_socket_new(a->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		free(ac);
		return;
	}
	a->nconns++;
	TAILQ_INSERT_TAIL(&a->conns, ac, link);
	getsockname(fd, (struct sockaddr *)&ac->local, &sl);
	cfg = admin_config(a);
	ac->refused = cfg->admin_allow ?
	    !cidr_match_any(cfg->admin_allow, cfg->nadmin_allow, sa) :
	    !cidr_match_any(cfg->allow, cfg->nallow, sa);
	bufferevent_set_timeouts(ac->bev, ms_to_tv(cfg->header_timeout, &tv),
	    NULL);
	config_unref(cfg);
	bufferevent_setcb(ac->bev, conn_read_cb, NULL, conn_head_event_cb, ac);
	bufferevent_enable(ac->bev, EV_READ | EV_WRITE);
}

static void
admin_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(((struct admin *)arg)->listener);
}

/* EMFILE and friends: pause accepting for a moment rather than spin. */
static void
admin_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct admin *a = arg;
	struct timeval tv;

	log_error(a->log, "admin accept: %s; pausing %d ms",
	    strerror(EVUTIL_SOCKET_ERROR()), ADMIN_RETRY_MS);
	evconnlistener_disable(l);
	evtimer_add(a->retry_ev, ms_to_tv(ADMIN_RETRY_MS, &tv));
}

static void
admin_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(((struct admin *)arg)->base);
}

static void *
admin_main(void *arg)
{
	event_base_dispatch(((struct admin *)arg)->base);
	return NULL;
}

int
admin_start(struct admin *a, struct config *cfg, struct metrics *m,
    struct logger *log)
{
	a->cfg = config_ref(cfg);
	a->metrics = m;
	a->log = log;
	if ((a->base = event_base_new()) == NULL ||
	    pipe2(a->stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (a->stop_ev = event_new(a->base, a->stop_pipe[0], EV_READ,
	    admin_stop_cb, a)) == NULL || event_add(a->stop_ev, NULL) == -1 ||
	    (a->retry_ev = evtimer_new(a->base, admin_retry_cb, a)) == NULL)
		return -1;
	a->listener = evconnlistener_new(a->base, admin_accept_cb, a,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, ADMIN_BACKLOG,
	    a->fd);
	if (a->listener == NULL)
		return -1;
	a->fd = -1;		/* the listener's now */
	evconnlistener_set_error_cb(a->listener, admin_accept_error_cb);
	if (pthread_create(&a->thread, NULL, admin_main, a) != 0)
		return -1;
	a->started = 1;
	return 0;
}

void
admin_stop(struct admin *a)
{
	if (a == NULL || !a->started)
		return;
	(void)!write(a->stop_pipe[1], "x", 1);
	pthread_join(a->thread, NULL);
	a->started = 0;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	admin_stop(a);
	/* Connections still open: the loop is not running any more. */
	while (!TAILQ_EMPTY(&a->conns))
		conn_free(TAILQ_FIRST(&a->conns));
	if (a->listener)
		evconnlistener_free(a->listener);
	if (a->fd != -1)
		close(a->fd);
	if (a->stop_ev)
		event_free(a->stop_ev);
	if (a->retry_ev)
		event_free(a->retry_ev);
	if (a->stop_pipe[0] != -1)
		close(a->stop_pipe[0]);
	if (a->stop_pipe[1] != -1)
		close(a->stop_pipe[1]);
	if (a->base)
		event_base_free(a->base);
	if (a->cfg)
		config_unref(a->cfg);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
