/*
 * fdlimit.h - the process's descriptor limit (RLIMIT_NOFILE): raised to
 * the hard limit at start, as nginx (worker_rlimit_nofile) and squid do,
 * and checked against max_clients.
 */
#ifndef PROXYD_FDLIMIT_H
#define PROXYD_FDLIMIT_H

#include "config.h"

struct logger;

/* Raise the soft limit to the hard one and log the figure. */
void	fdlimit_raise(struct logger *log);

/*
 * Warn when cfg->max_clients needs more descriptors than the soft limit
 * allows: each client may hold two (its own and an upstream's), and every
 * worker some more (listeners, pipes, resolver, event base).
 */
void	fdlimit_check(const struct config *cfg, struct logger *log);

#endif /* PROXYD_FDLIMIT_H */
