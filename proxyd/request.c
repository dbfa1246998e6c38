/*
 * request.c - the parts every request shares: route choice, admission,
 * failover, the owned reason, the audit mode's would-deny record and
 * the access-log line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "destpolicy.h"
#include "auth.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "route.h"
#include "upstream.h"

/* A request's admission to its route's limits, and who waits for it. */
struct request_wait {
	struct admission	 a;
	void			(*go)(void *arg, int status, const char *why);
	void			*go_arg;
};

int
request_init(struct request *r, struct client *c, const char *method,
    size_t method_len, const char *target, size_t target_len)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->cfg = config_ref(c->w->cfg);
	r->upi = -1;
	r->start = now_ms(c->w->base);
	if ((r->text = malloc(method_len + target_len + 2)) == NULL)
		return -1;
	memcpy(r->text, method, method_len);
	r->text[method_len] = '\0';
	memcpy(r->text + method_len + 1, target, target_len);
	r->text[method_len + 1 + target_len] = '\0';
	r->method = r->text;
	r->target = r->text + method_len + 1;
	r->user = c->user;
	return 0;
}

void
request_release(struct request *r)
{
	if (r->adm != NULL)
		admit_done(&r->adm->a);
	free(r->adm);
	r->adm = NULL;
	free(r->text);
	free(r->why);
	free(r->would_deny);
	r->text = r->why = r->would_deny = NULL;
	r->method = r->target = NULL;
	/* After admit_done(): the route's limiter lives in the snapshot. */
	config_unref(r->cfg);
	r->cfg = NULL;
}

/* The query fields every lookup has: method, target, client. */
static void
request_query(struct route_query *q, struct client *c,
    const struct http_request *req)
{
	memset(q, 0, sizeof(*q));
	q->method = req->method;
	q->method_len = req->method_len;
	q->target = req->target;
	q->target_len = req->target_len;
	q->client = (const struct sockaddr *)&c->addr;
}

const struct route *
request_route_host(struct client *c, const struct http_request *req,
    const char *host, size_t host_len, uint16_t port)
{
	struct route_query q;

	request_query(&q, c, req);
	q.host = host;
	q.host_len = host_len;
	q.port = port;
	return route_lookup(c->w->cfg, &q, c->w->md, NULL);
}

const struct route *
request_route_module(struct client *c, const struct http_request *req,
    const char *module)
{
	struct route_query q;

	request_query(&q, c, req);
	q.module = module;
	q.module_len = strlen(module);
	q.host = "";
	return route_lookup(c->w->cfg, &q, c->w->md, NULL);
}

const char *
request_why(struct request *r, const char *fmt, ...)
{
	va_list ap;
	char *why;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (n == -1)
		return "out of memory";
	free(r->why);
	r->why = why;
	return why;
}

const char *
request_denied(struct request *r)
{
	return request_why(r, "denied by route '%s'", r->route->name);
}

/* Does r's route audit its policy rather than enforce it? */
static int
request_audits(const struct request *r)
{
	return r->route != NULL && (r->route->report ||
	    (r->route->cfg != NULL && r->route->cfg->policy_audit));
}

static void
request_admitted(void *arg, int status, const char *why, int retry_after)
{
	struct request *r = arg;

	if (status != 0 && request_audits(r)) {
		/* Audit mode: the limit's verdict is logged, not applied. */
		request_would_deny(r, METRICS_WD_RATE, "%s", why);
		r->adm->go(r->adm->go_arg, 0, NULL);
		return;
	}
	if (status != 0)
		r->c->retry_after = retry_after;
	r->adm->go(r->adm->go_arg, status, why);
}

/* Does the route's users = list (if any) take the request's user? */
static int
request_user_allowed(const struct request *r)
{
	return auth_name_allowed(r->cfg->users, r->user, r->c->user_by_cert,
	    r->route->users, r->route->nusers);
}

void
request_admit(struct request *r,
    void (*go)(void *arg, int status, const char *why), void *arg)
{
	int status, retry, n;

	if (!request_user_allowed(r) && request_audits(r)) {
		/* Audit mode: served, and logged as what it would be. */
		request_would_deny(r, METRICS_WD_USERS, "user %s not allowed "
		    "by route '%s'", r->user ? r->user : "-", r->route->name);
	} else if (!request_user_allowed(r)) {
		go(arg, 403, request_why(r, "user %s not allowed by route "
		    "'%s'", r->user ? r->user : "-", r->route->name));
		return;
	}
	if (r->route->limiter == NULL) {
		go(arg, 0, NULL);	/* nothing to wait for, nothing held */
		return;
	}
	if (r->adm == NULL && (r->adm = malloc(sizeof(*r->adm))) == NULL) {
		go(arg, 503, "out of memory");
		return;
	}
	r->adm->go = go;
	r->adm->go_arg = arg;
	n = admit_start(&r->adm->a, r->c->w, r->route,
	    (struct sockaddr *)&r->c->addr, request_admitted, r, &status,
	    &retry);
	if (n == 1)
		go(arg, 0, NULL);
	else if (n == -1)
		request_admitted(r, status, r->adm->a.why, retry);
}

/* Did the current upstream connect straight to the destination (so the
 * peer is the destination, not a parent proxy)? */
static int
request_direct(const struct request *r)
{
	const struct upstream_conf *uc;

	if (r->route == NULL || r->upi < 0)
		return 0;
	uc = &r->route->upstreams[r->upi];
	return uc->type == UPSTREAM_DIRECT ||
	    (uc->type == UPSTREAM_MIRROR && r->route->nvia == 0);
}

void
request_would_deny(struct request *r, int reason, const char *fmt, ...)
{
	va_list ap;
	char *why;

	metrics_would_deny(r->route, (enum metrics_would_deny)reason);
	if (r->would_deny != NULL)
		return;		/* the log shows the first */
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) != -1)
		r->would_deny = why;
	va_end(ap);
}

void
request_connected(struct request *r, const struct http_error *err,
    const char *peer)
{
	int64_t now = now_ms(r->c->w->base);
	char why[160];

	snprintf(r->peer, sizeof(r->peer), "%s", peer);
	/* A destination the policy forbids is no fault of the upstream,
	 * and no other upstream may take the request there either. */
	r->policy_denied = err != NULL && err->status == 403;
	if (r->policy_denied)
		return;
	if (r->route->upstreams[r->upi].audit_deny)
		request_would_deny(r, METRICS_WD_ROUTE, "denied by route '%s'",
		    r->route->name);
	if (err == NULL && request_direct(r) &&
	    dest_check_text(r->route, peer, why, sizeof(why)) ==
	    DEST_WOULD_DENY)
		request_would_deny(r, METRICS_WD_DESTINATION, "%s", why);
	upstream_report(r->c->w->log, r->route, r->upi, err == NULL, now);
	metrics_attempt(r->route, r->upi, err == NULL, err ?
	    metrics_failure_reason(err->status, err->reason) : 0,
	    now - r->attempt_start);
}

void
request_upstream_failed(struct request *r, int status, const char *why)
{
	int64_t now = now_ms(r->c->w->base);

	upstream_report(r->c->w->log, r->route, r->upi, 0, now);
	metrics_upstream_failed(r->route, r->upi,
	    metrics_failure_reason(status, why));
}

int
request_failover(struct request *r, const char *why)
{
	int next;

	if (r->policy_denied)
		return 0;
	next = upstream_next(r->route, r->upi, 0, now_ms(r->c->w->base));
	if (next == -1)
		return 0;
	/* Past its down line, an upstream's failures are counted there
	 * (upstream_report), not logged one per request. */
	if (upstream_failing_long(r->route, r->upi))
		log_debug(r->c->w->log, "route %s: %s failed (%s), trying %s",
		    r->route->name, r->route->upstreams[r->upi].label, why,
		    r->route->upstreams[next].label);
	else
		log_error(r->c->w->log, "route %s: %s failed (%s), trying %s",
		    r->route->name, r->route->upstreams[r->upi].label, why,
		    r->route->upstreams[next].label);
	r->upi = next;
	r->peer[0] = '\0';
	return 1;
}

const char *
request_end(struct request *r, int status, const char *why, char *keep,
    size_t len)
{
	/* why may live in the object being ended (a limit's reason). */
	snprintf(keep, len, "%s", why);
	if (status)
		r->status = status;
	request_log(r, keep);
	return keep;
}

/* The kind a request is counted as: by its method and target form. */
static enum metrics_kind
request_kind(const struct request *r)
{
	if (r->method && strcmp(r->method, "CONNECT") == 0)
		return METRICS_CONNECT;
	if (r->module || r->tried || (r->target && r->target[0] == '/'))
		return METRICS_GOPROXY;
	return METRICS_FORWARD;
}

void
request_log(struct request *r, const char *note)
{
	struct access_entry e;

	if (r->logged)
		return;
	r->logged = 1;
	memset(&e, 0, sizeof(e));
	e.client_sa = &r->c->addr.sa;	/* formatted if logged */
	e.method = r->method ? r->method : "-";
	e.target = r->target ? r->target : "-";
	e.status = r->status;
	e.bytes_in = r->bytes_in;
	e.bytes_out = r->bytes_out;
	e.ms = now_ms(r->c->w->base) - r->start;
	e.upstream = r->peer[0] ? r->peer : "-";
	e.route = r->route ? r->route->name : "-";
	e.via = r->route && r->upi >= 0 && r->peer[0] ?
	    r->route->upstreams[r->upi].label : "-";
	e.note = note;
	e.wait_ms = r->adm ? r->adm->a.waited : 0;
	e.module = r->module && r->module[0] ? r->module : NULL;
	if (e.module == NULL && r->c->tp != NULL)
		e.module = "kind=transparent";	/* a redirected client's */
	e.tried = r->tried && r->tried[0] ? r->tried : NULL;
	e.would_deny = r->would_deny;
	e.user = r->user;
	log_access(r->c->w->log, &e);
	metrics_request(r->c->w->metrics, r->route, request_kind(r),
	    r->status, r->bytes_in, r->bytes_out, e.ms);
}

void
request_log_refusal(struct client *c, const struct http_request *req,
    int status, const char *reason)
{
	struct request r;
	char method[24] = "-", target[1024] = "-";

	if (req) {
		snprintf(method, sizeof(method), "%.*s", (int)req->method_len,
		    req->method);
		snprintf(target, sizeof(target), "%.*s", (int)req->target_len,
		    req->target);
	}
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.upi = -1;
	r.method = method;
	r.target = target;
	r.status = status;
	r.start = now_ms(c->w->base);
	r.user = c->user;
	request_log(&r, reason);
}
