/*
 * pool.c - idle upstream connections, per worker, per destination.
 *
 * A small hash table of lists.  The newest connection of a destination is
 * handed out first (it is the least likely to have been closed by the
 * origin's keep-alive timer).  An idle connection is watched: EOF, an
 * error, unexpected bytes or the idle timeout drop it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "addr.h"
#include "pool.h"

#define POOL_BUCKETS	256
#define POOL_MAX_IDLE	1024	/* per worker */

struct idle_conn {
	struct pool		*pool;
	struct bufferevent	*bev;
	unsigned		 bucket;
	char			 key[272];
	char			 peer[56];
	TAILQ_ENTRY(idle_conn)	 link;
};

TAILQ_HEAD(idle_list, idle_conn);

struct pool {
	struct event_base	*base;
	int			 idle_timeout_ms;
	int			 nidle;
	struct idle_list	 buckets[POOL_BUCKETS];
};

static unsigned
pool_hash(const char *key)
{
	return addr_fnv1a(key, strlen(key)) % POOL_BUCKETS;
}

struct pool *
pool_new(struct event_base *base, int idle_timeout_ms)
{
	struct pool *p;
	int i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->base = base;
	p->idle_timeout_ms = idle_timeout_ms;
	for (i = 0; i < POOL_BUCKETS; i++)
		TAILQ_INIT(&p->buckets[i]);
	return p;
}

void
pool_set_idle_timeout(struct pool *p, int idle_timeout_ms)
{
	p->idle_timeout_ms = idle_timeout_ms;
}

static void
idle_conn_drop(struct idle_conn *ic)
{
	TAILQ_REMOVE(&ic->pool->buckets[ic->bucket], ic, link);
	ic->pool->nidle--;
	bufferevent_free(ic->bev);
	free(ic);
}

void
pool_free(struct pool *p)
{
	struct idle_conn *ic;
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < POOL_BUCKETS; i++)
		while ((ic = TAILQ_FIRST(&p->buckets[i])) != NULL)
			idle_conn_drop(ic);
	free(p);
}

/* Anything from an idle upstream (data, EOF, error, timeout) ends it. */
static void
idle_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	idle_conn_drop(arg);
}

static void
idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	idle_conn_drop(arg);
}

void
pool_put(struct pool *p, const char *key, struct bufferevent *bev,
    const char *peer)
{
	struct idle_conn *ic;

	if (p->nidle >= POOL_MAX_IDLE ||
	    evbuffer_get_length(bufferevent_get_input(bev)) != 0 ||
	    (ic = calloc(1, sizeof(*ic))) == NULL) {
		bufferevent_free(bev);
		return;
	}
	ic->pool = p;
	ic->bev = bev;
	addr_copy(ic->key, sizeof(ic->key), key);
	addr_copy(ic->peer, sizeof(ic->peer), peer);
	ic->bucket = pool_hash(ic->key);
	TAILQ_INSERT_HEAD(&p->buckets[ic->bucket], ic, link);
	p->nidle++;
	bufferevent_setcb(bev, idle_read_cb, NULL, idle_event_cb, ic);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bev_timeouts(bev, p->idle_timeout_ms, -1);
	bufferevent_enable(bev, EV_READ);
}

struct bufferevent *
pool_get(struct pool *p, const char *key, char *peer)
{
	struct idle_conn *ic;
	struct bufferevent *bev;
	unsigned b = pool_hash(key);

	TAILQ_FOREACH(ic, &p->buckets[b], link) {
		if (strcmp(ic->key, key) != 0)
			continue;
		TAILQ_REMOVE(&p->buckets[b], ic, link);
		p->nidle--;
		bev = ic->bev;
		memcpy(peer, ic->peer, sizeof(ic->peer));
		free(ic);
		/* Reading stays on: turned off here and on again by the
		 * caller, the epoll changelist still made a call. */
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		bufferevent_set_timeouts(bev, NULL, NULL);
		return bev;
	}
	return NULL;
}
