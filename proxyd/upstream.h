/*
 * upstream.h - opening a connection towards a destination.
 *
 * An upstream kind (struct upstream_kind) knows how to get a connected
 * bufferevent for host:port: "direct" resolves with evdns (honouring the
 * hosts file), tries every address in turn and bounds the whole attempt by
 * one connect timeout.  Parent proxies (http, socks5) and mirrors add
 * kinds to the same table.
 */
#ifndef PROXYD_UPSTREAM_H
#define PROXYD_UPSTREAM_H

#include "proxyd.h"

struct upconn;

/*
 * Called exactly once.  On success bev is connected (callbacks cleared,
 * owned by the callee) and err is NULL; on failure bev is NULL and err says
 * what failed (502 refused/unresolvable, 504 timeout).  peer is the address
 * tried last, "-" if none.
 */
typedef void upstream_cb(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg);

struct upstream_kind {
	const char	*name;
	struct upconn	*(*connect)(struct worker *w, const char *host,
			    uint16_t port, int timeout_ms, upstream_cb *cb,
			    void *arg);
};

extern const struct upstream_kind upstream_direct;

/*
 * Connect to host:port through kind.  Returns a handle for
 * upstream_cancel(), or NULL when out of memory.  cb is never called
 * before upstream_connect() has returned.
 */
struct upconn	*upstream_connect(const struct upstream_kind *kind,
		    struct worker *w, const char *host, uint16_t port,
		    int timeout_ms, upstream_cb *cb, void *arg);

/* Abandon a pending connect; cb will not be called. */
void		 upstream_cancel(struct upconn *u);

/* Socket options every proxied connection gets (TCP_NODELAY). */
void		 upstream_tune_socket(int fd);

#endif /* PROXYD_UPSTREAM_H */
