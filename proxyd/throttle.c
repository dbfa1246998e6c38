/*
 * throttle.c - rate-limiting the log lines of a repeating condition:
 * its start, then at most one line per interval with a count, then its
 * end.  No I/O and no clock of its own, so that it is tested as a pure
 * function and works under any lock or thread its owner chooses.
 */
#include <string.h>

#include "throttle.h"

void
throttle_init(struct throttle *t, int64_t interval, int64_t settle)
{
	memset(t, 0, sizeof(*t));
	t->interval = interval;
	t->settle = settle;
}

enum throttle_say
throttle_hit(struct throttle *t, int64_t now, uint64_t *count)
{
	t->count++;
	t->total++;
	t->last_hit = now;
	if (!t->active) {
		t->active = 1;
		t->since = t->last = now;
		*count = t->count;
		t->count = 0;
		return THROTTLE_START;
	}
	if (now - t->last < t->interval)
		return THROTTLE_QUIET;
	t->last = now;
	*count = t->count;
	t->count = 0;
	return THROTTLE_REPEAT;
}

enum throttle_say
throttle_clear(struct throttle *t, int64_t now, uint64_t *total, int64_t *ms)
{
	if (!t->active || now - t->last_hit < t->settle)
		return THROTTLE_QUIET;
	*total = t->total;
	*ms = t->last_hit - t->since;
	t->active = 0;
	t->count = t->total = 0;
	return THROTTLE_END;
}
