/*
 * client.h - one accepted client connection: reads request heads,
 * dispatches them (forward, tunnel), keeps the connection alive between
 * requests and answers errors.  Owns struct client.
 */
#ifndef PROXYD_CLIENT_H
#define PROXYD_CLIENT_H

#include "proxyd.h"

/*
 * Take over an accepted socket; tls: it came on a tls listener, and its
 * client speaks TLS first (tls_server.c).  Never fails visibly: on
 * ENOMEM the fd is closed and NULL returned.
 */
struct client *client_accept(struct worker *w, int fd, const struct sockaddr *sa,
	    int salen, int tls);

/*
 * The one teardown path: ends the exchange or tunnel (each logs its
 * request once, with reason as the note if it had none), frees the
 * bufferevent (closing the socket) and schedules the struct itself to
 * be freed from the event loop, so that a caller inside a callback may
 * still read c after this returns (never use c->owner or c->bev).
 * reason goes to the debug log.  Calling it twice is harmless.
 */
void	client_close(struct client *c, const char *reason);

/*
 * client_close() for a response cut short that the client could take
 * for whole, its end being the connection's close (no Content-Length, no
 * chunks): the connection is reset (SO_LINGER 0) and a TLS client gets
 * no close_notify, so the client sees an error, not a clean end.
 */
void	client_abort(struct client *c, const char *reason);

/* Free the clients closed since the last call (the worker's reap event). */
void	client_reap(struct worker *w);

/*
 * Hand the client to owner (an exchange, a tunnel): its events go to
 * ops, and client_close() tears owner down through ops->close.
 * client_disown() takes it back (the owner answers or frees next).
 */
void	client_own(struct client *c, const struct client_ops *ops,
	    void *owner);
void	client_disown(struct client *c);

/*
 * Answer status with a one-line body "proxyd: reason", then close once
 * it is flushed (lingering: the rest of the request is read and dropped).
 * client_refuse() also writes the access-log line (req may be NULL when
 * the head could not be parsed); client_answer() is for callers that
 * logged the exchange themselves.
 */
void	client_refuse(struct client *c, const struct http_request *req,
	    int status, const char *reason);
void	client_answer(struct client *c, int status, const char *reason);
/* client_answer() with a whole text body of len bytes (reply_text()). */
void	client_answer_body(struct client *c, int status, const char *body,
	    size_t len);

/*
 * The current exchange is over.  With keep_alive the client goes back to
 * reading the next head (pipelined bytes already buffered are parsed at
 * once); otherwise it is closed when its output has been flushed.
 */
void	client_exchange_done(struct client *c, int keep_alive);

/*
 * A credentials check of the buffered head is over (auth_client.c):
 * read and dispatch it again.
 */
void	client_auth_resume(struct client *c);

/* The client's "addr:port" in buf (CLIENT_PEER_LEN bytes); returns buf. */
#define CLIENT_PEER_LEN	64
const char *client_peer(const struct client *c, char *buf);

/* Close every client idle between requests (graceful shutdown). */
void	client_close_idle(struct worker *w);

#endif /* PROXYD_CLIENT_H */
