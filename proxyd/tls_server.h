/*
 * tls_server.h - TLS for clients of a tls listener (listen = tls ADDR):
 * the accepted socket's decrypting bufferevent, the client certificate's
 * name, the reason a handshake failed, and close_notify.
 */
#ifndef PROXYD_TLS_SERVER_H
#define PROXYD_TLS_SERVER_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct ssl_ctx_st;

/*
 * A bufferevent that runs the server handshake on fd with ctx (a
 * snapshot's tls_ctx) and then reads and writes plain text; callbacks are
 * deferred.  Freeing it frees the SSL and closes fd.  NULL when out of
 * memory (fd is then the caller's).  A handshake that fails comes as
 * BEV_EVENT_ERROR, one that completes as BEV_EVENT_CONNECTED.
 */
struct bufferevent	*tls_server_accept(struct event_base *base,
			    struct ssl_ctx_st *ctx, int fd);

/* Is bev one of tls_server_accept()'s (or any TLS bufferevent)? */
int	tls_server_is_tls(struct bufferevent *bev);

/*
 * Why bev's TLS failed, for the debug log: "TLS handshake failed:
 * client certificate: <X.509 reason>", "TLS handshake failed: <first
 * OpenSSL reason>" or "TLS connection failed".  Empties libevent's
 * error queue of bev.
 */
void	tls_server_error(struct bufferevent *bev, char *buf, size_t len);

/*
 * The subject CN of the client certificate bev's handshake verified
 * (malloc'd), or NULL: no certificate, not verified, no CN, or out of
 * memory.
 */
char	*tls_server_peer_name(struct bufferevent *bev);

/*
 * Send close_notify once, without waiting for the peer's, so a client
 * can tell our end of the stream from a cut; nothing for a non-TLS bev
 * or an unfinished handshake.
 */
void	tls_server_close_notify(struct bufferevent *bev);

/*
 * Never send close_notify on bev (no-op for plain bufferevents): its
 * response was cut, and a close_notify would tell the client that the
 * close was the end of the data.
 */
void	tls_server_no_close_notify(struct bufferevent *bev);

#endif /* PROXYD_TLS_SERVER_H */
