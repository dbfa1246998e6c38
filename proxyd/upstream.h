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
 * upstream_cancel() abandons any of them; http, socks5 and TLS (tls.h)
 * build theirs on a struct staged_conn, below.
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
 * (502: refused, unresolvable, parent said no; 504: timeout; 403: the
 * destination policy forbids every address).  peer is the
 * address connected to (the parent's, for parent kinds), "-" if none.
 */
typedef void upstream_cb(struct bufferevent *bev, const struct http_error *err,
    const char *peer, void *arg);

struct upstream_kind {
	const char	*name;
	/* uc: the configured upstream (parent address, credentials);
	 * the direct kind only applies the destination policy of its
	 * route (destpolicy.h), and may be passed NULL: no policy. */
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
 * Through a parent, an IP-literal host that uc's route may not reach
 * (destpolicy.h) is refused with 403 before any connection; the direct
 * kind checks every address it resolves.
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

/*
 * Had r's upstream i failed more than fail_threshold times in a row,
 * so that its "down" line was written before this failure?
 */
int		 upstream_failing_long(const struct route *r, int i);

/*
 * Record the outcome of a connect to r's upstream i (thread-safe).  The
 * error log hears when the upstream is marked down, at most every
 * THROTTLE_INTERVAL_MS while it keeps failing, and when it is up again.
 */
void		 upstream_report(struct logger *log, const struct route *r,
		    int i, int ok, int64_t now);

/* Socket options every proxied connection gets (TCP_NODELAY). */
void		 upstream_tune_socket(int fd);

/*
 * "host:port" into buf, an IPv6 literal in brackets ("[::1]:3128"), as
 * reasons and request lines spell an authority.  A host already in
 * brackets is left as it is.
 */
void		 upstream_hostport(char *buf, size_t len, const char *host,
		    uint16_t port);

/*
 * A staged connect: the mechanics shared by the kinds that layer a
 * handshake on another connection (http and socks5 on a direct connect
 * to their parent, TLS on a connection handed in).  A kind's attempt
 * structure starts with one, allocated by staged_new(); the kind keeps
 * only its own handshake and its reasons.  The base provides what
 * upstream.h promises of every kind:
 *   - one deadline, taken by staged_new(), bounds the dial and the
 *     handshake together;
 *   - the callback is called exactly once, never from inside the connect
 *     call: a failure there is parked and delivered by a zero timer;
 *   - upstream_cancel() frees the attempt at any phase (the dial, with
 *     its pending DNS, is cancelled as the direct kind does it).
 */
struct staged_conn;

struct staged_ops {
	/* The deadline passed during the handshake: call staged_fail(). */
	void	(*timeout)(struct staged_conn *);
	/*
	 * The dial to the parent is over.  err NULL: s->bev leads to the
	 * parent, start the handshake and staged_wait().  Otherwise the
	 * dial failed; err's reason has lost the direct kind's leading
	 * "host:port: " so that the kind can name the hop instead.  NULL
	 * for kinds that never dial.
	 */
	void	(*dialed)(struct staged_conn *, const struct http_error *err);
	/* The attempt ends with bev (NULL: failed), just before it is
	 * freed; not on cancel.  May be NULL. */
	void	(*finish)(struct staged_conn *, struct bufferevent *bev);
	/* Free what the kind holds besides the base, at any phase.  May
	 * be NULL. */
	void	(*release)(struct staged_conn *);
};

struct staged_conn {
	struct upconn		 base;		/* first: cast target */
	const struct staged_ops	*ops;
	struct worker		*w;
	struct upconn		*inner;		/* the dial, while pending */
	struct bufferevent	*bev;		/* being handshaken */
	struct event		*timer;		/* deadline, or zero delay */
	int64_t			 deadline;	/* ms, now_ms() clock */
	upstream_cb		*cb;
	void			*arg;
	int			 starting;	/* inside the connect call */
	int			 fail_status;	/* parked while starting */
	char			 fail_why[512];
	char			 dial_prefix[280]; /* "host:port: " dialed */
	char			 peer[56];	/* connected to, "" unknown */
};

/*
 * A zeroed attempt of size bytes (the kind's structure) whose base is
 * set up: cancel hook, deadline timeout_ms from now, timer, callback.
 * It is starting: staged_fail() parks until staged_dial() or
 * staged_wait().  Returns NULL when out of memory.
 */
void		*staged_new(size_t size, const struct staged_ops *ops,
		    struct worker *w, int timeout_ms, upstream_cb *cb,
		    void *arg);

/*
 * Dial host:port with the direct kind, within what is left of the
 * deadline; ops->dialed() follows.  Returns 0, or -1 when out of memory
 * (the caller frees s with staged_free()).
 */
int		 staged_dial(struct staged_conn *s, const char *host,
		    uint16_t port);

/* The handshake has begun: arm the timer for what is left of the
 * deadline; failures are delivered at once from now on. */
void		 staged_wait(struct staged_conn *s);

/*
 * Fail with status and a printf reason, delivered at once, or parked for
 * the zero timer while the connect call is still on the stack.  s may be
 * freed on return.
 */
void		 staged_fail(struct staged_conn *s, int status,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Success: hand s->bev over as upstream_cb promises, free s. */
void		 staged_deliver(struct staged_conn *s);

/* Free s and everything it holds, at any phase; cb is not called. */
void		 staged_free(struct staged_conn *s);

#endif /* PROXYD_UPSTREAM_H */
