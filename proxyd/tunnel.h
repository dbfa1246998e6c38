/*
 * tunnel.h - CONNECT tunnels: connect upstream, answer 200, relay bytes
 * both ways with backpressure and half-close, idle timeout.  Owns struct
 * tunnel; the client owns the tunnel pointer and takes over its bufferevent.
 */
#ifndef PROXYD_TUNNEL_H
#define PROXYD_TUNNEL_H

#include "proxyd.h"

/* Start a tunnel for a parsed CONNECT request (head_len bytes to drain). */
void	tunnel_start(struct client *c, const struct http_request *req,
	    size_t head_len);

/* Free the tunnel, its upstream, and log it. */
void	tunnel_free(struct tunnel *t, const char *reason);

#endif /* PROXYD_TUNNEL_H */
