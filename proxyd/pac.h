/*
 * pac.h - the proxy auto-config file (JavaScript FindProxyForURL) that
 * the admin listener serves at /proxy.pac, generated from the routes.
 * Pure: no I/O but the FILE it writes to, no state.
 */
#ifndef PROXYD_PAC_H
#define PROXYD_PAC_H

#include <stdio.h>
#include <sys/socket.h>

#include "config.h"

/*
 * The "HOST:PORT" browsers are told to use, into buf[0..len): pac_proxy
 * if set, else the first listen address that is not loopback, else the
 * first one.  A wildcard address (0.0.0.0, ::) is no address a browser
 * can reach: local (the address the PAC request came in on, may be NULL)
 * takes its place, with the listen port.
 */
void	pac_proxy_address(const struct config *cfg,
	    const struct sockaddr *local, char *buf, size_t len);

/*
 * Write the PAC file for cfg's routes to out, answering "PROXY proxy"
 * for what goes through proxyd.  Routes are tested in file order, as
 * proxyd does; a route whose only matcher (for a URL) is `hosts` and
 * whose upstreams are all direct answers "DIRECT"; any other route that
 * may match, and the fallback, answer the proxy, with no DIRECT after
 * it.  CIDR entries match IP-literal hosts only (no DNS lookups, unlike
 * isInNet()).  0, or -1 when a write failed.
 */
int	pac_write(const struct config *cfg, const char *proxy, FILE *out);

#endif /* PROXYD_PAC_H */
