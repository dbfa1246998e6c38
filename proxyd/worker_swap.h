/*
 * worker_swap.h - a worker's side of a reload: the main thread hands a
 * worker a new config snapshot and the listening sockets of the addresses
 * the new file added; the worker swaps them in from its own event loop.
 *
 * Owns struct worker_swap (the message) and the worker's swap pipe.
 */
#ifndef PROXYD_WORKER_SWAP_H
#define PROXYD_WORKER_SWAP_H

#include "proxyd.h"

struct worker_swap {
	struct config	*cfg;			/* one reference, for w->cfg */
	int		 from[CONFIG_MAX_LISTEN]; /* cfg->listen[i] was the
						   worker's listener from[i];
						   -1: added */
	int		 fds[CONFIG_MAX_LISTEN]; /* added: bound socket, else
						   -1 */
	int		 max_clients;		/* the worker's new share */
};

/*
 * A message for cfg: from[] and fds[] set to -1, max_clients given, and
 * one reference to cfg taken.  NULL when out of memory.
 */
struct worker_swap *worker_swap_new(struct config *cfg, int max_clients);

/* Close the sockets still in s, drop its reference and free it. */
void		 worker_swap_free_msg(struct worker_swap *s);

/*
 * Hand s to w (thread-safe; w owns s from then on, whatever happens).
 * The worker applies it from its loop: listeners kept (from[i] >= 0)
 * are moved, never closed; added ones start accepting; the others are
 * closed; new requests use s->cfg, those in flight keep their own.
 * Returns 0, or -1 when s could not be sent (s is freed).
 */
int		 worker_swap_send(struct worker *w, struct worker_swap *s);

/* The swap pipe and its event (worker_init); 0 or -1. */
int		 worker_swap_init(struct worker *w);

/* Free them, and any message not applied (worker_free). */
void		 worker_swap_free(struct worker *w);

#endif /* PROXYD_WORKER_SWAP_H */
