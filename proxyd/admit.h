/*
 * admit.h - a request waiting for its route's limits: one token of the
 * route's and the client's request buckets, then one of the route's
 * concurrent-connection slots.  A request that cannot have them at once
 * waits in the route's bounded queue for at most queue_timeout, then is
 * refused: 429 for the rate, 503 for the connection cap, with a
 * Retry-After.  Owns struct admission (request.c allocates one for a
 * request on a route with limits only).
 */
#ifndef PROXYD_ADMIT_H
#define PROXYD_ADMIT_H

#include "proxyd.h"

/* Admitted (status 0), or refused: status, reason, Retry-After seconds. */
typedef void admit_cb(void *arg, int status, const char *why,
    int retry_after);

struct admission {
	struct worker		*w;
	const struct route	*route;
	const struct sockaddr	*client;
	struct event		*timer;
	admit_cb		*cb;
	void			*arg;
	int64_t			 start;
	int64_t			 deadline;
	int			 have_token;
	int			 have_conn;	/* released by admit_done() */
	int			 queued;	/* holds a queue slot */
	int			 queue_full;	/* refused: no room to wait */
	int64_t			 waited;	/* ms spent queued, for the log */
	char			 why[160];
};

/*
 * Ask for admission.  Returns 1 when admitted at once (cb not called),
 * 0 when waiting (cb called later from the event loop), -1 when refused
 * at once (cb not called; a->why, *status and *retry_after say why).
 */
int	admit_start(struct admission *a, struct worker *w,
	    const struct route *r, const struct sockaddr *client, admit_cb *cb,
	    void *arg, int *status, int *retry_after);

/* Stop waiting and give back every slot held (the request is over). */
void	admit_done(struct admission *a);

#endif /* PROXYD_ADMIT_H */
