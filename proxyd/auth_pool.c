/*
 * auth_pool.c - the threads that check passwords for one worker.
 *
 * A bcrypt check costs tens of milliseconds; on the event loop it would
 * stall every connection of the worker.  Jobs go to a queue (mutex and
 * condition variable); a thread checks one and writes the job's pointer
 * to the worker's pipe (a pointer is far below PIPE_BUF: atomic), whose
 * read end is an event of the worker's own base.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_pool.h"
#include "config.h"

#define AUTH_THREADS_MAX	8

struct auth_pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct auth_job	*head, *tail;	/* queued, not yet taken */
	int		 queued;
	int		 stop;
	unsigned long	 count;		/* atomic: checks done */
	pthread_t	 threads[AUTH_THREADS_MAX];
	int		 nthreads;
	int		 pipe[2];	/* threads write, the loop reads */
	struct event	*ev;
	void		(*done)(struct auth_job *, void *);
	void		*arg;
};

void
auth_job_free(struct auth_job *job)
{
	if (job == NULL)
		return;
	config_unref(job->cfg);
	explicit_bzero(job->pass, sizeof(job->pass));
	free(job);
}

static struct auth_job *
pool_take(struct auth_pool *p)
{
	struct auth_job	*job;

	pthread_mutex_lock(&p->mu);
	while (p->head == NULL && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	job = NULL;
	if (!p->stop && (job = p->head) != NULL) {
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
	}
	pthread_mutex_unlock(&p->mu);
	return job;
}

static void *
pool_thread(void *arg)
{
	struct auth_pool	*p = arg;
	struct auth_job		*job;
	ssize_t			 n;

	while ((job = pool_take(p)) != NULL) {
		job->ok = auth_verify(job->cfg->users, job->user, job->pass);
		explicit_bzero(job->pass, sizeof(job->pass));
		__atomic_fetch_add(&p->count, 1, __ATOMIC_RELAXED);
		/* Blocking write: a full pipe only slows the checks. */
		do
			n = write(p->pipe[1], &job, sizeof(job));
		while (n == -1 && errno == EINTR);
		if (n != sizeof(job))
			auth_job_free(job);	/* cannot happen: dropped */
	}
	return NULL;
}

/* On the worker's loop: hand every finished job back. */
static void
pool_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct auth_pool	*p = arg;
	struct auth_job		*jobs[64];
	ssize_t			 n, i;

	(void)what;
	while ((n = read(fd, jobs, sizeof(jobs))) > 0)
		for (i = 0; i < n / (ssize_t)sizeof(jobs[0]); i++)
			p->done(jobs[i], p->arg);
}

struct auth_pool *
auth_pool_new(struct event_base *base, int nthreads,
    void (*done)(struct auth_job *, void *), void *arg)
{
	struct auth_pool	*p;
	int			 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->pipe[0] = p->pipe[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->done = done;
	p->arg = arg;
	if (pipe2(p->pipe, O_CLOEXEC) == -1 ||
	    fcntl(p->pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    (p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST,
	    pool_read_cb, p)) == NULL || event_add(p->ev, NULL) == -1)
		goto fail;
	if (nthreads > AUTH_THREADS_MAX)
		nthreads = AUTH_THREADS_MAX;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_thread, p) != 0)
			goto fail;
		p->nthreads++;
	}
	return p;
fail:
	auth_pool_free(p);
	return NULL;
}

int
auth_pool_submit(struct auth_pool *p, struct auth_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->queued >= AUTH_QUEUE_MAX) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	p->queued++;
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

unsigned long
auth_pool_count(const struct auth_pool *p)
{
	return p ? __atomic_load_n(&p->count, __ATOMIC_RELAXED) : 0;
}

void
auth_pool_free(struct auth_pool *p)
{
	struct auth_job	*job;
	int		 i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while ((job = p->head) != NULL) {
		p->head = job->next;
		auth_job_free(job);
	}
	/* Checked, but not yet read by the loop. */
	if (p->pipe[0] != -1)
		while (read(p->pipe[0], &job, sizeof(job)) == sizeof(job))
			auth_job_free(job);
	if (p->ev)
		event_free(p->ev);
	if (p->pipe[0] != -1)
		close(p->pipe[0]);
	if (p->pipe[1] != -1)
		close(p->pipe[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
