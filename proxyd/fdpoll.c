/*
 * fdpoll.c - a worker's second epoll set (fdpoll.h).
 *
 * libevent's epoll reports the set's descriptor readable; the callback
 * then fetches up to FDPOLL_BATCH ready sockets without waiting and hands
 * each to the set's callback.  Fetching a bounded batch per loop turn
 * keeps the other events of the loop served: if more are ready, the
 * set's descriptor stays readable and the next turn takes them.
 *
 * A callback may end other watchers of the same batch (a tunnel's end
 * unwatches both its sockets): fdpoll_unwatch() blanks their entries
 * still to be handed out, so nothing freed is called.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "fdpoll.h"

#define FDPOLL_BATCH	64

struct fdpoll {
	int			 epfd;
	struct event		*ev;
	fdpoll_cb		*cb;
	int			 pos;	/* entry being handed out */
	int			 n;	/* entries fetched */
	struct epoll_event	 batch[FDPOLL_BATCH];
};

static void
fdpoll_ready(evutil_socket_t fd, short what, void *arg)
{
	struct fdpoll *p = arg;
	void *owner;

	(void)fd;
	(void)what;
	p->n = epoll_wait(p->epfd, p->batch, FDPOLL_BATCH, 0);
	for (p->pos = 0; p->pos < p->n; p->pos++) {
		if ((owner = p->batch[p->pos].data.ptr) != NULL)
			p->cb(owner);
	}
	p->n = p->pos = 0;
}

struct fdpoll *
fdpoll_new(struct event_base *base, fdpoll_cb *cb)
{
	struct fdpoll *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cb = cb;
	p->epfd = -1;
	if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto fail;
	p->ev = event_new(base, p->epfd, EV_READ | EV_PERSIST, fdpoll_ready,
	    p);
	if (p->ev == NULL || event_add(p->ev, NULL) == -1)
		goto fail;
	return p;
fail:
	fdpoll_free(p);
	return NULL;
}

void
fdpoll_free(struct fdpoll *p)
{
	if (p == NULL)
		return;
	if (p->ev)
		event_free(p->ev);
	if (p->epfd != -1)
		close(p->epfd);
	free(p);
}

int
fdpoll_watch(struct fdpoll *p, int fd, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = arg };

	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void
fdpoll_closing(struct fdpoll *p, void *arg)
{
	int i;

	for (i = p->pos + 1; i < p->n; i++)
		if (p->batch[i].data.ptr == arg)
			p->batch[i].data.ptr = NULL;
}

void
fdpoll_unwatch(struct fdpoll *p, int fd, void *arg)
{
	struct epoll_event ev = { 0 };	/* kernels before 2.6.9 want one */

	(void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev);
	fdpoll_closing(p, arg);
}
