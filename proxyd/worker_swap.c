/*
 * worker_swap.c - a worker's side of a reload (see worker_swap.h).
 *
 * The message travels as a pointer written to the worker's swap pipe,
 * like the stop byte: the event bases run without libevent's locks, so
 * nothing but a descriptor may wake a worker from another thread.  A
 * pointer is far below PIPE_BUF, so each write arrives whole.
 *
 * The swap is all or nothing per worker: the listeners for added
 * addresses are created first, and if one cannot be, the worker keeps
 * its old snapshot and listeners and says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "log.h"
#include "pool.h"
#include "worker.h"
#include "worker_swap.h"

struct worker_swap *
worker_swap_new(struct config *cfg, int max_clients)
{
	struct worker_swap *s;
	size_t i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	for (i = 0; i < CONFIG_MAX_LISTEN; i++)
		s->from[i] = s->fds[i] = -1;
	s->cfg = config_ref(cfg);
	s->max_clients = max_clients;
	return s;
}

void
worker_swap_free_msg(struct worker_swap *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < CONFIG_MAX_LISTEN; i++)
		if (s->fds[i] != -1)
			close(s->fds[i]);
	config_unref(s->cfg);
	free(s);
}

int
worker_swap_send(struct worker *w, struct worker_swap *s)
{
	ssize_t n;

	do
		n = write(w->swap_pipe[1], &s, sizeof(s));
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof(s))
		return 0;
	worker_swap_free_msg(s);
	return -1;
}

/* The parse scratch must hold the new max_headers; it only grows, so
 * that requests in flight on an older snapshot still fit. */
static int
swap_headers(struct worker *w, size_t want)
{
	struct http_header *h;

	if (want <= w->nhdrs)
		return 0;
	if ((h = realloc(w->hdrs, want * sizeof(*h))) == NULL)
		return -1;
	w->hdrs = h;
	w->nhdrs = want;
	return 0;
}

/*
 * Listeners for the added addresses, into made[]; the sockets move from
 * s.  0, or -1 (those made are freed, the worker's own are untouched).
 */
static int
swap_make_listeners(struct worker *w, struct worker_swap *s,
    struct evconnlistener **made)
{
	size_t i;

	for (i = 0; i < s->cfg->nlisten; i++) {
		if (s->from[i] != -1)
			continue;
		made[i] = worker_listener(w, s->fds[i]);
		s->fds[i] = -1;		/* the listener's, or closed */
		if (made[i] == NULL)
			goto fail;
	}
	return 0;
fail:
	while (i-- > 0)
		if (made[i] != NULL)
			evconnlistener_free(made[i]);
	return -1;
}

/* Kept listeners move to their new index; removed ones are closed. */
static void
swap_listeners(struct worker *w, const struct worker_swap *s,
    struct evconnlistener **made)
{
	struct evconnlistener *old[CONFIG_MAX_LISTEN];
	size_t i, nold = w->nlisteners;

	memcpy(old, w->listeners, sizeof(old));
	for (i = 0; i < CONFIG_MAX_LISTEN; i++)
		w->listeners[i] = NULL;
	for (i = 0; i < s->cfg->nlisten; i++) {
		if (s->from[i] == -1) {
			w->listeners[i] = made[i];
		} else {
			w->listeners[i] = old[s->from[i]];
			old[s->from[i]] = NULL;
		}
	}
	w->nlisteners = s->cfg->nlisten;
	for (i = 0; i < nold; i++)
		if (old[i] != NULL)
			evconnlistener_free(old[i]);
}

/* Apply s in the worker's thread; s is freed. */
static void
swap_apply(struct worker *w, struct worker_swap *s)
{
	struct evconnlistener *made[CONFIG_MAX_LISTEN] = { NULL };

	/* A stopping worker has closed its listeners: nothing to swap. */
	if (w->stopping)
		goto out;
	if (swap_headers(w, s->cfg->max_headers) == -1 ||
	    swap_make_listeners(w, s, made) == -1) {
		log_error(w->log, "worker %d: reload: %s; keeping the old "
		    "configuration", w->id, strerror(errno));
		goto out;
	}
	swap_listeners(w, s, made);
	pool_set_idle_timeout(w->pool, s->cfg->keepalive_timeout);
	w->max_clients = s->max_clients;
	config_unref(w->cfg);
	w->cfg = s->cfg;	/* the message's reference moves */
	s->cfg = NULL;
out:
	worker_swap_free_msg(s);
}

/* Read every message waiting and apply them in order. */
static void
swap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_swap *s;

	(void)what;
	while (read(fd, &s, sizeof(s)) == (ssize_t)sizeof(s))
		swap_apply(arg, s);
}

int
worker_swap_init(struct worker *w)
{
	if (pipe2(w->swap_pipe, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (w->swap_ev = event_new(w->base, w->swap_pipe[0],
	    EV_READ | EV_PERSIST, swap_cb, w)) == NULL ||
	    event_add(w->swap_ev, NULL) == -1)
		return -1;
	return 0;
}

void
worker_swap_free(struct worker *w)
{
	struct worker_swap *s;

	if (w->swap_ev)
		event_free(w->swap_ev);
	w->swap_ev = NULL;
	if (w->swap_pipe[0] != -1) {
		/* Sent after the worker's last loop turn: never applied. */
		while (read(w->swap_pipe[0], &s, sizeof(s)) ==
		    (ssize_t)sizeof(s))
			worker_swap_free_msg(s);
		close(w->swap_pipe[0]);
	}
	if (w->swap_pipe[1] != -1)
		close(w->swap_pipe[1]);
	w->swap_pipe[0] = w->swap_pipe[1] = -1;
}
