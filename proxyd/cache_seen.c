/*
 * cache_seen.c - the entries checked by this process (see
 * cache_seen.h): a hash table of keys with the body file identity they
 * were checked as.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_seen.h"

#define SEEN_BUCKETS	4096

struct seen {
	struct seen	*next;
	uint64_t	 ino;
	int64_t		 mtime_ns, ctime_ns;
	char		 key[];
};

struct cache_seen {
	pthread_mutex_t	 mu;
	struct seen	*buckets[SEEN_BUCKETS];
};

static struct seen **
bucket(struct cache_seen *t, const char *key)
{
	return &t->buckets[cache_key_hash(key) % SEEN_BUCKETS];
}

/* key's record, or NULL; t->mu held. */
static struct seen *
find(struct cache_seen *t, const char *key)
{
	struct seen *s;

	for (s = *bucket(t, key); s != NULL; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

struct cache_seen *
cache_seen_new(void)
{
	struct cache_seen *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
cache_seen_free(struct cache_seen *t)
{
	struct seen *s;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < SEEN_BUCKETS; i++)
		while ((s = t->buckets[i]) != NULL) {
			t->buckets[i] = s->next;
			free(s);
		}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

int
cache_seen_has(struct cache_seen *t, const char *key,
    const struct cache_meta *m)
{
	struct seen *s;
	int r;

	pthread_mutex_lock(&t->mu);
	s = find(t, key);
	r = s != NULL && s->ino == m->ino && s->mtime_ns == m->mtime_ns &&
	    s->ctime_ns == m->ctime_ns;
	pthread_mutex_unlock(&t->mu);
	return r;
}

void
cache_seen_add(struct cache_seen *t, const char *key,
    const struct cache_meta *m)
{
	struct seen *s, **b;
	size_t len = strlen(key);

	pthread_mutex_lock(&t->mu);
	if ((s = find(t, key)) == NULL &&
	    (s = calloc(1, sizeof(*s) + len + 1)) != NULL) {
		memcpy(s->key, key, len + 1);
		b = bucket(t, key);
		s->next = *b;
		*b = s;
	}
	if (s != NULL) {	/* out of memory: checked again next time */
		s->ino = m->ino;
		s->mtime_ns = m->mtime_ns;
		s->ctime_ns = m->ctime_ns;
	}
	pthread_mutex_unlock(&t->mu);
}
