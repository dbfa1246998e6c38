/*
 * admit.c - waiting for a route's limits.
 *
 * The token buckets say how long until a token may be had; a waiting
 * request sleeps that long (a timer), then asks again, because other
 * workers may have taken the token meanwhile.  A connection slot gives
 * no such hint, so a request waiting for one asks every CONN_POLL_MS.
 * A wait that cannot end before the deadline is refused at once: the
 * answer comes early instead of at the end of a hopeless wait.
 */
#include <stdio.h>
#include <string.h>

#include "admit.h"
#include "limit.h"
#include "metrics.h"

#define CONN_POLL_MS	10

static void	admit_timer_cb(evutil_socket_t, short, void *);

/*
 * Try to take what is still missing.  Returns 0 when admitted, else the
 * ms to wait before trying again, with *status the refusal it would be.
 */
static int64_t
admit_try(struct admission *a, int64_t now, int *status)
{
	struct limiter *l = a->route->limiter;
	int64_t wait;

	if (!a->have_token) {
		*status = 429;
		if ((wait = limiter_admit(l, a->client, now)) > 0)
			return wait;
		a->have_token = 1;
	}
	if (!a->have_conn) {
		*status = 503;
		if (limiter_conn_acquire(l) == -1)
			return CONN_POLL_MS;
		a->have_conn = 1;
	}
	return 0;
}

/* A refusal: its reason, and the metrics' count of it. */
static void
admit_reason(struct admission *a, int status)
{
	metrics_limited(a->route, a->queue_full ? METRICS_QUEUE_FULL :
	    status == 429 ? METRICS_RATE : METRICS_CONNS);
	snprintf(a->why, sizeof(a->why), status == 429 ?
	    "request rate limit of route '%s' exceeded" :
	    "route '%s' is at its limit of concurrent connections",
	    a->route->name);
}

static void
admit_leave_queue(struct admission *a)
{
	if (a->queued) {
		limiter_queue_leave(a->route->limiter);
		a->queued = 0;
	}
	if (a->timer) {
		event_free(a->timer);
		a->timer = NULL;
	}
}

/*
 * Wait wait ms more, if the queue has room and the deadline allows.
 * 0 waiting, -1 refused.
 */
static int
admit_wait(struct admission *a, int64_t now, int64_t wait)
{
	struct timeval tv;

	if (!a->queued) {
		if (limiter_queue_enter(a->route->limiter) == -1) {
			a->queue_full = a->route->queue > 0;
			return -1;
		}
		a->queued = 1;
		a->deadline = now + a->route->queue_timeout;
	}
	if (now + wait > a->deadline)
		return -1;
	if (a->timer == NULL &&
	    (a->timer = evtimer_new(a->w->base, admit_timer_cb, a)) == NULL)
		return -1;
	evtimer_add(a->timer, ms_to_tv((int)wait, &tv));
	return 0;
}

static void
admit_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admission *a = arg;
	int64_t now = now_ms(a->w->base), wait;
	int status;

	(void)fd;
	(void)what;
	wait = admit_try(a, now, &status);
	a->waited = now - a->start;
	if (wait > 0 && admit_wait(a, now, wait) == 0)
		return;
	admit_leave_queue(a);
	if (wait == 0) {
		a->cb(a->arg, 0, NULL, 0);
		return;
	}
	admit_reason(a, status);
	a->cb(a->arg, status, a->why,
	    limiter_retry_after(a->route->limiter, a->client, now));
}

int
admit_start(struct admission *a, struct worker *w, const struct route *r,
    const struct sockaddr *client, admit_cb *cb, void *arg, int *status,
    int *retry_after)
{
	int64_t now = now_ms(w->base), wait;

	memset(a, 0, sizeof(*a));
	a->w = w;
	a->route = r;
	a->client = client;
	a->cb = cb;
	a->arg = arg;
	a->start = now;
	if (r->limiter == NULL || (wait = admit_try(a, now, status)) == 0)
		return 1;
	if (admit_wait(a, now, wait) == 0)
		return 0;
	admit_leave_queue(a);
	admit_reason(a, *status);
	*retry_after = limiter_retry_after(r->limiter, client, now);
	return -1;
}

void
admit_done(struct admission *a)
{
	if (a->route == NULL)
		return;
	admit_leave_queue(a);
	if (a->have_conn) {
		limiter_conn_release(a->route->limiter);
		a->have_conn = 0;
	}
}
