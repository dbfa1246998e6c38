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
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "cache_fetch.h"
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
	exchange_free(ex);
	client_exchange_done(c, keep);
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
	if (!cr->on)
		return -1;
	if (cache_open(ex->rq.cfg->cache_dir, cr->key, &m, &fd) == 0) {
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
		return -1;
	}
	cache_state(cr, "offline-miss");
	return exchange_fail(ex, 404, request_why(&ex->rq, "%s: not in the "
	    "cache (offline)", ex->rq.target));
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
	cr->fill = cache_fill_new(w->cache_store, ex->rq.cfg->cache_dir,
	    cr->key, res->status, type ? type->value : NULL,
	    type ? type->value_len : 0);
	cr->filled = 0;
}

/* Give up the fill (it leaves no entry). */
static void
fill_drop(struct cache_req *cr)
{
	cache_fill_end(cr->fill, 0, 0);
	cr->fill = NULL;
}

void
cache_body(struct exchange *ex, struct cache_req *cr, struct evbuffer *out,
    size_t from)
{
	struct evbuffer_iovec vec[PEEK_MAX];
	struct evbuffer_ptr pos;
	int i, n;

	if (cr->fill == NULL)
		return;
	/* Only a body of known length, passed on as it came. */
	if (ex->resp.kind != HTTP_BODY_LENGTH || ex->resp.dechunk) {
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
			if (cache_fill_data(cr->fill, vec[i].iov_base,
			    vec[i].iov_len) == -1) {
				fill_drop(cr);
				return;
			}
			from += vec[i].iov_len;
			cr->filled += vec[i].iov_len;
		}
	}
	if (ex->resp.done)
		cache_state(cr, "fill");
}

void
cache_end(struct exchange *ex, struct cache_req *cr)
{
	int complete;

	if (cr->fill == NULL)
		return;
	complete = ex->resp_state == RESP_DONE && ex->resp.done &&
	    ex->resp.kind == HTTP_BODY_LENGTH && !ex->resp.dechunk &&
	    cr->filled == ex->resp.total;
	cache_fill_end(cr->fill, complete, cr->filled);
	cr->fill = NULL;
}
