/*
 * modproxy.h - proxyd as a GOPROXY endpoint.
 *
 * Origin-form GET/HEAD requests in the GOPROXY protocol (GOPROXY=
 * http://proxyd:3128), and absolute-form requests for a GOPROXY host
 * whose route lists mirrors, go to the route's mirrors with Go's
 * fallback rules: after a ',' the next mirror is tried only on 404 or
 * 410, after a '|' on any error.  "direct" answers 404 (the go command
 * then fetches the module itself when its GOPROXY ends in ",direct"),
 * "deny" answers 403.
 */
#ifndef PROXYD_MODPROXY_H
#define PROXYD_MODPROXY_H

#include "proxyd.h"

/* An origin-form request (head_len bytes, not yet drained). */
void	modproxy_start(struct client *c, const struct http_request *req,
	    size_t head_len);

/* Does route r send requests to GOPROXY mirrors? */
int	modproxy_wants(const struct route *r);

/*
 * An absolute-form request for a GOPROXY host whose route r lists
 * mirrors: a GOPROXY request for path[0..len) (head_len bytes, not yet
 * drained).
 */
void	modproxy_start_path(struct client *c, const struct http_request *req,
	    const struct route *r, const char *path, size_t len,
	    size_t head_len);

#endif /* PROXYD_MODPROXY_H */
