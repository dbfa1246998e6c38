/*
 * idle.c - shared idle-timeout queues (idle.h).
 *
 * A queue's timer is set for its head's deadline when the queue gets its
 * first entry, and again each time it fires; a touch of the head does not
 * move the timer (that would cost a timer-heap update per read), so the
 * timer may fire early, finds the head not yet due and sets itself for
 * the new head.  A queue left empty is reused for the next timeout length
 * asked for, so a reload's new lengths do not pile queues up.
 */
#include <stdlib.h>

#include "idle.h"
#include "proxyd.h"

struct idle_queue {
	struct idle_set		*s;
	int			 ms;
	TAILQ_HEAD(, idle_entry) list;
	struct event		*timer;
};

struct idle_set {
	struct event_base	*base;
	idle_cb			*expired;
	struct idle_queue	**q;
	size_t			 nq;
};

static void
idle_arm(struct idle_queue *q, int64_t now)
{
	struct idle_entry *e = TAILQ_FIRST(&q->list);
	struct timeval tv;
	int64_t wait;

	if (e == NULL)
		return;
	wait = e->last + q->ms - now;
	evtimer_add(q->timer, ms_to_tv(wait > 0 ? (int)wait : 0, &tv));
}

/* Expire every entry due; each is out of the queue before its callback,
 * which may end it or others (idle_stop) or queue new ones. */
static void
idle_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct idle_queue *q = arg;
	struct idle_entry *e;
	int64_t now = now_ms(q->s->base);

	(void)fd;
	(void)what;
	while ((e = TAILQ_FIRST(&q->list)) != NULL && e->last + q->ms <= now) {
		idle_stop(e);
		q->s->expired(e);
	}
	idle_arm(q, now);
}

struct idle_set *
idle_set_new(struct event_base *base, idle_cb *expired)
{
	struct idle_set *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	s->expired = expired;
	return s;
}

void
idle_set_free(struct idle_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nq; i++) {
		event_free(s->q[i]->timer);
		free(s->q[i]);
	}
	free(s->q);
	free(s);
}

/* The queue for ms: the one it has, an empty one, or a new one. */
static struct idle_queue *
idle_queue_for(struct idle_set *s, int ms)
{
	struct idle_queue *q, *empty = NULL, **grown;
	size_t i;

	for (i = 0; i < s->nq; i++) {
		if (s->q[i]->ms == ms)
			return s->q[i];
		if (empty == NULL && TAILQ_EMPTY(&s->q[i]->list))
			empty = s->q[i];
	}
	if (empty != NULL) {
		empty->ms = ms;
		return empty;
	}
	if ((grown = realloc(s->q, (s->nq + 1) * sizeof(*grown))) == NULL)
		return NULL;
	s->q = grown;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->timer = evtimer_new(s->base, idle_timer_cb, q)) == NULL) {
		free(q);
		return NULL;
	}
	q->s = s;
	q->ms = ms;
	TAILQ_INIT(&q->list);
	s->q[s->nq++] = q;
	return q;
}

int
idle_start(struct idle_set *s, struct idle_entry *e, int ms, int64_t now)
{
	struct idle_queue *q;

	if ((q = idle_queue_for(s, ms)) == NULL)
		return -1;
	e->q = q;
	e->last = now;
	TAILQ_INSERT_TAIL(&q->list, e, link);
	if (TAILQ_FIRST(&q->list) == e)
		idle_arm(q, now);
	return 0;
}

void
idle_touch(struct idle_entry *e, int64_t now)
{
	e->last = now;
	if (e->q == NULL || TAILQ_NEXT(e, link) == NULL)
		return;		/* not queued, or the tail already */
	TAILQ_REMOVE(&e->q->list, e, link);
	TAILQ_INSERT_TAIL(&e->q->list, e, link);
}

void
idle_stop(struct idle_entry *e)
{
	if (e->q == NULL)
		return;
	TAILQ_REMOVE(&e->q->list, e, link);
	e->q = NULL;
}
