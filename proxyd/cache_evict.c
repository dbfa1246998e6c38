/*
 * cache_evict.c - LRU eviction of the module cache in a background
 * thread (see cache_evict.h), and the walk of cache_dir it is built on.
 *
 * The thread keeps an estimate of the cache's size: the last walk's
 * total plus what was stored since.  Past the cap it walks the tree
 * (other processes sharing cache_dir write too), and removes the oldest
 * entries, metadata first (the entry is gone at once) and then the
 * body.  A file that vanishes under it (another process evicted or
 * replaced it) is skipped.  A body being sent by a worker stays
 * readable after its unlink: a client in the middle of one gets all of
 * it.  It also walks once a minute, for what other processes stored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cache.h"
#include "cache_evict.h"

#define EVICT_RESCAN_S	60	/* walk at least this often */

struct cache_evict {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	char		*dir;
	uint64_t	 cap;
	uint64_t	 estimate;	/* bytes: last walk + stored since */
	int		 kicked;	/* walk now */
	int		 started;
	int		 stop;
	pthread_t	 thread;
};

/* A growing vector of entries. */
struct walk {
	struct cache_entry	*v;
	size_t			 n, cap;
	int			 nomem;
};

/* Append an entry (key[0..keylen)); -1 on ENOMEM. */
static int
walk_add(struct walk *w, const char *key, size_t keylen, uint64_t bytes,
    int64_t used)
{
	struct cache_entry *v;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		if ((v = reallocarray(w->v, w->cap, sizeof(*v))) == NULL)
			return -1;
		w->v = v;
	}
	if ((w->v[w->n].key = strndup(key, keylen)) == NULL)
		return -1;
	w->v[w->n].bytes = bytes;
	w->v[w->n].used_ns = used;
	w->n++;
	return 0;
}

/* One ".meta" file at dfd/name, key rel (its body's relative path). */
static void
walk_meta(struct walk *w, int dfd, const char *name, const char *rel)
{
	size_t len = strlen(rel) - strlen(".meta");
	struct stat meta, body;
	char bname[NAME_MAX + 1];
	uint64_t bytes;

	if (fstatat(dfd, name, &meta, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(meta.st_mode))
		return;
	bytes = (uint64_t)meta.st_size;
	snprintf(bname, sizeof(bname), "%.*s", (int)(strlen(name) -
	    strlen(".meta")), name);
	if (fstatat(dfd, bname, &body, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(body.st_mode))
		bytes += (uint64_t)body.st_size;
	if (walk_add(w, rel, len, bytes, (int64_t)meta.st_mtim.tv_sec *
	    1000000000 + meta.st_mtim.tv_nsec) == -1)
		w->nomem = 1;
}

/* Walk the directory rel ("" for the top) open at dfd (closed here). */
static void
walk_dir(struct walk *w, int dfd, const char *rel)
{
	char path[4096];
	struct dirent *de;
	size_t nlen;
	DIR *d;
	int sub;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while (!w->nomem && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;	/* ".", "..", temporary files */
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    rel[0] ? "/" : "", de->d_name) >= sizeof(path))
			continue;
		nlen = strlen(de->d_name);
		if (nlen > 5 && strcmp(de->d_name + nlen - 5, ".meta") == 0) {
			walk_meta(w, dirfd(d), de->d_name, path);
			continue;
		}
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (sub != -1)
			walk_dir(w, sub, path);	/* not a directory: a body */
	}
	closedir(d);
}

int
cache_walk(const char *dir, struct cache_entry **out, size_t *n)
{
	struct walk w;
	int fd;

	memset(&w, 0, sizeof(w));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1)
		walk_dir(&w, fd, "");
	if (w.nomem) {
		cache_entries_free(w.v, w.n);
		return -1;
	}
	*out = w.v;
	*n = w.n;
	return 0;
}

void
cache_entries_free(struct cache_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

/* qsort: least recently used first. */
static int
by_use(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	if (x->used_ns != y->used_ns)
		return x->used_ns < y->used_ns ? -1 : 1;
	return strcmp(x->key, y->key);	/* a stable order for ties */
}

size_t
cache_evict_plan(struct cache_entry *v, size_t n, uint64_t cap)
{
	uint64_t total = 0, goal = cap / 10 * 9;
	size_t i;

	for (i = 0; i < n; i++)
		total += v[i].bytes;
	if (total <= cap)
		return 0;
	qsort(v, n, sizeof(*v), by_use);
	for (i = 0; i < n && total > goal; i++)
		total -= v[i].bytes;
	return i;
}

/* One pass: walk, remove the oldest past the cap; the new estimate. */
static uint64_t
evict_pass(struct cache_evict *e)
{
	struct cache_entry *v;
	uint64_t total = 0;
	size_t n, i, k;

	if (cache_walk(e->dir, &v, &n) == -1)
		return 0;
	k = cache_evict_plan(v, n, e->cap);
	for (i = 0; i < n; i++)
		if (i < k)
			cache_drop(e->dir, v[i].key);
		else
			total += v[i].bytes;
	cache_entries_free(v, n);
	return total;
}

/* The thread: a pass when kicked or once a minute, until stopped. */
static void *
evict_thread(void *arg)
{
	struct cache_evict *e = arg;
	struct timespec ts;
	uint64_t total;

	pthread_mutex_lock(&e->mu);
	while (!e->stop) {
		if (!e->kicked) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += EVICT_RESCAN_S;
			if (pthread_cond_timedwait(&e->cv, &e->mu, &ts) ==
			    ETIMEDOUT)
				e->kicked = 1;
			continue;
		}
		e->kicked = 0;
		e->estimate = 0;
		pthread_mutex_unlock(&e->mu);
		total = evict_pass(e);	/* no lock held over the walk */
		pthread_mutex_lock(&e->mu);
		e->estimate += total;
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

struct cache_evict *
cache_evict_new(const char *dir, uint64_t cap)
{
	struct cache_evict *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->dir = strdup(dir)) == NULL) {
		free(e);
		return NULL;
	}
	e->cap = cap;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	return e;
}

void
cache_evict_free(struct cache_evict *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (e->started)
		pthread_join(e->thread, NULL);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e->dir);
	free(e);
}

void
cache_evict_note(struct cache_evict *e, uint64_t bytes)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	if (!e->started && !e->stop) {
		/* The first walk learns the size of what is there. */
		e->started = pthread_create(&e->thread, NULL, evict_thread,
		    e) == 0;
		e->kicked = 1;
	}
	e->estimate += bytes;
	if (e->estimate > e->cap)
		e->kicked = 1;
	if (e->kicked)
		pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}
