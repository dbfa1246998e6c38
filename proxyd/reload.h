/*
 * reload.h - SIGHUP: read the configuration file again and, if it is free
 * of errors, hand the new snapshot to every worker (worker_swap.h).
 * Runs in the main thread only.
 */
#ifndef PROXYD_RELOAD_H
#define PROXYD_RELOAD_H

#include "proxyd.h"

/*
 * Load old->path again.  Every error is logged as "file:line: ..." and
 * NULL returned: old keeps serving, nothing changed.  Otherwise the new
 * snapshot (the caller's reference) has been handed to the n workers:
 * addresses it adds are bound, removed ones closed by their workers, kept
 * ones never closed; limiters of routes whose limits did not change are
 * carried over; workers and user keep their old values (a restart is
 * needed for those, and the log says so).  NULL also when an added
 * address cannot be bound (logged; nothing changed).  The snapshot's
 * routes are bound to their metrics series in m (NULL: admin off)
 * before any worker sees it.
 */
struct config	*reload_config(struct config *old, struct worker *workers,
		    int n, struct logger *log, struct metrics *m);

#endif /* PROXYD_RELOAD_H */
