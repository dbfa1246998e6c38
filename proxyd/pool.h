/*
 * pool.h - idle upstream connections of one worker, keyed by destination
 * ("host:port").  An idle connection that the origin closes, or that sends
 * anything unasked, is dropped; so is one idle for longer than the timeout.
 */
#ifndef PROXYD_POOL_H
#define PROXYD_POOL_H

#include "proxyd.h"

struct pool	*pool_new(struct event_base *base, int idle_timeout_ms);
void		 pool_free(struct pool *p);

/* For connections parked from now on (a reload changed it). */
void		 pool_set_idle_timeout(struct pool *p, int idle_timeout_ms);

/* Park a connected, quiet bufferevent (the pool owns it afterwards). */
void		 pool_put(struct pool *p, const char *key,
		    struct bufferevent *bev, const char *peer);

/*
 * Take the most recently parked connection for key, or NULL.  peer
 * (at least 56 bytes) receives its address.  Callbacks are cleared;
 * reading stays on, so the caller sets its own callbacks before its
 * loop runs again (exchange_attach() does, at once).
 */
struct bufferevent *pool_get(struct pool *p, const char *key, char *peer);

#endif /* PROXYD_POOL_H */
