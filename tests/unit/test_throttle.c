/*
 * test_throttle.c - the repeated-condition throttle (throttle.c): a
 * start line, then at most one line per interval with the count of what
 * happened meanwhile, then an end line with the total.
 */
#include <stdio.h>

#include "throttle.h"
#include "unit.h"

/* EMFILE every 100 ms for 25 s, with a 10 s interval: 3 lines, then end. */
static void
test_every_100ms(void)
{
	struct throttle		t;
	enum throttle_say	say;
	uint64_t		count, seen = 0, total = 0;
	int64_t			now, ms = 0;
	int			lines = 0, starts = 0, repeats = 0;

	throttle_init(&t, 10000, 1000);
	for (now = 1000; now < 26000; now += 100) {
		say = throttle_hit(&t, now, &count);
		if (say == THROTTLE_QUIET)
			continue;
		lines++;
		seen += count;
		starts += say == THROTTLE_START;
		repeats += say == THROTTLE_REPEAT;
		CHECK(say != THROTTLE_REPEAT || count == 100,
		    "a repeat line counts the 100 hits of its interval, got %llu",
		    (unsigned long long)count);
	}
	CHECK(lines == 3 && starts == 1 && repeats == 2,
	    "start + 2 repeats in 25 s, got %d lines (%d starts, %d repeats)",
	    lines, starts, repeats);
	CHECK(seen == 201, "lines report 1 + 100 + 100 hits, got %llu",
	    (unsigned long long)seen);
	CHECK(throttle_clear(&t, 26000, &total, &ms) == THROTTLE_QUIET,
	    "a success 100 ms after a failure does not end it yet");
	CHECK(throttle_hit(&t, 26100, &count) == THROTTLE_QUIET,
	    "nor does the next failure start it again");
	CHECK(throttle_clear(&t, 27100, &total, &ms) == THROTTLE_END &&
	    total == 251 && ms == 25100,
	    "end after 1 s quiet: 251 hits over 25100 ms, got %llu over %lld",
	    (unsigned long long)total, (long long)ms);
	CHECK(throttle_clear(&t, 27200, &total, &ms) == THROTTLE_QUIET,
	    "a second clear says nothing");
}

/* After an end, the next occurrence is a new start. */
static void
test_restart(void)
{
	struct throttle	t;
	uint64_t	count, total;
	int64_t		ms;

	throttle_init(&t, 1000, 0);
	CHECK(throttle_clear(&t, 5, &total, &ms) == THROTTLE_QUIET,
	    "clear without a condition says nothing");
	CHECK(throttle_hit(&t, 10, &count) == THROTTLE_START && count == 1,
	    "first hit starts");
	CHECK(throttle_hit(&t, 20, &count) == THROTTLE_QUIET, "then quiet");
	CHECK(throttle_clear(&t, 30, &total, &ms) == THROTTLE_END &&
	    total == 2 && ms == 10, "end after 2 hits, 10 ms apart");
	CHECK(throttle_hit(&t, 40, &count) == THROTTLE_START && count == 1,
	    "a new condition starts again at once");
	CHECK(throttle_hit(&t, 1039, &count) == THROTTLE_QUIET,
	    "quiet before the interval");
	CHECK(throttle_hit(&t, 1040, &count) == THROTTLE_REPEAT && count == 2,
	    "repeat at the interval, counting 2");
}

int
main(void)
{
	test_every_100ms();
	test_restart();
	return unit_done("test_throttle");
}
