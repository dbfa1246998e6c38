/*
 * cache_flight.c - single flight for module cache misses (see
 * cache_flight.h): a hash table of the keys being fetched, each with the
 * requests waiting for it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "cache_flight.h"

#define FLIGHT_BUCKETS	256

struct flight {
	struct flight		*next;
	struct cache_waiter	*waiters;
	char			 key[];
};

struct cache_flights {
	pthread_mutex_t	 mu;
	struct flight	*buckets[FLIGHT_BUCKETS];
};

static struct flight **
bucket(struct cache_flights *t, const char *key)
{
	return &t->buckets[cache_key_hash(key) % FLIGHT_BUCKETS];
}

/* The flight of key (its link, for removal), or NULL; t->mu held. */
static struct flight **
find(struct cache_flights *t, const char *key)
{
	struct flight **fp;

	for (fp = bucket(t, key); *fp != NULL; fp = &(*fp)->next)
		if (strcmp((*fp)->key, key) == 0)
			return fp;
	return NULL;
}

struct cache_flights *
cache_flights_new(void)
{
	struct cache_flights *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
cache_flights_free(struct cache_flights *t)
{
	struct flight *f;
	size_t i;

	if (t == NULL)
		return;
	/* Every request and fill holding the snapshot is gone by now. */
	for (i = 0; i < FLIGHT_BUCKETS; i++)
		while ((f = t->buckets[i]) != NULL) {
			t->buckets[i] = f->next;
			free(f);
		}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

int
cache_flight_join(struct cache_flights *t, const char *key,
    struct cache_waiter *w)
{
	struct flight **fp, *f;
	size_t len = strlen(key);

	pthread_mutex_lock(&t->mu);
	if ((fp = find(t, key)) != NULL) {
		w->dispatched = 0;
		w->next = (*fp)->waiters;
		(*fp)->waiters = w;
		pthread_mutex_unlock(&t->mu);
		return 0;
	}
	if ((f = calloc(1, sizeof(*f) + len + 1)) == NULL) {
		pthread_mutex_unlock(&t->mu);
		return -1;
	}
	memcpy(f->key, key, len + 1);
	fp = bucket(t, key);
	f->next = *fp;
	*fp = f;
	pthread_mutex_unlock(&t->mu);
	return 1;
}

/* A pointer is far below PIPE_BUF: the write is atomic. */
void
cache_waiter_wake(struct cache_waiter *w)
{
	ssize_t n;

	do
		n = write(w->wake_fd, &w, sizeof(w));
	while (n == -1 && errno == EINTR);
}

void
cache_flight_done(struct cache_flights *t, const char *key)
{
	struct flight **fp, *f = NULL;
	struct cache_waiter *w, *next;

	pthread_mutex_lock(&t->mu);
	if ((fp = find(t, key)) != NULL) {
		f = *fp;
		*fp = f->next;
		for (w = f->waiters; w != NULL; w = w->next)
			w->dispatched = 1;
	}
	pthread_mutex_unlock(&t->mu);
	if (f == NULL)
		return;
	/* Outside the lock: dispatched waiters are no longer the table's. */
	for (w = f->waiters; w != NULL; w = next) {
		next = w->next;
		cache_waiter_wake(w);
	}
	free(f);
}

int
cache_flight_leave(struct cache_flights *t, struct cache_waiter *w)
{
	struct cache_waiter **wp;
	struct flight *f;
	size_t i;
	int queued = 0;

	pthread_mutex_lock(&t->mu);
	if (!w->dispatched)
		for (i = 0; i < FLIGHT_BUCKETS && !queued; i++)
			for (f = t->buckets[i]; f != NULL && !queued;
			    f = f->next)
				for (wp = &f->waiters; *wp != NULL;
				    wp = &(*wp)->next)
					if (*wp == w) {
						*wp = w->next;
						queued = 1;
						break;
					}
	pthread_mutex_unlock(&t->mu);
	return queued;
}
