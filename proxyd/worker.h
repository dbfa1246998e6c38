/*
 * worker.h - one event-loop thread: its listeners (SO_REUSEPORT, one per
 * configured address), its resolver, pool and clients.  The main thread
 * creates workers, starts them, and asks them to stop.
 */
#ifndef PROXYD_WORKER_H
#define PROXYD_WORKER_H

#include "proxyd.h"

/*
 * Open this process's listening sockets for one worker (before dropping
 * privileges).  Returns 0, or -1 with a message on stderr.
 */
int		 worker_bind(struct worker *w, const struct config *cfg);

/*
 * A socket bound to la (SO_REUSEADDR, SO_REUSEPORT), not yet listening;
 * -1 with errno.  Listeners added by a reload are opened with it too.
 */
int		 worker_listen_socket(const struct listen_addr *la);

/*
 * A listener of w accepting on fd, a socket from worker_listen_socket():
 * fd belongs to the listener, or is closed when NULL is returned.
 */
struct evconnlistener *worker_listener(struct worker *w, int fd);

/* Create the event base, resolver and pool; 0 or -1. */
int		 worker_init(struct worker *w, int id, struct config *cfg,
		    struct logger *log, int max_clients);
int		 worker_start(struct worker *w);

/* Ask to stop (thread-safe): stop accepting, drain, then exit the loop. */
void		 worker_stop(struct worker *w);
void		 worker_join(struct worker *w);
void		 worker_free(struct worker *w);

#endif /* PROXYD_WORKER_H */
