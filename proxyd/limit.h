/*
 * limit.h - the runtime limits of one route: request rate (whole route and
 * per client), bandwidth (whole route and per client), the concurrency cap
 * on upstream connections and the bounded wait queue.
 *
 * A struct limiter belongs to its struct route (route->limiter) and is
 * shared by all worker threads; every function is thread-safe.  Nothing
 * here reads a clock or knows about the event loop: the caller passes the
 * current monotonic time in milliseconds, so the module is tested with
 * simulated time.  A NULL limiter means "no limits": every function
 * accepts it and admits, grants or acquires at once.
 *
 * Token buckets refill continuously.  Per-client state is kept for at most
 * LIMIT_CLIENTS_MAX client addresses (see limit.c for the eviction policy).
 */
#ifndef PROXYD_LIMIT_H
#define PROXYD_LIMIT_H

#include <stddef.h>
#include <stdint.h>

struct limiter;
struct route;
struct sockaddr;

/* Per-client buckets remembered by one limiter, at most. */
#define LIMIT_CLIENTS_MAX	4096

/* Smallest byte bucket: bursts of one second, but never below this. */
#define LIMIT_BYTES_MIN_DEPTH	16384

/*
 * Does r set any limit a limiter enforces (rate, client_rate, bandwidth,
 * client_bandwidth or max_conns above 0)?  burst without rate, and queue
 * without anything to wait for, do not count.
 */
int		 limit_route_has_limits(const struct route *r);

/*
 * The limiter of route r.  NULL with errno 0 when r has no limits, NULL
 * with errno ENOMEM when out of memory.  The route is not kept: its limits
 * are copied.  A burst of 0 means one second of the rate (at least 1).
 */
struct limiter	*limiter_new(const struct route *r);

/*
 * Share l with one more route (a reload keeps the state of a route whose
 * limits did not change): each holder calls limiter_free() once, the
 * last one frees.  Returns l; NULL is accepted.
 */
struct limiter	*limiter_ref(struct limiter *l);
void		 limiter_free(struct limiter *l);

/*
 * Admit one request of client: take one token from the route bucket and
 * one from the client's bucket, both or neither.  Returns 0 when admitted,
 * else the ms until both buckets will hold a token (>= 1); the caller
 * queues and asks again then.  client may be NULL (one shared bucket).
 */
int64_t		 limiter_admit(struct limiter *l, const struct sockaddr *client,
		    int64_t now_ms);

/*
 * Count one more waiting request: 0 if fewer than route->queue were
 * waiting, -1 otherwise (the caller refuses at once).  Every 0 must be
 * paired with one limiter_queue_leave().
 */
int		 limiter_queue_enter(struct limiter *l);
void		 limiter_queue_leave(struct limiter *l);

/*
 * Take one upstream connection slot: 0, or -1 at route->max_conns
 * (0 = no cap).  Every 0 must be paired with one limiter_conn_release().
 */
int		 limiter_conn_acquire(struct limiter *l);
void		 limiter_conn_release(struct limiter *l);

/*
 * The caller wants to read up to want bytes on a connection of client.
 * Returns how many it may read now (0..want), consumed from the route and
 * the client byte buckets; when 0 (and want > 0), *wait_ms is set to the
 * ms until it should ask again (>= 1), else to 0.  To avoid reads of a
 * few bytes, nothing is granted until min(want, 10 ms of bandwidth) is.
 */
size_t		 limiter_bytes(struct limiter *l, const struct sockaddr *client,
		    size_t want, int64_t now_ms, int64_t *wait_ms);

/*
 * Give back n bytes granted by limiter_bytes() but not read (the socket
 * had fewer), so that a slow sender is not charged for what it did not
 * send.  Buckets stay capped at their depth.
 */
void		 limiter_bytes_unused(struct limiter *l,
		    const struct sockaddr *client, size_t n);

/*
 * Seconds to suggest in Retry-After when refusing a request of client:
 * the ceiling of limiter_admit()'s current wait, at least 1.  Consumes
 * nothing and does not make client remembered.
 */
int		 limiter_retry_after(struct limiter *l,
		    const struct sockaddr *client, int64_t now_ms);

/* Client addresses currently remembered (for stats and tests). */
size_t		 limiter_clients(struct limiter *l);

#endif /* PROXYD_LIMIT_H */
