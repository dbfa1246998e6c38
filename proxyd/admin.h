/*
 * admin.h - the admin listener (admin_listen): /healthz, /readyz,
 * /metrics and /proxy.pac, on its own thread and event loop so that it
 * answers while the workers drain and whatever they are busy with.
 *
 * main.c binds it with the proxy ports (before dropping privileges),
 * starts it before the workers, says when the daemon is ready and when
 * it stops being so (SIGTERM), and stops it last, after the drain.
 */
#ifndef PROXYD_ADMIN_H
#define PROXYD_ADMIN_H

#include "config.h"

struct admin;
struct logger;
struct metrics;

/*
 * Bind cfg->admin_listen (not yet listening).  NULL with a message on
 * stderr when it cannot be bound or on ENOMEM; cfg->admin_listen must
 * be set.
 */
struct admin	*admin_bind(const struct config *cfg);

/* Listen and start the thread serving cfg (referenced); 0 or -1. */
int		 admin_start(struct admin *a, struct config *cfg,
		    struct metrics *m, struct logger *log);

/* /readyz: 200 while ready, 503 otherwise (thread-safe). */
void		 admin_set_ready(struct admin *a, int ready);

/* Serve cfg from now on (a reload; thread-safe; cfg is referenced). */
void		 admin_set_config(struct admin *a, struct config *cfg);

/* Stop the thread and close the listener (waits); then free.  NULL ok. */
void		 admin_stop(struct admin *a);
void		 admin_free(struct admin *a);

#endif /* PROXYD_ADMIN_H */
