/*
 * fdpoll.h - a worker's second epoll set, for sockets that wait for input
 * in great numbers and for long (the sockets of relaying tunnels).  The
 * set is one epoll instance, itself one libevent event of the worker's
 * base: a socket watched here costs the kernel's entry and no user-space
 * memory, where an event of its own costs 136 bytes, a malloc header and
 * a slot of libevent's timer heap.  Owns struct fdpoll.
 *
 * Level-triggered, input only: what waits for output, or for a time, is
 * still libevent's.  Single-threaded: one set per worker.
 */
#ifndef PROXYD_FDPOLL_H
#define PROXYD_FDPOLL_H

#include <event2/event.h>

struct fdpoll;

/* fd of a watched arg is readable, at EOF or in error. */
typedef void fdpoll_cb(void *arg);

/* A set on base calling cb; NULL when out of memory or descriptors. */
struct fdpoll	*fdpoll_new(struct event_base *base, fdpoll_cb *cb);

/* Free the set (every fd must have been unwatched); NULL is accepted. */
void		 fdpoll_free(struct fdpoll *p);

/* Call cb(arg) while fd has input: 0, or -1 with errno. */
int		 fdpoll_watch(struct fdpoll *p, int fd, void *arg);

/*
 * Stop watching fd (before it is closed).  A readiness of arg already
 * fetched but not yet handed out is dropped, so arg may be freed at
 * once, even from within a callback.
 */
void		 fdpoll_unwatch(struct fdpoll *p, int fd, void *arg);

/*
 * The same for an fd that is closed next, by its only holder: the close
 * takes it out of the set, so no syscall is made here.
 */
void		 fdpoll_closing(struct fdpoll *p, void *arg);

#endif /* PROXYD_FDPOLL_H */
