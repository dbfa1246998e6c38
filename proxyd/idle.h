/*
 * idle.h - idle timeouts shared by a worker's connections: one queue and
 * one timer per timeout length, instead of a timer of each connection's
 * own.  An entry is queued in the order of its last activity (a touch
 * moves it to the tail, O(1)), so the head is always the next to expire
 * and one timer, set for the head, serves the whole queue.  Owns struct
 * idle_set and its queues; the entries are embedded in their owners.
 */
#ifndef PROXYD_IDLE_H
#define PROXYD_IDLE_H

#include <sys/queue.h>
#include <stdint.h>

#include <event2/event.h>

struct idle_queue;

struct idle_entry {
	TAILQ_ENTRY(idle_entry)	 link;
	struct idle_queue	*q;	/* NULL: not queued */
	int64_t			 last;	/* ms of the last activity */
};

/* e was idle for its queue's timeout: it is out of the queue already. */
typedef void idle_cb(struct idle_entry *e);

/* A set on base; NULL when out of memory. */
struct idle_set	*idle_set_new(struct event_base *base, idle_cb *expired);

/* Free the set (its queues must be empty); NULL is accepted. */
void		 idle_set_free(struct idle_set *s);

/*
 * Queue e, active now, to expire after ms (> 0) without a touch:
 * 0, or -1 when out of memory (e is then not queued).
 */
int		 idle_start(struct idle_set *s, struct idle_entry *e, int ms,
		    int64_t now);

/* e was active now: its timeout starts again. */
void		 idle_touch(struct idle_entry *e, int64_t now);

/* Take e out of its queue, if it is in one. */
void		 idle_stop(struct idle_entry *e);

#endif /* PROXYD_IDLE_H */
