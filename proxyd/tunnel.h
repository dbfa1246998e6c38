/*
 * tunnel.h - CONNECT tunnels: connect upstream, answer 200, relay bytes
 * both ways with backpressure and half-close, idle timeout.  Owns struct
 * tunnel; the client is handed to it (client_own), and once relaying the
 * tunnel owns both sockets; the client's teardown frees it (and logs).
 */
#ifndef PROXYD_TUNNEL_H
#define PROXYD_TUNNEL_H

#include "proxyd.h"

/* Start a tunnel for a parsed CONNECT request (head_len bytes to drain). */
void	tunnel_start(struct client *c, const struct http_request *req,
	    size_t head_len);

/*
 * The same for a client that never asked for a tunnel (a transparent
 * listener's): req is a made-up CONNECT to route by, the client's
 * buffered bytes are relayed untouched, and the client gets no HTTP
 * answer, neither 200 nor an error (a refusal closes it).
 */
void	tunnel_start_quiet(struct client *c, const struct http_request *req);

#endif /* PROXYD_TUNNEL_H */
