/*
 * forward.h - absolute-form requests for origins, directly or through
 * parent proxies with failover: the forwarding kind of exchange
 * (exchange.h).  A request for a GOPROXY host whose route lists mirrors
 * is handed to modproxy.
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

#endif /* PROXYD_FORWARD_H */
