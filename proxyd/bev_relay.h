/*
 * bev_relay.h - relay bytes both ways between two bufferevents (CONNECT
 * tunnels whose client speaks TLS), with backpressure, half-close, an
 * idle timeout and an allowance for bandwidth limits.
 */
#ifndef PROXYD_BEV_RELAY_H
#define PROXYD_BEV_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct event_base;
struct bev_relay;

struct bev_relay_ops {
	/*
	 * How many of want bytes may move now (NULL: all); 0 with *wait_ms
	 * the ms until asking again.
	 */
	size_t	(*allow)(void *arg, size_t want, int64_t *wait_ms);
	/*
	 * The relay is over (why: "both sides closed", "tunnel idle
	 * timeout", "tunnel read error", ...): called once; the owner frees
	 * the relay, from inside the call if it likes.
	 */
	void	(*end)(void *arg, const char *why);
};

/*
 * Relay between a and b (both connected; their callbacks, watermarks
 * and timeouts become the relay's; neither is freed by it).  Nothing
 * moves before bev_relay_start().  NULL when out of memory.
 */
struct bev_relay	*bev_relay_new(struct event_base *base,
			    struct bufferevent *a, struct bufferevent *b,
			    int idle_ms, const struct bev_relay_ops *ops,
			    void *arg);

/* Pass on what a and b have already read, from the loop (never calls
 * ops->end from inside). */
void		 bev_relay_start(struct bev_relay *r);

/* Bytes moved so far from a (from 0) or b (from 1) to the other. */
uint64_t	 bev_relay_moved(const struct bev_relay *r, int from);

/* Stop relaying: the bufferevents' callbacks are cleared, not freed. */
void		 bev_relay_free(struct bev_relay *r);

#endif /* PROXYD_BEV_RELAY_H */
