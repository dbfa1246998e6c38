/*
 * auth_client.c - authenticating a client's requests.
 *
 * In order: the connection's own memo (the same header as the last
 * request proved, on the same users file: keep-alive clients pay
 * nothing), the worker's cache, the address's failure limit, then a
 * check on the pool.  While it runs the client is not read, so neither
 * the exchange nor the tunnel starts; the result comes back on the
 * worker's loop, where a closed client has left job->c NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_cache.h"
#include "auth_client.h"
#include "auth_pool.h"
#include "client.h"
#include "log.h"
#include "metrics.h"
#include "request.h"

#define AUTH_POOL_THREADS	2

/*
 * The credentials header of req: Proxy-Authorization, or for a request
 * to proxyd itself (origin-form: the GOPROXY endpoint) Authorization,
 * which is what go sends from .netrc.  NULL if there is none.
 */
static const struct http_header *
auth_header(const struct http_request *req)
{
	const struct http_header	*alt = NULL;
	size_t				 i;

	for (i = 0; i < req->num_headers; i++) {
		if (http_header_is(&req->headers[i], "Proxy-Authorization"))
			return &req->headers[i];
		if (http_header_is(&req->headers[i], "Authorization"))
			alt = &req->headers[i];
	}
	return req->target_len > 0 && req->target[0] == '/' ? alt : NULL;
}

static int
set_user(struct client *c, const char *user)
{
	char	*u;

	if ((u = strdup(user)) == NULL)
		return -1;
	free(c->user);
	c->user = u;
	return 0;
}

static void	auth_done(struct auth_job *job, void *arg);

static struct auth_pool *
worker_pool(struct worker *w)
{
	if (w->auth_pool == NULL)
		w->auth_pool = auth_pool_new(w->base, AUTH_POOL_THREADS,
		    auth_done, w);
	return w->auth_pool;
}

/* Queue a check of user:pass for c; 0, or -1 (answered 503). */
static int
auth_submit(struct client *c, const struct http_request *req,
    const unsigned char *mac, const char *user, const char *pass)
{
	struct auth_job	*job;
	struct auth_pool *p;

	if ((p = worker_pool(c->w)) == NULL ||
	    (job = calloc(1, sizeof(*job))) == NULL) {
		client_refuse(c, req, 503, "out of memory");
		return -1;
	}
	job->cfg = config_ref(c->w->cfg);
	snprintf(job->user, sizeof(job->user), "%s", user);
	snprintf(job->pass, sizeof(job->pass), "%s", pass);
	memcpy(job->mac, mac, sizeof(job->mac));
	snprintf(job->method, sizeof(job->method), "%.*s",
	    (int)req->method_len, req->method);
	snprintf(job->target, sizeof(job->target), "%.*s",
	    (int)req->target_len, req->target);
	job->c = c;	/* before the pool has it: never touched there */
	if (auth_pool_submit(p, job) == -1) {
		auth_job_free(job);
		c->retry_after = 1;
		client_refuse(c, req, 503, "too many logins being checked");
		return -1;
	}
	/* The result comes back on this loop, after this returns. */
	c->auth_job = job;
	bufferevent_disable(c->bev, EV_READ);
	return 0;
}

/* A refused check: count it against the address, answer 407. */
static void
auth_refuse(struct client *c, const struct http_request *req,
    const char *why)
{
	auth_fail(c->w->cfg->auth_fails, (struct sockaddr *)&c->addr,
	    now_ms(c->w->base));
	client_refuse(c, req, 407, why);
}

int
auth_client_check(struct client *c, const struct http_request *req)
{
	const struct config		*cfg = c->w->cfg;
	const struct http_header	*h;
	unsigned char			 mac[AUTH_MAC_LEN];
	char				 user[AUTH_NAME_MAX], pass[AUTH_NAME_MAX];
	const char			*cached;
	int64_t				 now = now_ms(c->w->base);
	int				 ok;

	if ((h = auth_header(req)) == NULL) {
		free(c->user);
		c->user = NULL;
		client_refuse(c, req, 407, "proxy authentication required");
		return 0;
	}
	if (c->w->auth_cache == NULL &&
	    (c->w->auth_cache = auth_cache_new()) == NULL) {
		client_refuse(c, req, 503, "out of memory");
		return 0;
	}
	auth_cache_mac(c->w->auth_cache, h->value, h->value_len, mac);
	if (c->user && c->auth_id == cfg->users->id &&
	    memcmp(c->auth_mac, mac, sizeof(mac)) == 0)
		return 1;
	/* Not what proved the last request: no user until checked. */
	free(c->user);
	c->user = NULL;
	if ((cached = auth_cache_get(c->w->auth_cache, mac, cfg->users->id,
	    now)) != NULL) {
		memcpy(c->auth_mac, mac, sizeof(mac));
		c->auth_id = cfg->users->id;
		return set_user(c, cached) == 0;
	}
	if (auth_fails_blocked(cfg->auth_fails, (struct sockaddr *)&c->addr,
	    now, &c->retry_after)) {
		client_refuse(c, req, 429, "too many failed logins from this "
		    "address");
		return 0;
	}
	if (auth_basic_decode(h->value, h->value_len, user, pass) == -1) {
		auth_refuse(c, req, "credentials are not Basic user:password");
		return 0;
	}
	ok = auth_submit(c, req, mac, user, pass);
	explicit_bzero(pass, sizeof(pass));
	(void)ok;
	return 0;
}

/* On the worker's loop: the check of job is done. */
static void
auth_done(struct auth_job *job, void *arg)
{
	struct worker		*w = arg;
	struct client		*c = job->c;
	struct http_request	 req;
	char			 peer[CLIENT_PEER_LEN];

	metrics_auth_verified(w->metrics, job->ok);
	if (c == NULL)
		goto done;	/* closed while its check ran */
	c->auth_job = NULL;
	if (log_debugging(w->log))
		log_debug(w->log, "client %s: checked password of user %s: %s "
		    "(%lu checks)", client_peer(c, peer), job->user, job->ok ?
		    "good" : "wrong", auth_pool_count(w->auth_pool));
	if (job->ok && w->cfg->users != NULL &&
	    job->cfg->users->id == w->cfg->users->id &&
	    set_user(c, job->user) == 0) {
		auth_cache_put(w->auth_cache, job->mac, job->cfg->users->id,
		    job->user, now_ms(w->base), w->cfg->auth_cache_ttl);
		memcpy(c->auth_mac, job->mac, sizeof(c->auth_mac));
		c->auth_id = job->cfg->users->id;
	}
	if (job->ok || job->cfg->users != w->cfg->users) {
		/* Good, or checked on a users file since reloaded: the
		 * head again, which checks it on the current one. */
		bufferevent_enable(c->bev, EV_READ);
		client_auth_resume(c);
		goto done;
	}
	memset(&req, 0, sizeof(req));
	req.method = job->method;
	req.method_len = strlen(job->method);
	req.target = job->target;
	req.target_len = strlen(job->target);
	auth_refuse(c, &req, "wrong user or password");
done:
	auth_job_free(job);
}

void
auth_client_closed(struct client *c)
{
	if (c->auth_job)
		c->auth_job->c = NULL;
	c->auth_job = NULL;
}

void
auth_worker_free(struct worker *w)
{
	auth_pool_free(w->auth_pool);
	w->auth_pool = NULL;
	auth_cache_free(w->auth_cache);
	w->auth_cache = NULL;
}

unsigned long
auth_worker_checks(const struct worker *w)
{
	return auth_pool_count(w->auth_pool);
}
