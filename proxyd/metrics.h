/*
 * metrics.h - the daemon's counters, gauges and histograms, and their
 * Prometheus text exposition (served by admin.c at /metrics).
 *
 * Owns struct metrics: one per process, created by main.c, outliving
 * every config snapshot.  Series are keyed by route name and upstream
 * label, so counters survive a reload that keeps the names; a snapshot's
 * routes and upstreams point at their series (metrics_bind()), so the
 * hot path adds to atomics without a lookup.  Label values come only
 * from the config and from fixed sets: no client address, no module
 * path.  Every function taking a route or an upstream is a no-op when
 * it was not bound (admin listener off, unit tests).
 */
#ifndef PROXYD_METRICS_H
#define PROXYD_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct metrics;

enum metrics_kind {		/* proxyd_requests_total{kind} */
	METRICS_FORWARD, METRICS_CONNECT, METRICS_GOPROXY, METRICS_NKINDS
};

enum metrics_fail {		/* proxyd_upstream_failures_total{reason} */
	METRICS_REFUSED, METRICS_TIMEOUT, METRICS_TLS, METRICS_DNS,
	METRICS_RESET, METRICS_PROTOCOL, METRICS_NFAILS
};

enum metrics_limit {		/* proxyd_limited_total{limit} */
	METRICS_RATE, METRICS_CONNS, METRICS_QUEUE_FULL, METRICS_NLIMITS
};

enum metrics_would_deny {	/* proxyd_would_deny_total{reason}: audit */
	METRICS_WD_DESTINATION, METRICS_WD_ROUTE, METRICS_WD_USERS,
	METRICS_WD_RATE, METRICS_NWOULD_DENY
};

/* A new registry (the start time is now); NULL when out of memory. */
struct metrics	*metrics_new(void);
void		 metrics_free(struct metrics *m);

/*
 * Point cfg's routes and upstreams at their series, creating the ones
 * not seen before.  Call before the snapshot is handed to any worker
 * (main thread).  0, or -1 when out of memory (cfg then partly bound,
 * which is safe: unbound parts are not counted).
 */
int		 metrics_bind(struct metrics *m, struct config *cfg);

/*
 * One request or tunnel ended (its access-log line): r is its route, or
 * NULL before one was chosen (counted as route "-").
 */
void		 metrics_request(struct metrics *m, const struct route *r,
		    enum metrics_kind kind, int status, uint64_t bytes_in,
		    uint64_t bytes_out, int64_t ms);

/*
 * A connection attempt to r's upstream upi ended after ms: ok, or failed
 * with reason.  A pooled connection taken again is no attempt.
 */
void		 metrics_attempt(const struct route *r, int upi, int ok,
		    enum metrics_fail reason, int64_t ms);

/* A request sent to upstream upi failed (counts toward its health). */
void		 metrics_upstream_failed(const struct route *r, int upi,
		    enum metrics_fail reason);

/*
 * Which reason an upstream error is, from its status (502/504) and its
 * text: the one place that maps proxyd's failure messages to labels.
 */
enum metrics_fail metrics_failure_reason(int status, const char *why);

/* Admission refused a request of route r. */
void		 metrics_limited(const struct route *r, enum metrics_limit l);

/* Audit mode served a request r's policy would have refused, for why. */
void		 metrics_would_deny(const struct route *r,
		    enum metrics_would_deny why);

/* A password hash was verified (auth_pool.c): good (ok) or wrong. */
void		 metrics_auth_verified(struct metrics *m, int ok);

/* Gauges: a client connection or a tunnel opened (+1) or closed (-1). */
void		 metrics_clients(struct metrics *m, int delta);
void		 metrics_tunnels(struct metrics *m, int delta);

/*
 * A configuration (re)load ended: ok or not.  A success also sets
 * proxyd_config_last_reload_success_timestamp_seconds to now; the
 * first load at start sets it through metrics_new().
 */
void		 metrics_config_reload(struct metrics *m, int ok);	/* NULL ok */

/*
 * Write the text exposition (format 0.0.4) to out: thread-safe against
 * the workers' updates and against metrics_bind().  0, or -1 when a
 * write failed.
 */
int		 metrics_write(struct metrics *m, FILE *out);

#endif /* PROXYD_METRICS_H */
