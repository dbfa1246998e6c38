/*
 * auth_pool.h - password checks off the event loop: a few threads per
 * worker run auth_verify() and hand each result back to the worker's
 * loop through a pipe the worker owns (its event base runs without
 * libevent's locks, so no event_active() from another thread).
 *
 * Owns struct auth_pool and the queue of struct auth_job.
 */
#ifndef PROXYD_AUTH_POOL_H
#define PROXYD_AUTH_POOL_H

#include <event2/event.h>

#include "auth.h"

struct config;
struct client;

struct auth_job {
	struct auth_job	*next;
	struct config	*cfg;		/* referenced: its users are checked */
	char		 user[AUTH_NAME_MAX];
	char		 pass[AUTH_NAME_MAX];
	int		 ok;		/* set by the pool thread */
	/* The rest is the worker's only (never read by a pool thread). */
	struct client	*c;		/* NULL once the client closed */
	unsigned char	 mac[16];	/* of the header value */
	char		 method[24];	/* for the access-log line */
	char		 target[512];
};

/*
 * A pool of nthreads on base; done(job, arg) runs on base's thread for
 * every job submitted, once it is checked.  NULL on failure.
 */
struct auth_pool	*auth_pool_new(struct event_base *base, int nthreads,
			    void (*done)(struct auth_job *, void *), void *arg);

/*
 * Queue job (owned by the pool until done() gets it back): 0, or -1
 * when AUTH_QUEUE_MAX checks already wait (a flood of logins must not
 * grow memory without bound; the caller answers 503).
 */
#define AUTH_QUEUE_MAX	1024
int	auth_pool_submit(struct auth_pool *p, struct auth_job *job);

/* Verifications done so far (a debug counter for tests and metrics). */
unsigned long	auth_pool_count(const struct auth_pool *p);

/*
 * Stop the threads and free the pool, and with it every job not yet
 * handed back (done() is not called for them).
 */
void	auth_pool_free(struct auth_pool *p);

/* Free a job: its snapshot reference, and the password wiped. */
void	auth_job_free(struct auth_job *job);

#endif /* PROXYD_AUTH_POOL_H */
