/*
 * cache_fetch.c - the module cache in a GOPROXY exchange (see
 * cache_fetch.h): hits, offline misses and fills.
 *
 * A hit is sent with evbuffer_add_file() (sendfile on a plain socket):
 * the loop only opens, fstats and reads the small metadata file.  A
 * fill copies the body bytes as they are queued for the client and
 * hands them to the worker's store thread (cache_store.c); only a
 * complete response of known length (Content-Length, not encoded) is
 * committed, so what is stored is exactly what the client got.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cache_fetch.h"
#include "cache_flight.h"
#include "cache_seen.h"
#include "cache_store.h"
#include "client.h"
#include "exchange.h"
#include "goproxy.h"
#include "log.h"

#define PEEK_MAX	16	/* iovecs per copy of new body bytes */

/* Write the cache state word into the access line's module words. */
static void
cache_state(struct cache_req *cr, const char *state)
{
	if (cr->log != NULL)
		snprintf(cr->log, cr->loglen, " cache=%s", state);
}

void
cache_req_init(struct cache_req *cr, const struct route *r,
    const struct goproxy_req *g, char *log, size_t loglen)
{
	memset(cr, 0, sizeof(*cr));
	cr->log = log;
	cr->loglen = loglen;
	if (!r->cache || r->cfg == NULL || r->cfg->cache_dir == NULL)
		return;
	cr->cls = cache_class_of(g);
	cr->on = cache_key(g, cr->key, sizeof(cr->key)) == 0;
}

void
cache_request_head(struct exchange *ex, const struct cache_req *cr)
{
	struct evbuffer *head;
	const char *p, *line, *end;
	size_t len;

	if (!cr->on || ex->head == NULL || (head = evbuffer_new()) == NULL)
		return;
	len = evbuffer_get_length(ex->head);
	p = (const char *)evbuffer_pullup(ex->head, -1);
	for (line = p; line < p + len; line = end) {
		end = memchr(line, '\n', (size_t)(p + len - line));
		end = end ? end + 1 : p + len;
		if (end - line > 16 && strncasecmp(line, "Accept-Encoding:",
		    16) == 0)
			continue;
		evbuffer_add(head, line, (size_t)(end - line));
	}
	evbuffer_free(ex->head);
	ex->head = head;
}

/* How long an entry of cr's class with status stays fresh (ms); -1: always. */
static int
entry_ttl(const struct route *r, const struct cache_req *cr, int status)
{
	if (status != 200)
		return r->negative_ttl;
	switch (cr->cls) {
	case CACHE_LIST:
		return r->list_ttl;
	case CACHE_SUMDB_LATEST:
		return r->sumdb_latest_ttl;
	default:
		return -1;
	}
}

/*
 * The response head of an entry, as the mirror's was (status, type),
 * and a stale one says so (RFC 7234 5.5.1; go ignores it, people and
 * curl -v see it).
 */
static void
hit_head(struct exchange *ex, const struct cache_meta *m, int keep,
    int stale)
{
	struct evbuffer *out = bufferevent_get_output(ex->c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", m->status,
	    m->status == 200 ? "OK" : m->status == 404 ? "Not Found" : "Gone");
	if (m->type[0] != '\0')
		evbuffer_add_printf(out, "Content-Type: %s\r\n", m->type);
	if (stale)
		evbuffer_add_printf(out, "Warning: 110 proxyd \"Response is "
		    "Stale\"\r\n");
	evbuffer_add_printf(out, "Content-Length: %llu\r\nVia: 1.1 proxyd\r\n"
	    "Connection: %s\r\n\r\n", (unsigned long long)m->size,
	    keep ? "keep-alive" : "close");
}

/* Answer from the entry open at fd, log, and end the exchange (0). */
static int
hit_send(struct exchange *ex, struct cache_req *cr, const struct cache_meta *m,
    int fd, int stale)
{
	struct evbuffer *out = bufferevent_get_output(ex->c->bev);
	struct client *c = ex->c;
	size_t before = evbuffer_get_length(out);
	int keep = ex->client_keep_alive && ex->req.done && !c->w->stopping;

	hit_head(ex, m, keep, stale);
	ex->rq.bytes_out += evbuffer_get_length(out) - before;
	/* evbuffer_add_file() owns fd from here, even when it fails. */
	if (ex->head_request || m->size == 0)
		close(fd);
	else if (evbuffer_add_file(out, fd, 0, (ev_off_t)m->size) == -1)
		keep = 0;	/* cut short: the client sees it */
	else
		ex->rq.bytes_out += m->size;
	ex->rq.status = m->status;
	cache_state(cr, stale ? "stale" : "hit");
	cache_touch(ex->rq.cfg->cache_dir, cr->key);
	request_log(&ex->rq, NULL);
	/* Writes wait for the end of the exchange (bev_write_direct()). */
	bev_write_now(c->bev);
	exchange_free(ex);
	client_exchange_done(c, keep);
	return 0;
}

/* A worker's end of the single-flight wake-ups. */
struct cache_wake {
	int		 pipe[2];	/* flight_done writes, the loop reads */
	struct event	*ev;
};

void
cache_wake_free(struct cache_wake *k)
{
	struct cache_waiter *w;

	if (k == NULL)
		return;
	if (k->ev)
		event_free(k->ev);
	/* Requests are gone: whatever was dispatched is only memory now. */
	while (k->pipe[0] != -1 && read(k->pipe[0], &w, sizeof(w)) ==
	    sizeof(w))
		free(w);
	if (k->pipe[0] != -1)
		close(k->pipe[0]);
	if (k->pipe[1] != -1)
		close(k->pipe[1]);
	free(k);
}

/* On the loop: a flight this worker's requests waited for is over. */
static void
wake_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cache_waiter *ws[64];
	struct cache_req *cr;
	struct exchange *ex;
	ssize_t n, i;

	(void)what;
	(void)arg;
	while ((n = read(fd, ws, sizeof(ws))) > 0)
		for (i = 0; i < n / (ssize_t)sizeof(ws[0]); i++) {
			if ((cr = ws[i]->arg) != NULL) {
				cr->waiter = NULL;
				cr->waited = 1;
				cr->tried = 0;
				ex = cr->ex;
				/* Again: the entry now, or the mirror alone. */
				(void)ex->ops->connect(ex);
			}
			free(ws[i]);
		}
}

/* The worker's wake-up pipe, created on its own loop's thread. */
static struct cache_wake *
wake_of(struct worker *w)
{
	struct cache_wake *k;

	if (w->cache_wake != NULL)
		return w->cache_wake;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->pipe[0] = k->pipe[1] = -1;
	if (pipe2(k->pipe, O_CLOEXEC) == -1 ||
	    fcntl(k->pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    (k->ev = event_new(w->base, k->pipe[0], EV_READ | EV_PERSIST,
	    wake_read_cb, NULL)) == NULL || event_add(k->ev, NULL) == -1) {
		cache_wake_free(k);
		return NULL;
	}
	return w->cache_wake = k;
}

/*
 * A miss: lead the key's flight (1, go on to the mirrors), or wait
 * behind its leader (0).  Alone (1) when single flight is not possible.
 */
static int
flight_join(struct exchange *ex, struct cache_req *cr)
{
	struct cache_flights *t = ex->rq.cfg->flights;
	struct cache_wake *k;
	struct cache_waiter *w;
	int r;

	if (t == NULL || cr->waited || ex->head_request ||
	    (k = wake_of(ex->c->w)) == NULL ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		return 1;
	w->wake_fd = k->pipe[1];
	w->arg = cr;
	if ((r = cache_flight_join(t, cr->key, w)) == 0) {
		cr->waiter = w;
		return 0;
	}
	free(w);
	cr->lead = r == 1;
	return 1;
}

/* The request is gone or done: out of the key's flight. */
static void
flight_leave(struct exchange *ex, struct cache_req *cr)
{
	if (cr->waiter != NULL) {
		if (cache_flight_leave(ex->rq.cfg->flights, cr->waiter))
			free(cr->waiter);
		else
			cr->waiter->arg = NULL;	/* the pipe reader frees it */
		cr->waiter = NULL;
	}
	if (cr->lead) {
		cr->lead = 0;
		cache_flight_done(ex->rq.cfg->flights, cr->key);
	}
}

/*
 * Have the store thread check the entry (m) against its SHA-256; the
 * request waits, and is woken (wake_read_cb) to look again.  0, or -1
 * when that cannot be done (then the entry is not served).
 */
static int
verify_start(struct exchange *ex, struct cache_req *cr,
    const struct cache_meta *m)
{
	struct worker *w = ex->c->w;
	struct cache_waiter *wt;
	struct cache_wake *k;

	cr->verified = 1;
	if ((k = wake_of(w)) == NULL || (w->cache_store == NULL &&
	    (w->cache_store = cache_store_new(w->log)) == NULL) ||
	    (wt = calloc(1, sizeof(*wt))) == NULL)
		return -1;
	wt->wake_fd = k->pipe[1];
	wt->arg = cr;
	wt->dispatched = 1;	/* in no flight: only the pipe frees it */
	if (cache_store_verify(w->cache_store, ex->rq.cfg, cr->key, m, wt) ==
	    -1) {
		free(wt);
		return -1;
	}
	cr->waiter = wt;
	return 0;
}

int
cache_serve(struct exchange *ex, struct cache_req *cr)
{
	const struct route *r = ex->rq.route;
	struct cache_meta m;
	int fd, ttl;

	if (cr->tried)
		return -1;
	cr->tried = 1;
	cr->ex = ex;
	if (!cr->on)
		return -1;
	if (cache_open(ex->rq.cfg->cache_dir, cr->key, &m, &fd) == 0 &&
	    !cache_seen_has(ex->rq.cfg->seen, cr->key, &m)) {
		/* First use since start: hashed off the loop, then again. */
		close(fd);
		fd = -1;
		if (!cr->verified && verify_start(ex, cr, &m) == 0)
			return 1;
	}
	if (fd != -1) {
		ttl = entry_ttl(r, cr, m.status);
		if (ttl == -1 || r->offline ||
		    cache_fresh(&m, cache_now(), ttl))
			return hit_send(ex, cr, &m, fd, 0);
		close(fd);
		/* Immutable entries never expire: only these may be stale. */
		cr->stale = cr->cls == CACHE_LIST ||
		    cr->cls == CACHE_SUMDB_LATEST;
	}
	if (!r->offline) {
		cache_state(cr, "miss");
		return flight_join(ex, cr) ? -1 : 1;
	}
	cache_state(cr, "offline-miss");
	return exchange_fail(ex, 404, "not in the cache (offline)");
}

int
cache_serve_stale(struct exchange *ex, struct cache_req *cr)
{
	struct cache_meta m;
	int fd;

	if (!cr->stale || ex->resp_started)
		return -1;
	cr->stale = 0;
	if (cache_open(ex->rq.cfg->cache_dir, cr->key, &m, &fd) != 0)
		return -1;	/* gone meanwhile */
	if (!cache_seen_has(ex->rq.cfg->seen, cr->key, &m)) {
		close(fd);	/* changed since it was checked */
		return -1;
	}
	exchange_drop_upstream(ex);
	return hit_send(ex, cr, &m, fd, 1);
}

/* The value of header name in res, or NULL. */
static const struct http_header *
find_header(const struct http_response *res, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < res->num_headers; i++)
		if (res->headers[i].name_len == len &&
		    strncasecmp(res->headers[i].name, name, len) == 0)
			return &res->headers[i];
	return NULL;
}

void
cache_response(struct exchange *ex, struct cache_req *cr,
    const struct http_response *res)
{
	const struct http_header *type, *enc;
	struct worker *w = ex->c->w;

	if (!cr->on || ex->head_request || cr->fill != NULL ||
	    (res->status != 200 && res->status != 404 && res->status != 410))
		return;
	/* An encoded body is not what a client without that encoding may
	 * get: keep only identity bodies. */
	enc = find_header(res, "Content-Encoding");
	if (enc != NULL && !(enc->value_len == 8 &&
	    strncasecmp(enc->value, "identity", 8) == 0))
		return;
	if (w->cache_store == NULL &&
	    (w->cache_store = cache_store_new(w->log)) == NULL)
		return;
	type = find_header(res, "Content-Type");
	http_chunked_init(&cr->chunked);
	cr->chunked_done = 0;
	cr->fill = cache_fill_new(w->cache_store, ex->rq.cfg, cr->key,
	    cr->lead, res->status, type ? type->value : NULL,
	    type ? type->value_len : 0);
	cr->filled = 0;
	if (cr->fill != NULL)
		cr->lead = 0;	/* the store thread ends the flight */
}

/* Give up the fill (it leaves no entry). */
static void
fill_drop(struct cache_req *cr)
{
	cache_fill_end(cr->fill, 0, 0);
	cr->fill = NULL;
}

/* Body data p[0..len) to the fill; -1 when it gave up. */
static int
fill_raw(struct cache_req *cr, const char *p, size_t len)
{
	if (cache_fill_data(cr->fill, p, len) == -1)
		return -1;
	cr->filled += len;
	return 0;
}

/*
 * The data bytes of chunked framing p[0..len) to the fill, by a scanner
 * of its own (the exchange's is ahead: it scanned before passing on).
 * Framing bytes go one by one: a few per chunk.  -1 on a give-up.
 */
static int
fill_chunked(struct cache_req *cr, const char *p, size_t len)
{
	uint64_t left;
	size_t n;

	while (len > 0 && !cr->chunked_done) {
		left = http_chunked_data_left(&cr->chunked);
		n = left == 0 ? 1 : left < len ? (size_t)left : len;
		if ((left > 0 && fill_raw(cr, p, n) == -1) ||
		    http_chunked_scan(&cr->chunked, p, n, &cr->chunked_done) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

void
cache_body(struct exchange *ex, struct cache_req *cr, struct evbuffer *out,
    size_t from)
{
	struct evbuffer_iovec vec[PEEK_MAX];
	struct evbuffer_ptr pos;
	int i, n, raw;

	if (cr->fill == NULL)
		return;
	/* The data alone: as it came (Content-Length), as the 1.0 client
	 * gets it (dechunked), or out of the chunked framing passed on.  A
	 * close-delimited body has no end to check: never stored. */
	raw = ex->resp.kind == HTTP_BODY_LENGTH || ex->resp.dechunk;
	if (!raw && ex->resp.kind != HTTP_BODY_CHUNKED) {
		fill_drop(cr);
		return;
	}
	while (evbuffer_get_length(out) > from) {
		if (evbuffer_ptr_set(out, &pos, from, EVBUFFER_PTR_SET) == -1)
			break;
		n = evbuffer_peek(out, -1, &pos, vec, PEEK_MAX);
		if (n > PEEK_MAX)
			n = PEEK_MAX;
		for (i = 0; i < n; i++) {
			if ((raw ? fill_raw(cr, vec[i].iov_base,
			    vec[i].iov_len) : fill_chunked(cr, vec[i].iov_base,
			    vec[i].iov_len)) == -1) {
				fill_drop(cr);
				return;
			}
			from += vec[i].iov_len;
		}
	}
	if (ex->resp.done)
		cache_state(cr, "fill");
}

void
cache_end(struct exchange *ex, struct cache_req *cr)
{
	int complete;

	flight_leave(ex, cr);
	if (cr->fill == NULL)
		return;
	complete = ex->resp_state == RESP_DONE && ex->resp.done &&
	    (ex->resp.kind == HTTP_BODY_LENGTH ? cr->filled == ex->resp.total :
	    ex->resp.kind == HTTP_BODY_CHUNKED && (ex->resp.dechunk ||
	    cr->chunked_done));
	cache_fill_end(cr->fill, complete, cr->filled);
	cr->fill = NULL;
}
