/*
 * request.h - what every request has, whatever its kind (a forwarded
 * exchange, a GOPROXY exchange, a CONNECT tunnel, a refusal): the route
 * chosen for it, the upstream in use, admission to the route's limits,
 * the failover step, the reason it ended (owned here, never a shared
 * scratch buffer) and its one access-log line.
 *
 * Owns struct request, which is embedded in struct exchange and struct
 * tunnel; the method and target text is owned by the request, and so is
 * its admission state (only on routes with limits).
 */
#ifndef PROXYD_REQUEST_H
#define PROXYD_REQUEST_H

#include "admit.h"
#include "proxyd.h"

struct route_query;
struct request_wait;

struct request {
	struct client		*c;
	/* The snapshot the request started on, referenced: its route and
	 * limits point into it, and a reload must not free them under it. */
	struct config		*cfg;
	const struct route	*route;
	/* Small together, in one word: every idle tunnel has them. */
	int16_t			 upi;		/* upstream in use, or -1 */
	int16_t			 status;	/* sent, or to be sent */
	unsigned char		 logged;
	unsigned char		 policy_denied;	/* the last connect got 403 */
	char			*text;		/* owns method and target */
	const char		*method;
	const char		*target;	/* as the client sent it */
	const char		*user;		/* authenticated (the client's
						   c->user), or NULL */
	char			 peer[56];	/* address connected to */
	uint64_t		 bytes_in;	/* from the client */
	uint64_t		 bytes_out;	/* to the client */
	int64_t			 start;
	int64_t			 attempt_start;	/* ms, of the last connect */
	/* The route's limits and who waits for them: allocated only on a
	 * route that has some (an idle tunnel of an unlimited route holds
	 * none). */
	struct request_wait	*adm;
	const char		*module;	/* log: "module=... kind=..." */
	const char		*tried;		/* log: mirrors and outcomes */
	char			*why;		/* reason owned by the request */
	char			*would_deny;	/* audit mode: what was let by */
};

/*
 * Set up r for the request method/target from client c.  Returns 0, or
 * -1 when out of memory (r is then safe to request_release()).
 */
int	request_init(struct request *r, struct client *c, const char *method,
	    size_t method_len, const char *target, size_t target_len);

/* Give back the limits held, the text and the snapshot; does not log. */
void	request_release(struct request *r);

/*
 * The route of a request to host:port, or of a GOPROXY request for
 * module (a module path, or a sumdb name).  Never NULL.  Thread-safe:
 * uses the worker's regex match data.
 */
const struct route *request_route_host(struct client *c,
	    const struct http_request *req, const char *host, size_t host_len,
	    uint16_t port);
const struct route *request_route_module(struct client *c,
	    const struct http_request *req, const char *module);

/*
 * Set the request's own reason (printf) and return it; it lives as long
 * as the request.  Allocated only when a reason is built (an idle tunnel
 * carries none); "out of memory" when it cannot be.
 */
const char *request_why(struct request *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The 403 reason for a route that sends nothing anywhere (deny, off). */
const char *request_denied(struct request *r);

/*
 * Wait for the route's limits, then call go(arg, 0, NULL) to go on, or
 * go(arg, status, why) for a refusal (429/503; the client's Retry-After
 * is set).  go may run before request_admit() returns.
 */
void	request_admit(struct request *r,
	    void (*go)(void *arg, int status, const char *why), void *arg);

/* A connect of the current upstream ended at peer, ok (err NULL) or
 * not: remember the peer for the log, record the upstream's health and
 * the attempt's metrics. */
void	request_connected(struct request *r, const struct http_error *err,
	    const char *peer);

/* The request sent to the current upstream failed with status and why
 * (a response timeout, a close before any byte): health and metrics. */
void	request_upstream_failed(struct request *r, int status,
	    const char *why);

/*
 * Failover: the current upstream failed (why).  Moves r to the route's
 * next usable upstream and logs the step; returns 1, or 0 when none is
 * left (r unchanged).
 */
int	request_failover(struct request *r, const char *why);

/*
 * The request ends with status (unless a response already started) and
 * why: logs it, and copies why into keep (len bytes), which outlives the
 * object r is embedded in.  Returns keep.
 */
const char *request_end(struct request *r, int status, const char *why,
	    char *keep, size_t len);

/*
 * Audit mode: r is served although its policy would refuse it for
 * reason (the kind, metrics_would_deny) and why (printf).  The access
 * log shows would_deny="why" (the first one), the metric counts each.
 * The hook for every audited check: destinations (request_connected),
 * and users =, route deny and rate limits when they audit.
 */
void	request_would_deny(struct request *r, int reason, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/* The access-log line, at most once per request; note may be NULL. */
void	request_log(struct request *r, const char *note);

/* The access-log line of a request refused before it had an object
 * (req may be NULL when the head did not parse). */
void	request_log_refusal(struct client *c, const struct http_request *req,
	    int status, const char *reason);

#endif /* PROXYD_REQUEST_H */
