/*
 * cache_store.c - a worker's store thread: the module cache's writes,
 * off the event loop (see cache_store.h).
 *
 * The loop queues jobs (a fill's body bytes, its end) on a mutex and
 * condition variable; the thread takes them in order, so one fill's
 * bytes are written in the order they reached the client.  A fill's
 * loop-side fields (given_up) are the loop's alone; its file, hash and
 * counters are the thread's alone.  Nothing comes back to the loop: a
 * fill either becomes an entry or leaves nothing.
 */
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

#include <openssl/evp.h>

#include "cache.h"
#include "cache_evict.h"
#include "cache_flight.h"
#include "cache_seen.h"
#include "cache_verify.h"
#include "cache_store.h"
#include "config.h"
#include "log.h"

/* Body bytes waiting for the thread, per worker, at most: past it new
 * fills give up (a slow disk must not grow memory without bound). */
#define STORE_QUEUE_MAX		(64u << 20)
/* A failing disk is logged once, then at most this often (seconds). */
#define STORE_LOG_INTERVAL	60

struct cache_fill {
	struct cache_store	*s;
	struct config		*cfg;		/* referenced */
	int			 lead;		/* ends key's flight */
	char			*dir;
	char			*key;
	struct cache_meta	 meta;		/* status and type so far */
	int			 given_up;	/* loop: data dropped */
	/* The thread's. */
	int			 fd;
	char			 tmp[PATH_MAX];
	EVP_MD_CTX		*md;
	uint64_t		 written;
	int			 failed;
	struct cache_waiter	*waiter;	/* JOB_VERIFY: wake it after */
};

enum job_op { JOB_DATA, JOB_COMMIT, JOB_ABORT, JOB_VERIFY };

struct job {
	struct job		*next;
	enum job_op		 op;
	struct cache_fill	*f;
	uint64_t		 size;		/* JOB_COMMIT */
	size_t			 len;		/* JOB_DATA: data[0..len) */
	unsigned char		 data[];
};

struct cache_store {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct job	*head, *tail;
	size_t		 queued;	/* bytes of JOB_DATA waiting */
	int		 stop;
	pthread_t	 thread;
	int		 started;
	struct logger	*log;
};

/*
 * A write failed (what, errno): logged when it starts, then at most once
 * a minute for the whole process (every worker's store thread shares the
 * snapshot's clock) while writes keep failing.
 */
static void
store_trouble(struct cache_store *s, const struct cache_fill *f,
    const char *what)
{
	int64_t now = (int64_t)time(NULL), last;
	int err = errno;

	last = __atomic_load_n(&f->cfg->cache_trouble, __ATOMIC_RELAXED);
	if ((last != 0 && now - last < STORE_LOG_INTERVAL) ||
	    !__atomic_compare_exchange_n(&f->cfg->cache_trouble, &last, now,
	    0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	log_error(s->log, "cache: %s %s/%s: %s (not stored; the client is "
	    "served from the mirror)", what, f->dir, f->key, strerror(err));
}

/* mkdir -p of the directories of path (up to its last '/'). */
static int
make_parents(char *path)
{
	char *p;

	for (p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* The thread: open the fill's temporary file next to its entry. */
static int
fill_open(struct cache_fill *f)
{
	char *slash;
	int n;

	n = snprintf(f->tmp, sizeof(f->tmp), "%s/%s", f->dir, f->key);
	if (n < 0 || (size_t)n >= sizeof(f->tmp) ||
	    (slash = strrchr(f->tmp, '/')) == NULL ||
	    (size_t)(slash - f->tmp) + sizeof("/.tmp-XXXXXX") > sizeof(f->tmp))
		return -1;
	if (make_parents(f->tmp) == -1)
		return -1;
	strcpy(slash, "/.tmp-XXXXXX");
	if ((f->fd = mkostemp(f->tmp, O_CLOEXEC)) == -1)
		return -1;
	if ((f->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) != 1) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* write(2) all of p[0..len); -1 with errno. */
static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* JOB_DATA: append and hash; the first failure ends the fill's writes. */
static void
fill_data(struct cache_fill *f, const struct job *j)
{
	if (f->failed)
		return;
	if ((f->fd == -1 && fill_open(f) == -1) ||
	    write_all(f->fd, j->data, j->len) == -1) {
		store_trouble(f->s, f, "writing");
		f->failed = 1;
		return;
	}
	EVP_DigestUpdate(f->md, j->data, j->len);
	f->written += j->len;
}

/* Sync the directory of path, so that a rename in it survives a crash. */
static void
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/* The body is complete (size bytes): check, sync, rename, metadata. */
static void
fill_commit(struct cache_fill *f, uint64_t size)
{
	char body[PATH_MAX];
	unsigned int len;
	struct stat sb;

	if (f->fd == -1 && !f->failed && fill_open(f) == -1) {
		store_trouble(f->s, f, "creating");	/* an empty body */
		f->failed = 1;
	}
	if (f->failed || f->written != size)
		return;
	snprintf(body, sizeof(body), "%s/%s", f->dir, f->key);
	EVP_DigestFinal_ex(f->md, f->meta.sha256, &len);
	f->meta.size = size;
	f->meta.stored = cache_now();
	if (fchmod(f->fd, 0644) == -1 || fsync(f->fd) == -1 ||
	    rename(f->tmp, body) == -1) {
		store_trouble(f->s, f, "storing");
		return;
	}
	f->tmp[0] = '\0';	/* renamed: nothing to remove */
	/* The identity after the rename, which sets the ctime. */
	if (fstat(f->fd, &sb) == -1)
		return;
	f->meta.ino = (uint64_t)sb.st_ino;
	f->meta.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
	    sb.st_mtim.tv_nsec;
	f->meta.ctime_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000 +
	    sb.st_ctim.tv_nsec;
	sync_dir(body);
	if (cache_meta_write(f->dir, f->key, &f->meta) == -1) {
		store_trouble(f->s, f, "storing the metadata of");
		return;
	}
	sync_dir(body);		/* the same directory: the metadata's rename */
	/* Writes work again: the next trouble is news. */
	if (__atomic_load_n(&f->cfg->cache_trouble, __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&f->cfg->cache_trouble, 0, __ATOMIC_RELAXED);
	cache_seen_add(f->cfg->seen, f->key, &f->meta);	/* hashed here */
	cache_evict_note(f->cfg->evict, size + 512);	/* + the metadata */
}

/*
 * JOB_VERIFY: hash the body of f's entry; remember it when it matches
 * the metadata (f->meta) and is still the file recorded, drop it when
 * it does not match.
 */
static void
fill_verify(struct cache_fill *f)
{
	unsigned char sha[32];
	char path[PATH_MAX];
	struct stat sb;
	uint64_t size;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", f->dir, f->key);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;		/* gone: the request sees a miss */
	r = fstat(fd, &sb) == 0 && (uint64_t)sb.st_ino == f->meta.ino &&
	    (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec ==
	    f->meta.ctime_ns ? cache_hash_fd(fd, &size, sha) : -1;
	close(fd);
	if (r == -1)
		return;		/* replaced meanwhile: not ours to judge */
	if (size == f->meta.size && memcmp(sha, f->meta.sha256, 32) == 0) {
		cache_seen_add(f->cfg->seen, f->key, &f->meta);
		return;
	}
	log_error(f->s->log, "cache: %s/%s: %s differs from its metadata; "
	    "removed, to be fetched again", f->dir, f->key,
	    size != f->meta.size ? "size" : "SHA-256");
	cache_drop(f->dir, f->key);
}

/* The end of a fill on the thread: its flight, its files, its memory. */
static void
fill_free(struct cache_fill *f)
{
	/* After the rename: a woken waiter finds the entry. */
	if (f->lead)
		cache_flight_done(f->cfg->flights, f->key);
	config_unref(f->cfg);
	if (f->fd != -1)
		close(f->fd);
	if (f->tmp[0] != '\0' && f->fd != -1)
		(void)unlink(f->tmp);
	EVP_MD_CTX_free(f->md);
	free(f->dir);
	free(f->key);
	free(f);
}

/* The next job, waiting for one; NULL once stopping and drained. */
static struct job *
store_take(struct cache_store *s)
{
	struct job *j;

	pthread_mutex_lock(&s->mu);
	while (s->head == NULL && !s->stop)
		pthread_cond_wait(&s->cv, &s->mu);
	if ((j = s->head) != NULL) {
		if ((s->head = j->next) == NULL)
			s->tail = NULL;
		if (j->op == JOB_DATA)
			s->queued -= j->len;
	}
	pthread_mutex_unlock(&s->mu);
	return j;	/* NULL: stopping, and the queue is empty */
}

/* The thread: jobs in queue order until stopped. */
static void *
store_thread(void *arg)
{
	struct cache_store *s = arg;
	struct job *j;

	while ((j = store_take(s)) != NULL) {
		if (j->op == JOB_DATA)
			fill_data(j->f, j);
		else {
			if (j->op == JOB_COMMIT)
				fill_commit(j->f, j->size);
			if (j->op == JOB_VERIFY) {
				fill_verify(j->f);
				cache_waiter_wake(j->f->waiter);
			}
			fill_free(j->f);
		}
		free(j);
	}
	return NULL;
}

/* Queue j; -1 (j freed) when a data job would pass STORE_QUEUE_MAX. */
static int
store_submit(struct cache_store *s, struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&s->mu);
	if (j->op == JOB_DATA && s->queued + j->len > STORE_QUEUE_MAX) {
		pthread_mutex_unlock(&s->mu);
		free(j);
		return -1;
	}
	if (j->op == JOB_DATA)
		s->queued += j->len;
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

struct cache_store *
cache_store_new(struct logger *log)
{
	struct cache_store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->log = log;
	if (pthread_create(&s->thread, NULL, store_thread, s) != 0) {
		cache_store_free(s);
		return NULL;
	}
	s->started = 1;
	return s;
}

void
cache_store_free(struct cache_store *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	/* The thread finishes the queue first: every fill is ended. */
	if (s->started)
		pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct cache_fill *
cache_fill_new(struct cache_store *s, struct config *cfg, const char *key,
    int lead, int status, const char *type, size_t type_len)
{
	struct cache_fill *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->s = s;
	f->cfg = config_ref(cfg);
	f->fd = -1;
	f->meta.status = status;
	/* A type that does not fit is not kept (nor replayed). */
	if (type != NULL && type_len < sizeof(f->meta.type) &&
	    memchr(type, '\n', type_len) == NULL)
		memcpy(f->meta.type, type, type_len);
	if ((f->dir = strdup(cfg->cache_dir)) == NULL ||
	    (f->key = strdup(key)) == NULL) {
		f->lead = 0;	/* the caller still leads */
		fill_free(f);
		return NULL;
	}
	f->lead = lead;
	return f;
}

int
cache_fill_data(struct cache_fill *f, const void *data, size_t len)
{
	struct job *j;

	if (f->given_up)
		return -1;
	if ((j = malloc(sizeof(*j) + len)) == NULL) {
		f->given_up = 1;
		return -1;
	}
	j->op = JOB_DATA;
	j->f = f;
	j->len = len;
	memcpy(j->data, data, len);
	if (store_submit(f->s, j) == -1) {
		f->given_up = 1;
		return -1;
	}
	return 0;
}

void
cache_fill_end(struct cache_fill *f, int complete, uint64_t size)
{
	struct job *j;

	if ((j = malloc(sizeof(*j))) == NULL) {
		/* Cannot tell the thread: it may still hold data jobs of f,
		 * so f is left to it (a leak, on an allocation failure). */
		return;
	}
	j->op = complete && !f->given_up ? JOB_COMMIT : JOB_ABORT;
	j->f = f;
	j->size = size;
	j->len = 0;
	(void)store_submit(f->s, j);
}

int
cache_store_verify(struct cache_store *s, struct config *cfg, const char *key,
    const struct cache_meta *m, struct cache_waiter *w)
{
	struct cache_fill *f;
	struct job *j;

	if ((f = cache_fill_new(s, cfg, key, 0, m->status, NULL, 0)) == NULL)
		return -1;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		fill_free(f);
		return -1;
	}
	f->meta = *m;
	f->waiter = w;
	j->op = JOB_VERIFY;
	j->f = f;
	(void)store_submit(s, j);
	return 0;
}
