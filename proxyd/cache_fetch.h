/*
 * cache_fetch.h - the module cache in a GOPROXY exchange (modproxy.c):
 * a fresh entry answers before any mirror is asked (a hit), offline
 * routes answer from the cache alone, and a mirror's complete answer
 * is kept as it streams to the client (a fill).
 *
 * Owns struct cache_req, which struct mirror embeds.
 */
#ifndef PROXYD_CACHE_FETCH_H
#define PROXYD_CACHE_FETCH_H

#include <stdint.h>

#include "cache.h"
#include "http_parse.h"

struct cache_waiter;
struct cache_wake;
struct evbuffer;
struct exchange;
struct goproxy_req;
struct http_response;
struct route;

struct cache_req {
	int			 on;		/* this request has an entry */
	int			 tried;		/* the cache was looked at */
	int			 stale;		/* an expired entry is there */
	int			 lead;		/* leads the key's flight */
	int			 waited;	/* woken after a flight */
	int			 verified;	/* its entry was hashed once */
	struct cache_waiter	*waiter;	/* queued behind a leader */
	struct exchange		*ex;		/* for the wake-up */
	enum cache_class	 cls;
	struct cache_fill	*fill;		/* a miss being stored */
	uint64_t		 filled;	/* body bytes given to it */
	struct http_chunked	 chunked;	/* a chunked body's framing */
	int			 chunked_done;
	char			*log;		/* " cache=..." goes here */
	size_t			 loglen;	/* bytes of it for that */
	char			 key[CACHE_KEY_MAX];
};

/*
 * Set cr up for request g on route r; the cache state is written into
 * log[0..loglen) (the end of the access line's module words).
 */
void	cache_req_init(struct cache_req *cr, const struct route *r,
	    const struct goproxy_req *g, char *log, size_t loglen);

/*
 * The request head for the mirrors of a request with an entry: without
 * Accept-Encoding, so that the answer is the identity body any client
 * may be served later (zips are compressed already).
 */
void	cache_request_head(struct exchange *ex, const struct cache_req *cr);

/*
 * Before the first mirror is asked: serve a fresh entry, or answer an
 * offline miss.  Returns -1 to go on to the mirrors, else the exchange
 * ops result (0: the exchange ended).
 */
int	cache_serve(struct exchange *ex, struct cache_req *cr);

/*
 * The route's attempt ended without a usable answer (connect failure,
 * timeout, TLS error, 5xx): serve an expired mutable entry, with
 * "Warning: 110", if there is one.  Returns -1 when there is none, else
 * 0 (the exchange ended).
 */
int	cache_serve_stale(struct exchange *ex, struct cache_req *cr);

/* A mirror's final response head goes to the client: start a fill? */
void	cache_response(struct exchange *ex, struct cache_req *cr,
	    const struct http_response *res);

/* Body bytes reached the client: out[from..) (exchange_ops.body). */
void	cache_body(struct exchange *ex, struct cache_req *cr,
	    struct evbuffer *out, size_t from);

/*
 * The exchange ends: commit a complete fill, drop any other; leave or
 * end the key's flight.
 */
void	cache_end(struct exchange *ex, struct cache_req *cr);

/* A worker's wake-up pipe for waiters (created lazily): free it. */
void	cache_wake_free(struct cache_wake *k);

#endif /* PROXYD_CACHE_FETCH_H */
