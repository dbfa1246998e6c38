/*
 * throttle.h - a condition that repeats (accept failing with EMFILE, the
 * access log's disk full, an upstream down) is logged when it starts,
 * then at most once per interval with how often it happened meanwhile,
 * and once when it ends.  Pure: the caller passes the time and writes
 * the line; a throttle belongs to one thread (or to one lock).
 */
#ifndef PROXYD_THROTTLE_H
#define PROXYD_THROTTLE_H

#include <stdint.h>

/* The default interval between two lines about the same condition. */
#define THROTTLE_INTERVAL_MS	10000
/* How long a condition must have been quiet before a success ends it. */
#define THROTTLE_SETTLE_MS	1000

struct throttle {
	int64_t		interval;	/* ms between lines, set by the owner */
	int64_t		settle;		/* ms without a hit before an end */
	int		active;		/* the condition holds */
	int64_t		since;		/* ms it started */
	int64_t		last;		/* ms of the last line */
	int64_t		last_hit;	/* ms of the last occurrence */
	uint64_t	count;		/* occurrences not yet reported */
	uint64_t	total;		/* occurrences since it started */
};

enum throttle_say {
	THROTTLE_QUIET,		/* log nothing */
	THROTTLE_START,		/* the condition starts: log it */
	THROTTLE_REPEAT,	/* still there: log it with the count */
	THROTTLE_END		/* it is over: log that, with the total */
};

/* A zeroed throttle with that interval and settle time (ms). */
void			throttle_init(struct throttle *t, int64_t interval,
			    int64_t settle);

/*
 * The condition happened at now (ms, any monotonic clock).  START for
 * the first occurrence, REPEAT when interval has passed since the last
 * line, else QUIET.  *count is set to the occurrences the line reports
 * (those since the last line, this one included).
 */
enum throttle_say	throttle_hit(struct throttle *t, int64_t now,
			    uint64_t *count);

/*
 * A success at now: the condition may be over.  END if it was active
 * and has not happened for settle ms, with *total occurrences and *ms
 * from its start to its last occurrence; QUIET otherwise.  The settle
 * time keeps a condition at its edge (fds freed one at a time and taken
 * again at once) from flapping between start and end lines; the end is
 * then told by the first success after it.  Cheap when inactive: call
 * it on a hot path.
 */
enum throttle_say	throttle_clear(struct throttle *t, int64_t now,
			    uint64_t *total, int64_t *ms);

#endif /* PROXYD_THROTTLE_H */
