/*
 * unit.h - the smallest test framework that does the job.
 *
 * CHECK(cond, fmt, ...) records one passed or failed check (a failure
 * prints file:line and the message); unit_done() prints
 * "NAME: N passed, N failed" and returns the exit status for main().
 * tests/run.sh sums these lines.
 */
#ifndef PROXYD_UNIT_H
#define PROXYD_UNIT_H

#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		unit_passed++;						\
	} else {							\
		unit_failed++;						\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static inline int
unit_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif /* PROXYD_UNIT_H */
