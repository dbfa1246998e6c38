/*
 * cache_flight.h - single flight for module cache misses, across the
 * workers of one process: the first miss of a key leads (asks the
 * mirrors, fills the entry), later misses of the same key wait until
 * the leader is done and are then served from the entry.
 *
 * One table per configuration snapshot (config.flights, runtime state
 * like auth_fails), a mutex around it: joins and ends are a few per
 * miss, never per byte.  A waiter is woken by writing its pointer to
 * its worker's pipe (each event base runs without libevent's locks).
 *
 * Owns struct cache_flights and the queue of struct cache_waiter.
 */
#ifndef PROXYD_CACHE_FLIGHT_H
#define PROXYD_CACHE_FLIGHT_H

struct cache_flights;

struct cache_waiter {
	struct cache_waiter	*next;
	int			 wake_fd;	/* its worker's pipe */
	int			 dispatched;	/* written to wake_fd: the
						   worker frees it */
	void			*arg;		/* the worker's, NULL once the
						   waiting request is gone */
};

struct cache_flights	*cache_flights_new(void);
void			 cache_flights_free(struct cache_flights *t);

/*
 * A miss of key: 1 when the caller leads (no flight of key was under
 * way; it must call cache_flight_done(key) once the entry is stored or
 * given up), 0 when w was queued behind the leader (woken through
 * w->wake_fd), -1 when out of memory (go on alone).
 */
int	cache_flight_join(struct cache_flights *t, const char *key,
	    struct cache_waiter *w);

/* The flight of key is over: wake every waiter. */
void	cache_flight_done(struct cache_flights *t, const char *key);

/* Hand w to its worker now (its pipe; any thread). */
void	cache_waiter_wake(struct cache_waiter *w);

/*
 * The waiting request is gone: 1 when w was still queued (taken out:
 * the caller frees it), 0 when it was already dispatched (the worker's
 * pipe reader frees it; the caller sets w->arg to NULL).
 */
int	cache_flight_leave(struct cache_flights *t, struct cache_waiter *w);

#endif /* PROXYD_CACHE_FLIGHT_H */
