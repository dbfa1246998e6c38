/*
 * upstream.h - opening a connection that leads to a destination.
 *
 * An upstream kind (struct upstream_kind) knows how to get a connected
 * bufferevent whose other end is host:port:
 *   direct  resolves with evdns (hosts file first), tries every address in
 *           turn, the whole attempt bounded by one connect timeout;
 *   http    connects to a parent HTTP proxy and asks it to CONNECT;
 *   socks5  connects to a parent SOCKS5 proxy and asks it to CONNECT,
 *           sending the destination name unresolved.
 * Each kind's attempt starts with a struct upconn, so that one
 * upstream_cancel() abandons any of them.
 */
#ifndef PROXYD_UPSTREAM_H
#define PROXYD_UPSTREAM_H

#include "proxyd.h"

/* The head of every kind's attempt structure. */
struct upconn {
	void	(*cancel)(struct upconn *);
};

/*
 * Called exactly once, never from inside the connect call.  On success
 * bev leads to the destination (callbacks cleared, reading disabled,
 * owned by the callee; bytes the parent sent after its answer are in its
 * input) and err is NULL; on failure bev is NULL and err says what failed
 * (502: refused, unresolvable, parent said no; 504: timeout).  peer is the
 * address connected to (the parent's, for parent kinds), "-" if none.
 */
typedef void upstream_cb(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg);

struct upstream_kind {
	const char	*name;
	/* uc: the configured upstream (parent address, credentials);
	 * the direct kind ignores it and may be passed NULL. */
	struct upconn	*(*connect)(struct worker *w,
			    const struct upstream_conf *uc, const char *host,
			    uint16_t port, int timeout_ms, upstream_cb *cb,
			    void *arg);
};

extern const struct upstream_kind upstream_direct;
extern const struct upstream_kind upstream_http;
extern const struct upstream_kind upstream_socks5;

/* The kind implementing t, or NULL (deny, mirror). */
const struct upstream_kind *upstream_kind_of(enum upstream_type t);

/*
 * Connect to host:port through kind.  Returns a handle for
 * upstream_cancel(), or NULL when out of memory (cb is not called then).
 */
struct upconn	*upstream_connect(const struct upstream_kind *kind,
		    struct worker *w, const struct upstream_conf *uc,
		    const char *host, uint16_t port, int timeout_ms,
		    upstream_cb *cb, void *arg);

/* Abandon a pending connect; cb will not be called. */
void		 upstream_cancel(struct upconn *u);

/*
 * Failover: the index of the upstream of r to try after index `after`
 * (-1 for the first), skipping upstreams marked down and those of a type
 * this traffic cannot use (mirrors unless `module`), or -1 when none is
 * left.  When every usable upstream is down, all are tried in order:
 * a dead route still gets its chance rather than a certain failure.
 */
int		 upstream_next(const struct route *r, int after, int module,
		    int64_t now);

/* Is uc marked down after repeated failures? */
int		 upstream_is_down(const struct upstream_conf *uc, int64_t now);

/* Record the outcome of a connect to r's upstream i (thread-safe). */
void		 upstream_report(const struct route *r, int i, int ok,
		    int64_t now);

/* Socket options every proxied connection gets (TCP_NODELAY). */
void		 upstream_tune_socket(int fd);

#endif /* PROXYD_UPSTREAM_H */
