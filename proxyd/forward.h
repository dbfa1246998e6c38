/*
 * forward.h - HTTP forwarding of one absolute-form request and its
 * response: builds the upstream head, streams both bodies with their
 * framing, rewrites hop-by-hop headers, keeps upstreams alive in the pool.
 * Owns struct exchange; the client owns the exchange pointer.
 */
#ifndef PROXYD_FORWARD_H
#define PROXYD_FORWARD_H

#include "proxyd.h"

/*
 * Start forwarding req (head already parsed, not yet drained from the
 * client's input: head_len bytes).  On a refusal it answers the client
 * itself.  The client is in CLIENT_FORWARD afterwards unless refused.
 */
void	forward_start(struct client *c, const struct http_request *req,
	    size_t head_len);

/* The client's bufferevent became readable / drained / had an event. */
void	forward_client_read(struct exchange *ex);
void	forward_client_write(struct exchange *ex);
void	forward_client_event(struct exchange *ex, short what);

/* Free the exchange and its upstream (no logging, no reply). */
void	forward_free(struct exchange *ex);

#endif /* PROXYD_FORWARD_H */
